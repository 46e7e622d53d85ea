//! Why the control socket could not be set up. Every message names the path concerned and what
//! to do about it; none can carry a secret (the socket's setup touches none).
//!
//! Depends on the access policy's error only.

use std::path::PathBuf;

use super::access::AccessError;

/// The control socket could not be set up; nothing listens and nothing was removed but a
/// stale socket.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// No `--control-socket`, no `$RUNTIME_DIRECTORY`, no `$XDG_RUNTIME_DIR`.
    #[error(
        "no place for the control socket: neither $RUNTIME_DIRECTORY (systemd's \
         RuntimeDirectory=) nor $XDG_RUNTIME_DIR is set; pass --control-socket PATH, or \
         --no-control to run without one (views then cannot attach)"
    )]
    NoPlace,
    /// The socket's directory could be written by anyone.
    #[error(
        "{} is writable by other users (mode {mode:04o}); the control socket needs a \
         directory only the collector's user and group can write (e.g. 0750)",
        dir.display()
    )]
    UnsafeDirectory {
        /// The directory.
        dir: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A collector answers on the socket already.
    #[error(
        "a collector already runs here{}: {} answers; stop it first or give this one another \
         --control-socket",
        pid.map(|pid| format!(", pid {pid}")).unwrap_or_default(),
        path.display()
    )]
    AlreadyRunning {
        /// The socket.
        path: PathBuf,
        /// The other collector's pid, when the kernel told.
        pid: Option<i32>,
    },
    /// Something that is not a socket sits where the socket goes.
    #[error("{} exists and is not a socket; refusing to replace it", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done ("cannot create the socket directory").
        action: &'static str,
        /// The path concerned.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The access policy could not be built (the configured group).
    #[error(transparent)]
    Access(#[from] AccessError),
}

impl ControlError {
    pub(super) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }
}
