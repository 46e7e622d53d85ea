//! Rich-notification ingest on loopback, beside the raw RSA-2048 OAEP-SHA1 decrypt rate measured
//! in the same run (issue 4's benchmark):
//!
//! 1. raw `dataKey` unwraps per second with aws-lc-rs, on one thread and on two (`crypto`);
//! 2. end-to-end ingest (`throughput`): a real receiver (`Receiver::start` over `ProfileLedger`
//!    on a sled `Store` with the default fsync durability, in a temporary directory) fed genuine
//!    notification bodies over 32 concurrent keep-alive HTTP/1.1 connections, timed until every
//!    one is processed (persisted and committed before its 202, then `clientState`, token
//!    validation, decryption, the interaction stored and committed), with the ratio to the raw
//!    two-thread decrypt rate;
//! 3. time-to-ack at a fixed 1,000 notifications/s, open loop, for 5 s (`ack`);
//!
//! then diagnostics of where the time goes: flush instead of fsync, judging CPU per
//! notification, the processor alone on a pre-filled inbox (and how many cores it keeps busy),
//! the commit cost, and time-to-ack at half the rate.
//!
//! The bodies are genuine (`genuine`): the simulator pushes them, one item per POST, for a
//! subscription carrying the receiver's certificate, to a capturing endpoint; the bench replays
//! the bytes. Every run gets a fresh store (`target`), so no replayed item is a duplicate there,
//! and the bench checks each was accepted, new, token-valid and decrypted. The load generator
//! and the idle simulator share the machine's cores with the receiver.
//!
//! Run with `cargo bench --bench ingest` (about a minute). The stores live under `TMPDIR`,
//! which must be a real disk (on tmpfs fsync costs nothing). Numbers are printed, not
//! asserted; nothing is written outside temporary directories.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

mod ack;
mod crypto;
mod genuine;
mod target;
mod throughput;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pilotwatch::receiver::{Verifier, keys_url};
use pilotwatch::store::Durability;

use ack::{AckRun, time_to_ack};
use crypto::{item_decrypts_per_second, judgements_per_second, raw_decrypt_rates};
use genuine::genuine_bodies;
use throughput::{IngestSummary, commit_micros, ingest, ingest_runs, processor_alone};

/// Runs behind each median of the headline figures.
pub(crate) const RUNS: usize = 5;
/// Runs behind each median of the diagnostic figures.
pub(crate) const DIAGNOSTIC_RUNS: usize = 3;
/// How long one decrypt-rate run counts unwraps.
pub(crate) const DECRYPT_WINDOW: Duration = Duration::from_millis(400);
/// Notifications replayed per ingest run.
pub(crate) const INGEST_BODIES: usize = 1_000;
/// Notifications replayed by the warm-up run (fills the JWKS cache, faults in the code).
pub(crate) const WARM_UP_BODIES: usize = 200;
/// Concurrent keep-alive connections of the ingest load.
pub(crate) const INGEST_CONCURRENCY: usize = 32;
/// The fixed offered load of the time-to-ack run (issue 4's goal is set at this rate)...
pub(crate) const ACK_RATE: u32 = 1_000;
/// ...and half of it, under the processor's capacity, to tell saturation from the ack path.
pub(crate) const HALF_ACK_RATE: u32 = ACK_RATE / 2;
pub(crate) const ACK_SECONDS: u32 = 5;
pub(crate) const ACK_BODIES: usize = (ACK_RATE * ACK_SECONDS) as usize;
/// Any single wait longer than this means the bench is broken, not slow.
pub(crate) const DEADLINE: Duration = Duration::from_secs(60);

pub(crate) const PROFILE: &str = "bench";

/// The middle value (the upper one of an even count).
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// CPU count and model, and the load average, for the report.
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

/// The 1, 5 and 15 minute load averages: other work on the machine skews every figure.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// Everything one bench run measured.
struct Results {
    captured: usize,
    capture_seconds: f64,
    raw_single: f64,
    raw_double: f64,
    fsync: IngestSummary,
    ack: AckRun,
    flush: IngestSummary,
    item_decrypts: f64,
    judgements: f64,
    commit_fsync_us: f64,
    commit_flush_us: f64,
    processor_alone: f64,
    processor_cores_busy: f64,
    half_ack: AckRun,
}

async fn measure(raw_single: f64, raw_double: f64) -> Results {
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
    let commit_fsync_us = commit_micros(&genuine, Durability::Fsync).await;
    let commit_flush_us = commit_micros(&genuine, Durability::Flush).await;
    let fsync = ingest_runs(&genuine, &verifier, &http, Durability::Fsync, RUNS).await;
    let flush = ingest_runs(
        &genuine,
        &verifier,
        &http,
        Durability::Flush,
        DIAGNOSTIC_RUNS,
    )
    .await;
    let mut alone = Vec::new();
    let mut cores_busy = Vec::new();
    for _ in 0..DIAGNOSTIC_RUNS {
        let run = processor_alone(&genuine, &verifier).await;
        alone.push(run.per_second);
        cores_busy.push(run.cores_busy);
    }
    let ack = time_to_ack(&genuine, &verifier, &http, ACK_RATE).await;
    let half_ack = time_to_ack(&genuine, &verifier, &http, HALF_ACK_RATE).await;
    let captured = genuine.bodies.len();
    genuine.sim.stop().await;
    Results {
        captured,
        capture_seconds,
        raw_single,
        raw_double,
        fsync,
        ack,
        flush,
        item_decrypts,
        judgements,
        commit_fsync_us,
        commit_flush_us,
        processor_alone: median(alone),
        processor_cores_busy: median(cores_busy),
        half_ack,
    }
}

fn row(label: &str, value: &str) {
    println!("  {label:<60} {value}");
}

fn print(results: &Results) {
    println!(
        "{} genuine single-item rich notifications pushed by the simulator in {:.1} s",
        results.captured, results.capture_seconds
    );
    println!(
        "medians of {RUNS} runs ({DIAGNOSTIC_RUNS} for diagnostics); \
         each ingest run replays {INGEST_BODIES} notifications into a fresh store"
    );
    println!();
    let per_second = |rate: f64| format!("{rate:>7.0} /s");
    let ingested = |summary: &IngestSummary| {
        format!(
            "{} (runs {:.0?}; acked at {:.0} /s)",
            per_second(summary.median.processed_per_second),
            summary.processed_runs,
            summary.median.acked_per_second,
        )
    };
    row(
        "raw RSA-2048 OAEP-SHA1 unwrap, 1 thread",
        &per_second(results.raw_single),
    );
    row(
        "raw RSA-2048 OAEP-SHA1 unwrap, 2 threads",
        &per_second(results.raw_double),
    );
    row(
        &format!("ingest, {INGEST_CONCURRENCY} connections, fsync (the default)"),
        &ingested(&results.fsync),
    );
    row(
        "  as a share of the raw 2-thread unwrap rate (goal ≥ 70 %)",
        &format!(
            "{:>7.0} %",
            100.0 * results.fsync.median.processed_per_second / results.raw_double
        ),
    );
    // Other work on the machine can take the second core from the 2-thread run; twice the
    // 1-thread rate is what two idle cores would give.
    row(
        "  as a share of twice the 1-thread rate (two idle cores)",
        &format!(
            "{:>7.0} %",
            50.0 * results.fsync.median.processed_per_second / results.raw_single
        ),
    );
    row(
        &format!("time-to-ack at {ACK_RATE}/s for {ACK_SECONDS} s, open loop (goal p99 < 20 ms)"),
        &results.ack.summary(),
    );
    println!("  where the time goes:");
    row(
        "  ingest as above, flush instead of fsync",
        &ingested(&results.flush),
    );
    row(
        "  store flushes per notification ingested, fsync / flush",
        &format!(
            "{:>7.2}   / {:.2}",
            results.fsync.median.flushes_per_notification,
            results.flush.median.flushes_per_notification
        ),
    );
    row(
        "  item decrypt (unwrap, HMAC, AES-CBC), 1 thread",
        &per_second(results.item_decrypts),
    );
    row(
        "  judging (parse, token, clientState, decrypt), 1 thread",
        &per_second(results.judgements),
    );
    row(
        "  inbox put + commit, 1 caller, fsync / flush",
        &format!(
            "{:>7.0} µs / {:.0} µs",
            results.commit_fsync_us, results.commit_flush_us
        ),
    );
    row(
        "  processor alone (inbox pre-filled, no HTTP), fsync",
        &format!(
            "{} ({:.2} cores busy meanwhile)",
            per_second(results.processor_alone),
            results.processor_cores_busy
        ),
    );
    row(
        &format!("  time-to-ack at {HALF_ACK_RATE}/s, under the processor's capacity"),
        &results.half_ack.summary(),
    );
}

fn main() {
    let started = Instant::now();
    println!("ingest bench on {}", machine());
    // Before the runtime starts, so nothing else in the process competes for the cores.
    let (raw_single, raw_double) = raw_decrypt_rates();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let results = runtime.block_on(measure(raw_single, raw_double));
    print(&results);
    println!();
    println!(
        "load average at the end {}; whole bench {:.0} s",
        load_average(),
        started.elapsed().as_secs_f64()
    );
}
