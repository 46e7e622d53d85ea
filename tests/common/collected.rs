//! A simulator with a real collector on it and the embedded backend on top: the setup the
//! console's, the control socket's, the twins' and the supervision tests share. The collector
//! backfills five minutes and diagnoses ten times a second, so a test sees its first verdict
//! at once; what varies between tests (scenario, speed, Copilot use, a store to reopen, the
//! scenario switch) is a field of [`Setup`].
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use pilotwatch::clock::SharedClock;
use pilotwatch::collector::{Collector, CollectorOptions};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::config::Profile;
use pilotwatch::console::CollectorHandle;
use pilotwatch::console::audit::Operator;
use pilotwatch::console::embedded::{EmbeddedOptions, SimulationTarget, serve};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::{EMBEDDED, Scenario};

use super::TestSim;

/// What to start.
pub struct Setup {
    /// The scenario, as the simulator runs it.
    pub scenario: Scenario,
    /// Its name, for the scenario switch.
    pub scenario_name: &'static str,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// Whether the handle offers the scenario switch, as `demo` and `serve --sim` do.
    pub switchable: bool,
    /// The store's directory (one that may hold a store already); a fresh one when `None`.
    pub data: Option<tempfile::TempDir>,
    /// Who the handle records its commands as, as an embedded console does.
    pub audited_as: Option<Operator>,
}

impl Setup {
    /// The healthy scenario at speed 4 without history (it costs the simulator's cryptography
    /// and the poller's time; live traffic is enough), at the scenario's own Copilot use.
    pub fn healthy() -> Self {
        let mut scenario = Scenario::load("healthy").unwrap();
        scenario.activity.history_days = 0;
        Self {
            scenario,
            scenario_name: "healthy",
            speed: 4.0,
            switchable: false,
            data: None,
            audited_as: None,
        }
    }

    /// With Copilot used `pairs_per_hour` around the clock.
    pub fn used(mut self, pairs_per_hour: f64) -> Self {
        self.scenario.activity.pairs_per_hour = pairs_per_hour;
        self.scenario.activity.day_night = false;
        self
    }

    /// With the scenario switch offered.
    pub fn switchable(mut self) -> Self {
        self.switchable = true;
        self
    }

    /// Recording its commands in the audit trail as sent by `operator`.
    pub fn audited_as(mut self, operator: Operator) -> Self {
        self.audited_as = Some(operator);
        self
    }

    /// On `data`, which may hold a store already.
    pub fn on(mut self, data: tempfile::TempDir) -> Self {
        self.data = Some(data);
        self
    }

    /// Starts the simulator, the collector against it and the embedded backend.
    pub async fn start(self) -> Collected {
        let sim = TestSim::start_with(SimOptions {
            speed: self.speed,
            ..SimOptions::loopback(self.scenario)
        })
        .await;
        let data = match self.data {
            Some(data) => data,
            None => tempfile::tempdir().unwrap(),
        };
        let profile = sim_profile(&sim.sim, data.path()).unwrap();
        let clock: SharedClock = sim.sim.state.clock.clone();
        let mut options = CollectorOptions::new(data.path());
        options.poll.initial_backfill = chrono::Duration::minutes(5);
        options.diagnosis.every = Duration::from_millis(100);
        let collector = Collector::start(std::slice::from_ref(&profile), clock.clone(), options)
            .await
            .unwrap();
        let mut embedded = EmbeddedOptions::new(vec![profile.clone()], clock.clone());
        if self.switchable {
            embedded = embedded.with_simulation(SimulationTarget {
                base_url: sim.base.parse().unwrap(),
                scenario: self.scenario_name.into(),
                scenarios: EMBEDDED
                    .iter()
                    .map(|(name, _)| (*name).to_owned())
                    .collect(),
                speed: self.speed,
            });
        }
        if let Some(operator) = self.audited_as {
            embedded = embedded.audited_as(operator);
        }
        let handle = serve(&collector, embedded);
        Collected {
            sim,
            collector,
            handle,
            profile,
            clock,
            data,
        }
    }
}

/// What [`Setup::start`] started.
pub struct Collected {
    pub sim: TestSim,
    pub collector: Collector,
    pub handle: CollectorHandle,
    /// The simulator's app registration as a profile.
    pub profile: Profile,
    /// The simulator's clock, which the collector runs on.
    pub clock: SharedClock,
    /// The store's directory, removed when dropped.
    pub data: tempfile::TempDir,
}

impl Collected {
    /// Shuts the collector down, then the simulator.
    pub async fn stop(self) {
        self.collector.shutdown().await;
        self.sim.stop().await;
    }
}
