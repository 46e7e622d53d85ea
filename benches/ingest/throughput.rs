//! Ingest throughput: genuine bodies replayed as fast as the receiver takes them over
//! concurrent keep-alive connections, timed until every one is processed; the processor alone
//! on a pre-filled inbox; and the cost of one inbox put plus commit.
//!
//! Depends on `target` (the receiver under test) and `genuine` (the bodies).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use pilotwatch::receiver::{Endpoint, Verifier};
use pilotwatch::store::Durability;

use crate::genuine::Genuine;
use crate::target::{all_processed, fresh_store, post, start_receiver, watch};
use crate::{DEADLINE, INGEST_BODIES, INGEST_CONCURRENCY, PROFILE, median};

/// What one ingest run measured.
pub(crate) struct IngestRun {
    /// Notifications over the time until the last 202.
    pub(crate) acked_per_second: f64,
    /// Notifications over the time until the last was processed.
    pub(crate) processed_per_second: f64,
    /// Store flushes (shared by group commit) per notification, acks and processing together.
    pub(crate) flushes_per_notification: f64,
}

/// Replays `bodies` as fast as the receiver takes them; counts until all are processed.
pub(crate) async fn ingest(
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

/// Several ingest runs.
pub(crate) struct IngestSummary {
    /// The median of each figure.
    pub(crate) median: IngestRun,
    /// Every run's processed rate, in order.
    pub(crate) processed_runs: Vec<f64>,
}

/// `count` ingest runs of [`INGEST_BODIES`] notifications, each into a fresh store.
pub(crate) async fn ingest_runs(
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

/// Median microseconds of one inbox `put` of a genuine body plus `commit`, one caller.
pub(crate) async fn commit_micros(genuine: &Genuine, durability: Durability) -> f64 {
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

/// What one processor-alone run measured.
pub(crate) struct AloneRun {
    /// Notifications processed per second.
    pub(crate) per_second: f64,
    /// Cores the process kept busy meanwhile (CPU seconds over wall seconds): near the core
    /// count means processing is CPU-bound, well below it means it waits.
    pub(crate) cores_busy: f64,
}

/// The processor alone: the inbox is filled (and committed) before the receiver starts, so
/// no HTTP competes with it; timed until the inbox is empty and every interaction stored.
pub(crate) async fn processor_alone(genuine: &Genuine, verifier: &Arc<Verifier>) -> AloneRun {
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
    let cpu_before = process_cpu_seconds();
    let receiver = start_receiver(genuine, verifier, &store).await;
    while !store.inbox().is_empty() {
        assert!(started.elapsed() < DEADLINE, "processing stalled");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cores_busy = (process_cpu_seconds() - cpu_before) / elapsed;
    assert_eq!(store.interactions().count().unwrap(), bodies.len() as u64);
    receiver.shutdown().await;
    AloneRun {
        per_second: bodies.len() as f64 / elapsed,
        cores_busy,
    }
}

/// User plus system CPU seconds of this process so far (`/proc/self/stat`, in clock ticks of
/// 1/100 s on Linux).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let after_name = stat.rsplit(')').next().unwrap();
    let ticks: Vec<f64> = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|field| field.parse().unwrap())
        .collect();
    ticks.iter().sum::<f64>() / 100.0
}
