//! `pilotwatch keys rotate [--profile P] [--data-dir DIR]`: the operator's trigger for a
//! certificate rotation. It turns the profile's key files (where the collector finds them:
//! the configured `encryption_certificate`/`encryption_key`, else `DATA_DIR/keys/NAME.{crt,key}`),
//! keeps the old pair beside them for notifications still encrypted for it, and prints both
//! certificate ids. The subscriptions follow when a collector loads the new pair: its keeper
//! replaces every subscription on an older certificate. A running collector rotates in process
//! instead (`Collector::rotate_certificate`, reached through the control socket).
//!
//! Depends on config and `collector::rotation`; never on the store (a running collector may
//! own it) or Graph.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::KeysCommand;
use crate::clock::SystemClock;
use crate::collector::{RotationError, rotation};
use crate::config::{Config, ConfigError, Paths, Profile};

/// Why `pilotwatch keys` failed. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The configuration could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No `--profile` and not exactly one profile configured.
    #[error("{} profiles are configured ({}); name one with --profile", known.len(), known.join(", "))]
    WhichProfile {
        /// The configured profiles.
        known: Vec<String>,
    },
    /// No profile is configured at all.
    #[error("no profiles configured; add one with `pilotwatch creds add`")]
    NoProfiles,
    /// The rotation itself failed (unknown profile, no keys yet, unreadable files).
    #[error(transparent)]
    Rotation(#[from] RotationError),
    /// The report could not be written.
    #[error("cannot write the report: {0}")]
    Output(#[from] io::Error),
}

/// Runs a `pilotwatch keys` subcommand, reporting to `out`.
pub async fn run(
    command: KeysCommand,
    paths: &Paths,
    out: &mut dyn Write,
) -> Result<(), KeysError> {
    match command {
        KeysCommand::Rotate { profile, data_dir } => {
            let config = Config::load(&paths.config_file)?;
            let profile = choose(config.profiles, profile.as_deref())?;
            let data_dir: PathBuf = data_dir.unwrap_or_else(|| paths.data_dir.clone());
            let rotation =
                rotation::rotate_files(&profile, &data_dir, Arc::new(SystemClock)).await?;
            writeln!(
                out,
                "profile {}: rotated the encryption certificate",
                rotation.profile
            )?;
            writeln!(
                out,
                "  previous certificate id: {} (kept as {}.previous for notifications still encrypted for it)",
                rotation.previous_id,
                rotation.certificate_path.display()
            )?;
            writeln!(out, "  new certificate id:      {}", rotation.current_id)?;
            writeln!(
                out,
                "The collector moves the subscription(s) to the new certificate when it loads it: at its next start, so restart a running `pilotwatch serve` to switch now (each subscription is replaced and the moment between backfilled)."
            )?;
            Ok(())
        }
    }
}

/// The profile named `wanted`, or the only one configured.
fn choose(profiles: Vec<Profile>, wanted: Option<&str>) -> Result<Profile, KeysError> {
    let known: Vec<String> = profiles.iter().map(|p| p.name.clone()).collect();
    match wanted {
        Some(name) => profiles
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                RotationError::UnknownProfile {
                    name: name.to_owned(),
                    known,
                }
                .into()
            }),
        None => {
            let mut profiles = profiles.into_iter();
            match (profiles.next(), profiles.next()) {
                (Some(only), None) => Ok(only),
                (None, _) => Err(KeysError::NoProfiles),
                (Some(_), Some(_)) => Err(KeysError::WhichProfile { known }),
            }
        }
    }
}
