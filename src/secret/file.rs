//! Secret files: reading one only when its owner alone can read it (as ssh insists), and
//! writing one atomically so the secret never exists in a file with wider permissions.
//!
//! Part of `secret`; depends on nothing else in the crate.

use std::fs::{self, File};
use std::io::{self};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};

use crate::private_file::{Step, write_private_atomically};

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
    write_private_atomically(path, secret.expose_secret().as_bytes()).map_err(|failed| {
        let action = match failed.step {
            Step::CreateDirectory => "could not create directory",
            Step::Write => "could not write secret file",
            Step::Replace => "could not replace secret file",
        };
        SecretError::Io {
            action,
            path: failed.path,
            error: failed.source,
        }
    })
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
