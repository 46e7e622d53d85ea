//! Store commit cost: inbox `put` + `commit()` as the receiver does before each 202, measured
//! for one caller at a time and for 16 concurrent callers (where group commit shares flushes),
//! under both durabilities. Reports per-operation latency p50/p99 and items per second, as
//! medians of several runs, plus flushes per commit.
//!
//! Run with `cargo bench --bench store_commit`. The store lives in a temporary directory on the
//! file system of `TMPDIR` (make sure it is a real disk, not tmpfs, or fsync costs nothing).
//! Numbers are printed, not asserted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use hdrhistogram::Histogram;
use pilotwatch::clock::{SharedClock, SystemClock};
use pilotwatch::store::{Durability, Endpoint, Store, StoreOptions};

const RUNS: usize = 5;
const SINGLE_OPS: usize = 2_000;
const CONCURRENCY: usize = 16;
const OPS_PER_CALLER: usize = 250;
/// A typical rich notification POST: one item, encrypted content and a validation token.
const BODY_BYTES: usize = 4 * 1024;

struct RunResult {
    p50_us: f64,
    p99_us: f64,
    items_per_second: f64,
    flushes_per_commit: f64,
}

fn open(durability: Durability) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let clock: SharedClock = Arc::new(SystemClock);
    let options = StoreOptions {
        durability,
        ..StoreOptions::default()
    };
    let store = Store::open(&dir.path().join("store"), options, clock).unwrap();
    (dir, store)
}

async fn put_and_commit(store: &Store, body: &[u8]) -> Duration {
    let started = Instant::now();
    store
        .inbox()
        .put("bench", Endpoint::Notification, Utc::now(), body)
        .unwrap();
    store.commit().await.unwrap();
    started.elapsed()
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

async fn run(durability: Durability, callers: usize, ops_per_caller: usize) -> RunResult {
    let (_dir, store) = open(durability);
    let body = vec![b'x'; BODY_BYTES];
    // Warm up: the first commits create sled's segments.
    for _ in 0..50 {
        put_and_commit(&store, &body).await;
    }
    let before = store.commit_stats();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let store = store.clone();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Histogram::<u64>::new(3).unwrap();
            for _ in 0..ops_per_caller {
                latencies
                    .record(micros(put_and_commit(&store, &body).await))
                    .unwrap();
            }
            latencies
        }));
    }
    let mut latencies = Histogram::<u64>::new(3).unwrap();
    for task in tasks {
        latencies.add(task.await.unwrap()).unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = store.commit_stats();
    RunResult {
        p50_us: latencies.value_at_quantile(0.50) as f64,
        p99_us: latencies.value_at_quantile(0.99) as f64,
        items_per_second: (callers * ops_per_caller) as f64 / elapsed,
        flushes_per_commit: (after.flushes - before.flushes) as f64
            / (after.commits - before.commits) as f64,
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn report(label: &str, durability: Durability, callers: usize, ops_per_caller: usize) {
    let mut results = Vec::new();
    for _ in 0..RUNS {
        results.push(run(durability, callers, ops_per_caller).await);
    }
    let pick = |field: fn(&RunResult) -> f64| median(results.iter().map(field).collect());
    println!(
        "{label:<36} p50 {:>8.0} µs   p99 {:>8.0} µs   {:>8.0} items/s   {:.2} flushes/commit",
        pick(|r| r.p50_us),
        pick(|r| r.p99_us),
        pick(|r| r.items_per_second),
        pick(|r| r.flushes_per_commit),
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "inbox put ({BODY_BYTES} B) + commit, medians of {RUNS} runs ({} CPUs)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    for (name, durability) in [("flush", Durability::Flush), ("fsync", Durability::Fsync)] {
        report(&format!("{name}, 1 caller"), durability, 1, SINGLE_OPS).await;
        report(
            &format!("{name}, {CONCURRENCY} concurrent callers"),
            durability,
            CONCURRENCY,
            OPS_PER_CALLER,
        )
        .await;
    }
}
