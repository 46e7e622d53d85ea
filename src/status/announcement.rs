//! `DATA_DIR/collector.json`: how a running collector tells `pilotwatch check` where to ask —
//! its pid, its status address (none when started with `--status-bind off` or when the
//! listener could not bind) and when it started. Written atomically (0600) once the listener
//! is up, removed on a clean exit; a crash leaves it behind, so a reader checks that the pid
//! is alive before trusting it.
//!
//! Depends on `private_file` and the standard library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::private_file::{PrivateWriteError, write_private_atomically};

/// The file's name inside the data directory.
pub const FILE_NAME: &str = "collector.json";

/// What a running collector announces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// The collector's process id.
    pub pid: u32,
    /// Where its status endpoints listen, if they do.
    pub status_addr: Option<SocketAddr>,
    /// When it started.
    pub started_at: DateTime<Utc>,
}

/// Why the announcement could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not an announcement.
    #[error("{path} is not a collector announcement: {source}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
}

/// The announcement's path under `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE_NAME)
}

impl Announcement {
    /// Writes it to `data_dir` atomically, replacing an older one.
    pub fn write(&self, data_dir: &Path) -> Result<(), PrivateWriteError> {
        // Serialising plain data to a `Vec` cannot fail; an empty file would be refused by
        // readers as malformed, which is the safe outcome anyway.
        let json = serde_json::to_vec_pretty(self).unwrap_or_default();
        write_private_atomically(&path(data_dir), &json)
    }

    /// The announcement in `data_dir`, `None` when there is none.
    pub fn read(data_dir: &Path) -> Result<Option<Announcement>, ReadError> {
        let path = path(data_dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ReadError::Io { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| ReadError::Malformed { path, source })
    }

    /// Removes the announcement from `data_dir` if it is this one (a newer collector's is
    /// left alone).
    pub fn remove(&self, data_dir: &Path) {
        let path = path(data_dir);
        match Announcement::read(data_dir) {
            Ok(Some(current)) if current == *self => {
                if let Err(error) = std::fs::remove_file(&path) {
                    tracing::warn!(path = %path.display(), %error, "cannot remove the collector announcement");
                }
            }
            _ => {}
        }
    }

    /// Whether the announcing process still runs, as far as this system can tell: on Linux by
    /// `/proc/PID`; where there is no `/proc`, assumed (the status request then decides).
    pub fn is_alive(&self) -> bool {
        let proc = Path::new("/proc");
        if !proc.join("self").exists() {
            return true;
        }
        proc.join(self.pid.to_string()).exists()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn announcement(pid: u32) -> Announcement {
        Announcement {
            pid,
            status_addr: Some("127.0.0.1:9464".parse().unwrap()),
            started_at: "2026-03-01T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn written_read_and_removed_only_by_its_owner() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Announcement::read(dir.path()).unwrap(), None);
        let ours = announcement(std::process::id());
        ours.write(dir.path()).unwrap();
        assert_eq!(Announcement::read(dir.path()).unwrap(), Some(ours.clone()));
        assert!(ours.is_alive());
        announcement(1).remove(dir.path());
        assert!(
            path(dir.path()).exists(),
            "another's announcement was removed"
        );
        ours.remove(dir.path());
        assert!(!path(dir.path()).exists());
    }

    #[test]
    fn a_malformed_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), b"{not json").unwrap();
        let error = Announcement::read(dir.path()).unwrap_err();
        assert!(error.to_string().contains("collector.json"), "{error}");
    }
}
