//! Every finding's rendered text, as a snapshot each: the words an operator reads (summary,
//! evidence, cause, numbered fix) are reviewed like code when they change. One case of facts
//! per finding code; a test fails when a code has none.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::Duration;

use super::facts::{FactSource, FailureKind, LifecycleFact, MovedAside};
use super::test_facts::*;
use super::*;
use crate::store::records::{DecryptFailure, KeeperAction, RejectReason, TokenRejection};

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
