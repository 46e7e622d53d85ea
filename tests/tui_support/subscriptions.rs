//! Fixture state for the Subscriptions tab: `contoso` with a live tenant-wide subscription and
//! notifications flowing (every rung judged), the same profile broken — its subscription
//! expired and every notification of the last hour arriving with `validationTokens: null`
//! because the service principal requires assignment — and the empty states (no
//! subscription; no verdict yet). Verdicts come from the real diagnosis at the fixed instant.

use std::collections::BTreeMap;

use chrono::Duration;
use pilotwatch::console::{ProfileSnapshot, Snapshot, SubscriptionRow};
use pilotwatch::creds::{CredentialFacts, Readable};
use pilotwatch::diagnose::facts::{
    DeliveryFacts, ExportFacts, FactSource, Facts, GraphTraffic, ReconcileFact, Spread, StoreFacts,
    SubscriptionFact, SubscriptionFacts,
};
use pilotwatch::diagnose::{ProfileVerdict, diagnose};
use pilotwatch::store::records::{Outcome, RejectReason};

use super::{TENANT_WIDE, healthy_facts, now, subscription_fact, subscription_row};

fn spread(p50: f64, p95: f64, max: f64) -> Spread {
    Spread {
        count: 40,
        p50,
        p95,
        p99: max,
        max,
        mean: p50,
    }
}

fn delivery() -> DeliveryFacts {
    DeliveryFacts {
        window_minutes: 60,
        received: 40,
        accepted: 40,
        rejected: BTreeMap::new(),
        token_failures: BTreeMap::new(),
        decrypt_failures: BTreeMap::new(),
        unknown_certificates: Vec::new(),
        current_certificate_id: Some("pilotwatch-2026-09".into()),
        last_received_at: Some(now() - Duration::minutes(2)),
        last_accepted_at: Some(now() - Duration::minutes(2)),
        ack: Some(spread(0.01, 0.04, 0.2)),
        ack_slow_share: Some(0.0),
        latency: Some(spread(3.0, 6.5, 9.0)),
    }
}

fn facts(
    credentials: &CredentialFacts,
    active: Vec<SubscriptionFact>,
    delivery: DeliveryFacts,
) -> Facts {
    Facts {
        profile: credentials.profile.clone(),
        source: FactSource::Collector {
            pid: 4242,
            since: now() - Duration::days(2),
        },
        credentials: Some(pilotwatch::creds::assess(credentials)),
        subscriptions: Some(SubscriptionFacts {
            resource: TENANT_WIDE.into(),
            notification_url: Some("https://pilotwatch.contoso.com/notify".into()),
            lifecycle_url_configured: true,
            active,
            actions: Vec::new(),
            lifecycle: Vec::new(),
        }),
        delivery: Some(delivery),
        export: Some(ExportFacts {
            last_reconcile: Some(ReconcileFact {
                at: now() - Duration::minutes(5),
                from: now() - Duration::minutes(65),
                to: now() - Duration::minutes(5),
                fetched: 38,
                missing: 0,
                outcome: Outcome::Succeeded,
            }),
            newest_created_at: Some(now() - Duration::minutes(3)),
            seen_in_window: 38,
        }),
        graph: Some(GraphTraffic {
            window_minutes: 60,
            requests: 120,
            throttled: 0,
            failed: 0,
            trouble_since: None,
            last_request_id: None,
        }),
        store: Some(StoreFacts {
            interactions: 1_234,
            max_interactions: 1_000_000,
            retention_days: 7,
            oldest_created_at: Some(now() - Duration::days(6)),
            moved_aside: None,
        }),
        client_id: Some("24d3b144-21ae-4080-943f-7067b395b913".into()),
        thresholds: Default::default(),
        dead_tasks: Vec::new(),
    }
}

fn with_first_profile(profile: ProfileSnapshot) -> Snapshot {
    let mut snapshot = super::snapshot();
    snapshot.profiles[0] = profile;
    snapshot
}

fn contoso(facts: Facts, subscriptions: Vec<SubscriptionRow>) -> ProfileSnapshot {
    let diagnosis = diagnose(&facts, now());
    ProfileSnapshot {
        name: "contoso".into(),
        tenant: "contoso.onmicrosoft.com".into(),
        client_id: "24d3b144-21ae-4080-943f-7067b395b913".into(),
        verdict: Some(ProfileVerdict { facts, diagnosis }),
        subscriptions,
        findings_history: Vec::new(),
        recent_events: Vec::new(),
    }
}

fn healthy_row() -> SubscriptionRow {
    SubscriptionRow {
        received: 40,
        ..subscription_row()
    }
}

/// `contoso` with everything judged and nothing wrong.
pub fn healthy_snapshot() -> Snapshot {
    let credentials = healthy_facts("contoso");
    let facts = facts(&credentials, vec![subscription_fact()], delivery());
    with_first_profile(contoso(facts, vec![healthy_row()]))
}

/// `contoso` with its subscription expired 20 minutes ago (the last renewal three days back)
/// and every notification of the last hour kept out for `validationTokens: null`.
pub fn broken_snapshot() -> Snapshot {
    let mut credentials = healthy_facts("contoso");
    if let Readable::Read(principal) = &mut credentials.service_principal {
        principal.app_role_assignment_required = true;
    }
    let expired = SubscriptionFact {
        expires_at: now() - Duration::minutes(20),
        created_at: now() - Duration::days(6),
        last_renewed_at: Some(now() - Duration::days(3) - Duration::minutes(20)),
        ..subscription_fact()
    };
    let mut delivery = delivery();
    delivery.accepted = 0;
    delivery.rejected = BTreeMap::from([(RejectReason::TokensNull, 40)]);
    delivery.last_received_at = Some(now() - Duration::minutes(25));
    delivery.last_accepted_at = Some(now() - Duration::hours(5));
    let row = SubscriptionRow {
        expires_at: expired.expires_at,
        created_at: expired.created_at,
        last_renewed_at: expired.last_renewed_at,
        next_renewal_at: None,
        last_lifecycle: Some((
            now() - Duration::minutes(50),
            "reauthorizationRequired".into(),
        )),
        last_handshake_at: Some(expired.created_at),
        received: 40,
        tokens_present_share: Some(0.0),
        ..subscription_row()
    };
    let facts = facts(&credentials, vec![expired], delivery);
    with_first_profile(contoso(facts, vec![row]))
}

/// `contoso` with no subscription at all, diagnosed.
pub fn no_subscription_snapshot() -> Snapshot {
    let credentials = healthy_facts("contoso");
    let facts = facts(&credentials, Vec::new(), delivery());
    with_first_profile(contoso(facts, Vec::new()))
}

/// `contoso` before its first verdict, with no subscription known yet.
pub fn no_verdict_snapshot() -> Snapshot {
    let mut profile = contoso(
        facts(&healthy_facts("contoso"), Vec::new(), delivery()),
        Vec::new(),
    );
    profile.verdict = None;
    with_first_profile(profile)
}
