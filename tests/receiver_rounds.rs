//! The processor's rounds: a backlog of inbox entries is judged concurrently but written in
//! inbox order, so of two entries carrying the same interaction the older one is its first
//! delivery and the younger says `duplicate`, and a bad entry in the middle of a round changes
//! nothing for its neighbours.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod receiver_support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use pilotwatch::graph::model::ChangeNotificationCollection;
use pilotwatch::receiver::{Endpoint, RejectReason};
use receiver_support::{CLIENT_STATE, MemoryLedger, generate, harness, harness_on, sim};

/// The interaction ids `body` carries, in order.
fn interaction_ids(body: &[u8]) -> Vec<String> {
    let collection: ChangeNotificationCollection = serde_json::from_slice(body).unwrap();
    collection
        .value
        .iter()
        .map(|item| item.resource_data.as_ref().unwrap().id.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_written_in_inbox_order_whatever_order_it_is_judged_in() {
    let sim = sim().await;
    // A first receiver collects genuine bodies from the simulator.
    let first = harness(&sim, |_| {}).await;
    let subscription = first.subscribe(&sim).await;
    generate(&sim, 3).await;
    first
        .ledger
        .wait_for("six interactions", Duration::from_secs(8), |inner| {
            inner.interactions.len() == 6
        })
        .await;
    let bodies: Vec<Vec<u8>> = first
        .ledger
        .lock()
        .bodies
        .iter()
        .filter(|(endpoint, _)| *endpoint == Endpoint::Notification)
        .map(|(_, body)| body.clone())
        .collect();
    assert!(!bodies.is_empty());
    first.shutdown.cancel();

    // A crash left a backlog: every body twice, interleaved, with garbage in the middle.
    let mut backlog: Vec<Option<Vec<u8>>> = bodies.iter().cloned().map(Some).collect();
    backlog.push(None);
    backlog.extend(bodies.iter().rev().cloned().map(Some));
    let ledger = Arc::new(MemoryLedger::default());
    ledger.register(&subscription, CLIENT_STATE);
    let received_at = sim.sim.state.now();
    for entry in &backlog {
        let body = entry.as_deref().unwrap_or(b"{\"value\": \"not a list\"}");
        ledger.put_committed(Endpoint::Notification, received_at, body);
    }
    let mut expected = Vec::new();
    let mut seen = HashSet::new();
    for entry in &backlog {
        match entry {
            None => expected.push((None, false, Some(RejectReason::MalformedNotification))),
            Some(body) => expected.extend(
                interaction_ids(body)
                    .into_iter()
                    .map(|id| (Some(id.clone()), !seen.insert(id), None)),
            ),
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let second = harness_on(
        &sim,
        Arc::clone(&ledger),
        Arc::clone(&first.keys),
        dir,
        |_| {},
    )
    .await;
    second
        .ledger
        .wait_for("the backlog processed", Duration::from_secs(8), |inner| {
            inner.inbox.is_empty()
        })
        .await;
    let written: Vec<_> = ledger
        .notifications()
        .into_iter()
        .map(|record| (record.interaction_id, record.duplicate, record.rejected))
        .collect();
    assert_eq!(written, expected, "records follow the inbox order");
    assert_eq!(
        ledger.interaction_count(),
        6,
        "each interaction stored once"
    );
    assert_eq!(
        ledger.lock().latencies.len(),
        6,
        "only first deliveries are latency samples"
    );
    second.shutdown.cancel();
}
