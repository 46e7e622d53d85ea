//! Whole-diagnosis tests: table-driven cases of complete [`Facts`] → severity, headline and
//! first broken rung (several things broken at once included). Each finding's rendered text is
//! pinned in `finding_text_tests`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;

use super::facts::{FactSource, FailureKind};
use super::test_facts::*;
use super::*;
use crate::store::records::RejectReason;

/// One case: the facts, then the expected severity, headline code and first broken rung.
struct Case {
    name: &'static str,
    facts: Build,
    severity: Severity,
    headline: Option<FindingCode>,
    first_broken: Option<Rung>,
}

fn cases() -> Vec<Case> {
    use FindingCode as C;
    vec![
        Case {
            name: "healthy",
            facts: Build::healthy(),
            severity: Severity::Ok,
            headline: None,
            first_broken: None,
        },
        Case {
            name: "expired secret and null tokens: the secret comes first",
            facts: Build::healthy()
                .credentials(&secret_expired())
                .null_tokens(40),
            severity: Severity::Critical,
            headline: Some(C::SecretExpired),
            first_broken: Some(Rung::Token),
        },
        Case {
            name: "null tokens, assignment required",
            facts: Build::healthy()
                .credentials(&assignment_required())
                .null_tokens(40),
            severity: Severity::Critical,
            headline: Some(C::ValidationTokensNull),
            first_broken: Some(Rung::Authentic),
        },
        Case {
            name: "assignment required, no notification yet",
            facts: Build::healthy().credentials(&assignment_required()),
            severity: Severity::Warning,
            headline: Some(C::ValidationTokensNull),
            first_broken: None,
        },
        Case {
            name: "no subscription",
            facts: no_subscription(None),
            severity: Severity::Critical,
            headline: Some(C::SubscriptionMissing),
            first_broken: Some(Rung::SubscriptionAlive),
        },
        Case {
            name: "handshake failing",
            facts: no_subscription(Some(FailureKind::Handshake)),
            severity: Severity::Critical,
            headline: Some(C::SubscriptionMissing),
            first_broken: Some(Rung::SubscriptionAlive),
        },
        Case {
            name: "quota taken",
            facts: no_subscription(Some(FailureKind::Quota)),
            severity: Severity::Critical,
            headline: Some(C::SubscriptionQuota),
            first_broken: Some(Rung::SubscriptionAlive),
        },
        Case {
            name: "expiring subscription and a slow endpoint",
            facts: Build::healthy()
                .subscriptions(|s| s.active[0].expires_at = now() + Duration::hours(5))
                .delivery(|d| d.ack = Some(spread(1.0, 3.5, 4.0))),
            severity: Severity::Warning,
            headline: Some(C::SubscriptionExpiring),
            first_broken: None,
        },
        Case {
            name: "push path broken",
            facts: Build::healthy().silent_for(40),
            severity: Severity::Critical,
            headline: Some(C::PushPathBroken),
            first_broken: Some(Rung::NotificationsArriving),
        },
        Case {
            name: "push path broken and nothing decrypts: arrival comes first",
            facts: Build::healthy().silent_for(40).delivery(|d| {
                d.accepted = 0;
                d.rejected.insert(RejectReason::DecryptFailed, 5);
            }),
            severity: Severity::Critical,
            headline: Some(C::PushPathBroken),
            first_broken: Some(Rung::NotificationsArriving),
        },
        Case {
            name: "a minute after a fresh start, the export API's history is no broken push",
            facts: Build::healthy().fresh_start(1),
            severity: Severity::Ok,
            headline: None,
            first_broken: None,
        },
        Case {
            name: "silent since a start a quarter of an hour ago",
            facts: Build::healthy().fresh_start(15),
            severity: Severity::Critical,
            headline: Some(C::PushPathBroken),
            first_broken: Some(Rung::NotificationsArriving),
        },
        Case {
            name: "nobody used Copilot",
            facts: Build::healthy().silent_for(90).export(|e| {
                e.seen_in_window = 0;
                e.newest_created_at = Some(minutes_ago(600));
            }),
            severity: Severity::Info,
            headline: None,
            first_broken: None,
        },
        Case {
            name: "Graph down",
            facts: Build::healthy().graph(|g| {
                g.requests = 12;
                g.failed = 12;
            }),
            severity: Severity::Critical,
            headline: Some(C::GraphOutage),
            first_broken: None,
        },
        Case {
            name: "checked directly, no collector",
            facts: Build::healthy()
                .source(FactSource::Direct)
                .without(|f| f.delivery = None),
            severity: Severity::Unknown,
            headline: None,
            first_broken: None,
        },
        Case {
            name: "the collector holding the store does not answer",
            facts: Build::healthy()
                .source(FactSource::Unreachable {
                    pid: Some(4242),
                    reason: "connection refused".into(),
                })
                .without(|f| f.delivery = None),
            severity: Severity::Warning,
            headline: Some(C::StoreLocked),
            first_broken: None,
        },
        Case {
            name: "a collector task died",
            facts: Build::healthy().without(|f| f.dead_tasks = vec![dead_poller()]),
            severity: Severity::Critical,
            headline: Some(C::CollectorTaskDied),
            first_broken: Some(Rung::CollectorReachable),
        },
    ]
}

#[test]
fn each_case_yields_its_severity_headline_and_first_broken_rung() {
    for case in cases() {
        let diagnosis = diagnose(&case.facts.done(), now());
        let headline = diagnosis.headline.as_ref().map(|h| h.code);
        assert_eq!(
            (diagnosis.severity, headline, diagnosis.ladder.first_broken),
            (case.severity, case.headline, case.first_broken),
            "{}:\n{}",
            case.name,
            render::render(&diagnosis)
        );
    }
}

#[test]
fn healthy_yields_nothing_above_info_and_every_rung_ok() {
    let diagnosis = diagnose(&Build::healthy().done(), now());
    assert!(
        diagnosis
            .findings
            .iter()
            .all(|f| f.severity <= Severity::Info),
        "{:?}",
        diagnosis.findings
    );
    assert!(
        diagnosis
            .ladder
            .rungs
            .iter()
            .all(|(_, state)| *state == RungState::Ok)
    );
}

#[test]
fn null_tokens_with_the_flag_read_merge_into_one_critical_finding() {
    let diagnosis = diagnose(
        &Build::healthy()
            .credentials(&assignment_required())
            .null_tokens(40)
            .done(),
        now(),
    );
    let null: Vec<&Finding> = diagnosis
        .findings
        .iter()
        .filter(|f| f.code == FindingCode::ValidationTokensNull)
        .collect();
    assert_eq!(null.len(), 1);
    assert_eq!(null[0].severity, Severity::Critical);
    assert!(
        null[0]
            .evidence
            .iter()
            .any(|l| l.starts_with("confirmed: "))
    );
    assert!(
        null[0]
            .evidence
            .iter()
            .any(|l| l.contains("appRoleAssignmentRequired = true")),
        "the credential check's own evidence is kept: {:?}",
        null[0].evidence
    );
}

#[test]
fn null_tokens_are_activity_so_the_last_rung_is_not_judged_empty() {
    // The export API showed nothing new; the notifications Graph sent (null tokens and all)
    // show that Copilot is in use, so the dashboard is empty for the tokens' sake alone.
    let diagnosis = diagnose(
        &Build::healthy()
            .credentials(&assignment_required())
            .null_tokens(40)
            .export(|e| {
                e.seen_in_window = 0;
                e.newest_created_at = Some(minutes_ago(300));
            })
            .done(),
        now(),
    );
    let codes: Vec<FindingCode> = diagnosis.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [FindingCode::ValidationTokensNull], "{codes:?}");
    assert_eq!(
        diagnosis.ladder.rungs.last(),
        Some(&(Rung::RecentActivity, RungState::Ok))
    );
}

#[test]
fn several_broken_at_once_renders_the_whole_ladder() {
    let diagnosis = diagnose(
        &Build::healthy()
            .credentials(&secret_expired())
            .null_tokens(40)
            .done(),
        now(),
    );
    insta::assert_snapshot!(
        "diagnosis-expired-secret-and-null-tokens",
        render::render(&diagnosis)
    );
}
