//! `pilotwatch subs [--profile P] [--json]`: the Subscriptions tab's table as text — per
//! profile one line per subscription with its mark, id, resource, expiry countdown against
//! Graph's 3-day cap, last and next renewal, notifications received, validationTokens share
//! and ack p95 — or, with `--json`, [`SubsJson`]: the same rows as the console's
//! [`SubscriptionRow`]s.
//!
//! The exit code is the worst mark (a profile with no subscription is CRITICAL: nothing can
//! deliver), and CRITICAL when no collector runs or one of its tasks died, Nagios style.
//!
//! Depends on the console's snapshot and its shared marks and badges (the Subscriptions tab's
//! own judgements); the rendering is pure ([`render`]).

use std::fmt::Write as _;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::TwinError;
use super::handle::{Reached, settled_snapshot};
use super::status::{SETTLE_PATIENCE, only};
use crate::collector::TaskDeath;
use crate::console::badge::text as badge;
use crate::console::marks;
use crate::console::{CollectorHandle, SubscriptionRow};
use crate::severity::Severity;
use crate::terminal_text::printable_line;

/// What `subs --json` prints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubsJson {
    /// `OK`, `WARNING`, `CRITICAL` or `UNKNOWN`.
    pub status: String,
    /// The exit code (0–3).
    pub exit_code: u8,
    /// How the collector was reached.
    pub collector: Reached,
    /// When the rows were read, by the collector's clock.
    pub taken_at: DateTime<Utc>,
    /// Each profile's subscriptions, in configuration order.
    pub profiles: Vec<ProfileSubscriptions>,
    /// Collector tasks that died (a dead keeper renews nothing), oldest first.
    #[serde(default)]
    pub dead_tasks: Vec<TaskDeath>,
}

/// One profile's subscriptions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileSubscriptions {
    /// The profile.
    pub profile: String,
    /// Its subscriptions with their delivery.
    pub subscriptions: Vec<SubscriptionRow>,
}

/// Asks `handle` and writes the subscriptions of `profile` (all when `None`) to `out`;
/// returns the exit code.
pub async fn run(
    handle: &CollectorHandle,
    profile: Option<&str>,
    json: bool,
    out: &mut dyn Write,
) -> Result<u8, TwinError> {
    let reached = Reached::of(&handle.connection());
    let snapshot = only(settled_snapshot(handle, SETTLE_PATIENCE).await?, profile)?;
    let profiles: Vec<ProfileSubscriptions> = snapshot
        .profiles
        .into_iter()
        .map(|p| ProfileSubscriptions {
            profile: p.name,
            subscriptions: p.subscriptions,
        })
        .collect();
    let dead = (!snapshot.dead_tasks.is_empty()).then_some(Severity::Critical);
    let severity = Severity::worst(
        [severity(&profiles, &reached, snapshot.taken_at)]
            .into_iter()
            .chain(dead),
    );
    if json {
        let result = SubsJson {
            status: severity.nagios_label().to_owned(),
            exit_code: severity.exit_code(),
            collector: reached,
            taken_at: snapshot.taken_at,
            profiles,
            dead_tasks: snapshot.dead_tasks,
        };
        serde_json::to_writer_pretty(&mut *out, &result).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        let now = snapshot.taken_at;
        for death in &snapshot.dead_tasks {
            writeln!(
                out,
                "{}  {} died {} ({}); restart the collector\n",
                badge(Severity::Critical),
                printable_line(&death.label()),
                crate::console::format::relative(death.ended_at, now),
                printable_line(&death.reason.to_string())
            )?;
        }
        write!(out, "{}", render(&profiles, &reached, now))?;
    }
    out.flush()?;
    Ok(severity.exit_code())
}

/// The worst mark of every row; a profile without subscriptions and an absent collector are
/// CRITICAL.
pub fn severity(
    profiles: &[ProfileSubscriptions],
    reached: &Reached,
    now: DateTime<Utc>,
) -> Severity {
    let absent = matches!(reached, Reached::NoCollector).then_some(Severity::Critical);
    Severity::worst(
        profiles
            .iter()
            .map(|p| profile_severity(p, now))
            .chain(absent),
    )
}

fn profile_severity(profile: &ProfileSubscriptions, now: DateTime<Utc>) -> Severity {
    if profile.subscriptions.is_empty() {
        return Severity::Critical;
    }
    Severity::worst(
        profile
            .subscriptions
            .iter()
            .map(|row| marks::row_severity(row, now)),
    )
}

/// The table, one block per profile.
pub fn render(profiles: &[ProfileSubscriptions], reached: &Reached, now: DateTime<Utc>) -> String {
    let mut text = String::new();
    if let Reached::NoCollector = reached {
        let _ = writeln!(
            text,
            "{}  {}\n",
            badge(Severity::Critical),
            reached.describe()
        );
    }
    for (index, profile) in profiles.iter().enumerate() {
        if index > 0 {
            text.push('\n');
        }
        let _ = writeln!(
            text,
            "{}  {}",
            printable_line(&profile.profile),
            badge(profile_severity(profile, now))
        );
        if profile.subscriptions.is_empty() {
            let _ = writeln!(
                text,
                "  no subscription: Graph delivers nothing for this profile until the keeper \
                 creates one"
            );
            continue;
        }
        let _ = writeln!(
            text,
            "  {:<7} {:<38} {:<12} {:<20} {:<14} {:<14} {:>6} {:>6} {:>8}",
            "", "id", "resource", "expires", "renewed", "next renewal", "recv", "tokens", "ack p95"
        );
        for row in &profile.subscriptions {
            let _ = writeln!(
                text,
                "  {:<7} {:<38} {:<12} {:<20} {:<14} {:<14} {:>6} {:>6} {:>8}",
                badge(marks::row_severity(row, now)),
                printable_line(&row.id),
                marks::short_resource(&row.resource),
                marks::countdown(row, now),
                marks::when(row.last_renewed_at, now),
                marks::when(row.next_renewal_at, now),
                row.received,
                marks::tokens_text(row),
                marks::ack_text(row),
            );
        }
    }
    text
}
