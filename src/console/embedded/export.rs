//! Export: the interactions matching a filter, newest first, to a new file as JSON lines
//! (serde_json) or CSV with a header row (the `csv` crate). Streamed from the store's reverse
//! scan, one record at a time, never loaded whole.
//!
//! An existing file is never overwritten. The rows go to a temporary file in the target's
//! directory, synced, then linked into place only if the name is still free: a failure or a
//! race leaves no partial file under the name asked for. [`ExportFile`] is that writer, shared
//! with `pilotwatch export`, which pages the feed through a collector handle instead.
//!
//! Depends on the store, `feed`'s matcher, serde_json, csv and tempfile.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::Backend;
use super::feed::Matcher;
use crate::console::{CommandOutcome, ConsoleError, ExportFormat, FeedFilter};
use crate::store::records::InteractionRecord;
use crate::store::{Interactions, StoreError};

/// Why an export did not happen. Nothing is left under the path asked for.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The path names an existing file (or directory).
    #[error("{} exists; pilotwatch does not overwrite files, choose another name", .0.display())]
    Exists(PathBuf),
    /// The directory to write in does not exist.
    #[error("the directory {} does not exist", .0.display())]
    NoDirectory(PathBuf),
    /// The path names no file (empty, or ends in `..`).
    #[error("{} does not name a file", .0.display())]
    NotAFile(PathBuf),
    /// Reading the store failed.
    #[error("reading the store: {0}")]
    Store(#[from] StoreError),
    /// Writing the file failed.
    #[error("writing {}: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl From<ExportError> for ConsoleError {
    fn from(error: ExportError) -> Self {
        match error {
            ExportError::Exists(_) | ExportError::NoDirectory(_) | ExportError::NotAFile(_) => {
                ConsoleError::Refused(error.to_string())
            }
            ExportError::Store(_) | ExportError::Write { .. } => {
                ConsoleError::Failed(error.to_string())
            }
        }
    }
}

/// Writes the interactions matching `filter` to `path` in `format`; returns how many.
pub fn export(
    interactions: &Interactions,
    filter: &FeedFilter,
    format: ExportFormat,
    path: &Path,
) -> Result<u64, ExportError> {
    let mut file = ExportFile::create(path, format)?;
    let matcher = Matcher::new(filter);
    let mut failure = None;
    interactions.visit_newest_first(None, u64::MAX, |record| {
        if !matcher.matches(record) {
            return ControlFlow::Continue(());
        }
        match file.write(record) {
            Ok(()) => ControlFlow::Continue(()),
            Err(error) => {
                failure = Some(error);
                ControlFlow::Break(())
            }
        }
    })?;
    if let Some(error) = failure {
        return Err(error);
    }
    file.finish()
}

/// A new export file being written: rows go to a temporary file beside `path`, which
/// [`Self::finish`] syncs and links into place only if the name is still free. Dropped
/// unfinished (an error, a cancelled export), it removes the temporary file and leaves
/// nothing under `path`. The one writer of both the embedded backend's export and
/// `pilotwatch export`, so the two formats never drift apart.
pub struct ExportFile {
    path: PathBuf,
    temporary: tempfile::NamedTempFile,
    sink: Sink,
    rows: u64,
}

impl std::fmt::Debug for ExportFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportFile")
            .field("path", &self.path)
            .field("temporary", &self.temporary.path())
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl ExportFile {
    /// Starts an export to `path`, refusing an existing name, a missing directory or a path
    /// that names no file before anything is written.
    pub fn create(path: &Path, format: ExportFormat) -> Result<Self, ExportError> {
        if path.symlink_metadata().is_ok() {
            return Err(ExportError::Exists(path.to_owned()));
        }
        if path.file_name().is_none() {
            return Err(ExportError::NotAFile(path.to_owned()));
        }
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !directory.is_dir() {
            return Err(ExportError::NoDirectory(directory.to_owned()));
        }
        let temporary = tempfile::Builder::new()
            .prefix(TEMPORARY_PREFIX)
            .tempfile_in(directory)
            .map_err(|source| write_error(path, source))?;
        let file = temporary
            .as_file()
            .try_clone()
            .map_err(|source| write_error(path, source))?;
        Ok(Self {
            path: path.to_owned(),
            temporary,
            sink: Sink::new(format, BufWriter::new(file)),
            rows: 0,
        })
    }

    /// Appends one row.
    pub fn write(&mut self, record: &InteractionRecord) -> Result<(), ExportError> {
        self.sink
            .write(record)
            .map_err(|source| write_error(&self.path, source))?;
        self.rows += 1;
        Ok(())
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Flushes and syncs the rows and links the file into place; returns how many rows it
    /// holds. Should the name have been taken meanwhile, nothing is overwritten.
    pub fn finish(self) -> Result<u64, ExportError> {
        let Self {
            path,
            temporary,
            sink,
            rows,
        } = self;
        sink.finish().map_err(|source| write_error(&path, source))?;
        temporary
            .as_file()
            .sync_all()
            .map_err(|source| write_error(&path, source))?;
        temporary
            .persist_noclobber(&path)
            .map_err(|error| match error.error.kind() {
                std::io::ErrorKind::AlreadyExists => ExportError::Exists(path.clone()),
                _ => write_error(&path, error.error),
            })?;
        Ok(rows)
    }
}

/// Temporary export files start with this, in the target's directory.
pub const TEMPORARY_PREFIX: &str = ".pilotwatch-export-";

fn write_error(path: &Path, source: std::io::Error) -> ExportError {
    ExportError::Write {
        path: path.to_owned(),
        source,
    }
}

/// Answers an export command.
pub(super) async fn run(
    backend: Arc<Backend>,
    filter: FeedFilter,
    format: ExportFormat,
    path: PathBuf,
) -> Result<CommandOutcome, ConsoleError> {
    let interactions = backend.store.interactions();
    let shown = path.display().to_string();
    let rows = tokio::task::spawn_blocking(move || export(&interactions, &filter, format, &path))
        .await
        .map_err(|error| ConsoleError::Failed(format!("the export stopped: {error}")))??;
    let format = match format {
        ExportFormat::Jsonl => "JSON lines",
        ExportFormat::Csv => "CSV",
    };
    Ok(CommandOutcome::done(format!(
        "exported {rows} interaction{} to {shown} ({format})",
        if rows == 1 { "" } else { "s" }
    )))
}

/// Where rows go, in the chosen format.
enum Sink {
    Jsonl(BufWriter<File>),
    // Boxed: the CSV writer carries its own buffers and state.
    Csv(Box<csv::Writer<BufWriter<File>>>),
}

impl Sink {
    fn new(format: ExportFormat, out: BufWriter<File>) -> Self {
        match format {
            ExportFormat::Jsonl => Self::Jsonl(out),
            ExportFormat::Csv => Self::Csv(Box::new(csv::Writer::from_writer(out))),
        }
    }

    fn write(&mut self, record: &InteractionRecord) -> std::io::Result<()> {
        match self {
            Self::Jsonl(out) => {
                serde_json::to_writer(&mut *out, record)?;
                out.write_all(b"\n")
            }
            Self::Csv(out) => out.serialize(record).map_err(std::io::Error::other),
        }
    }

    fn finish(self) -> std::io::Result<()> {
        match self {
            Self::Jsonl(mut out) => out.flush(),
            Self::Csv(mut out) => out.flush(),
        }
    }
}
