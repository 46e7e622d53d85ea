//! The notification receiver end to end against the simulator on loopback: the handshake on
//! both paths, the hardening answers (405, 413, 415, 503 when saturated), acknowledgement only
//! after a successful commit (and draining on shutdown), genuine rich notifications validated,
//! decrypted, recorded with latency and inserted once, lifecycle events signalled to the keeper,
//! HTTPS from PEM files, and the whole path on the real sled store through the collector's
//! `ProfileLedger`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod receiver_support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pilotwatch::clock::SharedClock;
use pilotwatch::collector::ports::ProfileLedger;
use pilotwatch::graph::model::LifecycleEvent;
use pilotwatch::receiver::{Check, DecryptVerdict, EncryptionKeys, Endpoint, TokenVerdict};
use pilotwatch::store::{EventKind, InteractionSource, Store, StoreOptions};
use receiver_support::{CLIENT_STATE, PROFILE, generate, harness, harness_on, sim};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_on_both_paths_echoes_the_decoded_token_as_plain_text() {
    let sim = sim().await;
    let h = harness(&sim, |_| {}).await;
    for path in ["/notify", "/lifecycle"] {
        let answer = h
            .http
            .post(format!(
                "{}{path}?source=x&validationToken=Validation%3A%20Testing%20%3Cb%3E%26%2B",
                h.base
            ))
            .header("content-type", "text/plain; charset=utf-8")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        let headers = answer.headers().clone();
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(answer.text().await.unwrap(), "Validation: Testing <b>&+");
    }
    // The simulator's own handshakes (both URLs) pass: the subscription is created.
    h.subscribe(&sim).await;
    assert!(
        h.ledger.lock().bodies.is_empty(),
        "handshakes store nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hardening_answers_method_type_size_and_unknown_paths() {
    let sim = sim().await;
    let h = harness(&sim, |config| config.max_body_bytes = 1024).await;
    let get = h
        .http
        .get(format!("{}/notify", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    let plain = h
        .http
        .post(format!("{}/notify", h.base))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    assert_eq!(h.post("/notify", vec![b' '; 2048]).await, 413);
    // A body larger than the limit without a Content-Length (chunked) is refused too.
    assert!(
        raw_chunked_post(&h.base, 2048)
            .await
            .starts_with("HTTP/1.1 413")
    );
    assert_eq!(h.post("/elsewhere", "{}").await, 404);
    assert!(
        h.ledger.lock().bodies.is_empty(),
        "nothing refused was stored"
    );
    assert_eq!(
        h.post("/notify", "{\"value\":[]}").await,
        202,
        "still serving"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_only_after_the_commit_and_5xx_when_it_fails() {
    let sim = sim().await;
    let h = harness(&sim, |_| {}).await;
    *h.ledger.commit_delay.lock().unwrap() = Some(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(h.post("/notify", "{\"value\":[]}").await, 202);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "202 waited for the commit"
    );
    assert!(h.ledger.lock().uncommitted.is_empty());

    *h.ledger.commit_delay.lock().unwrap() = None;
    h.ledger.fail_commit.store(true, Ordering::SeqCst);
    assert_eq!(h.post("/notify", "{\"value\":[]}").await, 503);
    h.ledger.fail_commit.store(false, Ordering::SeqCst);
    h.ledger.fail_put.store(true, Ordering::SeqCst);
    assert_eq!(h.post("/lifecycle", "{\"value\":[]}").await, 503);
    h.ledger.fail_put.store(false, Ordering::SeqCst);
    assert_eq!(h.post("/notify", "{\"value\":[]}").await, 202, "recovers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_receiver_answers_503_with_retry_after() {
    let sim = sim().await;
    let h = harness(&sim, |config| config.concurrency = 1).await;
    h.ledger.hold_commits();
    let post = |body: &'static str| {
        let (http, url) = (h.http.clone(), format!("{}/notify", h.base));
        tokio::spawn(async move {
            http.post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    let slow = post("{\"value\":[]}");
    // Its body is stored: it holds the only permit until its commit is let through.
    h.ledger.wait_puts(1).await;
    let refused = h
        .http
        .post(format!("{}/notify", h.base))
        .header("content-type", "application/json")
        .body("{\"value\":[]}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    // The handshake is never refused for saturation.
    let handshake = h
        .http
        .post(format!("{}/notify?validationToken=t", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), 200);
    assert!(!slow.is_finished(), "answered while the permit was held");
    h.ledger.open_commits();
    assert_eq!(slow.await.unwrap(), 202);
    assert_eq!(
        h.ledger.lock().bodies.len(),
        1,
        "the refused body was not stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_a_request_in_flight() {
    let sim = sim().await;
    let h = harness(&sim, |_| {}).await;
    h.ledger.hold_commits();
    let in_flight = {
        let (http, url) = (h.http.clone(), format!("{}/notify", h.base));
        tokio::spawn(async move {
            http.post(url)
                .header("content-type", "application/json")
                .body("{\"value\":[]}")
                .send()
                .await
                .map(|answer| answer.status().as_u16())
        })
    };
    h.ledger.wait_puts(1).await;
    // Shutdown begins while the request waits for its commit.
    h.shutdown.cancel();
    h.ledger.open_commits();
    let base = h.base.clone();
    h.receiver.join().await;
    assert_eq!(in_flight.await.unwrap().unwrap(), 202);
    assert!(h.ledger.lock().uncommitted.is_empty());
    assert!(
        h.ledger.lock().inbox.is_empty(),
        "the acknowledged batch was processed before the processor stopped"
    );
    let after = reqwest::Client::new()
        .post(format!("{base}/notify"))
        .body("{}")
        .send()
        .await;
    assert!(after.is_err(), "no longer listening");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn genuine_rich_notifications_are_validated_decrypted_and_inserted_once() {
    let sim = sim().await;
    let h = harness(&sim, |_| {}).await;
    let subscription = h.subscribe(&sim).await;
    let made = generate(&sim, 2).await;
    assert_eq!(made.len(), 4);
    h.ledger
        .wait_for("four interactions", Duration::from_secs(8), |inner| {
            inner.interactions.len() == 4
        })
        .await;
    let records = h.ledger.notifications();
    assert_eq!(records.len(), 4, "{records:#?}");
    for record in &records {
        assert!(record.accepted && !record.duplicate, "{record:?}");
        assert_eq!(record.rejected, None);
        assert_eq!(record.subscription_id, subscription);
        assert_eq!(record.client_state, Check::Ok);
        assert_eq!(record.validation_tokens, TokenVerdict::Valid);
        assert_eq!(record.decryption, DecryptVerdict::Ok);
        assert_eq!(
            record.tenant_id.as_deref(),
            Some(sim.sim.state.tenant.id.as_str())
        );
        let latency = record.latency_ms.unwrap();
        assert!((0..60_000).contains(&latency), "latency {latency} ms");
        assert_eq!(
            record.latency_ms,
            Some((record.received_at - record.created_at.unwrap()).num_milliseconds())
        );
        assert!(record.acked_at >= record.received_at && record.processed_at >= record.acked_at);
        // Acknowledged by this run, so measured in real time: a loopback store and commit.
        let ack_ms = record.ack_ms.expect("the acknowledgement was timed");
        assert!(ack_ms < 10_000, "ack {ack_ms} ms");
    }
    for expected in &made {
        let id = expected["id"].as_str().unwrap();
        let stored = h.ledger.lock().interactions.get(id).cloned().unwrap();
        assert_eq!(
            serde_json::to_value(stored).unwrap(),
            *expected,
            "decrypted intact"
        );
    }
    assert_eq!(h.ledger.lock().latencies.len(), 4);
    assert!(
        h.ledger.lock().inbox.is_empty(),
        "processed batches are removed"
    );

    // Graph retrying a delivery: the same POST again is recorded as a duplicate, stored once.
    let (endpoint, body) = h.ledger.lock().bodies[0].clone();
    assert_eq!(endpoint, Endpoint::Notification);
    assert_eq!(h.post("/notify", body).await, 202);
    h.ledger
        .wait_for("the duplicate's record", Duration::from_secs(5), |inner| {
            inner.notifications.len() > 4
        })
        .await;
    let last = h.ledger.notifications().pop().unwrap();
    assert!(last.duplicate && last.accepted, "{last:?}");
    assert_eq!(h.ledger.interaction_count(), 4);
    assert_eq!(
        h.ledger.lock().latencies.len(),
        4,
        "a retried delivery is not a second latency sample"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_real_store_notifications_become_stored_interactions_and_processed_batches() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let clock: SharedClock = sim.sim.state.clock.clone();
    let store = Store::open(
        &dir.path().join("store"),
        StoreOptions::default(),
        clock.clone(),
    )
    .unwrap();
    let keys = Arc::new(
        EncryptionKeys::load_or_generate(
            &dir.path().join("encryption.crt"),
            &dir.path().join("encryption.key"),
            clock,
        )
        .unwrap(),
    );
    let ledger = Arc::new(ProfileLedger::new(store.clone(), PROFILE, false));
    let mut h = harness_on(&sim, ledger, keys, dir, |_| {}).await;
    let mut processed = h.receiver.processed();
    let subscription = h.subscribe(&sim).await;

    let made = generate(&sim, 1).await;
    let made_ids: BTreeSet<String> = made
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(made_ids.len(), 2);
    let mut announced = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(8);
    while announced.len() < 2 {
        let left = deadline.saturating_duration_since(Instant::now());
        let batch = tokio::time::timeout(left, processed.recv())
            .await
            .expect("both interactions announced in time")
            .unwrap();
        assert_eq!(batch.profile, PROFILE);
        assert_eq!(batch.endpoint, Endpoint::Notification);
        assert!(batch.notifications.iter().all(|record| record.accepted));
        announced.extend(batch.interactions.into_iter().map(|record| record.id));
    }
    assert_eq!(announced, made_ids, "each new interaction announced once");

    // What was announced is in the store, committed, as the privacy-minimal projection.
    assert_eq!(store.interactions().count().unwrap(), 2);
    for item in &made {
        let id = item["id"].as_str().unwrap();
        let stored = store.interactions().get(id).unwrap().unwrap();
        assert_eq!(stored.source, InteractionSource::Notification);
        assert_eq!(stored.body, None, "store_bodies is off");
        let created: chrono::DateTime<chrono::Utc> =
            item["createdDateTime"].as_str().unwrap().parse().unwrap();
        assert_eq!(stored.created_at, created);
    }
    let records = store.notifications().recent(10).unwrap();
    assert_eq!(records.len(), 2, "{records:#?}");
    for record in &records {
        assert!(record.accepted && !record.duplicate, "{record:?}");
        assert_eq!(record.subscription_id, subscription);
        assert_eq!(record.decryption, DecryptVerdict::Ok);
    }
    assert!(store.inbox().is_empty(), "processed batches are removed");
    let newest = records.iter().map(|record| record.received_at).max();
    assert_eq!(
        store.notifications().last_accepted_at(PROFILE).unwrap(),
        newest
    );
    let latency = store
        .latency()
        .summary(
            newest.unwrap() - chrono::Duration::hours(1),
            newest.unwrap() + chrono::Duration::hours(1),
        )
        .unwrap();
    assert_eq!(latency.count, 2);

    // An authentic lifecycle event is logged in the store before the keeper hears of it.
    let event = json!({"value": [{
        "subscriptionId": subscription,
        "subscriptionExpirationDateTime": "2026-11-25T09:00:00Z",
        "tenantId": sim.sim.state.tenant.id,
        "clientState": CLIENT_STATE,
        "lifecycleEvent": "missed"
    }]});
    assert_eq!(h.post("/lifecycle", event.to_string()).await, 202);
    let signal = tokio::time::timeout(Duration::from_secs(5), h.lifecycle.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signal.event, LifecycleEvent::Missed);
    let logged = store.events().recent(10).unwrap();
    assert!(
        logged.iter().any(|event| event.kind
            == EventKind::lifecycle(LifecycleEvent::Missed, subscription.clone())),
        "{logged:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_are_logged_and_signalled_only_when_authentic() {
    let sim = sim().await;
    let mut h = harness(&sim, |_| {}).await;
    h.ledger.register("sub-1", CLIENT_STATE);
    let event = |state: &str| {
        json!({"value": [{
            "subscriptionId": "sub-1",
            "subscriptionExpirationDateTime": "2026-11-25T09:00:00Z",
            "tenantId": sim.sim.state.tenant.id,
            "clientState": state,
            "lifecycleEvent": "reauthorizationRequired"
        }]})
        .to_string()
    };
    assert_eq!(h.post("/lifecycle", event("forged")).await, 202);
    assert_eq!(h.post("/lifecycle", event(CLIENT_STATE)).await, 202);
    let signal = tokio::time::timeout(Duration::from_secs(5), h.lifecycle.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(signal.subscription_id, "sub-1");
    assert_eq!(signal.event, LifecycleEvent::ReauthorizationRequired);
    assert_eq!(signal.profile, "test");
    let lifecycle = h.ledger.lock().lifecycle.clone();
    assert_eq!(lifecycle.len(), 1, "the forged one is not an event");
    let rejected = h.ledger.notifications();
    assert_eq!(rejected.len(), 1);
    assert_eq!(
        rejected[0].rejected,
        Some(pilotwatch::receiver::RejectReason::ClientStateMismatch)
    );
    assert!(
        h.lifecycle.try_recv().is_err(),
        "no signal for the forged event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_from_pem_files() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let h = harness(&sim, |config| {
        config.tls = Some(pilotwatch::receiver::TlsFiles {
            certificate: cert_path,
            key: key_path,
        });
    })
    .await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let port = h.receiver.local_addr.port();
    let answer = client
        .post(format!(
            "https://localhost:{port}/notify?validationToken=hello"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "hello");
}

/// POSTs `size` bytes of JSON whitespace with `Transfer-Encoding: chunked`; returns the answer.
async fn raw_chunked_post(base: &str, size: usize) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "POST /notify HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..size / 256 {
        request.extend_from_slice(b"100\r\n");
        request.extend_from_slice(&[b' '; 256]);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    // The server may answer and close before reading everything.
    let _ = stream.write_all(&request).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}
