//! Time-to-ack under a fixed open-loop load: requests leave on a `tokio` interval whatever
//! the answers, and each request's latency runs from its scheduled send time to its 202, so a
//! stalled receiver cannot hide its backlog (no coordinated omission; the interval's 1 ms timer
//! granularity can add up to a millisecond). A disk probe times `fdatasync`s of an unrelated
//! file on the same file system meanwhile, to tell a slow disk from a slow receiver.
//!
//! Depends on `target` (the receiver under test) and `genuine` (the bodies).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use pilotwatch::receiver::Verifier;
use pilotwatch::store::Durability;

use crate::ACK_SECONDS;
use crate::genuine::Genuine;
use crate::target::{all_processed, fresh_store, post, start_receiver, watch};

/// Writes 4 KiB and `fdatasync`s a file next to the stores every 20 ms, timing each sync: a
/// slow disk (other I/O on the machine) shows here independently of the receiver.
struct DiskProbe {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Histogram<u64>>,
}

impl DiskProbe {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
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

/// What one time-to-ack run measured.
pub(crate) struct AckRun {
    /// Scheduled send → 202, for the requests answered 202.
    latencies_us: Histogram<u64>,
    /// Requests not answered 202, by status (0: no answer within the client's timeout).
    failures: BTreeMap<u16, usize>,
    /// The disk probe's `fdatasync` times during the run.
    probe_syncs_us: Histogram<u64>,
    /// From the last scheduled send until everything was processed.
    backlog_drain: Duration,
}

impl AckRun {
    /// Percentiles in milliseconds, failures and how long processing trailed the load.
    pub(crate) fn summary(&self) -> String {
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

/// Offers `rate` notifications per second for [`ACK_SECONDS`], whatever the answers.
pub(crate) async fn time_to_ack(
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
    // Microseconds, up to a minute.
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
