//! The credential side of a profile's facts: `creds::probe` run at start and then every
//! [`PROBE_EVERY`] of real time, in a task of its own so that a slow tenant never holds up
//! diagnosis; the latest report is left where the diagnosis round reads it, and the round is
//! woken so the first verdict does not wait for its timer.
//!
//! Real time, not the injected clock: the probe costs Graph requests, and a simulator running
//! at high speed must not be probed at that speed. Depends on the probe, the credential report
//! and the Graph client's request budget.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::collector::supervise::{Ends, TaskSet};
use crate::config::Profile;
use crate::creds::probe::{ProbeOptions, probe};
use crate::creds::{CredentialReport, assess};
use crate::graph::http::RateBudget;

/// How often credentials are checked again.
pub const PROBE_EVERY: Duration = Duration::from_secs(15 * 60);

/// One profile's recurring credential probe.
pub(crate) struct Probe {
    /// The profile.
    pub profile: Profile,
    /// The injected clock (the report's `checked_at`, token lifetimes).
    pub clock: SharedClock,
    /// The tenant's request budget, shared with the collector's own calls.
    pub budget: RateBudget,
    /// Where the latest report goes.
    pub slot: Arc<Mutex<Option<CredentialReport>>>,
    /// Real time between probes.
    pub every: Duration,
    /// Woken after each report.
    pub wake: Arc<Notify>,
}

/// Runs `probe` now and then every `probe.every` until `shutdown`.
pub(crate) fn spawn_probe(tasks: &mut TaskSet, probe_task: Probe, shutdown: CancellationToken) {
    let Probe {
        profile,
        clock,
        budget,
        slot,
        every,
        wake,
    } = probe_task;
    let name = profile.name.clone();
    tasks.spawn("credential probe", Some(&name), Ends::AtShutdown, async move {
        let options = ProbeOptions::default();
        loop {
            let facts = tokio::select! {
                () = shutdown.cancelled() => return,
                facts = probe(&profile, clock.clone(), budget.clone(), &options) => facts,
            };
            let report = assess(&facts);
            tracing::debug!(profile = %profile.name, severity = ?report.severity, "credentials probed");
            *super::lock(&slot) = Some(report);
            wake.notify_one();
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    });
}
