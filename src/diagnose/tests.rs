//! Whole-diagnosis tests: table-driven cases of complete [`Facts`] → severity, headline and
//! first broken rung (several things broken at once included), and snapshots of every
//! finding's rendered text, so a change of wording is reviewed like a change of code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;

use super::facts::{FactSource, FailureKind, LifecycleFact, MovedAside};
use super::test_facts::*;
use super::*;
use crate::creds::Readable;
use crate::creds::test_facts::{TOKEN_ERROR_7000222, refused, rejection_fixture};
use crate::store::records::{DecryptFailure, KeeperAction, RejectReason, TokenRejection};

fn assignment_required() -> crate::creds::CredentialFacts {
    let mut facts = crate::creds::test_facts::healthy();
    let mut principal = crate::creds::test_facts::service_principal();
    principal.app_role_assignment_required = true;
    facts.service_principal = Readable::Read(principal);
    facts
}

fn secret_expired() -> crate::creds::CredentialFacts {
    refused(
        crate::creds::test_facts::healthy(),
        rejection_fixture(TOKEN_ERROR_7000222, 401),
    )
}

fn no_subscription(kind: Option<FailureKind>) -> Build {
    Build::healthy().subscriptions(move |s| {
        s.active.clear();
        if let Some(kind) = kind {
            let status = if kind == FailureKind::Quota { 403 } else { 400 };
            s.actions = vec![failed(KeeperAction::Create, kind, Some(status), 4, 30)];
        }
    })
}

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

fn dead_poller() -> crate::diagnose::facts::DeadTask {
    crate::diagnose::facts::DeadTask {
        task: "poller".into(),
        profile: Some("contoso".into()),
        ended_at: minutes_ago(3),
        reason: "panicked: index out of bounds: the len is 0 but the index is 0".into(),
    }
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

/// For every finding pilotwatch can raise outside the credential report (which has its own
/// tests), facts that raise it.
fn finding_cases() -> Vec<(FindingCode, Build)> {
    use FindingCode as C;
    let removed = LifecycleFact {
        at: minutes_ago(10),
        event: "subscriptionRemoved".into(),
        subscription_id: SUBSCRIPTION_ID.into(),
    };
    let slow = |build: Build| {
        build.delivery(|d| {
            d.ack = Some(spread(3.1, 11.0, 14.0));
            d.ack_slow_share = Some(0.42);
        })
    };
    vec![
        (
            C::SecretExpired,
            Build::healthy().credentials(&secret_expired()),
        ),
        (C::SubscriptionMissing, no_subscription(None)),
        (
            C::HandshakeFailing,
            no_subscription(Some(FailureKind::Handshake)),
        ),
        (
            C::SubscriptionQuota,
            no_subscription(Some(FailureKind::Quota)),
        ),
        (
            C::SubscriptionExpiring,
            Build::healthy().subscriptions(|s| {
                s.active[0].expires_at = now() + Duration::minutes(40);
                s.actions[0] = failed(
                    KeeperAction::Renew,
                    FailureKind::Forbidden,
                    Some(403),
                    2,
                    90,
                );
            }),
        ),
        (
            C::SubscriptionExpired,
            Build::healthy().subscriptions(|s| s.active[0].expires_at = minutes_ago(30)),
        ),
        (
            C::SubscriptionRemoved,
            Build::healthy().subscriptions(move |s| s.lifecycle = vec![removed]),
        ),
        (
            C::ReauthorizationFailing,
            Build::healthy().subscriptions(|s| {
                s.actions.insert(
                    0,
                    failed(
                        KeeperAction::Reauthorize,
                        FailureKind::Forbidden,
                        Some(403),
                        3,
                        50,
                    ),
                )
            }),
        ),
        (
            C::LifecycleUrlMissing,
            Build::healthy().subscriptions(|s| {
                s.active[0].lifecycle_url = None;
                s.lifecycle_url_configured = false;
            }),
        ),
        (
            C::PushPathBroken,
            Build::healthy()
                .silent_for(40)
                .export(|e| e.last_reconcile.as_mut().unwrap().missing = 12),
        ),
        (
            C::ValidationTokensNull,
            Build::healthy()
                .credentials(&assignment_required())
                .null_tokens(40),
        ),
        (
            C::ValidationTokensInvalid,
            Build::healthy().delivery(|d| {
                d.rejected.insert(RejectReason::TokensInvalid, 6);
                d.token_failures.insert(TokenRejection::Expired, 4);
                d.token_failures.insert(TokenRejection::WrongAudience, 2);
            }),
        ),
        (
            C::ClientStateMismatch,
            Build::healthy().delivery(|d| {
                d.rejected.insert(RejectReason::ClientStateMismatch, 3);
                d.rejected.insert(RejectReason::UnknownSubscription, 3);
            }),
        ),
        (
            C::DecryptionFailing,
            Build::healthy().delivery(|d| {
                d.accepted = 0;
                d.rejected.insert(RejectReason::DecryptFailed, 40);
                d.decrypt_failures
                    .insert(DecryptFailure::UnknownCertificate, 40);
                d.unknown_certificates =
                    vec!["pilotwatch-2025 / 9F3A1C0D22B4E6F8A0B1C2D3E4F5061728394A5B".into()];
            }),
        ),
        (C::EndpointSlow, slow(Build::healthy())),
        (
            C::LatencyHigh,
            Build::healthy().delivery(|d| d.latency = Some(spread(6.0, 24.0, 31.0))),
        ),
        (
            C::LatencyBeyondMaximum,
            Build::healthy().delivery(|d| d.latency = Some(spread(6.0, 24.0, 5_400.0))),
        ),
        (
            C::NoRecentActivity,
            Build::healthy().silent_for(90).export(|e| {
                e.seen_in_window = 0;
                e.newest_created_at = Some(minutes_ago(600));
            }),
        ),
        (
            C::GraphThrottling,
            Build::healthy().graph(|g| {
                g.throttled = 18;
                g.trouble_since = Some(minutes_ago(12));
                g.last_request_id = Some("0f2b7c1e-5d4a-4e8f-9a61-3c2d1b0a9e87".into());
            }),
        ),
        (
            C::GraphOutage,
            Build::healthy().graph(|g| {
                g.failed = 60;
                g.trouble_since = Some(minutes_ago(25));
                g.last_request_id = Some("5b7e0c4d-1f2a-4b3c-8d9e-0a1b2c3d4e5f".into());
            }),
        ),
        (
            C::RetentionPressure,
            Build::healthy().store(|s| {
                s.interactions = 990_000;
                s.oldest_created_at = Some(now() - Duration::days(3));
            }),
        ),
        (
            C::StoreLocked,
            Build::healthy().source(FactSource::Unreachable {
                pid: Some(4242),
                reason: "connection refused".into(),
            }),
        ),
        (
            C::CollectorUnreachable,
            Build::healthy().source(FactSource::Unreachable {
                pid: None,
                reason: "timed out after 2s".into(),
            }),
        ),
        (
            C::CollectorTaskDied,
            Build::healthy().without(|f| f.dead_tasks = vec![dead_poller()]),
        ),
        (
            C::StoreMovedAside,
            Build::healthy().store(|s| {
                s.moved_aside = Some(MovedAside {
                    at: minutes_ago(120),
                    path: "/var/lib/pilotwatch/contoso.sled.corrupt-20260922T060000Z".into(),
                })
            }),
        ),
    ]
}

#[test]
fn every_finding_outside_the_credential_report_has_a_case() {
    let covered: Vec<FindingCode> = finding_cases().iter().map(|(code, _)| *code).collect();
    for &code in FindingCode::ALL {
        if code.area() != Area::Credentials || code == FindingCode::ValidationTokensNull {
            assert!(covered.contains(&code), "{code:?} has no snapshot case");
        }
    }
}

#[test]
fn each_findings_rendered_text() {
    for (code, facts) in finding_cases() {
        let diagnosis = diagnose(&facts.done(), now());
        let finding = diagnosis
            .findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("{code:?} not in {:?}", diagnosis.findings));
        insta::assert_snapshot!(
            format!("finding-{}", code.as_str()),
            render::render_finding(finding)
        );
    }
}
