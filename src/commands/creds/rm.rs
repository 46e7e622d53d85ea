//! `pilotwatch creds rm NAME`: remove a profile from the configuration, then delete the secret
//! file pilotwatch created for it — never a file the operator pointed the profile at, and never
//! one another profile still reads. The configuration is saved first, so a crash in between
//! leaves at worst an unused secret file, never a profile without its secret.
//!
//! Depends on `config` and `secret`.

use std::io::Write;
use std::path::PathBuf;

use crate::config::{Config, Paths, Profile};
use crate::secret::SecretSource;

use super::{CredsContext, CredsError, own_secret_file, release_own_secret_file};

/// What became of a removed profile's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretFate {
    /// pilotwatch's own file for it was deleted.
    Deleted(PathBuf),
    /// pilotwatch's own file for it was kept: another profile still reads it.
    StillRead(PathBuf),
    /// The operator's own file, never touched.
    Foreign(PathBuf),
    /// Another kind of source (environment variable, command), named as configured.
    Elsewhere(String),
}

/// Removes profile `name` from the configuration under `paths` and releases its secret file.
/// Shared by `creds rm` and the console's profile form.
pub fn remove_profile(name: &str, paths: &Paths) -> Result<(Profile, SecretFate), CredsError> {
    let mut config = Config::load(&paths.config_file)?;
    if config.profiles.iter().all(|p| p.name != name) {
        return Err(CredsError::UnknownProfile {
            name: name.to_owned(),
            known: config.profiles.iter().map(|p| p.name.clone()).collect(),
        });
    }
    let removed = config.remove_profile(name)?;
    config.save(&paths.config_file)?;
    let fate = match (&removed.secret, own_secret_file(&paths.data_dir, &removed)) {
        (_, Some(own)) => {
            if release_own_secret_file(&config, &own)? {
                SecretFate::Deleted(own)
            } else {
                SecretFate::StillRead(own)
            }
        }
        (SecretSource::File { path }, None) => SecretFate::Foreign(path.clone()),
        (source, None) => SecretFate::Elsewhere(source.to_string()),
    };
    Ok((removed, fate))
}

impl SecretFate {
    /// One line for a human.
    pub fn describe(&self) -> String {
        match self {
            Self::Deleted(path) => format!("deleted its secret file {}", path.display()),
            Self::StillRead(path) => format!(
                "kept secret file {}: another profile still reads it",
                path.display()
            ),
            Self::Foreign(path) => format!(
                "kept secret file {}: pilotwatch did not create it",
                path.display()
            ),
            Self::Elsewhere(source) => format!("its secret stays in {source}"),
        }
    }
}

/// Runs `creds rm`.
pub fn run(name: &str, context: &CredsContext, out: &mut dyn Write) -> Result<(), CredsError> {
    let (_, fate) = remove_profile(name, &context.paths)?;
    writeln!(out, "removed profile {name}")?;
    writeln!(out, "  {}", fate.describe())?;
    Ok(())
}
