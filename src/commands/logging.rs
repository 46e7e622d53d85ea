//! Logging for every command: tracing to standard error (colour only on a terminal and without
//! `NO_COLOR`) and, for the long-running collector, also to a daily-rolling file under the XDG
//! state directory, without colour. The console owns the terminal, so it logs to the file
//! only. Log lines never carry secrets: nothing in the crate logs one.
//!
//! Depends on nothing else in the crate.

use std::io::IsTerminal as _;
use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// The `--log` filter does not parse.
    #[error("invalid --log filter {filter:?}: {reason}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// Why.
        reason: String,
    },
    /// The log directory cannot be created.
    #[error("cannot create the log directory {}: {source}", dir.display())]
    Directory {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A global subscriber was already installed (a bug).
    #[error("logging was already set up: {0}")]
    AlreadySet(String),
}

/// Where log lines go.
#[derive(Debug, Clone, Copy)]
pub enum LogTo<'a> {
    /// Standard error.
    Stderr,
    /// Standard error and a daily-rolling file in this directory.
    StderrAndFile(&'a Path),
    /// Only the file (the console: standard error is its screen); nowhere without a directory.
    FileOnly(Option<&'a Path>),
}

/// Installs the global subscriber. With `file_dir`, also writes `pilotwatch.log.YYYY-MM-DD`
/// there; keep the returned guard alive until exit so the last lines are written.
pub fn init(filter: &str, file_dir: Option<&Path>) -> Result<Option<WorkerGuard>, LoggingError> {
    init_to(filter, file_dir.map_or(LogTo::Stderr, LogTo::StderrAndFile))
}

/// Installs the global subscriber writing where `to` says; keep the returned guard alive until
/// exit so the last lines are written.
pub fn init_to(filter: &str, to: LogTo<'_>) -> Result<Option<WorkerGuard>, LoggingError> {
    let (file_dir, to_stderr) = match to {
        LogTo::Stderr => (None, true),
        LogTo::StderrAndFile(dir) => (Some(dir), true),
        LogTo::FileOnly(dir) => (dir, false),
    };
    let parsed = EnvFilter::try_new(filter).map_err(|error| LoggingError::Filter {
        filter: filter.to_owned(),
        reason: error.to_string(),
    })?;
    // Colour only for a person at a terminal, and never under NO_COLOR.
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    let stderr = to_stderr.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(ansi)
    });
    let (file, guard) = match file_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|source| LoggingError::Directory {
                dir: dir.to_path_buf(),
                source,
            })?;
            let appender = tracing_appender::rolling::daily(dir, "pilotwatch.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false);
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(parsed)
        .with(stderr)
        .with(file)
        .try_init()
        .map_err(|error| LoggingError::AlreadySet(error.to_string()))?;
    Ok(guard)
}
