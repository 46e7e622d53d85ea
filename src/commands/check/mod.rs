//! `pilotwatch check [--profile P] [--json] [--verbose]`: one Nagios status line with perfdata
//! and the exit code of the worst profile (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
//!
//! Where the verdicts come from, in order ([`source::find`]):
//! 1. a running collector's control socket, as every other view reaches it (read-only, the
//!    snapshot's verdicts as they are);
//! 2. its status endpoint, when the socket is not there (`serve --no-control`), will not take
//!    this user (a monitoring agent outside its group) or does not answer:
//!    `DATA_DIR/collector.json` names a live pid and a status address, and its
//!    `/diagnosis.json` answers within a few seconds;
//! 3. a collector that cannot be asked either way (silent, or holding the store's lock with no
//!    status address): each profile is checked directly, its facts labelled
//!    [`FactSource::Unreachable`] with every reason, so the store-locked finding leads;
//! 4. no collector: each profile is checked directly against Graph ([`direct`]).
//!
//! A collector that has not judged a profile yet (its first seconds) is UNKNOWN and says so.
//!
//! Bad input (an unknown profile, an unreadable configuration or announcement, a control socket
//! that refuses with no status endpoint answering instead) is a [`CheckError`], which `main` prints
//! and exits 3 with: a check that cannot run is UNKNOWN.
//!
//! Depends on `config`, `status` (the announcement and paths), `diagnose`, `graph::http` and
//! the twins' [`Attach`] (never on the control socket's internals).

pub mod direct;
mod source;

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::cli::CheckArgs;
use crate::clock::SharedClock;
use crate::commands::twins::handle::Attach;
use crate::config::{Config, ConfigError, Paths};
use crate::diagnose::nagios::{Checked, status_line};
use crate::diagnose::{ProfileVerdict, render};

/// Exit code of a check that could not run (Nagios UNKNOWN).
pub const EXIT_UNKNOWN: u8 = 3;

/// How long a collector's control socket has to answer the check's hello. Monitoring gives a
/// check 10 s (`check_nrpe`'s default), and a hung collector must leave room for asking its
/// status endpoint (3 s) and a direct check after it; a live collector answers in
/// milliseconds.
pub const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Why `check` could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The configuration could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--profile` named a profile that does not exist.
    #[error("no profile named {name}; known profiles: {}", list(known))]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles that exist.
        known: Vec<String>,
    },
    /// The collector's announcement could not be read.
    #[error(transparent)]
    Announcement(#[from] crate::status::announcement::ReadError),
    /// A collector answers on the control socket but will not serve this check (another
    /// protocol version, no permission), or `--control-socket` names one nobody serves.
    #[error("{0}")]
    Attach(String),
    /// Writing the result failed.
    #[error("cannot write the result: {0}")]
    Output(#[from] std::io::Error),
}

impl CheckError {
    /// The exit code: every failure to check is UNKNOWN.
    pub fn exit_code(&self) -> u8 {
        EXIT_UNKNOWN
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct JsonResult<'a> {
    status: &'a str,
    exit_code: u8,
    verdicts: &'a [ProfileVerdict],
}

/// Runs the check, reaching a running collector through `attach` first, writes its result to
/// `out`, and returns the exit code.
pub async fn run(
    args: &CheckArgs,
    paths: &Paths,
    clock: SharedClock,
    attach: &dyn Attach,
    out: &mut dyn Write,
) -> Result<u8, CheckError> {
    let data_dir: PathBuf = args
        .data_dir
        .clone()
        .unwrap_or_else(|| paths.data_dir.clone());
    let found = source::find(attach, &data_dir).await?;
    let verdicts = match found {
        source::Collector::Answered {
            pid,
            profiles,
            verdicts,
        } => {
            let chosen = select(verdicts, &profiles, args.profile.as_deref())?;
            if chosen.is_empty() {
                // Its first diagnosis comes seconds after it starts: that is neither "no
                // profile is configured" nor "no such profile".
                let which = match args.profile.as_deref() {
                    Some(name) => format!("profile {name}"),
                    None => "any profile".to_owned(),
                };
                writeln!(
                    out,
                    "PILOTWATCH UNKNOWN - the collector (pid {pid}) has not judged {which} yet; \
                     ask again in a minute"
                )?;
                out.flush()?;
                return Ok(EXIT_UNKNOWN);
            }
            chosen
        }
        source::Collector::Unreachable(source) => {
            let config = Config::load(&paths.config_file)?;
            source::direct(config, args.profile.as_deref(), source, clock.clone()).await?
        }
        source::Collector::None => {
            let config = Config::load(&paths.config_file)?;
            let source = crate::diagnose::facts::FactSource::Direct;
            source::direct(config, args.profile.as_deref(), source, clock.clone()).await?
        }
    };
    let checked: Vec<Checked<'_>> = verdicts
        .iter()
        .map(|verdict| Checked {
            diagnosis: &verdict.diagnosis,
            facts: &verdict.facts,
        })
        .collect();
    let (line, code) = status_line(&checked, clock.now());
    if args.json {
        let result = JsonResult {
            status: &line,
            exit_code: code,
            verdicts: &verdicts,
        };
        serde_json::to_writer_pretty(&mut *out, &result).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{line}")?;
        if args.verbose {
            for verdict in &verdicts {
                writeln!(out)?;
                write!(out, "{}", render::render(&verdict.diagnosis))?;
            }
        }
    }
    out.flush()?;
    Ok(code)
}

/// The collector's verdict for `profile`, or all of them; `profiles` are the ones it runs
/// (a profile not judged yet is known, just without a verdict).
fn select(
    verdicts: Vec<ProfileVerdict>,
    profiles: &[String],
    profile: Option<&str>,
) -> Result<Vec<ProfileVerdict>, CheckError> {
    let Some(name) = profile else {
        return Ok(verdicts);
    };
    if !profiles.iter().any(|known| known == name) {
        return Err(CheckError::UnknownProfile {
            name: name.to_owned(),
            known: profiles.to_vec(),
        });
    }
    Ok(verdicts
        .into_iter()
        .filter(|v| v.diagnosis.profile == name)
        .collect())
}
