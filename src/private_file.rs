//! Writing a file that holds something private (a secret, a configuration, the simulator's
//! tenant) so that it is never seen half-written and never exists with wider permissions than
//! owner-only, even briefly: a 0600 temporary file in the same directory is written and synced,
//! renamed over the target, and the directory is synced. Missing directories are created 0700.
//! On failure the previous file is left as it was and the temporary file is removed.
//!
//! Depends on nothing else in the crate.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Which step of [`write_private_atomically`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Creating the directory.
    CreateDirectory,
    /// Writing and syncing the temporary file.
    Write,
    /// Renaming it over the target.
    Replace,
}

/// A failed private write: the step, the path it concerned, and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct PrivateWriteError {
    /// What failed.
    pub step: Step,
    /// The directory, temporary file or target concerned.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// Writes `contents` to `path` atomically with mode 0600 (see the module documentation).
pub fn write_private_atomically(path: &Path, contents: &[u8]) -> Result<(), PrivateWriteError> {
    let fail = |step, at: &Path| {
        let path = at.to_path_buf();
        move |source| PrivateWriteError { step, path, source }
    };
    let file_name = path.file_name().ok_or_else(|| {
        fail(Step::Write, path)(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path has no file name",
        ))
    })?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(fail(Step::CreateDirectory, &dir))?;
    let mut temp_name = OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let temp = dir.join(temp_name);
    let written = write_new_private(&temp, contents)
        .map_err(fail(Step::Write, &temp))
        .and_then(|()| fs::rename(&temp, path).map_err(fail(Step::Replace, path)));
    if let Err(error) = written {
        // Best effort: the temporary file may not exist if creating it failed.
        let _ = fs::remove_file(&temp);
        return Err(error);
    }
    // Make the rename durable; a failure here still leaves a complete, correct file.
    if let Ok(handle) = File::open(&dir) {
        let _ = handle.sync_all();
    }
    Ok(())
}

fn write_new_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_owner_only_replaces_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("nested/private.txt");
        write_private_atomically(&target, b"first").unwrap();
        write_private_atomically(&target, b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        let mode = fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(target.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        assert_eq!(fs::read_dir(target.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_replace_keeps_the_old_content_and_names_the_step() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("keep"), b"x").unwrap();
        let error = write_private_atomically(&target, b"new").unwrap_err();
        assert_eq!(error.step, Step::Replace);
        assert!(target.join("keep").exists());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file removed"
        );
    }
}
