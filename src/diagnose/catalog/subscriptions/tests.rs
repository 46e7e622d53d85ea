//! Unit tests of the subscription findings (missing, handshake, quota, expiring, expired,
//! removed, reauthorization, lifecycle URL) at their thresholds, on facts from
//! `diagnose::test_facts`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;

use super::*;
use crate::diagnose::facts::{FactSource, LifecycleFact};
use crate::diagnose::test_facts::*;

fn run(build: Build) -> Vec<Finding> {
    let facts = build.done();
    let started = match facts.source {
        FactSource::Collector { since, .. } => Some(since),
        _ => None,
    };
    findings(facts.subscriptions.as_ref().unwrap(), started, now())
}

fn codes(build: Build) -> Vec<(FindingCode, Severity)> {
    run(build)
        .into_iter()
        .map(|f| (f.code, f.severity))
        .collect()
}

fn one(build: Build, code: FindingCode) -> Finding {
    let found = run(build);
    let mut matching = found.iter().filter(|f| f.code == code);
    let finding = matching
        .next()
        .unwrap_or_else(|| panic!("{code:?} not in {found:?}"));
    assert!(matching.next().is_none(), "{code:?} twice");
    finding.clone()
}

fn expiring_in(left: Duration) -> Build {
    Build::healthy().subscriptions(|s| s.active[0].expires_at = now() + left)
}

#[test]
fn a_healthy_subscription_has_no_finding() {
    assert_eq!(codes(Build::healthy()), []);
}

#[test]
fn no_subscription_is_critical_and_names_a_known_cause() {
    let none = Build::healthy().subscriptions(|s| s.active.clear());
    assert_eq!(
        codes(none.clone()),
        [(FindingCode::SubscriptionMissing, Severity::Critical)]
    );
    let handshake = none.subscriptions(|s| {
        s.actions = vec![failed(
            KeeperAction::Create,
            FailureKind::Handshake,
            Some(400),
            4,
            30,
        )]
    });
    let missing = one(handshake.clone(), FindingCode::SubscriptionMissing);
    assert!(
        missing.title.contains("validation handshake"),
        "{missing:?}"
    );
    assert_eq!(missing.since, Some(minutes_ago(30)));
    assert_eq!(
        codes(handshake),
        [
            (FindingCode::SubscriptionMissing, Severity::Critical),
            (FindingCode::HandshakeFailing, Severity::Critical)
        ]
    );
}

#[test]
fn a_failing_handshake_names_the_url_to_test() {
    let build = Build::healthy().subscriptions(|s| {
        s.active.clear();
        s.actions = vec![failed(
            KeeperAction::Create,
            FailureKind::Handshake,
            Some(400),
            4,
            30,
        )];
    });
    let finding = one(build.clone(), FindingCode::HandshakeFailing);
    assert!(finding.evidence[0].contains(NOTIFICATION_URL));
    assert!(finding.fix[0].contains(&format!("{NOTIFICATION_URL}?validationToken=probe")));
    assert!(finding.cause.contains("10 seconds"));
    assert!(finding.evidence[1].contains("4 times in a row"));

    let unset = build.subscriptions(|s| s.notification_url = None);
    let finding = one(unset, FindingCode::HandshakeFailing);
    assert!(finding.evidence[0].contains("(not configured)"));
    assert!(finding.fix[0].contains("notification_url"));
}

#[test]
fn the_quota_says_how_to_find_and_remove_the_other_subscription() {
    let build = Build::healthy().subscriptions(|s| {
        s.active.clear();
        s.actions = vec![failed(
            KeeperAction::Create,
            FailureKind::Quota,
            Some(403),
            1,
            1,
        )];
    });
    let finding = one(build, FindingCode::SubscriptionQuota);
    assert_eq!(finding.severity, Severity::Critical);
    assert!(finding.fix[0].contains("GET /subscriptions"));
    assert!(
        finding
            .fix
            .iter()
            .any(|s| s.contains("DELETE /subscriptions/{id}"))
    );
}

#[test]
fn a_create_that_failed_long_ago_but_succeeded_since_is_no_finding() {
    let mut create = failed(KeeperAction::Create, FailureKind::Quota, Some(403), 1, 10);
    create.outcome = Outcome::Succeeded;
    create.failure = None;
    create.failures_in_a_row = 0;
    assert_eq!(
        codes(Build::healthy().subscriptions(|s| s.actions = vec![create])),
        []
    );
}

#[test]
fn expiry_warns_at_twelve_hours_and_is_critical_at_one() {
    assert_eq!(
        codes(expiring_in(Duration::hours(12) + Duration::seconds(1))),
        []
    );
    assert_eq!(
        codes(expiring_in(Duration::hours(12))),
        [(FindingCode::SubscriptionExpiring, Severity::Warning)]
    );
    assert_eq!(
        codes(expiring_in(Duration::hours(1) + Duration::seconds(1))),
        [(FindingCode::SubscriptionExpiring, Severity::Warning)]
    );
    assert_eq!(
        codes(expiring_in(Duration::hours(1))),
        [(FindingCode::SubscriptionExpiring, Severity::Critical)]
    );
}

#[test]
fn an_expiring_subscription_quotes_the_failing_renewal() {
    let build = expiring_in(Duration::minutes(40)).subscriptions(|s| {
        s.actions.insert(
            0,
            failed(
                KeeperAction::Renew,
                FailureKind::Forbidden,
                Some(403),
                2,
                90,
            ),
        )
    });
    let finding = one(build, FindingCode::SubscriptionExpiring);
    assert!(finding.title.contains("40m"), "{}", finding.title);
    assert!(
        finding
            .evidence
            .iter()
            .any(|l| l.contains("HTTP 403 Forbidden")),
        "{finding:?}"
    );
}

#[test]
fn an_expired_subscription_is_critical_unless_a_live_one_exists() {
    let expired = Build::healthy().subscriptions(|s| s.active[0].expires_at = now());
    assert_eq!(
        codes(expired.clone()),
        [(FindingCode::SubscriptionExpired, Severity::Critical)]
    );
    let replaced = expired.subscriptions(|s| {
        let mut new = live_subscription();
        new.id = "new".into();
        s.active.push(new);
    });
    assert_eq!(codes(replaced), []);
}

#[test]
fn a_removed_subscription_is_critical_until_recreated() {
    let removed = |at| LifecycleFact {
        at,
        event: "subscriptionRemoved".into(),
        subscription_id: "old".into(),
    };
    let not_recreated = Build::healthy().subscriptions(|s| {
        s.lifecycle = vec![removed(minutes_ago(10))];
        s.active[0].id = "old".into();
    });
    let finding = one(not_recreated, FindingCode::SubscriptionRemoved);
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.since, Some(minutes_ago(10)));

    let recreated = Build::healthy().subscriptions(|s| {
        s.lifecycle = vec![removed(minutes_ago(10))];
    });
    let finding = one(recreated, FindingCode::SubscriptionRemoved);
    assert_eq!(finding.severity, Severity::Info);
    assert!(finding.evidence[1].contains("recreated"));

    let other_events = Build::healthy().subscriptions(|s| {
        s.lifecycle = vec![LifecycleFact {
            at: minutes_ago(10),
            event: "reauthorizationRequired".into(),
            subscription_id: SUBSCRIPTION_ID.into(),
        }]
    });
    assert_eq!(codes(other_events), []);
}

#[test]
fn a_fresh_keeper_gets_a_grace_for_its_first_creation() {
    let started = |minutes| {
        Build::healthy()
            .subscriptions(|s| s.active.clear())
            .source(FactSource::Collector {
                pid: 1,
                since: minutes_ago(minutes),
            })
    };
    // The create recorded in the healthy facts is from before this start: not an answer.
    let finding = one(started(1), FindingCode::SubscriptionMissing);
    assert_eq!(finding.severity, Severity::Info);
    assert_eq!(finding.since, Some(minutes_ago(1)));
    // The grace is over.
    assert_eq!(
        one(started(2), FindingCode::SubscriptionMissing).severity,
        Severity::Critical
    );
    // The first attempt since the start answered (and failed): judged at once.
    let answered = started(1).subscriptions(|s| {
        s.actions = vec![failed(
            KeeperAction::Create,
            FailureKind::Other,
            Some(400),
            1,
            1,
        )];
        s.actions[0].at = now();
    });
    assert_eq!(
        one(answered, FindingCode::SubscriptionMissing).severity,
        Severity::Critical
    );
    // No collector runs (pilotwatch check): no keeper to wait for.
    let direct = started(1).source(FactSource::Direct);
    assert_eq!(
        one(direct, FindingCode::SubscriptionMissing).severity,
        Severity::Critical
    );
}

#[test]
fn removals_that_keep_coming_warn_even_when_each_was_recreated() {
    let removed = |minutes, id: &str| LifecycleFact {
        at: minutes_ago(minutes),
        event: "subscriptionRemoved".into(),
        subscription_id: id.into(),
    };
    let twice = Build::healthy().subscriptions(|s| {
        s.lifecycle = vec![removed(10, "second"), removed(40, "first")];
    });
    let finding = one(twice, FindingCode::SubscriptionRemoved);
    assert_eq!(finding.severity, Severity::Warning);
    assert_eq!(finding.since, Some(minutes_ago(10)));
    assert!(
        finding.evidence[1].starts_with("2 subscriptionRemoved notifications"),
        "{finding:?}"
    );
    // Not yet recreated, the latest removal is critical however many came before.
    let gone = Build::healthy().subscriptions(|s| {
        s.lifecycle = vec![removed(10, "second"), removed(40, "first")];
        s.active[0].id = "second".into();
    });
    assert_eq!(
        one(gone, FindingCode::SubscriptionRemoved).severity,
        Severity::Critical
    );
}

#[test]
fn keeper_failures_warn_then_turn_critical_at_three_in_a_row() {
    let failing = |n| {
        Build::healthy().subscriptions(move |s| {
            s.actions.insert(
                0,
                failed(
                    KeeperAction::Reauthorize,
                    FailureKind::Forbidden,
                    Some(403),
                    n,
                    50,
                ),
            )
        })
    };
    assert_eq!(
        codes(failing(2)),
        [(FindingCode::ReauthorizationFailing, Severity::Warning)]
    );
    let finding = one(failing(3), FindingCode::ReauthorizationFailing);
    assert_eq!(finding.severity, Severity::Critical);
    assert_eq!(finding.since, Some(minutes_ago(50)));
    assert!(finding.cause.starts_with("Graph answers 403"));
    // Within Graph's 4-hour retry period, the deadline to recover held notifications is named.
    assert!(
        finding
            .evidence
            .iter()
            .any(|l| l.contains(&stamp(minutes_ago(50) + Duration::hours(4)))),
        "{finding:?}"
    );
}

#[test]
fn a_404_on_renewal_says_the_subscription_is_gone() {
    let build = Build::healthy().subscriptions(|s| {
        s.actions[0] = failed(KeeperAction::Renew, FailureKind::NotFound, Some(404), 1, 1);
    });
    let finding = one(build, FindingCode::ReauthorizationFailing);
    assert!(
        finding.cause.contains("no longer exists"),
        "{}",
        finding.cause
    );
}

#[test]
fn a_subscription_without_lifecycle_url_must_be_recreated() {
    let build = Build::healthy().subscriptions(|s| s.active[0].lifecycle_url = None);
    let finding = one(build.clone(), FindingCode::LifecycleUrlMissing);
    assert_eq!(finding.severity, Severity::Warning);
    assert!(finding.fix[0].starts_with("Delete the subscription: DELETE /subscriptions/"));
    assert!(finding.fix[0].contains("cannot be added with PATCH"));

    let unconfigured = build.subscriptions(|s| s.lifecycle_url_configured = false);
    let finding = one(unconfigured, FindingCode::LifecycleUrlMissing);
    assert!(finding.fix[0].contains("lifecycle_notification_url"));
    assert_eq!(finding.fix.len(), 3);
}
