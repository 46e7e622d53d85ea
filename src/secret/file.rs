//! Secret files: reading one only when its owner alone can read it (as ssh insists), and
//! writing one atomically so the secret never exists in a file with wider permissions.
//!
//! Part of `secret`; depends on nothing else in the crate.

use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use super::{SecretError, read_bounded, secret_from_bytes};

pub(super) fn load_file(path: &Path) -> Result<SecretString, SecretError> {
    let link_meta = fs::symlink_metadata(path).map_err(|error| match error.kind() {
        io::ErrorKind::NotFound => SecretError::FileMissing {
            path: path.to_path_buf(),
        },
        _ => SecretError::Io {
            action: "could not inspect secret file",
            path: path.to_path_buf(),
            error,
        },
    })?;
    if link_meta.file_type().is_symlink() {
        let target = fs::read_link(path).unwrap_or_default();
        return Err(SecretError::FileIsSymlink {
            path: path.to_path_buf(),
            target,
        });
    }
    let io_error = |action: &'static str| {
        move |error| SecretError::Io {
            action,
            path: path.to_path_buf(),
            error,
        }
    };
    let file = File::open(path).map_err(io_error("could not open secret file"))?;
    // Checked on the opened handle, so a swap between the lstat above and the open is caught.
    let meta = file
        .metadata()
        .map_err(io_error("could not inspect secret file"))?;
    if !meta.is_file() {
        return Err(SecretError::FileNotRegular {
            path: path.to_path_buf(),
        });
    }
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(SecretError::FileTooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    let source_desc = format!("file {}", path.display());
    let bytes = read_bounded(file)
        .map_err(io_error("could not read secret file"))?
        .ok_or_else(|| SecretError::TooLarge {
            source_desc: source_desc.clone(),
        })?;
    secret_from_bytes(bytes, &source_desc)
}

/// Writes the secret to `path` so that it never exists with permissions wider than 0600: parent
/// directories are created 0700, the secret goes to a 0600 temporary file in the same directory,
/// which is synced and renamed over `path`.
pub fn store_secret_file(path: &Path, secret: &SecretString) -> Result<(), SecretError> {
    let io_error = |action: &'static str, at: &Path| {
        let at = at.to_path_buf();
        move |error| SecretError::Io {
            action,
            path: at,
            error,
        }
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| {
            io_error("cannot store a secret at", path)(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the path has no file name",
            ))
        })?
        .to_os_string();
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(io_error("could not create directory", &dir))?;

    let mut temp_name = OsString::from(".");
    temp_name.push(&file_name);
    temp_name.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
    let temp_path = dir.join(temp_name);
    let written = write_new_private_file(&temp_path, secret.expose_secret().as_bytes())
        .map_err(io_error("could not write secret file", &temp_path))
        .and_then(|()| {
            fs::rename(&temp_path, path).map_err(io_error("could not replace secret file", path))
        });
    if let Err(error) = written {
        let _ = fs::remove_file(&temp_path);
        return Err(error);
    }
    // Make the rename itself durable; a failure here leaves a complete, correct file.
    if let Ok(dir_handle) = File::open(&dir) {
        let _ = dir_handle.sync_all();
    }
    Ok(())
}

fn write_new_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Where a profile's secret is stored by default: `<data_dir>/secrets/<profile>.secret`.
/// Profile names must be 1 to 64 ASCII letters, digits, `-` or `_`, so that they cannot
/// escape the directory.
pub fn default_secret_path(data_dir: &Path, profile: &str) -> Result<PathBuf, SecretError> {
    let valid = (1..=64).contains(&profile.len())
        && profile
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(SecretError::InvalidProfileName {
            name: profile.chars().take(80).collect(),
        });
    }
    Ok(data_dir.join("secrets").join(format!("{profile}.secret")))
}
