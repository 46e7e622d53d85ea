//! `pilotwatch creds rm NAME`: remove a profile from the configuration, then delete the secret
//! file pilotwatch created for it — never a file the operator pointed the profile at, and never
//! one another profile still reads. The configuration is saved first, so a crash in between
//! leaves at worst an unused secret file, never a profile without its secret.
//!
//! Depends on `config` and `secret`.

use std::io::Write;

use crate::config::Config;
use crate::secret::SecretSource;

use super::{CredsContext, CredsError, own_secret_file, release_own_secret_file};

/// Runs `creds rm`.
pub fn run(name: &str, context: &CredsContext, out: &mut dyn Write) -> Result<(), CredsError> {
    let paths = &context.paths;
    let mut config = Config::load(&paths.config_file)?;
    if config.profiles.iter().all(|p| p.name != name) {
        return Err(CredsError::UnknownProfile {
            name: name.to_owned(),
            known: config.profiles.iter().map(|p| p.name.clone()).collect(),
        });
    }
    let removed = config.remove_profile(name)?;
    config.save(&paths.config_file)?;
    writeln!(out, "removed profile {name}")?;
    match (&removed.secret, own_secret_file(&paths.data_dir, &removed)) {
        (_, Some(own)) => {
            if release_own_secret_file(&config, &own)? {
                writeln!(out, "  deleted its secret file {}", own.display())?;
            } else {
                writeln!(
                    out,
                    "  kept secret file {}: another profile still reads it",
                    own.display()
                )?;
            }
        }
        (SecretSource::File { path }, None) => writeln!(
            out,
            "  kept secret file {}: pilotwatch did not create it",
            path.display()
        )?,
        (source, None) => writeln!(out, "  its secret stays in {source}")?,
    }
    Ok(())
}
