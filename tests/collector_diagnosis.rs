//! The running collector diagnoses what it sees: the real collector (receiver, keeper, poller,
//! store, credential probe, diagnosis round) against the simulator at high `--speed`, wired as
//! `pilotwatch serve --sim` wires it. A healthy tenant settles with nothing above info; a
//! service principal with "Assignment required" is headlined as null validation tokens; a
//! subscription Graph removes shows in the findings history as a problem that started and, once
//! recreated and past, ended.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestSim;
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::update::Update;
use pilotwatch::collector::{Collector, CollectorOptions};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::diagnose::{FindingCode, ProfileVerdict, VerdictSource};
use pilotwatch::severity::Severity;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::FindingRecord;

/// Simulated seconds per real second where only the sequence of events matters: an hour of
/// lookback passes in 3 s.
const FAST: f64 = 1200.0;

/// Simulated seconds per real second where durations are judged: the receiver's
/// acknowledgements and deliveries take real milliseconds, which the simulated clock stretches
/// by this factor (at `FAST`, 15 ms would read as an 18 s acknowledgement; on a loaded 2-core
/// VM even 20× stretched acknowledgements past Graph's 2.9 s slow line). Copilot activity
/// (3600 pairs an hour here) still brings a few notifications a second.
const GENTLE: f64 = 4.0;

/// Longest real wait for any one condition.
const WAIT: Duration = Duration::from_secs(8);

struct Run {
    sim: TestSim,
    collector: Collector,
    verdicts: Arc<dyn VerdictSource>,
    _data: tempfile::TempDir,
}

/// Starts the simulator on `scenario` at `speed` with Copilot used `pairs_per_hour` around
/// the clock (the simulator's cryptography is the tests' main cost: at `FAST` the default 240
/// an hour would be 80 signed and encrypted notifications a real second), and the collector
/// against it, diagnosing ten times a second.
async fn run(scenario: &str, speed: f64, pairs_per_hour: f64) -> Run {
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
    fn verdict(&self) -> Option<ProfileVerdict> {
        self.verdicts.verdicts().into_iter().next()
    }

    /// Waits (bounded) until the latest verdict satisfies `predicate`; returns it.
    async fn await_verdict(
        &self,
        what: &str,
        predicate: impl Fn(&ProfileVerdict) -> bool,
    ) -> ProfileVerdict {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(verdict) = self.verdict().filter(|v| predicate(v)) {
                return verdict;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; latest verdict: {:#?}",
                self.verdict().map(|v| summary(&v))
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn history(&self) -> Vec<FindingRecord> {
        self.collector
            .store()
            .findings()
            .history("sim", 1000)
            .unwrap()
    }

    /// Waits (bounded) until the findings history satisfies `predicate`.
    async fn await_history(&self, what: &str, predicate: impl Fn(&[FindingRecord]) -> bool) {
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

    async fn stop(self) {
        self.collector.shutdown().await;
        self.sim.stop().await;
    }
}

/// The findings of a verdict, one line each, for failure messages.
fn summary(verdict: &ProfileVerdict) -> Vec<String> {
    verdict
        .diagnosis
        .findings
        .iter()
        .map(|f| format!("{:?} {}: {}", f.severity, f.code.as_str(), f.title))
        .collect()
}

/// Credentials checked, a live subscription, notifications accepted.
fn settled(verdict: &ProfileVerdict) -> bool {
    let facts = &verdict.facts;
    facts.credentials.is_some()
        && facts
            .subscriptions
            .as_ref()
            .is_some_and(|s| !s.active.is_empty())
        && facts.delivery.as_ref().is_some_and(|d| d.accepted > 0)
}

fn worst_finding(verdict: &ProfileVerdict) -> Severity {
    Severity::worst(verdict.diagnosis.findings.iter().map(|f| f.severity))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_tenant_settles_with_nothing_above_info() {
    let run = run("healthy", GENTLE, 3600.0).await;
    let mut updates = run.collector.updates();
    run.await_verdict("the collector to settle", settled).await;
    let verdict = run
        .await_verdict("no finding above info", |v| {
            settled(v) && worst_finding(v) <= Severity::Info
        })
        .await;
    assert_eq!(verdict.diagnosis.headline, None, "{:#?}", summary(&verdict));
    assert!(matches!(
        verdict.facts.source,
        pilotwatch::diagnose::facts::FactSource::Collector { pid, .. } if pid == std::process::id()
    ));
    let facts = &verdict.facts;
    assert!(
        facts.graph.as_ref().unwrap().requests > 0,
        "Graph traffic is counted"
    );
    assert!(
        facts
            .delivery
            .as_ref()
            .unwrap()
            .current_certificate_id
            .is_some(),
        "the certificate in use is known"
    );
    let mut announced = false;
    while let Ok(update) = updates.try_recv() {
        announced |= matches!(update, Update::Diagnosis(v) if v.diagnosis.profile == "sim");
    }
    assert!(
        announced,
        "a changed verdict is announced on the update channel"
    );
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_required_is_headlined_as_null_validation_tokens() {
    let run = run("app-role-assignment-required", FAST, 24.0).await;
    // The credential probe sees the flag first (a warning); once the null-token notifications
    // arrive, the finding is critical and heads the ladder.
    let verdict = run
        .await_verdict("a critical validation-tokens-null as the headline", |v| {
            v.facts.credentials.is_some()
                && v.diagnosis.headline.as_ref().is_some_and(|h| {
                    h.code == FindingCode::ValidationTokensNull && h.severity == Severity::Critical
                })
        })
        .await;
    assert_eq!(verdict.diagnosis.severity, Severity::Critical);
    let delivery = verdict.facts.delivery.as_ref().unwrap();
    assert!(
        delivery.received > 0 && delivery.accepted == 0,
        "{delivery:#?}"
    );
    let headline = verdict.diagnosis.headline.as_ref().unwrap();
    assert!(
        headline
            .evidence
            .iter()
            .any(|line| line.contains("appRoleAssignmentRequired = true")),
        "the service principal's flag confirms it: {headline:#?}"
    );
    run.await_history("the finding to be open in the history", |history| {
        history
            .iter()
            .any(|r| r.code == "validation-tokens-null" && r.ended_at.is_none())
    })
    .await;
    let open = run.collector.store().findings().open("sim").unwrap();
    let null = open
        .iter()
        .find(|r| r.code == "validation-tokens-null")
        .unwrap();
    assert_eq!(null.severity, Severity::Critical);
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_subscription_starts_and_ends_in_the_findings_history() {
    let run = run("subscription-removed", FAST, 24.0).await;
    run.await_history("subscription-removed to start", |history| {
        history.iter().any(|r| r.code == "subscription-removed")
    })
    .await;
    // Graph stops removing subscriptions; the recreated one stays, and once the removal is
    // older than the lookback hour the finding is over.
    run.sim
        .sim
        .state
        .set_scenario(Scenario::load("healthy").unwrap());
    run.await_history("subscription-removed to end", |history| {
        let episodes: Vec<_> = history
            .iter()
            .filter(|r| r.code == "subscription-removed")
            .collect();
        !episodes.is_empty() && episodes.iter().all(|r| r.ended_at.is_some())
    })
    .await;
    let history = run.history();
    let episode = history
        .iter()
        .find(|r| r.code == "subscription-removed")
        .unwrap();
    let ended = episode.ended_at.unwrap();
    assert!(ended > episode.started_at, "{episode:#?}");
    let verdict = run.verdict().unwrap();
    assert!(
        verdict
            .facts
            .subscriptions
            .as_ref()
            .is_some_and(|s| !s.active.is_empty()),
        "the keeper recreated the subscription"
    );
    assert!(
        !verdict
            .diagnosis
            .findings
            .iter()
            .any(|f| f.code == FindingCode::SubscriptionRemoved),
        "{:#?}",
        summary(&verdict)
    );
    run.stop().await;
}
