//! Ground truth for the whole collector: the simulator generates Copilot activity at high
//! `--speed`, the collector (receiver, keeper, poller, store) runs against it exactly as
//! `pilotwatch serve --sim` wires it, and at the end every interaction the simulator generated
//! (up to a settle margin for Graph's documented late deliveries) is in the store exactly once,
//! whatever the scenario broke on the way (renewals and reauthorizations, a Graph outage, a
//! removed subscription).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::TestSim;
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::{Collector, CollectorOptions};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::Store;
use pilotwatch::store::records::{EventKind, InteractionSource, KeeperAction, Outcome};

/// Simulated seconds per real second: two two-hour subscription lifetimes in about 15 s.
const SPEED: f64 = 1200.0;

/// Late deliveries (rarely up to an hour, graph-facts §2) and the poller's reconciliation
/// (hourly, over the hour ending 15 minutes ago) settle everything older than this.
const SETTLE: chrono::Duration = chrono::Duration::hours(2);

struct Run {
    sim: TestSim,
    collector: Collector,
    _data: tempfile::TempDir,
    started: DateTime<Utc>,
}

async fn run(scenario: &str) -> Run {
    let sim = TestSim::start_with(SimOptions {
        speed: SPEED,
        ..SimOptions::loopback(Scenario::load(scenario).unwrap())
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let profile = sim_profile(&sim.sim, data.path()).unwrap();
    let clock: SharedClock = sim.sim.state.clock.clone();
    let mut options = CollectorOptions::new(data.path());
    options.keeper.lifetime = chrono::Duration::hours(2);
    // The simulator seeds two days of history: the initial backfill takes all of it.
    options.poll.initial_backfill = chrono::Duration::days(3);
    let started = clock.now();
    let collector = Collector::start(&[profile], clock, options).await.unwrap();
    Run {
        sim,
        collector,
        _data: data,
        started,
    }
}

impl Run {
    fn now(&self) -> DateTime<Utc> {
        self.sim.sim.state.now()
    }

    /// Waits (in real time, bounded) until simulated time reaches `started + span`.
    async fn run_for(&self, span: chrono::Duration) {
        let until = self.started + span;
        let deadline = Instant::now() + Duration::from_secs(120);
        while self.now() < until {
            assert!(Instant::now() < deadline, "simulated time stalled");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The simulator's interactions created up to `until`.
    fn generated_until(&self, until: DateTime<Utc>) -> Vec<String> {
        let log = self.sim.sim.state.interactions.read().unwrap();
        log.iter()
            .filter(|g| g.interaction.created_date_time <= until)
            .map(|g| g.interaction.id.clone())
            .collect()
    }

    /// Waits (bounded) until every id is in the store; returns the ones still missing.
    async fn await_stored(&self, ids: &[String]) -> Vec<String> {
        let store = self.collector.store();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| store.interactions().get(id).unwrap().is_none())
                .cloned()
                .collect();
            if missing.is_empty() || Instant::now() > deadline {
                return missing;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    fn keeper_successes(&self, action: KeeperAction) -> usize {
        self.collector
            .store()
            .events()
            .recent(100_000)
            .unwrap()
            .iter()
            .filter(|e| {
                matches!(&e.kind, EventKind::Keeper { action: a, outcome: Outcome::Succeeded, .. } if *a == action)
            })
            .count()
    }

    /// The event log, one line each, for failure messages.
    fn journal(&self) -> String {
        let mut events = self.collector.store().events().recent(100_000).unwrap();
        events.reverse();
        events
            .iter()
            .map(|e| format!("{} {:?} {}", e.at, e.kind, e.message))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn lifecycle_events(&self, name: &str) -> usize {
        self.collector
            .store()
            .events()
            .recent(100_000)
            .unwrap()
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::Lifecycle { event, .. } if event == name))
            .count()
    }

    /// Every generated interaction up to `now − SETTLE` is stored, and nothing else is: the
    /// store holds no id the simulator never generated, and each id once (the store's key).
    /// Stops the collector (the store stays open) so the final counts hold still.
    async fn assert_complete(self) -> (TestSim, Store) {
        let until = self.now() - SETTLE;
        let expected = self.generated_until(until);
        assert!(!expected.is_empty(), "the simulator generated nothing");
        let missing = self.await_stored(&expected).await;
        assert!(
            missing.is_empty(),
            "{} of {} interactions never reached the store, e.g. {:?}\n{}",
            missing.len(),
            expected.len(),
            &missing[..missing.len().min(5)],
            self.journal()
        );
        let store = self.collector.store().clone();
        self.collector.shutdown().await;
        let stored = store
            .interactions()
            .between(DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC)
            .unwrap();
        // Read after the store stopped changing: every stored id must be among these.
        let generated: HashSet<String> = self
            .sim
            .sim
            .state
            .interactions
            .read()
            .unwrap()
            .iter()
            .map(|g| g.interaction.id.clone())
            .collect();
        let mut seen = HashSet::new();
        for record in &stored {
            assert!(
                generated.contains(&record.id),
                "{} was never generated",
                record.id
            );
            assert!(seen.insert(record.id.clone()), "{} stored twice", record.id);
        }
        assert_eq!(store.interactions().count().unwrap(), stored.len() as u64);
        (self.sim, store)
    }

    /// Of the interactions created while the collector ran, the share that arrived by push.
    fn pushed_share(store: &Store, from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
        let stored = store.interactions().between(from, to).unwrap();
        let pushed = stored
            .iter()
            .filter(|r| r.source == InteractionSource::Notification)
            .count();
        pushed as f64 / stored.len().max(1) as f64
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_over_two_subscription_lifetimes_stores_everything_exactly_once() {
    let run = run("healthy").await;
    run.run_for(chrono::Duration::hours(4) + chrono::Duration::minutes(30))
        .await;
    assert!(run.keeper_successes(KeeperAction::Create) >= 1);
    // Every PATCH extends the subscription: scheduled renewals, and the ones answering Graph's
    // reauthorizationRequired (which come first here: Graph asks within the hour).
    let extended =
        run.keeper_successes(KeeperAction::Renew) + run.keeper_successes(KeeperAction::Reauthorize);
    assert!(
        extended >= 2,
        "extended {extended} times\n{}",
        run.journal()
    );
    assert!(
        run.lifecycle_events("reauthorizationRequired") >= 1,
        "no reauthorization challenge was met\n{}",
        run.journal()
    );
    let (started, settled) = (run.started, run.now() - SETTLE);
    let (sim, store) = run.assert_complete().await;
    let pushed = Run::pushed_share(&store, started, settled);
    assert!(
        pushed > 0.9,
        "only {pushed:.2} arrived by push in a healthy tenant"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graph_outage_is_backfilled_to_completeness() {
    let run = run("graph-outage").await;
    run.run_for(chrono::Duration::hours(3)).await;
    let (sim, _store) = run.assert_complete().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_subscription_is_recreated_and_the_gap_backfilled() {
    let run = run("subscription-removed").await;
    run.run_for(chrono::Duration::hours(3)).await;
    assert!(run.lifecycle_events("subscriptionRemoved") >= 1);
    assert!(
        run.keeper_successes(KeeperAction::Create) >= 2,
        "the subscription was not recreated"
    );
    let (sim, _store) = run.assert_complete().await;
    sim.stop().await;
}
