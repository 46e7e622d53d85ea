//! The receiver under test, as `pilotwatch serve` runs it for one profile: `Receiver::start`
//! over `ProfileLedger` on a fresh sled `Store` in a temporary directory, the subscription
//! registered as the keeper would have; and a watcher that counts processed batches, checking
//! each produced one accepted, new, token-valid, decrypted notification.
//!
//! Depends on the receiver, the store, the collector's `ProfileLedger` and `genuine`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use pilotwatch::collector::ports::ProfileLedger;
use pilotwatch::receiver::{
    DecryptVerdict, Receiver, ReceiverConfig, RunningReceiver, TokenVerdict, Verifier,
};
use pilotwatch::store::{
    ClientState, Durability, Store, StoreOptions, SubscriptionRecord, SubscriptionState,
};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::genuine::{CLIENT_STATE, Genuine};
use crate::{DEADLINE, PROFILE};

/// A fresh store holding what the keeper would have registered for the subscription.
pub(crate) fn fresh_store(genuine: &Genuine, durability: Durability) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        durability,
        ..StoreOptions::default()
    };
    let store = Store::open(&dir.path().join("store"), options, genuine.clock.clone()).unwrap();
    let now = genuine.sim.state.now();
    store
        .subscriptions()
        .put(&SubscriptionRecord {
            id: genuine.subscription_id.clone(),
            profile: PROFILE.to_owned(),
            resource: "/copilot/interactionHistory/getAllEnterpriseInteractions".to_owned(),
            expires_at: now + chrono::Duration::hours(24),
            created_at: now,
            client_state: ClientState::new(CLIENT_STATE),
            notification_url: String::new(),
            lifecycle_url: None,
            certificate_id: Some(genuine.keys.current_certificate_id()),
            state: SubscriptionState::Active,
            last_renewed_at: None,
            last_reauthorized_at: None,
        })
        .unwrap();
    (dir, store)
}

/// A receiver as `pilotwatch serve` runs it for one profile, on `store`.
pub(crate) async fn start_receiver(
    genuine: &Genuine,
    verifier: &Arc<Verifier>,
    store: &Store,
) -> RunningReceiver {
    let ledger = Arc::new(ProfileLedger::new(store.clone(), PROFILE, false));
    // Lifecycle signals are not part of this load; a closed channel is logged, not fatal.
    let (lifecycle_tx, _) = mpsc::channel(1);
    Receiver::start(
        ReceiverConfig::new(PROFILE, "127.0.0.1:0".parse().unwrap()),
        ledger,
        Arc::clone(verifier),
        lifecycle_tx,
        genuine.clock.clone(),
        CancellationToken::new(),
    )
    .await
    .unwrap()
}

/// POSTs a notification body as Graph does; the status, or 0 when no answer came.
pub(crate) async fn post(http: &reqwest::Client, url: &str, body: &Bytes) -> u16 {
    http.post(url)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.clone())
        .send()
        .await
        .map_or(0, |answer| answer.status().as_u16())
}

/// How many batches the receiver has processed, and when the latest was, counted as they are
/// announced; a batch that did not produce one accepted, new, token-valid, decrypted
/// notification is counted as unclean.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    processed: usize,
    unclean: usize,
    lagged: u64,
    latest: Option<Instant>,
}

/// Starts counting what `receiver` processes from now on.
pub(crate) fn watch(receiver: &RunningReceiver) -> Arc<Mutex<Progress>> {
    let progress = Arc::new(Mutex::new(Progress::default()));
    let mut feed = receiver.processed();
    let shared = Arc::clone(&progress);
    tokio::spawn(async move {
        loop {
            let batch = match feed.recv().await {
                Ok(batch) => batch,
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    shared.lock().unwrap().lagged += missed;
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            let clean = batch.notifications.len() == 1
                && batch.notifications.iter().all(|record| {
                    record.accepted
                        && !record.duplicate
                        && record.validation_tokens == TokenVerdict::Valid
                        && record.decryption == DecryptVerdict::Ok
                });
            let mut progress = shared.lock().unwrap();
            progress.processed += 1;
            progress.unclean += usize::from(!clean);
            progress.latest = Some(Instant::now());
        }
    });
    progress
}

/// Waits until `expected` batches were processed, all cleanly; returns when the last one was.
pub(crate) async fn all_processed(progress: &Mutex<Progress>, expected: usize) -> Instant {
    let started = Instant::now();
    loop {
        {
            let progress = progress.lock().unwrap();
            assert_eq!(
                progress.unclean, 0,
                "a genuine notification was not ingested cleanly"
            );
            assert_eq!(progress.lagged, 0, "the processed feed lagged");
            if progress.processed >= expected {
                return progress.latest.unwrap();
            }
        }
        assert!(started.elapsed() < DEADLINE, "processing stalled");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
