//! The running collector: one store, and per profile a receiver, a subscription keeper and a
//! poller, wired by channels (lifecycle signals receiver → keeper, gaps keeper → poller) and all
//! reporting on one [`Update`] broadcast. Built by `pilotwatch serve` and, later, the TUI's
//! embedded mode; the simulator is just another Graph to it (profiles point at it).
//!
//! Operator orders (renew, reauthorize, recreate, backfill now) arrive at `desk`.
//!
//! Each profile's credentials are probed and every profile diagnosed periodically (`facts`);
//! the latest verdicts are answered from memory by [`Collector::verdicts`].
//!
//! Every long-lived task is spawned supervised (`supervise`): one that dies is on the task
//! board ([`Collector::dead_tasks`]) and announced, and is not restarted.
//!
//! Each profile's pipeline is started by `profile`; this file owns the collector as a whole
//! (its store, update broadcast, tasks, verdicts and shutdown). Depends on config, secret,
//! graph, store, receiver, the keeper/poller and the fact gathering; never on `sim` or `tui`.

mod profile;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;

use super::background;
use super::desk::ProfileDesk;
use super::facts::{self, DiagnosisOptions, DiagnosisRound, ProfileSources, VerdictBoard};
use super::keeper::{KeeperOptions, KeeperWaker};
use super::names::{self, NameSource, UserNames};
use super::poller::PollOptions;
use super::rotation::{CertificateRotation, RotationError, rotate_keys};
use super::setup::{CollectorError, check_binds, open_store};
use super::supervise::{Ends, TaskBoard, TaskDeath, TaskSet};
use super::update::Update;
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::diagnose::VerdictSource;
use crate::graph::http::{EXPORT_REQUESTS_PER_SECOND, RateBudgets};
use crate::receiver::{EncryptionKeys, RunningReceiver};
use crate::store::{Store, StoreOptions};

/// Updates buffered for slow subscribers before they start missing some (they are told so by
/// `broadcast`'s lag error and can re-read the store).
const UPDATE_BUFFER: usize = 4096;

/// Lifecycle signals and gap requests waiting to be handled.
const SIGNAL_BUFFER: usize = 64;

/// How the collector runs.
#[derive(Debug, Clone)]
pub struct CollectorOptions {
    /// Store, secret files and generated keys live under this directory.
    pub data_dir: PathBuf,
    /// The store's settings.
    pub store: StoreOptions,
    /// The keeper's timings.
    pub keeper: KeeperOptions,
    /// The poller's windows and timings.
    pub poll: PollOptions,
    /// How often profiles are diagnosed and their credentials probed.
    pub diagnosis: DiagnosisOptions,
    /// Look, never touch Graph's subscriptions: no keeper runs, so nothing is created,
    /// renewed or deleted, and lifecycle events are logged and left to the next full
    /// collector. For a short-lived collector that only answers a question (`pilotwatch
    /// status` with no collector running), which must not leave a subscription behind that
    /// points at a receiver about to stop. Operator orders are refused.
    pub observe_only: bool,
}

impl CollectorOptions {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            store: StoreOptions::default(),
            keeper: KeeperOptions::default(),
            poll: PollOptions::default(),
            diagnosis: DiagnosisOptions::default(),
            observe_only: false,
        }
    }
}

/// A profile's key pair and the keeper that must follow it when it rotates.
struct ProfileKeys {
    profile: String,
    keys: Arc<EncryptionKeys>,
    certificate_path: PathBuf,
    keeper: KeeperWaker,
}

/// A started collector.
pub struct Collector {
    store: Store,
    updates: broadcast::Sender<Update>,
    receivers: Vec<RunningReceiver>,
    keys: Vec<ProfileKeys>,
    sources: Vec<Arc<ProfileSources>>,
    verdicts: VerdictBoard,
    /// Display names of users, resolved as views show them.
    names: UserNames,
    /// Where operator orders go, one per profile (`desk`).
    pub(super) desks: Vec<Arc<ProfileDesk>>,
    tasks: TaskSet,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("store", &self.store.dir())
            .field("receivers", &self.receiver_addresses())
            .finish_non_exhaustive()
    }
}

impl Collector {
    /// Opens the store under `options.data_dir` and starts every profile. On error, whatever
    /// had started is stopped again.
    pub async fn start(
        profiles: &[Profile],
        clock: SharedClock,
        options: CollectorOptions,
    ) -> Result<Collector, CollectorError> {
        if profiles.is_empty() {
            return Err(CollectorError::NoProfiles);
        }
        check_binds(profiles)?;
        let store_dir = options.data_dir.join("store");
        let store = open_store(store_dir, options.store.clone(), clock.clone()).await?;
        let started = clock.now();
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        let (names, name_queue) = UserNames::new();
        let shutdown = CancellationToken::new();
        let board = TaskBoard::new(clock.clone(), updates.clone(), shutdown.clone());
        let mut collector = Collector {
            store,
            updates,
            receivers: Vec::new(),
            keys: Vec::new(),
            sources: Vec::new(),
            verdicts: VerdictBoard::new(profiles.len()),
            names: names.clone(),
            desks: Vec::new(),
            tasks: TaskSet::new(board),
            shutdown,
        };
        let budgets = RateBudgets::new(EXPORT_REQUESTS_PER_SECOND);
        for profile in profiles {
            if let Err(error) = collector
                .start_profile(profile, &clock, &options, &budgets)
                .await
            {
                collector.shutdown().await;
                return Err(error);
            }
        }
        collector.start_diagnosis(&clock, &options, &budgets, started);
        background::spawn_retention(
            &mut collector.tasks,
            collector.store.clone(),
            clock,
            collector.shutdown.child_token(),
        );
        background::spawn_committer(
            &mut collector.tasks,
            collector.updates.subscribe(),
            collector.store.clone(),
            collector.shutdown.child_token(),
        );
        let name_sources = collector
            .sources
            .iter()
            .map(|sources| NameSource {
                profile: sources.profile().name.clone(),
                graph: sources.graph().clone(),
            })
            .collect();
        // It ends by itself once no profile may read users: that is said on screen, not a death.
        collector.tasks.spawn(
            "name resolver",
            None,
            Ends::WhenDone,
            names::resolve(
                names,
                name_queue,
                name_sources,
                collector.shutdown.child_token(),
            ),
        );
        Ok(collector)
    }

    /// The directory of users' display names the console's feed and activity views use.
    pub fn user_names(&self) -> UserNames {
        self.names.clone()
    }

    /// The store the collector owns.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A new subscription to everything the collector does from now on.
    pub fn updates(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    /// The latest verdict of every profile, answered from memory: what `pilotwatch check`,
    /// `/metrics` and the TUI read. A profile appears once its first diagnosis round ran.
    pub fn verdicts(&self) -> Arc<dyn VerdictSource> {
        Arc::new(self.verdicts.clone())
    }

    /// Every collector task that died (panicked, or returned before shutdown), oldest first:
    /// what snapshots, `check` and the control socket report. Empty while all is well.
    pub fn dead_tasks(&self) -> Vec<TaskDeath> {
        self.tasks.board().deaths()
    }

    /// The task board itself, for consumers that outlive a borrow of the collector (the
    /// embedded console reads it on every snapshot).
    pub fn task_board(&self) -> TaskBoard {
        self.tasks.board().clone()
    }

    /// Spawns `work` as a collector task named `task` (of `profile`) under the same
    /// supervision as the collector's own: if it panics, or returns before shutdown, the death
    /// is recorded, logged and announced. It is aborted at shutdown if still running.
    pub fn spawn_supervised(
        &mut self,
        task: &'static str,
        profile: Option<&str>,
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        self.tasks.spawn(task, profile, Ends::AtShutdown, work);
    }

    /// Where each profile's receiver listens, in profile order.
    pub fn receiver_addresses(&self) -> Vec<std::net::SocketAddr> {
        self.receivers.iter().map(|r| r.local_addr).collect()
    }

    /// Rotates `profile`'s encryption key pair and tells its keeper at once, which moves every
    /// subscription to the new certificate (delete, create, backfill the gap; Graph cannot
    /// PATCH a certificate). The previous key stays loaded, so notifications already encrypted
    /// for it still decrypt. The control socket's "rotate certificate" command calls this.
    pub async fn rotate_certificate(
        &self,
        profile: &str,
    ) -> Result<CertificateRotation, RotationError> {
        let Some(entry) = self.keys.iter().find(|entry| entry.profile == profile) else {
            return Err(RotationError::UnknownProfile {
                name: profile.to_owned(),
                known: self
                    .keys
                    .iter()
                    .map(|entry| entry.profile.clone())
                    .collect(),
            });
        };
        let rotation = rotate_keys(
            &entry.profile,
            Arc::clone(&entry.keys),
            entry.certificate_path.clone(),
        )
        .await?;
        tracing::info!(
            profile = %rotation.profile,
            previous = %rotation.previous_id,
            current = %rotation.current_id,
            "encryption certificate rotated; the keeper moves the subscriptions to it"
        );
        entry.keeper.wake();
        Ok(rotation)
    }

    /// Stops everything: receivers finish the requests in flight (each acknowledged batch is
    /// already committed), keepers and pollers stop at their next await, and a last commit
    /// writes what they recorded.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        for receiver in self.receivers.drain(..) {
            receiver.shutdown().await;
        }
        self.tasks.join_all().await;
        if let Err(error) = self.store.commit().await {
            tracing::error!(%error, "the last commit before exit failed");
        }
    }

    /// Starts each profile's credential probe and the diagnosis round.
    fn start_diagnosis(
        &mut self,
        clock: &SharedClock,
        options: &CollectorOptions,
        budgets: &RateBudgets,
        started: chrono::DateTime<chrono::Utc>,
    ) {
        let wake = Arc::new(Notify::new());
        for sources in &self.sources {
            let profile = sources.profile().clone();
            let budget = budgets.for_tenant(&profile.tenant);
            let probe = facts::credentials::Probe {
                profile,
                clock: clock.clone(),
                budget,
                slot: sources.credentials_slot(),
                every: options.diagnosis.probe_every,
                wake: Arc::clone(&wake),
            };
            facts::credentials::spawn_probe(&mut self.tasks, probe, self.shutdown.child_token());
        }
        let round = DiagnosisRound {
            sources: self.sources.clone(),
            store: self.store.clone(),
            retention: options.store.retention.clone(),
            clock: clock.clone(),
            since: started,
            board: self.verdicts.clone(),
            updates: self.updates.clone(),
            wake,
            tasks: self.tasks.board().clone(),
        };
        facts::spawn_diagnosis(
            &mut self.tasks,
            round,
            options.diagnosis.every,
            self.shutdown.child_token(),
        );
    }
}
