//! The diagnosis round: every [`DiagnosisOptions::every`] of real time (and as soon as a
//! credential report arrives), read the store once, build each profile's facts, diagnose them
//! as of the injected clock's `now`, record the findings history, publish the verdict on the
//! [`VerdictBoard`] and, when its findings changed, send an [`Update::Diagnosis`].
//!
//! The store is read and written off the runtime (sled blocks). Depends on the fact builders,
//! `diagnose`, the store's findings history and the update channel.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use super::{ProfileSources, StoreRound, VerdictBoard};
use crate::clock::SharedClock;
use crate::collector::supervise::{Ends, TaskSet};
use crate::collector::update::Update;
use crate::diagnose::{Diagnosis, ProfileVerdict, diagnose};
use crate::store::{ObservedFinding, Retention, Store};

/// When the diagnosis round runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosisOptions {
    /// Real time between rounds.
    pub every: Duration,
    /// Real time between credential probes.
    pub probe_every: Duration,
}

impl Default for DiagnosisOptions {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(30),
            probe_every: super::credentials::PROBE_EVERY,
        }
    }
}

/// Everything the round needs.
pub(crate) struct DiagnosisRound {
    /// Every profile's sources, in configuration order.
    pub sources: Vec<Arc<ProfileSources>>,
    /// The store.
    pub store: Store,
    /// The store's retention limits (facts about its fullness).
    pub retention: Retention,
    /// The injected clock.
    pub clock: SharedClock,
    /// When the collector started.
    pub since: DateTime<Utc>,
    /// Where verdicts are published.
    pub board: VerdictBoard,
    /// Where changed verdicts are announced.
    pub updates: broadcast::Sender<Update>,
    /// Woken by the credential probes.
    pub wake: Arc<Notify>,
}

/// Runs the round every `every` until `shutdown`.
pub(crate) fn spawn_diagnosis(
    tasks: &mut TaskSet,
    round: DiagnosisRound,
    every: Duration,
    shutdown: CancellationToken,
) {
    tasks.spawn("diagnosis", None, Ends::AtShutdown, async move {
        // Per profile: whether a verdict has been announced yet.
        let mut announced = vec![false; round.sources.len()];
        loop {
            round.run(&mut announced).await;
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
                () = round.wake.notified() => {}
            }
        }
    });
}

impl DiagnosisRound {
    async fn run(&self, announced: &mut [bool]) {
        let now = self.clock.now();
        let store = self.store.clone();
        let retention = self.retention.clone();
        let read = tokio::task::spawn_blocking(move || StoreRound::read(&store, retention, now));
        let round = match read.await {
            Ok(round) => round,
            Err(error) => {
                tracing::warn!(%error, "the diagnosis round's store read stopped");
                return;
            }
        };
        for (index, sources) in self.sources.iter().enumerate() {
            let facts = sources.facts(&round, self.since, now);
            let diagnosis = diagnose(&facts, now);
            self.record_history(&diagnosis).await;
            let verdict = ProfileVerdict { facts, diagnosis };
            if !sources.credentials_checked() {
                // The first announcement waits for the credential report: without it the
                // ladder's first rungs cannot be judged, and "unknown" is not news.
                self.board.publish(index, verdict);
                continue;
            }
            let changed = self.board.publish(index, verdict.clone());
            let first = announced
                .get_mut(index)
                .is_some_and(|announced| !std::mem::replace(announced, true));
            if changed || first {
                tracing::info!(
                    profile = %verdict.diagnosis.profile,
                    severity = ?verdict.diagnosis.severity,
                    headline = verdict.diagnosis.headline.as_ref().map_or("none", |f| f.code.as_str()),
                    "diagnosis changed"
                );
                let _ = self.updates.send(Update::Diagnosis(Arc::new(verdict)));
            }
        }
    }

    /// Opens and closes the profile's findings-history episodes (a store failure is logged:
    /// the verdict itself stands).
    async fn record_history(&self, diagnosis: &Diagnosis) {
        let observed: Vec<ObservedFinding> = diagnosis
            .findings
            .iter()
            .map(|finding| ObservedFinding {
                code: finding.code.as_str().to_owned(),
                severity: finding.severity,
                title: finding.title.clone(),
            })
            .collect();
        let store = self.store.clone();
        let profile = diagnosis.profile.clone();
        let at = diagnosis.at;
        let written =
            tokio::task::spawn_blocking(move || store.findings().observe(&profile, at, &observed))
                .await;
        match written {
            Ok(Ok(changes)) if !changes.is_empty() => {
                tracing::debug!(profile = %diagnosis.profile, ?changes, "findings history");
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot record the findings history"),
            Err(error) => tracing::warn!(%error, "recording the findings history stopped"),
        }
    }
}
