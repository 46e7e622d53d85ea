//! What the poller leaves behind: one event per poll (in the store, for the event list and
//! diagnosis) and a [`PollReport`] update for watchers; a given-up window is an event too.
//!
//! Part of the poller; depends on its report, the store's event records and the seam.

use super::{Job, PollError, PollReport, Poller};
use crate::collector::update::Update;
use crate::store::records::{Event, EventKind, Outcome};

impl Poller {
    /// Records and broadcasts a report.
    pub(super) fn record(&self, report: &PollReport) {
        let mut message = format!(
            "{} of {} to {}: {} users, {} interactions, {} new, {} delivered by notifications, {} never notified",
            report.kind,
            report.from,
            report.to,
            report.users_polled,
            report.fetched,
            report.new,
            report.via_notifications,
            report.missing
        );
        if !report.failed_users.is_empty() {
            message.push_str(&format!(
                "; {} users could not be read",
                report.failed_users.len()
            ));
        }
        if report.truncated {
            message.push_str("; some histories had more pages than read");
        }
        if report.skipped > 0 {
            message.push_str(&format!("; {} unusable items skipped", report.skipped));
        }
        let kind = EventKind::Poll {
            trigger: report.kind.trigger(),
            from: report.from,
            to: report.to,
            fetched: report.fetched,
            new: report.new,
            missing: report.missing,
            outcome: if report.complete() {
                Outcome::Succeeded
            } else {
                Outcome::Failed
            },
            newest_created_at: report.newest_created_at,
        };
        self.append(kind, message);
        let _ = self.updates.send(Update::Poll(report.clone()));
    }

    pub(super) fn give_up(&self, job: &Job, result: &Result<PollReport, PollError>) {
        let why = match result {
            Ok(report) => format!("{} users could not be read", report.failed_users.len()),
            Err(error) => error.to_string(),
        };
        let message = format!(
            "gave up the {} of {} to {} after {} attempts: {why}; pilotwatch does not read this window again by itself, so interactions in it that no notification delivered stay missing until it is backfilled by hand",
            job.kind,
            job.from,
            job.to,
            job.attempts + 1
        );
        let kind = EventKind::Poll {
            trigger: job.kind.trigger(),
            from: job.from,
            to: job.to,
            fetched: 0,
            new: 0,
            missing: 0,
            outcome: Outcome::Failed,
            newest_created_at: None,
        };
        self.append(kind, message);
    }

    fn append(&self, kind: EventKind, message: String) {
        tracing::info!(target: "pilotwatch::collector::poller", profile = %self.profile.name, "{message}");
        let event = Event {
            at: self.clock.now(),
            profile: self.profile.name.clone(),
            kind,
            message,
        };
        if let Err(error) = self.store.append_event(&event) {
            tracing::warn!(%error, "cannot append a poller event to the store");
        }
    }
}
