//! What the export API said, from the poller's poll events: the latest reconciliation, and how
//! many interactions the latest complete poll of the lookback window fetched.
//!
//! The newest interaction's creation time is not in the poll events; the caller passes the
//! newest `createdDateTime` the store holds. That is the right comparison for the push-path
//! finding: an interaction created after the last notification can only have come from the
//! export API.
//!
//! Pure: events in, [`ExportFacts`] out. Depends on the store's record types and
//! `diagnose::facts` only.

use chrono::{DateTime, Duration, Utc};

use crate::diagnose::facts::{ExportFacts, ReconcileFact};
use crate::store::records::{Event, EventKind, Outcome, PollTrigger};

/// The export facts of `profile` from `events` (any profile, oldest first) as of `now`:
/// `seen_in_window` is what the latest complete poll run within `lookback` fetched.
pub fn export_facts(
    profile: &str,
    events: &[Event],
    newest_created_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    lookback: Duration,
) -> ExportFacts {
    let mut last_reconcile = None;
    let mut seen_in_window = 0;
    for event in events.iter().filter(|event| event.profile == profile) {
        let EventKind::Poll {
            trigger,
            from,
            to,
            fetched,
            missing,
            outcome,
            ..
        } = &event.kind
        else {
            continue;
        };
        if *trigger == PollTrigger::Reconcile {
            last_reconcile = Some(ReconcileFact {
                at: event.at,
                from: *from,
                to: *to,
                fetched: *fetched,
                missing: *missing,
                outcome: *outcome,
            });
        }
        if *outcome == Outcome::Succeeded && now - event.at <= lookback {
            seen_in_window = *fetched;
        }
    }
    ExportFacts {
        last_reconcile,
        newest_created_at,
        seen_in_window,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minute)
    }

    fn poll(
        minute: i64,
        profile: &str,
        trigger: PollTrigger,
        fetched: u64,
        outcome: Outcome,
    ) -> Event {
        Event {
            at: at(minute),
            profile: profile.into(),
            kind: EventKind::Poll {
                trigger,
                from: at(minute - 75),
                to: at(minute - 15),
                fetched,
                new: 0,
                missing: 1,
                outcome,
            },
            message: String::new(),
        }
    }

    #[test]
    fn the_latest_reconciliation_and_the_latest_complete_poll_of_the_window() {
        let events = [
            poll(0, "contoso", PollTrigger::Backfill, 500, Outcome::Succeeded),
            poll(
                90,
                "contoso",
                PollTrigger::Reconcile,
                30,
                Outcome::Succeeded,
            ),
            poll(
                95,
                "fabrikam",
                PollTrigger::Reconcile,
                7,
                Outcome::Succeeded,
            ),
            poll(100, "contoso", PollTrigger::GapFill, 12, Outcome::Succeeded),
            poll(110, "contoso", PollTrigger::GapFill, 0, Outcome::Failed),
        ];
        let facts = export_facts(
            "contoso",
            &events,
            Some(at(99)),
            at(120),
            Duration::hours(1),
        );
        let reconcile = facts.last_reconcile.unwrap();
        assert_eq!((reconcile.at, reconcile.fetched), (at(90), 30));
        assert_eq!(facts.seen_in_window, 12, "the failed gap fill says nothing");
        assert_eq!(facts.newest_created_at, Some(at(99)));
    }

    #[test]
    fn nothing_polled_in_the_window_is_zero_seen() {
        let events = [poll(
            0,
            "contoso",
            PollTrigger::Backfill,
            500,
            Outcome::Succeeded,
        )];
        let facts = export_facts("contoso", &events, None, at(120), Duration::hours(1));
        assert_eq!(facts.seen_in_window, 0);
        assert_eq!(facts.last_reconcile, None);
    }
}
