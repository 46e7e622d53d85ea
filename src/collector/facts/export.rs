//! What the export API said, from the poller's poll events of one profile: the latest
//! reconciliation, how many interactions the latest complete poll of the lookback window
//! fetched, and the newest interaction it has shown.
//!
//! The newest interaction is the profile's own, from its poll events: the store's interaction
//! records do not say which profile they came to (one record per Graph id, whoever saw it
//! first), so the store-wide newest would let one profile's activity hide another's silence —
//! or read as the other's push path being broken. Only the export API's own answers count: the
//! push-path finding asks whether the export API shows interactions created after the last
//! notification.
//!
//! Pure: events in, [`ExportFacts`] out. Depends on the store's record types and
//! `diagnose::facts` only.

use chrono::{DateTime, Duration, Utc};

use crate::diagnose::facts::{ExportFacts, ReconcileFact};
use crate::store::records::{Event, EventKind, Outcome, PollTrigger};

/// The export facts of `profile` from `events` (any profile, oldest first) as of `now`:
/// `seen_in_window` is what the latest complete poll run within `lookback` fetched, and
/// `newest_created_at` the newest interaction any of the profile's polls in `events` returned
/// (a poll that failed for some users still showed what it read).
pub fn export_facts(
    profile: &str,
    events: &[Event],
    now: DateTime<Utc>,
    lookback: Duration,
) -> ExportFacts {
    let mut last_reconcile = None;
    let mut seen_in_window = 0;
    let mut newest_created_at = None;
    for event in events.iter().filter(|event| event.profile == profile) {
        let EventKind::Poll {
            trigger,
            from,
            to,
            fetched,
            missing,
            outcome,
            newest_created_at: newest,
            ..
        } = &event.kind
        else {
            continue;
        };
        newest_created_at = newest_created_at.max(*newest);
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
        // The newest interaction a poll returned: a minute before its window ends.
        let newest = (fetched > 0).then(|| at(minute - 16));
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
                newest_created_at: newest,
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
        let facts = export_facts("contoso", &events, at(120), Duration::hours(1));
        let reconcile = facts.last_reconcile.unwrap();
        assert_eq!((reconcile.at, reconcile.fetched), (at(90), 30));
        assert_eq!(facts.seen_in_window, 12, "the failed gap fill says nothing");
        assert_eq!(
            facts.newest_created_at,
            Some(at(84)),
            "the gap fill at 100 returned the newest; fabrikam's reconciliation is not ours"
        );
    }

    #[test]
    fn one_profile_s_activity_does_not_hide_another_s_silence() {
        // contoso's users are busy; fabrikam's export API has shown nothing new since its
        // backfill two hours ago.
        let events = [
            poll(0, "fabrikam", PollTrigger::Backfill, 40, Outcome::Succeeded),
            poll(
                60,
                "fabrikam",
                PollTrigger::Reconcile,
                0,
                Outcome::Succeeded,
            ),
            poll(100, "contoso", PollTrigger::GapFill, 25, Outcome::Succeeded),
            poll(110, "fabrikam", PollTrigger::GapFill, 0, Outcome::Succeeded),
            poll(118, "contoso", PollTrigger::GapFill, 9, Outcome::Succeeded),
        ];
        let now = at(120);
        let contoso = export_facts("contoso", &events, now, Duration::hours(1));
        let fabrikam = export_facts("fabrikam", &events, now, Duration::hours(1));
        assert_eq!(contoso.newest_created_at, Some(at(102)));
        assert_eq!(contoso.seen_in_window, 9);
        assert_eq!(
            fabrikam.newest_created_at,
            Some(at(-16)),
            "fabrikam's newest is its own, not contoso's"
        );
        assert_eq!(fabrikam.seen_in_window, 0);
        // And so fabrikam's verdict is "nobody used Copilot", dated by its own newest.
        let mut facts = crate::diagnose::facts::Facts {
            profile: "fabrikam".into(),
            client_id: None,
            thresholds: Default::default(),
            source: crate::diagnose::facts::FactSource::Direct,
            credentials: None,
            subscriptions: None,
            delivery: None,
            export: Some(fabrikam),
            graph: None,
            store: None,
            dead_tasks: Vec::new(),
        };
        let codes = |facts: &crate::diagnose::facts::Facts| -> Vec<_> {
            crate::diagnose::diagnose(facts, now)
                .findings
                .into_iter()
                .map(|finding| (finding.code, finding.since))
                .collect()
        };
        assert!(
            codes(&facts).contains(&(
                crate::diagnose::FindingCode::NoRecentActivity,
                Some(at(-16))
            )),
            "{:?}",
            codes(&facts)
        );
        facts.export = Some(contoso);
        assert!(
            !codes(&facts)
                .iter()
                .any(|(code, _)| *code == crate::diagnose::FindingCode::NoRecentActivity)
        );
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
        let facts = export_facts("contoso", &events, at(120), Duration::hours(1));
        assert_eq!(facts.seen_in_window, 0);
        assert_eq!(facts.last_reconcile, None);
    }
}
