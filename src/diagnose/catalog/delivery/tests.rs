//! Unit tests of the delivery findings (push path, latency, endpoint speed, recent activity) at
//! their thresholds, on facts from `diagnose::test_facts`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use crate::diagnose::test_facts::*;
use crate::diagnose::thresholds::ProfileThresholds;
use crate::store::records::RejectReason;

fn run(build: Build) -> Vec<Finding> {
    findings(&build.done(), now())
}

fn codes(build: Build) -> Vec<(FindingCode, Severity)> {
    run(build)
        .into_iter()
        .map(|f| (f.code, f.severity))
        .collect()
}

fn one(build: Build, code: FindingCode) -> Finding {
    let found = run(build);
    found
        .iter()
        .find(|f| f.code == code)
        .unwrap_or_else(|| panic!("{code:?} not in {found:?}"))
        .clone()
}

#[test]
fn healthy_delivery_has_no_finding() {
    assert_eq!(codes(Build::healthy()), []);
}

#[test]
fn silence_is_broken_push_only_from_fifteen_minutes_and_with_newer_interactions() {
    // The export API's newest interaction (3 minutes ago) is newer than the last notification.
    assert_eq!(codes(Build::healthy().silent_for(14)), []);
    assert_eq!(
        codes(Build::healthy().silent_for(15)),
        [(FindingCode::PushPathBroken, Severity::Critical)]
    );
    // Silence with nothing new in the export API is no broken path.
    let quiet = Build::healthy()
        .silent_for(20)
        .export(|e| e.newest_created_at = Some(minutes_ago(25)));
    assert_eq!(codes(quiet), []);
    // Never a notification, while the export API has interactions: silent since the live
    // subscription was created (30 hours ago, after the collector started).
    let never = Build::healthy().delivery(|d| d.last_received_at = None);
    let finding = one(never, FindingCode::PushPathBroken);
    assert_eq!(finding.since, Some(live_subscription().created_at));
    assert!(
        finding.evidence[0].starts_with("no notification received since"),
        "{finding:?}"
    );
}

#[test]
fn right_after_a_start_the_export_history_is_no_broken_push() {
    // The export API shows interactions from before the start and since; nothing has arrived.
    assert_eq!(codes(Build::healthy().fresh_start(1)), []);
    assert_eq!(codes(Build::healthy().fresh_start(14)), []);
    let finding = one(
        Build::healthy().fresh_start(15),
        FindingCode::PushPathBroken,
    );
    assert_eq!(finding.since, Some(minutes_ago(15)));
    // Interactions created only before the start were never going to be notified.
    let history_only = Build::healthy()
        .fresh_start(20)
        .export(|e| e.newest_created_at = Some(minutes_ago(25)));
    assert_eq!(codes(history_only), []);
}

#[test]
fn silence_counts_from_the_later_of_the_collector_start_and_the_subscription() {
    // A collector up for days whose subscription was recreated 5 minutes ago.
    let recreated = Build::healthy()
        .delivery(|d| d.last_received_at = Some(minutes_ago(50)))
        .subscriptions(|s| s.active[0].created_at = minutes_ago(5));
    assert_eq!(codes(recreated), []);
    // A collector restarted 10 minutes ago, its last notification (seeded from the store) from
    // before the restart.
    let restarted = Build::healthy()
        .silent_for(40)
        .source(FactSource::Collector {
            pid: 1,
            since: minutes_ago(10),
        });
    assert_eq!(codes(restarted), []);
    // With no live subscription nothing is expected (the subscription findings say why).
    let unsubscribed = Build::healthy()
        .silent_for(40)
        .subscriptions(|s| s.active.clear());
    assert_eq!(codes(unsubscribed), []);
    // Subscriptions not read: the collector's start alone bounds the silence.
    let unread = Build::healthy()
        .silent_for(40)
        .without(|f| f.subscriptions = None);
    assert_eq!(
        codes(unread),
        [(FindingCode::PushPathBroken, Severity::Critical)]
    );
}

#[test]
fn notifications_for_our_subscriptions_are_activity_even_when_rejected() {
    let quiet_export = |build: Build| {
        build.export(|e| {
            e.seen_in_window = 0;
            e.newest_created_at = Some(minutes_ago(300));
        })
    };
    // Null validation tokens: Graph sent them for interactions, so Copilot was used.
    let null = quiet_export(Build::healthy().null_tokens(40));
    assert!(
        !run(null)
            .iter()
            .any(|f| f.code == FindingCode::NoRecentActivity)
    );
    // Items that failed the clientState check may be anyone's: no evidence of activity.
    let spoofed = quiet_export(Build::healthy().silent_for(90).delivery(|d| {
        d.received = 5;
        d.rejected.insert(RejectReason::ClientStateMismatch, 5);
    }));
    assert_eq!(
        codes(spoofed),
        [(FindingCode::NoRecentActivity, Severity::Info)]
    );
    // An interaction the store holds from the window is activity, whatever the last poll
    // fetched (here it is the push path that is broken).
    let stored = Build::healthy()
        .silent_for(90)
        .export(|e| e.seen_in_window = 0);
    assert_eq!(
        codes(stored),
        [(FindingCode::PushPathBroken, Severity::Critical)]
    );
}

#[test]
fn broken_push_quotes_the_reconciliation() {
    let build = Build::healthy()
        .silent_for(40)
        .export(|e| e.last_reconcile.as_mut().unwrap().missing = 12);
    let finding = one(build, FindingCode::PushPathBroken);
    assert_eq!(finding.since, Some(minutes_ago(40)));
    assert!(finding.evidence[2].contains("12 of 38"), "{finding:?}");
}

#[test]
fn no_activity_is_info_when_the_export_api_is_empty_too() {
    let build = Build::healthy().silent_for(70).export(|e| {
        e.seen_in_window = 0;
        e.newest_created_at = Some(minutes_ago(300));
    });
    assert_eq!(
        codes(build),
        [(FindingCode::NoRecentActivity, Severity::Info)]
    );
    // Without a collector, the export API alone tells it.
    let direct = Build::healthy()
        .export(|e| {
            e.seen_in_window = 0;
            e.newest_created_at = Some(minutes_ago(300));
        })
        .without(|f| f.delivery = None);
    assert_eq!(
        codes(direct),
        [(FindingCode::NoRecentActivity, Severity::Info)]
    );
}

#[test]
fn endpoint_slowness_against_the_slow_line_and_the_retry_timeout() {
    let ack = |p95, share| {
        Build::healthy().delivery(move |d| {
            d.ack = Some(spread(0.5, p95, p95 + 1.0));
            d.ack_slow_share = Some(share);
        })
    };
    assert_eq!(codes(ack(2.9, 0.10)), []);
    assert_eq!(
        codes(ack(2.91, 0.0)),
        [(FindingCode::EndpointSlow, Severity::Warning)]
    );
    assert_eq!(
        codes(ack(1.0, 0.11)),
        [(FindingCode::EndpointSlow, Severity::Warning)]
    );
    assert_eq!(
        codes(ack(9.99, 0.5)),
        [(FindingCode::EndpointSlow, Severity::Warning)]
    );
    assert_eq!(
        codes(ack(10.0, 0.5)),
        [(FindingCode::EndpointSlow, Severity::Critical)]
    );
}

#[test]
fn latency_above_the_documented_average_warns_and_names_local_delay() {
    let late = |p95| Build::healthy().delivery(move |d| d.latency = Some(spread(4.0, p95, p95)));
    assert_eq!(codes(late(10.0)), []);
    let finding = one(late(10.5), FindingCode::LatencyHigh);
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.cause.contains("Graph's side"));

    let ours = late(600.0).delivery(|d| {
        d.ack = Some(spread(2.0, 4.0, 5.0));
        d.ack_slow_share = Some(0.3);
    });
    let finding = one(ours, FindingCode::LatencyHigh);
    assert!(
        finding.cause.starts_with("Local delay"),
        "{}",
        finding.cause
    );
}

#[test]
fn beyond_sixty_minutes_it_is_not_you_unless_we_were_slow_or_down() {
    let late =
        |max: f64| Build::healthy().delivery(move |d| d.latency = Some(spread(4.0, 8.0, max)));
    assert_eq!(codes(late(3_600.0)), []);
    let finding = one(late(3_601.0), FindingCode::LatencyBeyondMaximum);
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding.cause.starts_with("It is not you"),
        "{}",
        finding.cause
    );
    assert!(finding.evidence[1].starts_with("our side: acknowledgement p95"));

    let restarted = late(7_200.0).source(FactSource::Collector {
        pid: 1,
        since: minutes_ago(20),
    });
    let finding = one(restarted, FindingCode::LatencyBeyondMaximum);
    assert_eq!(finding.severity, Severity::Info);
    assert!(finding.cause.starts_with("Local delay"));

    let slow = late(7_200.0).delivery(|d| {
        d.ack = Some(spread(2.0, 4.0, 5.0));
        d.ack_slow_share = Some(0.3);
    });
    let finding = one(slow, FindingCode::LatencyBeyondMaximum);
    assert!(finding.cause.starts_with("Local delay: our endpoint"));
}

#[test]
fn the_profile_s_thresholds_move_the_silence_and_latency_lines() {
    let lines = |silence: u32, p95: u32| {
        move |f: &mut Facts| {
            f.thresholds = ProfileThresholds {
                notification_silence_minutes: silence,
                latency_p95_seconds: p95,
            };
        }
    };
    // 20 minutes of silence breaks the default 15-minute line, not a profile's 30.
    assert_eq!(
        codes(Build::healthy().silent_for(20)),
        [(FindingCode::PushPathBroken, Severity::Critical)]
    );
    assert_eq!(
        codes(Build::healthy().silent_for(20).without(lines(30, 10))),
        []
    );
    let finding = one(
        Build::healthy().silent_for(31).without(lines(30, 10)),
        FindingCode::PushPathBroken,
    );
    assert!(
        finding
            .title
            .starts_with("no notifications for 30+ minutes")
    );
    assert!(finding.evidence[0].ends_with("silent for over 30 minutes"));

    // A p95 of 45 s is late by default, not for a profile that warns above 60 s; the wording
    // still cites Microsoft's documented 10 s average.
    let late = Build::healthy().delivery(|d| d.latency = Some(spread(4.0, 45.0, 45.0)));
    let finding = one(late, FindingCode::LatencyHigh);
    assert!(
        finding.title.contains("documented average under 10.00 s"),
        "{}",
        finding.title
    );
    let relaxed = Build::healthy()
        .delivery(|d| d.latency = Some(spread(4.0, 45.0, 45.0)))
        .without(lines(15, 60));
    assert_eq!(codes(relaxed), []);
}
