//! Harness for the diagnosis end-to-end tests: the simulator on one scenario at a chosen
//! `--speed`, and the real collector (receiver, keeper, poller, store, credential probe,
//! diagnosis round) against it, wired as `pilotwatch serve --sim` wires it, on its own
//! temporary data directory. Waits are bounded polls of the collector's `VerdictSource` and
//! findings history; a timeout prints the whole rendered diagnosis, so a failure explains itself.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use pilotwatch::clock::SharedClock;
use pilotwatch::collector::{Collector, CollectorOptions};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::diagnose::render::render;
use pilotwatch::diagnose::{ProfileVerdict, VerdictSource};
use pilotwatch::severity::Severity;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::FindingRecord;

use crate::common::TestSim;

/// Simulated seconds per real second where only the sequence of events matters: an hour of
/// lookback passes in 3 s.
pub const FAST: f64 = 1200.0;

/// Simulated seconds per real second where durations are judged: the receiver's
/// acknowledgements and deliveries take real milliseconds, which the simulated clock stretches
/// by this factor (at `FAST`, 15 ms would read as an 18 s acknowledgement; on a loaded 2-core
/// VM even 20× stretched acknowledgements past Graph's 2.9 s slow line). Copilot activity
/// (3600 pairs an hour here) still brings a few notifications a second.
pub const GENTLE: f64 = 4.0;

/// Longest real wait for any one condition of a test that runs alone.
pub const WAIT: Duration = Duration::from_secs(8);

/// The simulator and the collector on one scenario, with the collector's data directory.
pub struct Run {
    pub sim: TestSim,
    pub collector: Collector,
    pub verdicts: Arc<dyn VerdictSource>,
    _data: tempfile::TempDir,
}

/// Starts the simulator on `scenario` at `speed` with Copilot used `pairs_per_hour` around
/// the clock (the simulator's cryptography is the tests' main cost: at `FAST` the default 240
/// an hour would be 80 signed and encrypted notifications a real second), and the collector
/// against it, diagnosing ten times a second.
pub async fn run(scenario: &str, speed: f64, pairs_per_hour: f64) -> Run {
    let mut scenario = Scenario::load(scenario).unwrap();
    scenario.activity.pairs_per_hour = pairs_per_hour;
    scenario.activity.day_night = false;
    scenario.activity.history_days = 1;
    let sim = TestSim::start_with(SimOptions {
        speed,
        ..SimOptions::loopback(scenario)
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let profile = sim_profile(&sim.sim, data.path()).unwrap();
    let clock: SharedClock = sim.sim.state.clock.clone();
    let mut options = CollectorOptions::new(data.path());
    options.poll.initial_backfill = chrono::Duration::hours(2);
    options.diagnosis.every = Duration::from_millis(100);
    let collector = Collector::start(&[profile], clock, options).await.unwrap();
    let verdicts = collector.verdicts();
    Run {
        sim,
        collector,
        verdicts,
        _data: data,
    }
}

impl Run {
    /// The latest verdict on the one profile, once there is one.
    pub fn verdict(&self) -> Option<ProfileVerdict> {
        self.verdicts.verdicts().into_iter().next()
    }

    /// Waits up to `wait` until the latest verdict satisfies `predicate`; returns it, or the
    /// latest verdict rendered in full as the error.
    pub async fn try_await_verdict(
        &self,
        wait: Duration,
        predicate: impl Fn(&ProfileVerdict) -> bool,
    ) -> Result<ProfileVerdict, String> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some(verdict) = self.verdict().filter(|v| predicate(v)) {
                return Ok(verdict);
            }
            if Instant::now() >= deadline {
                return Err(self
                    .verdict()
                    .map_or_else(|| "no verdict yet".to_owned(), |v| render(&v.diagnosis)));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (bounded by [`WAIT`]) until the latest verdict satisfies `predicate`; returns it.
    pub async fn await_verdict(
        &self,
        what: &str,
        predicate: impl Fn(&ProfileVerdict) -> bool,
    ) -> ProfileVerdict {
        match self.try_await_verdict(WAIT, predicate).await {
            Ok(verdict) => verdict,
            Err(latest) => panic!("timed out waiting for {what}; latest verdict:\n{latest}"),
        }
    }

    /// The profile's findings history, every episode.
    pub fn history(&self) -> Vec<FindingRecord> {
        self.collector
            .store()
            .findings()
            .history("sim", 1000)
            .unwrap()
    }

    /// Waits (bounded by [`WAIT`]) until the findings history satisfies `predicate`.
    pub async fn await_history(&self, what: &str, predicate: impl Fn(&[FindingRecord]) -> bool) {
        let deadline = Instant::now() + WAIT;
        while !predicate(&self.history()) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; history: {:#?}",
                self.history()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Shuts the collector down, then the simulator.
    pub async fn stop(self) {
        self.collector.shutdown().await;
        self.sim.stop().await;
    }
}

/// The findings of a verdict, one line each, for failure messages.
pub fn summary(verdict: &ProfileVerdict) -> Vec<String> {
    verdict
        .diagnosis
        .findings
        .iter()
        .map(|f| format!("{:?} {}: {}", f.severity, f.code.as_str(), f.title))
        .collect()
}

/// Credentials checked, a live subscription, notifications accepted.
pub fn settled(verdict: &ProfileVerdict) -> bool {
    let facts = &verdict.facts;
    facts.credentials.is_some()
        && facts
            .subscriptions
            .as_ref()
            .is_some_and(|s| !s.active.is_empty())
        && facts.delivery.as_ref().is_some_and(|d| d.accepted > 0)
}

/// The most urgent severity among a verdict's findings.
pub fn worst_finding(verdict: &ProfileVerdict) -> Severity {
    Severity::worst(verdict.diagnosis.findings.iter().map(|f| f.severity))
}
