//! Where the control socket lives and how it is put there: the path (`--control-socket`, else
//! systemd's `$RUNTIME_DIRECTORY`, else `$XDG_RUNTIME_DIR/pilotwatch`), a directory no other
//! user can write (created 0750 when missing), a socket file 0660 owned by the control group,
//! and the stale-socket rule: a socket someone answers on means another collector runs (refuse,
//! naming its pid); one nobody answers on is a leftover of a crash (remove and bind).
//!
//! Depends on tokio's Unix sockets and std's Unix file APIs; knows nothing of the protocol.

use std::ffi::OsStr;
use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::{UnixListener, UnixStream};

use super::error::ControlError;

/// The socket's file name inside its runtime directory.
pub const SOCKET_NAME: &str = "control.sock";

/// Mode of a directory the collector creates for its socket.
pub const DIRECTORY_MODE: u32 = 0o750;

/// Mode of the socket: the owner and the control group may connect.
pub const SOCKET_MODE: u32 = 0o660;

/// How long a probe of an existing socket may take before the other side counts as alive
/// (a collector too busy to accept is still a collector).
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The socket's path: `flag` if given; else `control.sock` in the first of systemd's
/// `$RUNTIME_DIRECTORY` entries (it is `:`-separated when a unit names several); else in
/// `runtime_dir` (`$XDG_RUNTIME_DIR/pilotwatch`); else [`ControlError::NoPlace`].
pub fn resolve(
    flag: Option<&Path>,
    runtime_directory: Option<&OsStr>,
    runtime_dir: Option<&Path>,
) -> Result<PathBuf, ControlError> {
    if let Some(path) = flag {
        return Ok(path.to_path_buf());
    }
    let systemd = runtime_directory
        .and_then(OsStr::to_str)
        .and_then(|value| value.split(':').find(|entry| !entry.is_empty()))
        .map(PathBuf::from);
    systemd
        .or_else(|| runtime_dir.map(Path::to_path_buf))
        .map(|dir| dir.join(SOCKET_NAME))
        .ok_or(ControlError::NoPlace)
}

/// The socket's directory, ready: created 0750 (group `gid`) when missing, refused when
/// others may write it.
pub(super) fn prepare_directory(socket: &Path, gid: Option<u32>) -> Result<(), ControlError> {
    let dir = match socket.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(metadata) => {
            let mode = metadata.permissions().mode() & 0o7777;
            if mode & 0o002 != 0 {
                return Err(ControlError::UnsafeDirectory {
                    dir: dir.to_path_buf(),
                    mode,
                });
            }
            Ok(())
        }
        Err(error) if error.kind() == ErrorKind::NotFound => {
            std::fs::create_dir_all(dir)
                .map_err(ControlError::io("cannot create the socket directory", dir))?;
            // Set after creation: the umask would otherwise decide.
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIRECTORY_MODE))
                .map_err(ControlError::io(
                    "cannot restrict the socket directory",
                    dir,
                ))?;
            if gid.is_some() {
                std::os::unix::fs::chown(dir, None, gid)
                    .map_err(ControlError::io("cannot give the control group", dir))?;
            }
            Ok(())
        }
        Err(error) => Err(ControlError::io("cannot inspect the socket directory", dir)(error)),
    }
}

/// Clears the way for a new socket at `path`: nothing there is fine; a socket nobody answers
/// on is removed; a live one or a file that is not a socket is refused.
pub(super) async fn clear_stale(path: &Path) -> Result<(), ControlError> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(ControlError::io("cannot inspect", path)(error)),
    };
    if !metadata.file_type().is_socket() {
        return Err(ControlError::NotASocket {
            path: path.to_path_buf(),
        });
    }
    match tokio::time::timeout(PROBE_TIMEOUT, UnixStream::connect(path)).await {
        Ok(Ok(stream)) => Err(ControlError::AlreadyRunning {
            path: path.to_path_buf(),
            pid: stream.peer_cred().ok().and_then(|cred| cred.pid()),
        }),
        Err(_) => Err(ControlError::AlreadyRunning {
            path: path.to_path_buf(),
            pid: None,
        }),
        Ok(Err(error)) if error.kind() == ErrorKind::ConnectionRefused => {
            tracing::info!(socket = %path.display(), "removing a stale control socket");
            std::fs::remove_file(path)
                .map_err(ControlError::io("cannot remove the stale socket", path))
        }
        Ok(Err(error)) => Err(ControlError::io(
            "cannot tell whether a collector listens on",
            path,
        )(error)),
    }
}

/// Binds `path` and gives it mode 0660 and group `gid`. The directory (0750 at most for
/// others) keeps anyone else out during the moment the socket has the umask's mode.
pub(super) fn bind(path: &Path, gid: Option<u32>) -> Result<UnixListener, ControlError> {
    let listener = UnixListener::bind(path).map_err(ControlError::io("cannot listen on", path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(SOCKET_MODE))
        .map_err(ControlError::io("cannot set the mode of", path))?;
    if gid.is_some() {
        std::os::unix::fs::chown(path, None, gid)
            .map_err(ControlError::io("cannot give the control group", path))?;
    }
    Ok(listener)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_flag_wins_then_systemd_then_xdg() {
        let flag = Path::new("/tmp/x/c.sock");
        let xdg = Path::new("/run/user/1000/pilotwatch");
        assert_eq!(
            resolve(Some(flag), Some(OsStr::new("/run/pilotwatch")), Some(xdg)).unwrap(),
            flag
        );
        assert_eq!(
            resolve(
                None,
                Some(OsStr::new("/run/pilotwatch:/run/other")),
                Some(xdg)
            )
            .unwrap(),
            Path::new("/run/pilotwatch/control.sock")
        );
        assert_eq!(
            resolve(None, Some(OsStr::new("")), Some(xdg)).unwrap(),
            xdg.join(SOCKET_NAME)
        );
        assert!(matches!(
            resolve(None, None, None),
            Err(ControlError::NoPlace)
        ));
    }

    #[test]
    fn a_directory_others_may_write_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = prepare_directory(&dir.path().join("c.sock"), None).unwrap_err();
        assert!(error.to_string().contains("0777"), "{error}");
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_socket_is_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.sock");
        std::fs::write(&path, "keep me").unwrap();
        assert!(matches!(
            clear_stale(&path).await,
            Err(ControlError::NotASocket { .. })
        ));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
    }
}
