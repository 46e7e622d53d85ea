//! Ownership of a store directory: one collector at a time.
//!
//! sled locks its `db` file, but its refusal is an `ErrorKind::Other` with free text and says
//! nothing about who holds it (reliability-notes §1.3). So the store first takes its own
//! exclusive `flock` on `DIR/collector.pid` and writes its pid there; a second opener — another
//! process, or another `Store` in the same process, since `flock` belongs to the open file
//! description — reads that pid and reports "another pilotwatch collector (pid N) owns DIR".
//! The lock dies with the process, so a SIGKILL never leaves a stale lock behind.
//!
//! Depends on the standard library only.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use super::error::StoreError;

/// Name of the lock-and-pid file inside the store directory.
pub const PID_FILE: &str = "collector.pid";

/// Held for as long as the store is open.
#[derive(Debug)]
pub(crate) struct DirLock {
    file: File,
}

impl DirLock {
    /// Takes the lock on `dir` (which must exist) and records this process's pid.
    pub(crate) fn acquire(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(PID_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(StoreError::io("cannot open the store's pid file", &path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Locked {
                    dir: dir.to_path_buf(),
                    pid: read_pid(&mut file),
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(StoreError::io("cannot lock the store's pid file", path)(
                    source,
                ));
            }
        }
        write_pid(&mut file).map_err(StoreError::io("cannot write the store's pid file", &path))?;
        Ok(Self { file })
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // An empty pid file says "nobody": a later reader must not name a process that is gone.
        // Unlocking is implicit in closing the file.
        let _ = self.file.set_len(0);
    }
}

fn write_pid(file: &mut File) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(format!("{}\n", std::process::id()).as_bytes())
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// The path of the pid file of `dir`.
pub fn pid_file(dir: &Path) -> PathBuf {
    dir.join(PID_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_owner() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err();
        match err {
            StoreError::Locked { pid, .. } => assert_eq!(pid, Some(std::process::id())),
            other => panic!("{other}"),
        }
        drop(first);
        assert_eq!(std::fs::read_to_string(pid_file(dir.path())).unwrap(), "");
        DirLock::acquire(dir.path()).unwrap();
    }
}
