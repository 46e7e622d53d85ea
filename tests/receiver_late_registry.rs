//! The keeper registers a new subscription only once Graph has answered its creation, and Graph
//! may push the first notification before that write is committed. A batch naming a
//! subscription the registry does not hold is therefore held back a bounded number of times
//! before its items are rejected as unknown: a registry write a second or two late loses
//! nothing, even with the simulated clock running fast; a subscription that never appears is
//! rejected as before — with its original reception and acknowledgement times, without a key
//! fetch or a decryption — only later, and meanwhile the batches behind it go on. A batch
//! mixing known and unknown subscriptions is held whole, then judged item by item. A batch
//! still held at shutdown stays in the durable inbox for the next start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod receiver_support;

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pilotwatch::receiver::{DecryptVerdict, ReceiverConfig, RejectReason, TokenVerdict};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use receiver_support::{CLIENT_STATE, FAST, generate, grace, harness, harness_with_keys, sim};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_registered_after_its_first_notification_is_accepted() {
    // A fast clock (as in the demo): 1.5 s of real time is over seven simulated minutes, so a
    // grace measured on the injected clock would have run out long before the registration.
    let mut options = SimOptions::loopback(Scenario::parse(FAST, "inline").unwrap());
    options.speed = 300.0;
    let sim = common::TestSim::start_with(options).await;
    let h = harness(&sim, |_| {}).await;
    assert_eq!(
        ReceiverConfig::new("p", "127.0.0.1:0".parse().unwrap()).unknown_subscription_holds,
        ReceiverConfig::DEFAULT_UNKNOWN_SUBSCRIPTION_HOLDS,
        "this test runs with the default grace"
    );
    let subscription = h.subscribe_unregistered(&sim).await;
    generate(&sim, 1).await;
    h.ledger.wait_puts(1).await;
    let arrived = h.ledger.lock().inbox.values().next().cloned().unwrap();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        h.ledger.notifications().is_empty(),
        "nothing rejected while the registry write is late: {:?}",
        h.ledger.notifications()
    );
    assert!(
        h.ledger.lock().inbox.contains_key(&arrived.id),
        "held in the inbox"
    );
    assert!(
        h.ledger.lock().lookups[&subscription] >= 2,
        "looked up again while held"
    );
    h.ledger.register(&subscription, CLIENT_STATE);

    h.ledger
        .wait_for("both interactions", Duration::from_secs(8), |inner| {
            inner.interactions.len() == 2 && inner.inbox.is_empty()
        })
        .await;
    let records = h.ledger.notifications();
    assert!(!records.is_empty());
    for record in &records {
        assert!(record.accepted && record.rejected.is_none(), "{record:?}");
        assert_eq!(record.subscription_id, subscription);
        assert_eq!(record.validation_tokens, TokenVerdict::Valid);
        assert_eq!(record.decryption, DecryptVerdict::Ok);
    }
    let first = records.first().unwrap();
    assert_eq!(
        first.received_at, arrived.received_at,
        "the original arrival"
    );
    assert!(first.acked_at < first.processed_at);
    assert!(
        first.processed_at - first.received_at >= chrono::Duration::minutes(5),
        "processed after the late registration ({} simulated)",
        first.processed_at - first.received_at
    );
}

/// A rich item for a subscription that was never ours: random content a key fetch or a
/// decryption would have to look at.
fn forged_item(subscription: &str) -> Value {
    json!({
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2026-11-25T09:00:00Z",
        "tenantId": "tenant-of-nobody",
        "clientState": "guess",
        "changeType": "created",
        "resource": "copilot/interactionHistory/interactions('x')",
        "resourceData": {
            "id": "x",
            "@odata.type": "#Microsoft.Graph.aiInteraction",
            "@odata.id": "copilot/interactionHistory/interactions('x')"
        },
        "encryptedContent": {
            "data": "AAAA", "dataSignature": "AAAA", "dataKey": "AAAA",
            "encryptionCertificateId": "c", "encryptionCertificateThumbprint": "00"
        }
    })
}

fn forged_tokens() -> Value {
    json!([format!(
        "{}.e30.sig",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"random-kid"}"#)
    )])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_registered_subscription_is_rejected_after_the_grace_and_holds_back_no_one() {
    let sim = sim().await;
    // Three holds of 0.3, 0.6 and 1.2 s.
    let h = harness(&sim, grace(3, 300)).await;
    let subscription = "never-registered-5c1e";
    let forged = json!({
        "value": [forged_item(subscription), forged_item(subscription)],
        "validationTokens": forged_tokens(),
    });
    let posted = Instant::now();
    assert_eq!(h.post("/notify", forged.to_string()).await, 202);
    let forged_id = *h.ledger.lock().inbox.keys().next().unwrap();
    assert_eq!(h.post("/notify", r#"{"value": "not a list"}"#).await, 202);

    h.ledger
        .wait_for("the batch behind it", Duration::from_secs(2), |inner| {
            !inner.notifications.is_empty()
        })
        .await;
    let held = h.ledger.lock().inbox.contains_key(&forged_id);
    let records = h.ledger.notifications();
    assert!(held, "the forged batch is still waiting");
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].rejected,
        Some(RejectReason::MalformedNotification)
    );

    h.ledger
        .wait_for("the forged batch", Duration::from_secs(8), |inner| {
            inner.inbox.is_empty()
        })
        .await;
    let waited = posted.elapsed();
    let records = h.ledger.notifications();
    assert_eq!(records.len(), 2, "{records:?}");
    let rejected = &records[1];
    assert_eq!(rejected.rejected, Some(RejectReason::UnknownSubscription));
    assert_eq!(rejected.items, 2, "one record counting both items");
    assert_eq!(rejected.subscription_id, subscription);
    assert!(!rejected.accepted);
    assert_eq!(rejected.validation_tokens, TokenVerdict::Unchecked);
    assert_eq!(
        rejected.decryption,
        DecryptVerdict::Skipped,
        "no decryption"
    );
    assert!(
        rejected.acked_at < rejected.processed_at,
        "the original acknowledgement time"
    );
    assert_eq!(
        h.ledger.lock().lookups[subscription],
        4,
        "screened once per hold, then once more to reject"
    );
    assert!(
        waited >= Duration::from_millis(300 + 600 + 1200),
        "rejected only after the grace ({waited:?})"
    );
    assert!(
        h.verifier.jwks.cached().is_none(),
        "no key fetch for a forged batch"
    );
    assert_eq!(h.ledger.interaction_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_mixing_known_and_unknown_subscriptions_is_held_whole_then_judged_by_item() {
    let sim = sim().await;
    let genuine_side = harness(&sim, |_| {}).await;
    let subscription = genuine_side.subscribe(&sim).await;
    generate(&sim, 1).await;
    genuine_side
        .ledger
        .wait_for(
            "the genuine interactions",
            Duration::from_secs(8),
            |inner| inner.interactions.len() == 2,
        )
        .await;
    let mut mixed: Value = serde_json::from_slice(&genuine_side.ledger.lock().bodies[0].1).unwrap();
    let genuine = mixed["value"][0].clone();
    mixed["value"] = json!([genuine, forged_item("not-one-of-ours")]);

    let dir = tempfile::tempdir().unwrap();
    // Two holds of 0.2 and 0.4 s.
    let h = harness_with_keys(&sim, genuine_side.keys.clone(), dir, grace(2, 200)).await;
    h.ledger.register(&subscription, CLIENT_STATE);
    let posted = Instant::now();
    assert_eq!(h.post("/notify", mixed.to_string()).await, 202);
    h.ledger
        .wait_for("the mixed batch", Duration::from_secs(8), |inner| {
            inner.inbox.is_empty() && inner.bodies.len() == 1
        })
        .await;
    let waited = posted.elapsed();
    assert!(
        waited >= Duration::from_millis(200 + 400),
        "held whole, the known item too ({waited:?})"
    );
    assert_eq!(h.ledger.lock().lookups["not-one-of-ours"], 3);
    let records = h.ledger.notifications();
    let summary: Vec<_> = records
        .iter()
        .map(|record| {
            (
                record.subscription_id.as_str(),
                record.accepted,
                record.rejected,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "not-one-of-ours",
                false,
                Some(RejectReason::UnknownSubscription)
            ),
            (subscription.as_str(), true, None),
        ]
    );
    assert_eq!(
        h.ledger.interaction_count(),
        1,
        "the known item entered the feed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_batch_stays_in_the_inbox_at_shutdown_for_the_next_start() {
    let sim = sim().await;
    let h = harness(&sim, grace(3, 2000)).await;
    let forged = json!({"value": [forged_item("late-or-never")]});
    assert_eq!(h.post("/notify", forged.to_string()).await, 202);
    h.ledger
        .wait_for("its first screening", Duration::from_secs(5), |inner| {
            inner.lookups.contains_key("late-or-never")
        })
        .await;
    let stopping = Instant::now();
    h.receiver.shutdown().await;
    assert!(
        stopping.elapsed() < Duration::from_secs(2),
        "shutdown does not wait out the grace ({:?})",
        stopping.elapsed()
    );
    let left: Vec<_> = h.ledger.lock().inbox.values().cloned().collect();
    assert_eq!(left.len(), 1, "still in the durable inbox");
    assert!(h.ledger.notifications().is_empty(), "not rejected early");

    // The next start (here with no grace) judges it, with its original arrival time.
    let dir = tempfile::tempdir().unwrap();
    let next = receiver_support::harness_on(
        &sim,
        std::sync::Arc::clone(&h.ledger),
        h.keys.clone(),
        dir,
        grace(0, 0),
    )
    .await;
    next.ledger
        .wait_for("the left batch", Duration::from_secs(5), |inner| {
            inner.inbox.is_empty()
        })
        .await;
    let records = next.ledger.notifications();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].rejected, Some(RejectReason::UnknownSubscription));
    assert_eq!(records[0].received_at, left[0].received_at);
}
