//! Rich-notification ingest on loopback, beside the raw RSA-2048 OAEP-SHA1 decrypt rate measured
//! in the same run (issue 4's benchmark):
//!
//! 1. raw `dataKey` unwraps per second with aws-lc-rs, on one thread and on two;
//! 2. end-to-end ingest: a real receiver (`Receiver::start` over `ProfileLedger` on a sled
//!    `Store` in a temporary directory) fed genuine notification bodies from 32 concurrent
//!    keep-alive HTTP/1.1 connections, timed until every one is processed (acknowledged after a
//!    durable commit, then `clientState`, token validation, decryption, the interaction stored
//!    and committed), with the ratio to the raw two-thread decrypt rate; a second row with
//!    `Durability::Flush` shows what the fsyncs cost;
//! 3. time-to-ack at a fixed 1,000 notifications/s (open loop) for 5 s: request → 202
//!    latency percentiles, measured from each request's scheduled send time so a stalled
//!    receiver cannot hide its backlog (no coordinated omission).
//!
//! The bodies are genuine: the simulator pushes them, one item per POST, for a subscription
//! carrying the receiver's certificate, to a capturing endpoint; the bench then replays them.
//! Every run gets a fresh store, so every replayed body is new to it: no item is a duplicate,
//! and the bench checks that (and that each was accepted, its tokens valid and its content
//! decrypted). The load generator shares the machine's cores with the receiver.
//!
//! Run with `cargo bench --bench ingest`. The store lives under `TMPDIR`, which must be a real
//! disk (on tmpfs fsync costs nothing). Numbers are printed, not asserted; nothing is written
//! outside temporary directories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rsa::{KeySize, OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use hdrhistogram::Histogram;
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::ports::ProfileLedger;
use pilotwatch::graph::model::ChangeNotificationCollection;
use pilotwatch::receiver::{
    DecryptVerdict, EncryptionKeys, Endpoint, Receiver, ReceiverConfig, RunningReceiver,
    TokenVerdict, Verifier, decrypt, judge_item, judge_tokens, keys_url,
};
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::sim::{self, RunningSim, SimOptions};
use pilotwatch::store::{
    ClientState, Durability, Store, StoreOptions, SubscriptionRecord, SubscriptionState,
};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Runs behind each median of the headline figures.
const RUNS: usize = 5;
/// Runs behind each median of the diagnostic figures.
const DIAGNOSTIC_RUNS: usize = 3;
/// How long one decrypt-rate run counts unwraps.
const DECRYPT_WINDOW: Duration = Duration::from_millis(400);
/// Notifications replayed per ingest run.
const INGEST_BODIES: usize = 1_000;
/// Notifications replayed by the warm-up run (fills the JWKS cache, faults in the code).
const WARM_UP_BODIES: usize = 200;
/// Concurrent keep-alive connections of the ingest load.
const INGEST_CONCURRENCY: usize = 32;
/// The fixed offered load of the time-to-ack run (issue 4's goal is set at this rate)...
const ACK_RATE: u32 = 1_000;
/// ...and half of it, under the processor's capacity, to tell saturation from the ack path.
const HALF_ACK_RATE: u32 = ACK_RATE / 2;
const ACK_SECONDS: u32 = 5;
const ACK_BODIES: usize = (ACK_RATE * ACK_SECONDS) as usize;
/// Any single wait longer than this means the bench is broken, not slow.
const DEADLINE: Duration = Duration::from_secs(60);

const PROFILE: &str = "bench";
const CLIENT_STATE: &str = "ingest-bench-client-state-5d21";

/// Immediate delivery, one item per POST, nothing in the background.
const SCENARIO: &str = r#"
name = "ingest-bench"
summary = "instant delivery of single-item POSTs, no background activity"
[activity]
pairs_per_hour = 0.0
history_days = 0
[lifecycle]
reauthorization_required = false
[delivery]
latency_median = "1ms"
latency_sigma = 0.0
tail_fraction = 0.0
max_batch = 1
"#;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    format!("{cpus} CPUs ({model}), load average {}", load_average())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

// ---------------------------------------------------------------------------------------------
// 1. Raw RSA-2048 OAEP-SHA1 unwraps

/// Unwraps of a 32-byte key per second on `threads` threads, for one window.
fn unwraps_per_second(key: &OaepPrivateDecryptingKey, wrapped: &[u8], threads: usize) -> f64 {
    let started = Instant::now();
    let total: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = vec![0_u8; key.min_output_size()];
                    let mut done = 0;
                    while started.elapsed() < DECRYPT_WINDOW {
                        let unwrapped = key
                            .decrypt(&OAEP_SHA1_MGF1SHA1, wrapped, &mut out, None)
                            .unwrap();
                        assert_eq!(unwrapped.len(), 32);
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

/// Medians of [`RUNS`] windows on one thread and on two.
fn raw_decrypt_rates() -> (f64, f64) {
    let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
    let public = aws_lc_rs::rsa::OaepPublicEncryptingKey::new(private.public_key()).unwrap();
    let key = OaepPrivateDecryptingKey::new(private).unwrap();
    let symmetric: [u8; 32] = rand::random();
    let mut wrapped = vec![0_u8; public.ciphertext_size()];
    let wrapped = public
        .encrypt(&OAEP_SHA1_MGF1SHA1, &symmetric, &mut wrapped, None)
        .unwrap()
        .to_vec();
    let single = median((0..RUNS).map(|_| unwraps_per_second(&key, &wrapped, 1)).collect());
    let double = median((0..RUNS).map(|_| unwraps_per_second(&key, &wrapped, 2)).collect());
    (single, double)
}

/// Whole-item `decrypt` (unwrap, HMAC, AES-CBC) per second on one thread, over captured bodies.
fn item_decrypts_per_second(bodies: &[Bytes], keys: &EncryptionKeys) -> f64 {
    let contents: Vec<_> = bodies
        .iter()
        .take(500)
        .map(|body| {
            let collection: ChangeNotificationCollection = serde_json::from_slice(body).unwrap();
            collection.value[0].encrypted_content.clone().unwrap()
        })
        .collect();
    let rates = (0..DIAGNOSTIC_RUNS).map(|_| {
        let started = Instant::now();
        for content in &contents {
            decrypt(content, keys).unwrap();
        }
        contents.len() as f64 / started.elapsed().as_secs_f64()
    });
    median(rates.collect())
}

// ---------------------------------------------------------------------------------------------
// Genuine bodies, pushed by the simulator

/// Answers validation handshakes; keeps every notification body and acknowledges it.
async fn capture(
    State(captured): State<Arc<Mutex<Vec<Bytes>>>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let plain = [("content-type", "text/plain")];
    if let Some(token) = query.get("validationToken") {
        return (StatusCode::OK, plain, token.clone());
    }
    captured.lock().unwrap().push(body);
    (StatusCode::ACCEPTED, plain, String::new())
}

struct Genuine {
    sim: RunningSim,
    clock: SharedClock,
    keys: Arc<EncryptionKeys>,
    subscription_id: String,
    bodies: Vec<Bytes>,
    _dir: tempfile::TempDir,
}

/// Starts the simulator, subscribes a capturing endpoint with the receiver's certificate and
/// lets the simulator push `count` single-item rich notifications to it.
async fn genuine_bodies(count: usize, http: &reqwest::Client) -> Genuine {
    let scenario = Scenario::parse(SCENARIO, "ingest-bench").unwrap();
    let sim = sim::start(SimOptions::loopback(scenario)).await.unwrap();
    let clock: SharedClock = sim.state.clock.clone();
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(
        EncryptionKeys::load_or_generate(
            &dir.path().join("encryption.crt"),
            &dir.path().join("encryption.key"),
            clock.clone(),
        )
        .unwrap(),
    );
    let captured = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let app = Router::new()
        .fallback(capture)
        .with_state(Arc::clone(&captured));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let base = sim.base_url();
    let app_registration = &sim.state.tenant.app;
    let token: Value = http
        .post(format!("{base}/{}/oauth2/v2.0/token", sim.state.tenant.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app_registration.client_id.as_str()),
            ("client_secret", app_registration.secret.expose_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = http
        .post(format!("{base}/v1.0/subscriptions"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({
            "changeType": "created",
            "notificationUrl": format!("{endpoint}/notify"),
            "lifecycleNotificationUrl": format!("{endpoint}/lifecycle"),
            "resource": "/copilot/interactionHistory/getAllEnterpriseInteractions",
            "includeResourceData": true,
            "encryptionCertificate": keys.current_certificate_base64(),
            "encryptionCertificateId": keys.current_certificate_id(),
            "expirationDateTime": sim.state.now() + chrono::Duration::hours(24),
            "clientState": CLIENT_STATE,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let subscription: Value = created.json().await.unwrap();
    let subscription_id = subscription["id"].as_str().unwrap().to_owned();

    let mut pairs_left = count.div_ceil(2);
    while pairs_left > 0 {
        let pairs = pairs_left.min(1_000);
        let made = http
            .post(format!("{base}/_sim/interactions"))
            .json(&json!({ "pairs": pairs }))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
        pairs_left -= pairs;
    }
    let started = Instant::now();
    while captured.lock().unwrap().len() < count {
        assert!(started.elapsed() < DEADLINE, "the simulator pushed too few");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bodies: Vec<Bytes> = captured.lock().unwrap().drain(..).take(count).collect();
    Genuine {
        sim,
        clock,
        keys,
        subscription_id,
        bodies,
        _dir: dir,
    }
}

// ---------------------------------------------------------------------------------------------
// A real receiver on a fresh store

/// A fresh store holding what the keeper would have registered for the subscription.
fn fresh_store(genuine: &Genuine, durability: Durability) -> (tempfile::TempDir, Store) {
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
async fn start_receiver(
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

async fn post(http: &reqwest::Client, url: &str, body: &Bytes) -> u16 {
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
struct Progress {
    processed: usize,
    unclean: usize,
    lagged: u64,
    latest: Option<Instant>,
}

/// Starts counting what `receiver` processes from now on.
fn watch(receiver: &RunningReceiver) -> Arc<Mutex<Progress>> {
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
async fn all_processed(progress: &Mutex<Progress>, expected: usize) -> Instant {
    let started = Instant::now();
    loop {
        {
            let progress = progress.lock().unwrap();
            assert_eq!(progress.unclean, 0, "a genuine notification was not ingested cleanly");
            assert_eq!(progress.lagged, 0, "the processed feed lagged");
            if progress.processed >= expected {
                return progress.latest.unwrap();
            }
        }
        assert!(started.elapsed() < DEADLINE, "processing stalled");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

struct IngestRun {
    acked_per_second: f64,
    processed_per_second: f64,
    flushes_per_notification: f64,
}

/// Replays `bodies` as fast as the receiver takes them; counts until all are processed.
async fn ingest(
    genuine: &Genuine,
    verifier: &Arc<Verifier>,
    http: &reqwest::Client,
    bodies: &[Bytes],
    durability: Durability,
) -> IngestRun {
    let (_dir, store) = fresh_store(genuine, durability);
    let receiver = start_receiver(genuine, verifier, &store).await;
    let url = receiver.url("http", "/notify");
    let progress = watch(&receiver);
    let bodies: Arc<Vec<Bytes>> = Arc::new(bodies.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let before = store.commit_stats();
    let started = Instant::now();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..INGEST_CONCURRENCY {
        let (http, url, bodies, next) = (
            http.clone(),
            url.clone(),
            Arc::clone(&bodies),
            Arc::clone(&next),
        );
        senders.spawn(async move {
            while let Some(body) = bodies.get(next.fetch_add(1, Ordering::Relaxed)) {
                assert_eq!(post(&http, &url, body).await, 202);
            }
        });
    }
    while let Some(sender) = senders.join_next().await {
        sender.unwrap();
    }
    let acked = started.elapsed().as_secs_f64();
    let done = all_processed(&progress, bodies.len()).await;
    let processed = (done - started).as_secs_f64();
    let after = store.commit_stats();
    assert_eq!(store.interactions().count().unwrap(), bodies.len() as u64);
    receiver.shutdown().await;
    IngestRun {
        acked_per_second: bodies.len() as f64 / acked,
        processed_per_second: bodies.len() as f64 / processed,
        flushes_per_notification: (after.flushes - before.flushes) as f64 / bodies.len() as f64,
    }
}

/// Medians of several ingest runs, and every run's processed rate.
struct IngestSummary {
    median: IngestRun,
    processed_runs: Vec<f64>,
}

async fn ingest_runs(
    genuine: &Genuine,
    verifier: &Arc<Verifier>,
    http: &reqwest::Client,
    durability: Durability,
    count: usize,
) -> IngestSummary {
    let bodies = &genuine.bodies[..INGEST_BODIES];
    let mut runs = Vec::new();
    for _ in 0..count {
        runs.push(ingest(genuine, verifier, http, bodies, durability).await);
    }
    let pick = |field: fn(&IngestRun) -> f64| median(runs.iter().map(field).collect());
    IngestSummary {
        median: IngestRun {
            acked_per_second: pick(|r| r.acked_per_second),
            processed_per_second: pick(|r| r.processed_per_second),
            flushes_per_notification: pick(|r| r.flushes_per_notification),
        },
        processed_runs: runs.iter().map(|r| r.processed_per_second).collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Where the time goes

/// Per notification, the CPU work of judging on one thread, without I/O: parse the body,
/// verify its validation token, compare `clientState`, decrypt and parse the interaction.
async fn judgements_per_second(genuine: &Genuine, verifier: &Verifier) -> f64 {
    let jwks = verifier.jwks.keys().await.unwrap();
    let expected = SecretString::from(CLIENT_STATE);
    let bodies = &genuine.bodies[..500];
    let rates = (0..DIAGNOSTIC_RUNS).map(|_| {
        let started = Instant::now();
        for body in bodies {
            let collection: ChangeNotificationCollection = serde_json::from_slice(body).unwrap();
            let tenants = [collection.value[0].tenant_id.as_str()];
            let now = genuine.clock.now();
            let tokens = judge_tokens(
                &collection.validation_tokens,
                Some(&jwks),
                &verifier.app_id,
                &tenants,
                now,
            );
            let judged = judge_item(&collection.value[0], Some(&expected), &tokens, &verifier.keys);
            assert!(judged.interaction.is_some(), "{judged:?}");
        }
        bodies.len() as f64 / started.elapsed().as_secs_f64()
    });
    median(rates.collect())
}

/// Median microseconds of one inbox `put` of a genuine body plus `commit`, one caller.
async fn commit_micros(genuine: &Genuine, durability: Durability) -> f64 {
    let (_dir, store) = fresh_store(genuine, durability);
    let mut samples = Vec::new();
    for body in &genuine.bodies[..300] {
        let started = Instant::now();
        store
            .inbox()
            .put(PROFILE, Endpoint::Notification, genuine.clock.now(), body)
            .unwrap();
        store.commit().await.unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1e6);
    }
    median(samples.split_off(50))
}

/// The processor alone: the inbox is filled (and committed) before the receiver starts, so
/// no HTTP competes with it; timed until the inbox is empty and every interaction stored.
async fn processor_alone(genuine: &Genuine, verifier: &Arc<Verifier>) -> f64 {
    let (_dir, store) = fresh_store(genuine, Durability::Fsync);
    let bodies = &genuine.bodies[..INGEST_BODIES];
    for body in bodies {
        store
            .inbox()
            .put(PROFILE, Endpoint::Notification, genuine.clock.now(), body)
            .unwrap();
    }
    store.commit().await.unwrap();
    let started = Instant::now();
    let receiver = start_receiver(genuine, verifier, &store).await;
    while !store.inbox().is_empty() {
        assert!(started.elapsed() < DEADLINE, "processing stalled");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(store.interactions().count().unwrap(), bodies.len() as u64);
    receiver.shutdown().await;
    bodies.len() as f64 / elapsed
}

// ---------------------------------------------------------------------------------------------
// 3. Time-to-ack under a fixed open-loop load

/// Writes 4 KiB and `fdatasync`s a file next to the stores every 20 ms, timing each sync: a
/// slow disk (other I/O on the machine) shows here independently of the receiver.
struct DiskProbe {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Histogram<u64>>,
}

impl DiskProbe {
    fn start() -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut file = tempfile::tempfile().unwrap();
            let mut syncs = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
            let block = [0x5a_u8; 4096];
            while !stopping.load(Ordering::Relaxed) {
                std::io::Write::write_all(&mut file, &block).unwrap();
                let started = Instant::now();
                file.sync_data().unwrap();
                syncs.record(micros(started.elapsed())).unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
            syncs
        });
        Self { stop, thread }
    }

    fn stop(self) -> Histogram<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl AckRun {
    /// Percentiles in milliseconds, failures and how long processing trailed the load.
    fn summary(&self) -> String {
        let ms = |micros: u64| micros as f64 / 1_000.0;
        let at = |quantile: f64| ms(self.latencies_us.value_at_quantile(quantile));
        format!(
            "p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms  max {:.1} ms ({} acked, failed by status {:?}; processing done {:.1} s after the last send; probe fdatasync p99 {:.1} ms, max {:.1} ms)",
            at(0.50),
            at(0.95),
            at(0.99),
            ms(self.latencies_us.max()),
            self.latencies_us.len(),
            self.failures,
            self.backlog_drain.as_secs_f64(),
            ms(self.probe_syncs_us.value_at_quantile(0.99)),
            ms(self.probe_syncs_us.max()),
        )
    }
}

struct AckRun {
    latencies_us: Histogram<u64>,
    /// Requests not answered 202, by status (0: no answer within the client's timeout).
    failures: BTreeMap<u16, usize>,
    /// The disk probe's `fdatasync` times during the run.
    probe_syncs_us: Histogram<u64>,
    /// From the last scheduled send until everything was processed.
    backlog_drain: Duration,
}

/// Offers `rate` notifications per second for [`ACK_SECONDS`], whatever the answers.
async fn time_to_ack(
    genuine: &Genuine,
    verifier: &Arc<Verifier>,
    http: &reqwest::Client,
    rate: u32,
) -> AckRun {
    let (_dir, store) = fresh_store(genuine, Durability::Fsync);
    let receiver = start_receiver(genuine, verifier, &store).await;
    let url = receiver.url("http", "/notify");
    let progress = watch(&receiver);
    let bodies = &genuine.bodies[..(rate * ACK_SECONDS) as usize];
    // Microseconds, up to a minute: `new(3)` would auto-resize, but `saturating_record` clamps.
    let latencies = Arc::new(Mutex::new(
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap(),
    ));
    let failures = Arc::new(Mutex::new(BTreeMap::new()));
    let probe = DiskProbe::start();
    let mut pace = tokio::time::interval(Duration::from_secs(1) / rate);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut requests = tokio::task::JoinSet::new();
    for body in bodies {
        let scheduled = pace.tick().await.into_std();
        let (http, url, body) = (http.clone(), url.clone(), body.clone());
        let (latencies, failures) = (Arc::clone(&latencies), Arc::clone(&failures));
        requests.spawn(async move {
            let status = post(&http, &url, &body).await;
            let waited = micros(scheduled.elapsed());
            if status == 202 {
                latencies.lock().unwrap().record(waited).unwrap();
            } else {
                *failures.lock().unwrap().entry(status).or_insert(0) += 1;
            }
        });
    }
    let last_scheduled = Instant::now();
    while let Some(request) = requests.join_next().await {
        request.unwrap();
    }
    let probe_syncs_us = probe.stop();
    let failures = failures.lock().unwrap().clone();
    let done = all_processed(&progress, bodies.len() - failures.values().sum::<usize>()).await;
    receiver.shutdown().await;
    let latencies_us = latencies.lock().unwrap().clone();
    AckRun {
        latencies_us,
        failures,
        probe_syncs_us,
        backlog_drain: done.saturating_duration_since(last_scheduled),
    }
}

// ---------------------------------------------------------------------------------------------

fn main() {
    let bench_started = Instant::now();
    println!("ingest bench on {}", machine());
    let (raw_single, raw_double) = raw_decrypt_rates();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .no_proxy()
            .http1_only()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let capture_started = Instant::now();
        let genuine = genuine_bodies(ACK_BODIES.max(INGEST_BODIES), &http).await;
        let capture_seconds = capture_started.elapsed().as_secs_f64();
        let verifier = Arc::new(Verifier::new(
            genuine.sim.state.tenant.app.client_id.clone(),
            keys_url(&url::Url::parse(&genuine.sim.base_url()).unwrap()).unwrap(),
            Arc::clone(&genuine.keys),
            http.clone(),
        ));
        // Warm-up: fills the verifier's JWKS cache, which every later run shares.
        let warm_up = &genuine.bodies[..WARM_UP_BODIES];
        ingest(&genuine, &verifier, &http, warm_up, Durability::Fsync).await;

        let item_decrypts = item_decrypts_per_second(&genuine.bodies, &genuine.keys);
        let judgements = judgements_per_second(&genuine, &verifier).await;
        let commit_fsync = commit_micros(&genuine, Durability::Fsync).await;
        let commit_flush = commit_micros(&genuine, Durability::Flush).await;
        let fsync = ingest_runs(&genuine, &verifier, &http, Durability::Fsync, RUNS).await;
        let flush =
            ingest_runs(&genuine, &verifier, &http, Durability::Flush, DIAGNOSTIC_RUNS).await;
        let mut alone = Vec::new();
        for _ in 0..DIAGNOSTIC_RUNS {
            alone.push(processor_alone(&genuine, &verifier).await);
        }
        let alone = median(alone);
        let ack = time_to_ack(&genuine, &verifier, &http, ACK_RATE).await;
        let half_ack = time_to_ack(&genuine, &verifier, &http, HALF_ACK_RATE).await;
        genuine.sim.stop().await;

        println!(
            "{} genuine single-item rich notifications pushed by the simulator in {capture_seconds:.1} s",
            genuine.bodies.len()
        );
        println!(
            "medians of {RUNS} runs ({DIAGNOSTIC_RUNS} for diagnostics); each ingest run replays {INGEST_BODIES} notifications into a fresh store"
        );
        println!();
        let row = |label: &str, value: String| println!("  {label:<60} {value}");
        row("raw RSA-2048 OAEP-SHA1 unwrap, 1 thread", format!("{raw_single:>7.0} /s"));
        row("raw RSA-2048 OAEP-SHA1 unwrap, 2 threads", format!("{raw_double:>7.0} /s"));
        let fsync_run = &fsync.median;
        row(
            &format!("ingest, {INGEST_CONCURRENCY} connections, fsync (the default)"),
            format!(
                "{:>7.0} /s = {:.0} % of raw on 2 threads (runs {:.0?}; acked at {:.0} /s)",
                fsync_run.processed_per_second,
                100.0 * fsync_run.processed_per_second / raw_double,
                fsync.processed_runs,
                fsync_run.acked_per_second,
            ),
        );
        row(
            &format!("time-to-ack at {ACK_RATE}/s for {ACK_SECONDS} s, open loop"),
            ack.summary(),
        );
        println!("  where the time goes:");
        let flush_run = &flush.median;
        row(
            "  ingest as above, flush instead of fsync",
            format!(
                "{:>7.0} /s (runs {:.0?}; acked at {:.0} /s)",
                flush_run.processed_per_second, flush.processed_runs, flush_run.acked_per_second,
            ),
        );
        row(
            "  store flushes per notification ingested (fsync / flush)",
            format!(
                "{:>7.2}   / {:.2}",
                fsync_run.flushes_per_notification, flush_run.flushes_per_notification
            ),
        );
        row("  item decrypt (unwrap, HMAC, AES-CBC), 1 thread", format!("{item_decrypts:>7.0} /s"));
        row("  judging (parse, token, clientState, decrypt), 1 thread", format!("{judgements:>7.0} /s"));
        row("  inbox put + commit, 1 caller, fsync / flush", format!("{commit_fsync:>7.0} µs / {commit_flush:.0} µs"));
        row("  processor alone (inbox pre-filled, no HTTP), fsync", format!("{alone:>7.0} /s"));
        row(
            &format!("  time-to-ack at {HALF_ACK_RATE}/s, under the processor's capacity"),
            half_ack.summary(),
        );
        println!();
        println!(
            "load average at the end {}; whole bench {:.0} s",
            load_average(),
            bench_started.elapsed().as_secs_f64()
        );
    });
}
