//! The embedded backend: serves a [`CollectorHandle`] from a [`Collector`] running in this
//! process (`pilotwatch demo`, and `pilotwatch` when no `serve` is running). Each request is
//! answered in a task of its own, store reads on the blocking pool, so a slow activity count
//! never delays a snapshot. The backend stops when the collector shuts down (its update channel
//! closes) or when every handle is dropped.
//!
//! It owns what the collector does not know ([`EmbeddedOptions`]: the profiles as configured, the
//! simulator it may be pointed at, where the configuration lives, the clock) and the answers built
//! from the store: [`snapshot`], [`feed`], [`activity`], [`latency`], [`export`], and the
//! [`commands`] — recorded in the audit trail when the options name the operator (a console running
//! its collector embedded has no socket in front to do it). Depends on the collector's public
//! surface, the store, the credential probe and `commands::creds`; never on the terminal, the
//! receiver's internals or `sim` (the simulator is reached over HTTP, like any other client would).

pub mod activity;
pub mod commands;
pub mod export;
pub mod feed;
pub mod latency;
mod percentiles;
mod profiles;
mod scenario;
pub mod snapshot;
mod subscriptions;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::audit::{self, Operator};
use super::{
    CollectorHandle, Command, CommandOutcome, Connection, ConsoleError, Request, SimulationInfo,
};
use crate::clock::SharedClock;
use crate::collector::keeper::KeeperOptions;
use crate::collector::names::UserNames;
use crate::collector::supervise::Ends;
use crate::collector::update::Update;
use crate::collector::{Collector, OrderDesk, TaskBoard};
use crate::config::{Paths, Profile};
use crate::diagnose::VerdictSource;
use crate::graph::http::build_http_client;
use crate::store::{Store, StoreError};

/// Updates buffered for the views before the slowest starts missing some (it then asks for a
/// fresh snapshot).
const UPDATE_BUFFER: usize = 4096;

/// The simulator the collector talks to, when it does.
#[derive(Debug, Clone)]
pub struct SimulationTarget {
    /// The simulator's base URL (`http://127.0.0.1:port`); its control API is under `/_sim/`.
    pub base_url: Url,
    /// The scenario playing when the backend starts.
    pub scenario: String,
    /// Every scenario it can switch to.
    pub scenarios: Vec<String>,
    /// Simulated seconds per real second.
    pub speed: f64,
}

/// What the backend needs that the collector does not know.
#[derive(Debug, Clone)]
pub struct EmbeddedOptions {
    /// The profiles the collector runs, in configuration order.
    pub profiles: Vec<Profile>,
    /// Present when the collector runs against the simulator.
    pub simulation: Option<SimulationTarget>,
    /// The configuration file and data directory profile edits write to; `None` refuses
    /// them (the demo's profile is not the operator's configuration).
    pub paths: Option<Paths>,
    /// The collector's clock.
    pub clock: SharedClock,
    /// The keeper's timings, as the collector was started with: the renewal rule of the
    /// subscription rows.
    pub keeper: KeeperOptions,
    /// When the collector started, by its clock.
    pub started_at: DateTime<Utc>,
    /// Who sends this handle's commands, when the handle records them in the audit trail
    /// itself: a console running its collector embedded. `None` when something in front of
    /// it records them (the control socket names each client by its peer credentials).
    pub audited_as: Option<Operator>,
}

impl EmbeddedOptions {
    /// Options for `profiles` under `clock`, started now, with the keeper's default timings,
    /// no simulator and profile edits refused.
    pub fn new(profiles: Vec<Profile>, clock: SharedClock) -> Self {
        Self {
            profiles,
            simulation: None,
            paths: None,
            started_at: clock.now(),
            clock,
            keeper: KeeperOptions::default(),
            audited_as: None,
        }
    }

    /// Against this simulator.
    pub fn with_simulation(mut self, target: SimulationTarget) -> Self {
        self.simulation = Some(target);
        self
    }

    /// Profile edits go to these files.
    pub fn with_paths(mut self, paths: Paths) -> Self {
        self.paths = Some(paths);
        self
    }

    /// Every command is recorded in the audit trail as sent by `operator`.
    pub fn audited_as(mut self, operator: Operator) -> Self {
        self.audited_as = Some(operator);
        self
    }
}

/// What every request's task shares.
struct Backend {
    store: Store,
    /// Where renew, reauthorize, recreate and backfill go.
    orders: OrderDesk,
    verdicts: Arc<dyn VerdictSource>,
    /// Display names of the users the feed and activity show.
    names: UserNames,
    /// The collector's dead tasks, carried by every snapshot.
    tasks: TaskBoard,
    options: EmbeddedOptions,
    /// The scenario now playing, as this backend last switched it.
    scenario: Mutex<Option<String>>,
    /// The client the simulator's control API is called with; why there is none, if so.
    http: Result<reqwest::Client, String>,
}

impl Backend {
    fn simulation(&self) -> Option<SimulationInfo> {
        let target = self.options.simulation.as_ref()?;
        let scenario = self
            .scenario
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| target.scenario.clone());
        Some(SimulationInfo {
            scenario,
            scenarios: target.scenarios.clone(),
            speed: target.speed,
        })
    }

    fn profile(&self, name: &str) -> Result<&Profile, ConsoleError> {
        self.options
            .profiles
            .iter()
            .find(|profile| profile.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self
                    .options
                    .profiles
                    .iter()
                    .map(|profile| profile.name.as_str())
                    .collect();
                ConsoleError::Refused(format!(
                    "no profile named {name:?}; the collector runs {}",
                    known.join(", ")
                ))
            })
    }
}

/// Serves a handle on `collector`: spawns the task answering its requests and forwarding its
/// updates, and returns the first handle (clone it for more). Call from within a Tokio runtime.
pub fn serve(collector: &Collector, options: EmbeddedOptions) -> CollectorHandle {
    let (updates, _) = broadcast::channel(UPDATE_BUFFER);
    let (handle, requests) = CollectorHandle::new(updates.clone(), Connection::Embedded);
    let stop = CancellationToken::new();
    // Supervised like the collector's own tasks: a panic here is on the task board (and, for
    // the requests, every pending reply is dropped, which the view shows as "not answering").
    let board = collector.task_board();
    tokio::spawn(board.supervised(
        "console update forwarding",
        None,
        Ends::WhenDone,
        forward_updates(collector.updates(), updates, stop.clone()),
    ));
    let backend = Arc::new(Backend {
        store: collector.store().clone(),
        orders: collector.orders(),
        verdicts: collector.verdicts(),
        names: collector.user_names(),
        tasks: board.clone(),
        scenario: Mutex::new(None),
        http: build_http_client(None).map_err(|error| error.to_string()),
        options,
    });
    tokio::spawn(board.supervised(
        "console requests",
        None,
        Ends::WhenDone,
        answer_requests(backend, requests, stop),
    ));
    handle
}

/// Copies the collector's updates to the views' channel until the collector's closes (it shut
/// down) or the backend stops. A lag here is the views' lag: they see it as theirs and
/// re-read a snapshot.
async fn forward_updates(
    mut from: broadcast::Receiver<Update>,
    to: broadcast::Sender<Update>,
    stop: CancellationToken,
) {
    loop {
        let update = tokio::select! {
            () = stop.cancelled() => return,
            update = from.recv() => update,
        };
        match update {
            // No view listening is not an error: one may subscribe later.
            Ok(update) => drop(to.send(update)),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::debug!(missed, "the console's update forwarding lagged");
            }
            Err(broadcast::error::RecvError::Closed) => {
                stop.cancel();
                return;
            }
        }
    }
}

async fn answer_requests(
    backend: Arc<Backend>,
    mut requests: mpsc::Receiver<Request>,
    stop: CancellationToken,
) {
    loop {
        let request = tokio::select! {
            () = stop.cancelled() => return,
            request = requests.recv() => request,
        };
        let Some(request) = request else {
            // Every handle is gone.
            stop.cancel();
            return;
        };
        let backend = Arc::clone(&backend);
        match request {
            Request::Snapshot(reply) => answer(reply, snapshot::snapshot(backend)),
            Request::Feed(query, reply) => answer(reply, feed::page(backend, query)),
            Request::Activity(filter, reply) => answer(reply, activity::activity(backend, filter)),
            Request::Latency(query, reply) => answer(reply, latency::latency(backend, query)),
            Request::Command(command, reply) => answer(reply, audited(backend, command)),
        }
    }
}

/// Runs `command`, recording it in the audit trail when this handle is its own recorder.
async fn audited(backend: Arc<Backend>, command: Command) -> Result<CommandOutcome, ConsoleError> {
    let Some(operator) = backend.options.audited_as.clone() else {
        return commands::run(backend, command).await;
    };
    let trail = backend.store.audit();
    let clock = backend.options.clock.clone();
    let result = commands::run(backend, command.clone()).await;
    audit::record(&trail, clock.now(), &operator, &command, &result).await;
    result
}

/// Runs `work` in a task of its own and sends its answer (a view that stopped waiting is not
/// an error).
fn answer<T: Send + 'static>(
    reply: oneshot::Sender<Result<T, ConsoleError>>,
    work: impl Future<Output = Result<T, ConsoleError>> + Send + 'static,
) {
    tokio::spawn(async move {
        drop(reply.send(work.await));
    });
}

/// Runs a store read on the blocking pool.
async fn read_store<T: Send + 'static>(
    backend: &Arc<Backend>,
    read: impl FnOnce(&Backend) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, ConsoleError> {
    let backend = Arc::clone(backend);
    tokio::task::spawn_blocking(move || read(&backend))
        .await
        .map_err(|error| ConsoleError::Failed(format!("the store read stopped: {error}")))?
        .map_err(store_failure)
}

fn store_failure(error: StoreError) -> ConsoleError {
    ConsoleError::Failed(format!("reading the store: {error}"))
}
