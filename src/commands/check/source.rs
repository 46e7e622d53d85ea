//! Where `check`'s verdicts come from: a running collector's control socket; else its
//! `/diagnosis.json` when `collector.json` names a live one that answers; a collector that
//! cannot be asked (silent on its socket, announced but silent, or holding the store's lock
//! with no status address); or none at all, in which case each configured profile is checked
//! directly.
//!
//! The store's lock is probed with a shared `flock` taken and dropped at once on its pid file,
//! so a live collector is told from a pid file left behind by a killed one without trusting a
//! pid that may have been reused.
//!
//! Depends on `status::announcement`, the store's pid-file name, `config`, `direct`, the
//! console's connection type and the twins' [`Attach`].

use std::fs::{File, TryLockError};
use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use super::CheckError;
use super::direct;
use crate::clock::SharedClock;
use crate::commands::twins::handle::{Attach, Attached};
use crate::config::{Config, Profile};
use crate::console::Connection;
use crate::diagnose::facts::FactSource;
use crate::diagnose::{ProfileVerdict, diagnose};
use crate::graph::http::{EXPORT_REQUESTS_PER_SECOND, RateBudgets};
use crate::status::DIAGNOSIS_PATH;
use crate::status::announcement::Announcement;
use crate::store::PID_FILE;

/// How long a running collector has to answer a snapshot or `/diagnosis.json`: it answers
/// from memory, so a few seconds without an answer means it is hung.
const ASK_TIMEOUT: Duration = Duration::from_secs(3);

/// What was found of a collector.
#[derive(Debug)]
pub enum Collector {
    /// One runs and answered with its verdicts (of the profiles it has judged so far).
    Answered {
        /// Its process.
        pid: u32,
        /// Every profile it runs, judged or not.
        profiles: Vec<String>,
        /// Its verdicts.
        verdicts: Vec<ProfileVerdict>,
    },
    /// One runs but could not be asked.
    Unreachable(FactSource),
    /// None runs.
    None,
}

/// Finds the collector and asks it: through `attach` (its control socket) first, then the
/// status endpoint it announces in `data_dir`, which answers for the socket when the socket
/// will not take this user (a monitoring agent outside its group) or does not answer.
///
/// A socket that refuses, with no status endpoint answering instead, is an error (UNKNOWN with
/// the reason): the collector is there and said no, so checking around it would mislead. A
/// socket that does not answer at all is a collector that cannot be asked, as is one whose
/// status endpoint does not answer: both reasons are kept for the store-locked finding.
pub async fn find(attach: &dyn Attach, data_dir: &Path) -> Result<Collector, CheckError> {
    let by_socket = match from_socket(attach).await {
        Ok(Collector::None) => return from_collector(data_dir).await,
        Ok(answered @ Collector::Answered { .. }) => return Ok(answered),
        other => other,
    };
    let by_announcement = from_collector(data_dir).await?;
    Ok(match (by_socket, by_announcement) {
        (_, answered @ Collector::Answered { .. }) => answered,
        (Err(CheckError::Attach(refusal)), _) => {
            return Err(CheckError::Attach(format!(
                "{refusal}; and no status endpoint answered instead (check finds it in \
                 collector.json under {}; --data-dir names the collector's data directory)",
                data_dir.display()
            )));
        }
        (Err(error), _) => return Err(error),
        (
            Ok(Collector::Unreachable(FactSource::Unreachable { pid, reason })),
            Collector::Unreachable(FactSource::Unreachable {
                pid: announced,
                reason: why,
            }),
        ) => Collector::Unreachable(FactSource::Unreachable {
            pid: announced.or(pid),
            reason: format!("{reason}; {why}"),
        }),
        (Ok(by_socket), _) => by_socket,
    })
}

/// Asks the collector behind the control socket, if one answers there, for the verdicts in its
/// snapshot. A socket that refuses is an error; one that never answers the hello, or welcomes
/// but gives no snapshot, makes the collector unreachable.
async fn from_socket(attach: &dyn Attach) -> Result<Collector, CheckError> {
    let handle = match attach.attach().await {
        Attached::NotRunning => return Ok(Collector::None),
        Attached::Refused(reason) => return Err(CheckError::Attach(reason)),
        Attached::Silent(reason) => {
            return Ok(Collector::Unreachable(FactSource::Unreachable {
                pid: None,
                reason: format!("its control socket: {reason}"),
            }));
        }
        Attached::Handle(handle) => handle,
    };
    let pid = match handle.connection() {
        Connection::Attached { pid, .. } => Some(pid),
        Connection::Embedded => None,
    };
    let reason = match tokio::time::timeout(ASK_TIMEOUT, handle.snapshot()).await {
        Ok(Ok(snapshot)) => {
            let profiles = snapshot.profiles.iter().map(|p| p.name.clone()).collect();
            let verdicts = snapshot
                .profiles
                .into_iter()
                .filter_map(|profile| profile.verdict)
                .collect();
            return Ok(Collector::Answered {
                pid: snapshot.pid,
                profiles,
                verdicts,
            });
        }
        Ok(Err(error)) => format!("its control socket answered: {error}"),
        Err(_) => format!(
            "its control socket gave no snapshot within {} s",
            ASK_TIMEOUT.as_secs()
        ),
    };
    Ok(Collector::Unreachable(FactSource::Unreachable {
        pid,
        reason,
    }))
}

/// Looks for a collector owning `data_dir` and asks it for its verdicts.
async fn from_collector(data_dir: &Path) -> Result<Collector, CheckError> {
    let announced = Announcement::read(data_dir)?.filter(Announcement::is_alive);
    let holder = lock_holder(&data_dir.join("store").join(PID_FILE));
    let Some(announced) = announced else {
        return Ok(match holder {
            Some(pid) => Collector::Unreachable(FactSource::Unreachable {
                pid,
                reason: "it announces no status address (stopped announcing, or an older \
                         pilotwatch)"
                    .to_owned(),
            }),
            None => Collector::None,
        });
    };
    let Some(addr) = announced.status_addr else {
        return Ok(Collector::Unreachable(FactSource::Unreachable {
            pid: Some(announced.pid),
            reason: "it runs without status endpoints (--status-bind off, or its port was \
                     taken)"
                .to_owned(),
        }));
    };
    match ask(&format!("http://{addr}{DIAGNOSIS_PATH}")).await {
        Ok(verdicts) => Ok(Collector::Answered {
            pid: announced.pid,
            profiles: verdicts
                .iter()
                .map(|v: &ProfileVerdict| v.diagnosis.profile.clone())
                .collect(),
            verdicts,
        }),
        Err(reason) => Ok(Collector::Unreachable(FactSource::Unreachable {
            pid: Some(announced.pid),
            reason: format!("http://{addr}{DIAGNOSIS_PATH}: {reason}"),
        })),
    }
}

/// `GET url` as verdicts; the failure as text for the finding's evidence.
async fn ask(url: &str) -> Result<Vec<ProfileVerdict>, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(ASK_TIMEOUT)
        .build()
        .map_err(|error| error.to_string())?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|error| without_url(&error))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("answered HTTP {}", status.as_u16()));
    }
    response
        .json::<Vec<ProfileVerdict>>()
        .await
        .map_err(|error| {
            format!(
                "answered something other than verdicts: {}",
                without_url(&error)
            )
        })
}

fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    if error.is_timeout() {
        format!("no answer within {} s", ASK_TIMEOUT.as_secs())
    } else {
        text
    }
}

/// The pid of the process holding the store's lock: `Some(pid)` when it is held (the pid
/// when the file names one), `None` when nobody holds it or there is no store.
fn lock_holder(pid_file: &Path) -> Option<Option<u32>> {
    let mut file = File::open(pid_file).ok()?;
    match file.try_lock_shared() {
        // Dropping the file releases the shared lock at once.
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let pid = (&mut file)
                .take(32)
                .read_to_string(&mut text)
                .ok()
                .and_then(|_| text.trim().parse().ok());
            Some(pid)
        }
        Err(TryLockError::Error(_)) => None,
    }
}

/// Checks the profiles of `config` (or the one named) directly, their facts labelled
/// `source`, all at once with each tenant's calls sharing one request budget.
pub async fn direct(
    config: Config,
    wanted: Option<&str>,
    source: FactSource,
    clock: SharedClock,
) -> Result<Vec<ProfileVerdict>, CheckError> {
    let profiles = chosen(config.profiles, wanted)?;
    let budgets = RateBudgets::new(EXPORT_REQUESTS_PER_SECOND);
    let gathered = profiles.iter().map(|profile| {
        direct::gather(
            profile,
            source.clone(),
            clock.clone(),
            budgets.for_tenant(&profile.tenant),
        )
    });
    let facts = futures_util::future::join_all(gathered).await;
    let now = clock.now();
    Ok(facts
        .into_iter()
        .map(|facts| ProfileVerdict {
            diagnosis: diagnose(&facts, now),
            facts,
        })
        .collect())
}

fn chosen(profiles: Vec<Profile>, wanted: Option<&str>) -> Result<Vec<Profile>, CheckError> {
    let Some(name) = wanted else {
        return Ok(profiles);
    };
    if profiles.iter().any(|p| p.name == name) {
        return Ok(profiles.into_iter().filter(|p| p.name == name).collect());
    }
    Err(CheckError::UnknownProfile {
        name: name.to_owned(),
        known: profiles.into_iter().map(|p| p.name).collect(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_held_store_lock_names_its_holder_and_a_released_one_nobody() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(PID_FILE);
        assert_eq!(lock_holder(&path), None, "no pid file");
        std::fs::write(&path, "4242\n").unwrap();
        assert_eq!(lock_holder(&path), None, "a pid file nobody locks");
        let holder = File::open(&path).unwrap();
        holder.lock().unwrap();
        assert_eq!(lock_holder(&path), Some(Some(4242)));
        drop(holder);
        assert_eq!(lock_holder(&path), None);
    }
}
