//! What the console runs against in one measuring child: the simulator on loopback (the
//! `healthy` scenario with its own Copilot traffic switched off, so "idle" is idle and the live
//! feed is exactly the rate the bench makes), the real collector opened on the cached store (the
//! `demo` wiring of `commands::console`), and the embedded backend's handle over it.
//!
//! Live interactions go the whole real path: `sim::activity::generate_now` (what
//! `POST /_sim/interactions` does) publishes a prompt/response pair, the simulator pushes the
//! encrypted rich notifications to the collector's receiver, which validates, decrypts, stores
//! and broadcasts them; the console sees them as `Update::Interaction`s.
//!
//! Depends on the simulator, the collector and the console's embedded backend; never on the TUI.

use std::path::Path;
use std::time::{Duration, Instant};

use pilotwatch::clock::SharedClock;
use pilotwatch::collector::{Collector, CollectorOptions};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::console::CollectorHandle;
use pilotwatch::console::embedded::{self, EmbeddedOptions, SimulationTarget};
use pilotwatch::sim::activity::{GenerateRequest, generate_now};
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::sim::state::SimState;
use pilotwatch::sim::{self, RunningSim, SimOptions};

use pilotwatch::store::StoreOptions;

use crate::Plan;
use crate::store::TENANT_SEED;

/// The simulator, the collector and the handle.
pub struct World {
    pub sim: RunningSim,
    pub collector: Collector,
    pub handle: CollectorHandle,
    /// `Collector::start` plus `embedded::serve`.
    pub collector_open: Duration,
    /// When the collector was asked to start.
    pub opened_at: Instant,
    /// When the handle was ready.
    pub ready_at: Instant,
}

/// The store's settings: the defaults, but for the sled cache when `--sled-cache-mib` says.
pub fn store_options(plan: &Plan) -> StoreOptions {
    let mut options = StoreOptions::default();
    if let Some(mib) = plan.sled_cache_mib {
        options.cache_capacity_bytes = mib * 1024 * 1024;
    }
    options
}

/// The quiet simulator: no background Copilot traffic, no history (the store has it).
pub async fn start_sim() -> RunningSim {
    let mut scenario = Scenario::load("healthy").unwrap();
    scenario.activity.pairs_per_hour = 0.0;
    scenario.activity.history_days = 0;
    sim::start(SimOptions {
        seed: TENANT_SEED,
        ..SimOptions::loopback(scenario)
    })
    .await
    .unwrap()
}

impl World {
    /// Opens the collector on `data_dir` (which holds `store/`) against `sim`.
    pub async fn open(sim: RunningSim, data_dir: &Path, plan: &Plan) -> Self {
        let profile = sim_profile(&sim, data_dir).unwrap();
        let clock: SharedClock = sim.state.clock.clone();
        let opened_at = Instant::now();
        let mut options = CollectorOptions::new(data_dir);
        options.store = store_options(plan);
        let collector = Collector::start(std::slice::from_ref(&profile), clock.clone(), options)
            .await
            .unwrap();
        let target = SimulationTarget {
            base_url: sim.base_url().parse().unwrap(),
            scenario: "healthy".to_owned(),
            scenarios: vec!["healthy".to_owned()],
            speed: 1.0,
        };
        let handle = embedded::serve(
            &collector,
            EmbeddedOptions::new(vec![profile], clock).with_simulation(target),
        );
        let ready_at = Instant::now();
        Self {
            sim,
            collector,
            handle,
            collector_open: ready_at - opened_at,
            opened_at,
            ready_at,
        }
    }

    /// Waits (bounded) until the keeper holds a live subscription, so notifications flow.
    pub async fn subscribed(&self) {
        let deadline = Instant::now() + crate::DEADLINE;
        loop {
            let snapshot = self.handle.snapshot().await.unwrap();
            if snapshot
                .profiles
                .first()
                .is_some_and(|profile| !profile.subscriptions.is_empty())
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no subscription after {:?}",
                crate::DEADLINE
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(self) {
        self.collector.shutdown().await;
        self.sim.stop().await;
    }
}

/// Makes one prompt/response pair now (two interactions), published with notifications.
pub fn generate_pair(state: &SimState) {
    let request = GenerateRequest {
        pairs: 1,
        user_id: None,
        app_class: None,
    };
    generate_now(state, &request).unwrap();
}
