//! What the poller is asked ([`Gap`]) and what it answers ([`PollReport`]): plain data, shared
//! with the keeper (which sends gaps) and the UI (which shows reports).
//!
//! The reconciliation report carries the key fact for "the push path is broken while users are
//! active": the export API has interactions in a settled window that no notification delivered.
//! Deciding when that is a finding is `diagnose`'s business; [`PollReport::push_coverage`]
//! gives it the ratio. Depends only on the store's `PollTrigger` record.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::records::PollTrigger;

/// Why a window needs filling from the export API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GapReason {
    /// The subscription was removed or expired (404, `subscriptionRemoved`).
    SubscriptionRemoved,
    /// Graph sent `missed`.
    Missed,
    /// The keeper replaced the subscription (unknown `clientState`, configuration change).
    Replaced,
    /// Graph was failing (an outage) for a while.
    Outage,
    /// The collector was not running.
    Downtime,
    /// Someone asked (a UI or CLI command).
    Requested,
}

impl fmt::Display for GapReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SubscriptionRemoved => "subscription removed",
            Self::Missed => "Graph reported missed notifications",
            Self::Replaced => "subscription replaced",
            Self::Outage => "Graph outage",
            Self::Downtime => "collector downtime",
            Self::Requested => "requested",
        })
    }
}

/// A window of `createdDateTime` to fill: `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// Start (inclusive).
    pub from: DateTime<Utc>,
    /// End (exclusive).
    pub to: DateTime<Utc>,
    /// Why.
    pub reason: GapReason,
}

/// Which kind of poll produced a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PollKind {
    /// The initial backfill at start.
    Backfill,
    /// A gap fill.
    Gap(GapReason),
    /// The periodic comparison of the export API with what notifications delivered.
    Reconcile,
}

impl PollKind {
    /// How the event log names why the poll ran.
    pub fn trigger(self) -> PollTrigger {
        match self {
            Self::Backfill => PollTrigger::Backfill,
            Self::Gap(GapReason::Requested) => PollTrigger::Operator,
            Self::Gap(_) => PollTrigger::GapFill,
            Self::Reconcile => PollTrigger::Reconcile,
        }
    }
}

impl fmt::Display for PollKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Backfill => f.write_str("backfill"),
            Self::Gap(reason) => write!(f, "gap fill ({reason})"),
            Self::Reconcile => f.write_str("reconciliation"),
        }
    }
}

/// A user whose history could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserFailure {
    /// The user's object id.
    pub user_id: String,
    /// Graph's answer or the transport failure.
    pub error: String,
}

/// The outcome of one backfill, gap fill or reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollReport {
    /// The profile.
    pub profile: String,
    /// What kind of poll.
    pub kind: PollKind,
    /// The window polled: `[from, to)` of `createdDateTime`.
    pub from: DateTime<Utc>,
    /// End of the window (exclusive).
    pub to: DateTime<Utc>,
    /// When the poll finished (injected clock).
    pub finished_at: DateTime<Utc>,
    /// Licensed users whose history was read.
    pub users_polled: u32,
    /// Interactions the export API returned (after de-duplicating overlapping chunks).
    pub fetched: u64,
    /// Of those, not in the store before this poll (inserted now, source `poll`).
    pub new: u64,
    /// Of those, in the store from a change notification.
    pub via_notifications: u64,
    /// Of those, never delivered by a notification (`fetched − via_notifications`).
    pub missing: u64,
    /// Of those, items that cannot be stored (an empty or oversized id, a `createdDateTime`
    /// the store cannot index); counted in `fetched` and `missing`, never stored.
    pub skipped: u64,
    /// Users whose history could not be read (all of them are retried on the next poll).
    pub failed_users: Vec<UserFailure>,
    /// True when a user's history had more pages than the poller reads per window.
    pub truncated: bool,
    /// The newest `createdDateTime` the export API returned in the window (of the items that
    /// could be stored); `None` when it returned none.
    #[serde(default)]
    pub newest_created_at: Option<DateTime<Utc>>,
}

impl PollReport {
    /// The share of exported interactions that notifications delivered, when any were
    /// exported. In a settled reconciliation window, a low value while users are active means
    /// the push path is broken.
    pub fn push_coverage(&self) -> Option<f64> {
        (self.fetched > 0).then(|| self.via_notifications as f64 / self.fetched as f64)
    }

    /// True when every licensed user was read completely.
    pub fn complete(&self) -> bool {
        self.failed_users.is_empty() && !self.truncated
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_is_the_delivered_share_of_exported_interactions() {
        let at: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        let mut report = PollReport {
            profile: "p".into(),
            kind: PollKind::Reconcile,
            from: at,
            to: at,
            finished_at: at,
            users_polled: 3,
            fetched: 0,
            new: 0,
            via_notifications: 0,
            missing: 0,
            skipped: 0,
            failed_users: Vec::new(),
            truncated: false,
            newest_created_at: None,
        };
        assert_eq!(report.push_coverage(), None, "no activity, no verdict");
        report.fetched = 8;
        report.via_notifications = 2;
        report.missing = 6;
        assert_eq!(report.push_coverage(), Some(0.25));
        assert!(report.complete());
        report.truncated = true;
        assert!(!report.complete());
        assert_eq!(
            PollKind::Gap(GapReason::Missed).to_string(),
            "gap fill (Graph reported missed notifications)"
        );
    }
}
