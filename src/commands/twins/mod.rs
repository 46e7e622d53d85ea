//! The CLI twins of the console's panels: `pilotwatch status`, `pilotwatch subs` and
//! `pilotwatch export`. Each is a function of a [`CollectorHandle`], the same transport-agnostic
//! handle the TUI holds, so a twin reads exactly what the console shows whether it is attached
//! to `pilotwatch serve` over the control socket or runs a collector of its own for a moment
//! ([`handle::collector_handle`]).
//!
//! `status` and `subs` are Nagios-style: the exit code is the worst severity shown (0 OK,
//! 1 WARNING, 2 CRITICAL, 3 UNKNOWN), and a twin that cannot run exits 3. `export` exits 1 for
//! input it refuses (bad filter, existing file, missing directory) and 2 when the export itself
//! failed. In every case an error writes nothing.
//!
//! May depend on every library module (it is a command); nothing depends on it but `main`.
//!
//! [`CollectorHandle`]: crate::console::CollectorHandle

pub mod export;
pub mod handle;
pub mod run;
pub mod status;
pub mod subs;

use std::path::PathBuf;

use crate::collector::CollectorError;
use crate::config::ConfigError;
use crate::console::ConsoleError;
use crate::console::embedded::export::ExportError;
use crate::console::query::filter::FilterError;
use crate::severity::Severity;

pub use handle::{Attach, ControlSocket, Keepalive, NoControlSocket, collector_handle};

/// Why a twin could not do its work. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    /// The configuration could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No collector runs and there is nothing to start one for.
    #[error(
        "no profiles are configured in {}; add one with `pilotwatch creds add`",
        .0.display()
    )]
    NoProfiles(PathBuf),
    /// `--profile` named a profile the collector does not run.
    #[error("no profile named {name:?}; known profiles: {}", known_list(known))]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles that exist.
        known: Vec<String>,
    },
    /// A collector's control socket answered but would not serve this client (a version
    /// mismatch, a refusal): the store is not opened behind its back.
    #[error("the running collector refused the connection: {0}")]
    AttachRefused(String),
    /// A collector holds the store, but its control socket did not answer.
    #[error(
        "a collector{} owns the store in {} but its control socket did not answer; \
         `pilotwatch check` still asks it over HTTP",
        .pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        .data_dir.display()
    )]
    StoreHeld {
        /// The collector's pid, when its lock file names one.
        pid: Option<u32>,
        /// The data directory.
        data_dir: PathBuf,
    },
    /// The collector could not be started for this command.
    #[error("cannot start a collector to answer: {0}")]
    Collector(#[source] CollectorError),
    /// The collector did not answer a request.
    #[error("the collector did not answer: {0}")]
    Console(#[from] ConsoleError),
    /// `--filter` does not parse.
    #[error("--filter: {0}")]
    Filter(#[from] FilterError),
    /// The export file could not be created or written.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// Writing to standard output failed.
    #[error("cannot write the result: {0}")]
    Output(#[from] std::io::Error),
}

impl TwinError {
    /// Whether the operator's input was refused (as opposed to something failing).
    fn is_refusal(&self) -> bool {
        match self {
            Self::Config(_)
            | Self::NoProfiles(_)
            | Self::UnknownProfile { .. }
            | Self::Filter(_)
            | Self::Export(
                ExportError::Exists(_) | ExportError::NoDirectory(_) | ExportError::NotAFile(_),
            ) => true,
            Self::Console(ConsoleError::Refused(_)) => true,
            Self::AttachRefused(_)
            | Self::StoreHeld { .. }
            | Self::Collector(_)
            | Self::Console(_)
            | Self::Export(_)
            | Self::Output(_) => false,
        }
    }
}

fn known_list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

/// Which twin failed: it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Twin {
    /// `pilotwatch status`.
    Status,
    /// `pilotwatch subs`.
    Subs,
    /// `pilotwatch export`.
    Export,
}

/// A twin's error with the exit code it ends the process with. Displays as the error, with
/// the error's causes.
#[derive(Debug)]
pub struct TwinFailure {
    error: TwinError,
    twin: Twin,
}

impl std::fmt::Display for TwinFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for TwinFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

impl TwinFailure {
    /// `error` from `twin`.
    pub fn new(twin: Twin, error: TwinError) -> Self {
        Self { error, twin }
    }

    /// `error` from `pilotwatch status`.
    pub fn status(error: TwinError) -> Self {
        Self::new(Twin::Status, error)
    }

    /// `error` from `pilotwatch subs`.
    pub fn subs(error: TwinError) -> Self {
        Self::new(Twin::Subs, error)
    }

    /// `error` from `pilotwatch export`.
    pub fn export(error: TwinError) -> Self {
        Self::new(Twin::Export, error)
    }

    /// The error.
    pub fn error(&self) -> &TwinError {
        &self.error
    }

    /// 3 (UNKNOWN) for `status` and `subs`, which monitoring runs; for `export`, 1 when the
    /// input was refused and 2 when the export failed.
    pub fn exit_code(&self) -> u8 {
        match self.twin {
            Twin::Status | Twin::Subs => Severity::Unknown.exit_code(),
            Twin::Export if self.error.is_refusal() => 1,
            Twin::Export => 2,
        }
    }
}

/// Keeps the profiles named `wanted` (all when `None`) of `names`; an unknown name is an
/// error listing the known ones.
fn check_profile<'a>(
    names: impl IntoIterator<Item = &'a str>,
    wanted: Option<&str>,
) -> Result<(), TwinError> {
    let Some(wanted) = wanted else {
        return Ok(());
    };
    let known: Vec<String> = names.into_iter().map(str::to_owned).collect();
    if known.iter().any(|name| name == wanted) {
        Ok(())
    } else {
        Err(TwinError::UnknownProfile {
            name: wanted.to_owned(),
            known,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_twin_and_the_kind_of_error() {
        let unknown = || TwinError::UnknownProfile {
            name: "x".into(),
            known: vec!["contoso".into()],
        };
        assert_eq!(TwinFailure::new(Twin::Status, unknown()).exit_code(), 3);
        assert_eq!(TwinFailure::new(Twin::Subs, unknown()).exit_code(), 3);
        assert_eq!(TwinFailure::new(Twin::Export, unknown()).exit_code(), 1);
        let exists = TwinError::Export(ExportError::Exists("/tmp/x".into()));
        assert_eq!(TwinFailure::new(Twin::Export, exists).exit_code(), 1);
        let gone = TwinError::Console(ConsoleError::Disconnected);
        assert_eq!(TwinFailure::new(Twin::Export, gone).exit_code(), 2);
        let filter = TwinError::Filter(FilterError::UnclosedQuote);
        assert_eq!(TwinFailure::new(Twin::Export, filter).exit_code(), 1);
    }

    #[test]
    fn an_unknown_profile_names_the_known_ones() {
        assert!(check_profile(["a", "b"], None).is_ok());
        assert!(check_profile(["a", "b"], Some("b")).is_ok());
        let error = check_profile(["a", "b"], Some("c"))
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("no profile named \"c\"; known profiles: a, b")
        );
    }
}
