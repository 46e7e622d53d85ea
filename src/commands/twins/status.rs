//! `pilotwatch status [--profile P] [--json]`: one screen an on-call engineer reads in a
//! terminal or pastes into a ticket. At the top, how the collector was reached (a collector
//! that is not running is itself CRITICAL: nothing renews the subscriptions or receives
//! notifications), any collector task that died (CRITICAL too) and the store; then per
//! profile the verdict headline with its severity word, the broken ladder rung, the
//! credentials (token, secret expiry countdown) and each subscription (expiry countdown, last
//! renewal, received, validationTokens share, ack p95).
//!
//! The exit code is the worst severity shown, Nagios style. `--json` prints [`StatusJson`]:
//! the status word, the exit code, how the collector was reached and the [`Snapshot`] itself
//! (only the chosen profile's part with `--profile`), which reads back as the same types.
//!
//! Depends on the console's snapshot, the diagnosis and credential report types, and the
//! console's shared marks and badges (the Subscriptions tab's own judgements); the rendering
//! is pure ([`render`]).

use std::fmt::Write as _;
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::handle::{Reached, settled_snapshot};
use super::{TwinError, check_profile};
use crate::console::badge::text as badge;
use crate::console::format::{minute, relative};
use crate::console::marks;
use crate::console::{CollectorHandle, ProfileSnapshot, Snapshot};
use crate::creds::{CredentialReport, TokenStatus};
use crate::diagnose::RungState;
use crate::severity::Severity;
use crate::terminal_text::printable_line;

/// How long a collector started for this command gets to finish its first credential probe.
pub const SETTLE_PATIENCE: Duration = Duration::from_secs(20);

/// What `status --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusJson {
    /// `OK`, `WARNING`, `CRITICAL` or `UNKNOWN`.
    pub status: String,
    /// The exit code (0–3).
    pub exit_code: u8,
    /// How the collector was reached.
    pub collector: Reached,
    /// The collector's state (only the chosen profile with `--profile`).
    pub snapshot: Snapshot,
}

/// Asks `handle` and writes the status of `profile` (all when `None`) to `out`, as text or
/// JSON; returns the exit code.
pub async fn run(
    handle: &CollectorHandle,
    profile: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<u8, TwinError> {
    let reached = Reached::of(&handle.connection());
    let snapshot = settled_snapshot(handle, SETTLE_PATIENCE).await?;
    let snapshot = only(snapshot, profile)?;
    let severity = severity(&snapshot, &reached);
    if json {
        let result = StatusJson {
            status: severity.nagios_label().to_owned(),
            exit_code: severity.exit_code(),
            collector: reached,
            snapshot,
        };
        serde_json::to_writer_pretty(&mut *out, &result).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render(&snapshot, &reached))?;
    }
    out.flush()?;
    Ok(severity.exit_code())
}

/// `snapshot` with only `profile`'s part (all when `None`); an unknown name is an error.
pub(super) fn only(mut snapshot: Snapshot, profile: Option<&str>) -> Result<Snapshot, TwinError> {
    check_profile(snapshot.profiles.iter().map(|p| p.name.as_str()), profile)?;
    if let Some(name) = profile {
        snapshot.profiles.retain(|p| p.name == name);
    }
    Ok(snapshot)
}

/// The worst of: every profile's verdict (UNKNOWN without one yet) and CRITICAL when no
/// collector runs or one of its tasks died (it no longer does all of its job).
pub fn severity(snapshot: &Snapshot, reached: &Reached) -> Severity {
    let absent = matches!(reached, Reached::NoCollector).then_some(Severity::Critical);
    let dead = (!snapshot.dead_tasks.is_empty()).then_some(Severity::Critical);
    Severity::worst(
        snapshot
            .profiles
            .iter()
            .map(profile_severity)
            .chain(absent)
            .chain(dead),
    )
}

fn profile_severity(profile: &ProfileSnapshot) -> Severity {
    profile
        .verdict
        .as_ref()
        .map_or(Severity::Unknown, |verdict| verdict.diagnosis.severity)
}

/// The status screen.
pub fn render(snapshot: &Snapshot, reached: &Reached) -> String {
    let now = snapshot.taken_at;
    let severity = severity(snapshot, reached);
    let mut text = String::new();
    let _ = writeln!(
        text,
        "PILOTWATCH {} — {}",
        severity.nagios_label(),
        summary(snapshot)
    );
    let collector_mark = match reached {
        Reached::NoCollector => Severity::Critical,
        Reached::Attached { .. } => Severity::Ok,
    };
    let _ = writeln!(
        text,
        "collector  {}  {}",
        badge(collector_mark),
        reached.describe()
    );
    let up = match reached {
        Reached::Attached { .. } => format!(", started {}", relative(snapshot.started_at, now)),
        Reached::NoCollector => String::new(),
    };
    let _ = writeln!(
        text,
        "           pilotwatch {}{up}; as of {}",
        printable_line(&snapshot.version),
        minute(now)
    );
    for death in &snapshot.dead_tasks {
        let _ = writeln!(
            text,
            "task       {}  {} died {} ({}); the collector no longer does all of its job \
             until it is restarted",
            badge(Severity::Critical),
            printable_line(&death.label()),
            relative(death.ended_at, now),
            printable_line(&death.reason.to_string())
        );
    }
    let newest = snapshot
        .feed_head
        .first()
        .map_or_else(|| "none yet".to_owned(), |r| relative(r.created_at, now));
    let _ = writeln!(
        text,
        "store      {} interactions stored, newest {newest}",
        snapshot.interactions_stored
    );
    for profile in &snapshot.profiles {
        text.push('\n');
        render_profile(&mut text, profile, now);
    }
    text
}

/// `contoso OK, fabrikam CRIT`.
fn summary(snapshot: &Snapshot) -> String {
    if snapshot.profiles.is_empty() {
        return "no profile".to_owned();
    }
    snapshot
        .profiles
        .iter()
        .map(|p| {
            let (_, word) = crate::console::badge::symbol_and_word(profile_severity(p));
            format!("{} {word}", printable_line(&p.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn render_profile(text: &mut String, profile: &ProfileSnapshot, now: DateTime<Utc>) {
    let severity = profile_severity(profile);
    let headline = match &profile.verdict {
        None => "no verdict yet: the first diagnosis has not finished".to_owned(),
        Some(verdict) => match &verdict.diagnosis.headline {
            Some(finding) => format!("{} [{}]", finding.title, finding.code.as_str()),
            None if verdict.diagnosis.severity == Severity::Unknown => {
                "some checks could not be judged".to_owned()
            }
            None => "all checks pass".to_owned(),
        },
    };
    let _ = writeln!(
        text,
        "{}  {}  {}",
        printable_line(&profile.name),
        badge(severity),
        printable_line(&headline)
    );
    let _ = writeln!(
        text,
        "  tenant {}, app {}",
        printable_line(&profile.tenant),
        printable_line(&profile.client_id)
    );
    if let Some(verdict) = &profile.verdict {
        for (rung, state) in &verdict.diagnosis.ladder.rungs {
            if let RungState::Broken { code } = state {
                let _ = writeln!(text, "  broken rung: {} [{}]", rung.title(), code.as_str());
            }
        }
        let credentials = verdict.facts.credentials.as_ref().map_or_else(
            || "not checked yet".to_owned(),
            |r| credentials_line(r, now),
        );
        let _ = writeln!(text, "  credentials: {credentials}");
        if let Some(newest) = verdict
            .facts
            .export
            .as_ref()
            .and_then(|e| e.newest_created_at)
        {
            let _ = writeln!(
                text,
                "  newest interaction (export API): {}",
                relative(newest, now)
            );
        }
    }
    if profile.subscriptions.is_empty() {
        let _ = writeln!(text, "  subscriptions: none");
        return;
    }
    let _ = writeln!(text, "  subscriptions: {}", profile.subscriptions.len());
    for row in &profile.subscriptions {
        let _ = writeln!(
            text,
            "    {} {}  {}  expires {} ({})",
            badge(marks::row_severity(row, now)),
            printable_line(&row.id),
            marks::short_resource(&row.resource),
            marks::countdown(row, now),
            minute(row.expires_at)
        );
        let _ = writeln!(
            text,
            "      renewed {}, received {}, validationTokens {}, ack p95 {}",
            marks::when(row.last_renewed_at, now),
            row.received,
            marks::tokens_text(row),
            marks::ack_text(row)
        );
    }
}

/// `token granted, secret abc… expires in 45d 03h (2027-01-06 00:00Z, from Graph)`.
fn credentials_line(report: &CredentialReport, now: DateTime<Utc>) -> String {
    let token = match report.token.status {
        TokenStatus::Granted => "token granted".to_owned(),
        TokenStatus::Refused => match (&report.token.error, report.token.aadsts_code) {
            (Some(error), Some(code)) => format!("token REFUSED ({error}, AADSTS{code})"),
            (Some(error), None) => format!("token REFUSED ({error})"),
            _ => "token REFUSED".to_owned(),
        },
        TokenStatus::Unreachable => "token endpoint UNREACHABLE".to_owned(),
        TokenStatus::UnexpectedAnswer => "token endpoint answered unexpectedly".to_owned(),
        TokenStatus::InvalidAuthority => "authority URL unusable".to_owned(),
        TokenStatus::NotTried => "token not tried (secret not loaded)".to_owned(),
    };
    let secret = &report.secret;
    let hint = secret
        .hint
        .as_deref()
        .map(|hint| format!(" {}…", printable_line(hint)))
        .unwrap_or_default();
    let expiry = match secret.expires_at {
        Some(at) if secret.expired => format!("EXPIRED {}", relative(at, now)),
        Some(at) => format!("expires {} ({})", relative(at, now), minute(at)),
        None => "expiry unknown".to_owned(),
    };
    format!("{} {token}; secret{hint} {expiry}", badge(report.severity))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crate::collector::{EndReason, TaskDeath};

    use super::*;

    fn snapshot() -> Snapshot {
        let now: DateTime<Utc> = "2026-11-22T12:00:00Z".parse().unwrap();
        Snapshot {
            taken_at: now,
            started_at: now - chrono::TimeDelta::hours(3),
            pid: 4242,
            version: "0.1.0".into(),
            simulation: None,
            profiles: vec![ProfileSnapshot {
                name: "contoso".into(),
                tenant: "contoso.example".into(),
                client_id: "app".into(),
                verdict: None,
                subscriptions: Vec::new(),
                findings_history: Vec::new(),
                recent_events: Vec::new(),
            }],
            interactions_stored: 0,
            feed_head: Vec::new(),
            dead_tasks: Vec::new(),
            recent_audit: Vec::new(),
        }
    }

    #[test]
    fn a_profile_without_a_verdict_is_unknown_and_says_why() {
        let reached = Reached::Attached { pid: 4242 };
        let screen = render(&snapshot(), &reached);
        assert_eq!(severity(&snapshot(), &reached), Severity::Unknown);
        assert!(
            screen.starts_with("PILOTWATCH UNKNOWN — contoso UNKN\n"),
            "{screen}"
        );
        assert!(screen.contains("started 3h 00m ago"), "{screen}");
        assert!(screen.contains("newest none yet"), "{screen}");
        assert!(
            screen.contains("contoso  ? UNKN  no verdict yet"),
            "{screen}"
        );
        assert!(screen.contains("subscriptions: none"), "{screen}");
    }

    #[test]
    fn a_dead_task_is_critical_and_named() {
        let mut snapshot = snapshot();
        snapshot.dead_tasks.push(TaskDeath {
            task: "keeper".into(),
            profile: Some("contoso".into()),
            ended_at: snapshot.taken_at - chrono::TimeDelta::minutes(5),
            reason: EndReason::Panicked {
                message: "index out of bounds".into(),
            },
        });
        let reached = Reached::Attached { pid: 4242 };
        assert_eq!(severity(&snapshot, &reached), Severity::Critical);
        let screen = render(&snapshot, &reached);
        assert!(screen.starts_with("PILOTWATCH CRITICAL"), "{screen}");
        assert!(
            screen.contains("✖ CRIT  keeper (contoso) died 5m ago (panicked: index out of bounds)"),
            "{screen}"
        );
    }
}
