//! Everything that can go wrong in the store, as one typed error. Messages name the directory or
//! tree concerned and say what to do; none can contain a secret (the store holds none but
//! `clientState`, which no error quotes).

use std::io;
use std::path::PathBuf;

/// A store operation failed. Nothing was half-applied unless the message says so.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process (or another `Store` in this process) has the directory open.
    #[error("another pilotwatch collector{} owns {}", pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(), dir.display())]
    Locked {
        /// The store directory.
        dir: PathBuf,
        /// The owner's pid, when it wrote one.
        pid: Option<u32>,
    },
    /// A stored value or key cannot be decoded.
    #[error("the store's {tree} tree holds an unreadable entry ({reason})")]
    Corrupt {
        /// The tree.
        tree: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A file-system operation on the store directory failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. "cannot create the store directory".
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// sled failed.
    #[error("the store failed: {0}")]
    Sled(#[from] sled::Error),
    /// The store was written by another version of pilotwatch.
    #[error("{}", schema_message(*found, *expected, dir))]
    Schema {
        /// The directory.
        dir: PathBuf,
        /// The schema version on disk.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// A record could not be encoded.
    #[error("cannot encode a {what} for the store: {reason}")]
    Encode {
        /// What was being encoded.
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A time cannot be used as a key (sled keys hold nanoseconds between 1677 and 2262).
    #[error("{at} is outside the range of times the store can index (years 1678 to 2261)")]
    TimeOutOfRange {
        /// The time, as RFC 3339.
        at: String,
    },
    /// Flushing to disk failed; the writes before the commit may not be durable.
    #[error("the store could not flush to disk: {0}")]
    FlushFailed(String),
}

fn schema_message(found: u32, expected: u32, dir: &std::path::Path) -> String {
    if found > expected {
        format!(
            "the store in {} was written by a newer pilotwatch (schema version {found}; this \
             build reads version {expected}). Run the newer pilotwatch, or point this one at \
             another data directory.",
            dir.display()
        )
    } else {
        format!(
            "the store in {} has schema version {found}, which this build (version {expected}) \
             cannot migrate. Move the directory aside; pilotwatch will start a fresh store and \
             backfill it from Graph.",
            dir.display()
        )
    }
}

impl StoreError {
    pub(crate) fn corrupt(tree: &'static str, reason: impl ToString) -> Self {
        Self::Corrupt {
            tree,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_message_is_the_documented_one() {
        let dir = PathBuf::from("/var/lib/pilotwatch/store");
        let known = StoreError::Locked {
            dir: dir.clone(),
            pid: Some(4242),
        };
        assert_eq!(
            known.to_string(),
            "another pilotwatch collector (pid 4242) owns /var/lib/pilotwatch/store"
        );
        let unknown = StoreError::Locked { dir, pid: None };
        assert_eq!(
            unknown.to_string(),
            "another pilotwatch collector owns /var/lib/pilotwatch/store"
        );
    }
}
