//! `pilotwatch check [--profile P] [--json] [--verbose]`: one Nagios status line with perfdata
//! and the exit code of the worst profile (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
//!
//! Where the verdicts come from, in order:
//! 1. a running collector's control socket, as every other view reaches it (read-only, the
//!    snapshot's verdicts as they are);
//! 2. a running collector without one (`serve --no-control`), or whose socket will not take
//!    this user (a monitoring agent outside its group): `DATA_DIR/collector.json` names a live
//!    pid and a status address, and its `/diagnosis.json` answers within a few seconds;
//! 3. a collector that cannot be asked (it does not answer either way, or it holds the store's
//!    lock without announcing a status address): each profile is checked directly, its facts
//!    labelled [`FactSource::Unreachable`], so the store-locked finding leads;
//! 4. no collector: each profile is checked directly against Graph ([`direct`]).
//!
//! Bad input (an unknown profile, an unreadable configuration or announcement, a control socket
//! that refuses) is a [`CheckError`], which `main` prints and exits 3 with: a check that cannot
//! run is UNKNOWN.
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
    let found = match source::from_socket(attach).await {
        Ok(source::Collector::None) => source::from_collector(&data_dir).await?,
        Ok(asked) => asked,
        // A monitoring agent's user is often outside the socket's group: its status endpoint,
        // made for monitoring, may still answer. Only if it does not is the refusal the answer.
        Err(refused) => match source::from_collector(&data_dir).await? {
            answered @ source::Collector::Answered { .. } => answered,
            _ => return Err(refused),
        },
    };
    let verdicts = match found {
        source::Collector::Answered { pid, verdicts } if verdicts.is_empty() => {
            // Its first diagnosis comes seconds after it starts; "no profile is configured"
            // would be a wrong answer.
            let line = format!(
                "PILOTWATCH UNKNOWN - the collector (pid {pid}) has not judged any profile yet; \
                 ask again in a minute"
            );
            writeln!(out, "{line}")?;
            out.flush()?;
            return Ok(EXIT_UNKNOWN);
        }
        source::Collector::Answered { verdicts, .. } => select(verdicts, args.profile.as_deref())?,
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

/// The collector's verdict for `profile`, or all of them.
fn select(
    verdicts: Vec<ProfileVerdict>,
    profile: Option<&str>,
) -> Result<Vec<ProfileVerdict>, CheckError> {
    let Some(name) = profile else {
        return Ok(verdicts);
    };
    let known: Vec<String> = verdicts
        .iter()
        .map(|v| v.diagnosis.profile.clone())
        .collect();
    let chosen: Vec<ProfileVerdict> = verdicts
        .into_iter()
        .filter(|v| v.diagnosis.profile == name)
        .collect();
    if chosen.is_empty() {
        return Err(CheckError::UnknownProfile {
            name: name.to_owned(),
            known,
        });
    }
    Ok(chosen)
}
