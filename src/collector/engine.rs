//! The running collector: one store, and per profile a receiver, a subscription keeper and a
//! poller, wired by channels (lifecycle signals receiver → keeper, gaps keeper → poller) and all
//! reporting on one [`Update`] broadcast. Built by `pilotwatch serve` and, later, the TUI's
//! embedded mode; the simulator is just another Graph to it (profiles point at it).
//!
//! Start order per profile matters: the receiver binds first, so that a profile without a public
//! notification URL but with a loopback bind (the simulator's case) can tell Graph the address it
//! actually got, and so that the validation handshake finds it listening when the keeper creates
//! the subscription. Depends on config, secret, graph, store, receiver and the keeper/poller; never
//! on `sim` or `tui`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::keeper::{Keeper, KeeperOptions};
use super::poller::{PollOptions, Poller};
use super::ports::ProfileLedger;
use super::update::Update;
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::auth::TokenProvider;
use crate::graph::http::{
    EXPORT_REQUESTS_PER_SECOND, GraphClient, RateBudgets, RetryPolicy, build_http_client,
};
use crate::receiver::{
    EncryptionKeys, ProcessedBatch, Receiver, ReceiverConfig, RunningReceiver, Verifier,
};
use crate::secret::COMMAND_TIMEOUT;
use crate::store::{Store, StoreOptions};

/// Updates buffered for slow subscribers before they start missing some (they are told so by
/// `broadcast`'s lag error and can re-read the store).
const UPDATE_BUFFER: usize = 4096;

/// Lifecycle signals and gap requests waiting to be handled.
const SIGNAL_BUFFER: usize = 64;

/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(15 * 60);

/// Where the receiver listens when a profile names no `receiver_bind`.
const DEFAULT_RECEIVER_BIND: &str = "127.0.0.1:7781";

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
}

impl CollectorOptions {
    /// Defaults for a data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            store: StoreOptions::default(),
            keeper: KeeperOptions::default(),
            poll: PollOptions::default(),
        }
    }
}

/// Why the collector could not start. Nothing keeps running after one of these.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The store could not be opened (another collector owns it, a newer schema, a disk error).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A profile's secret could not be loaded.
    #[error("profile {profile}: {source}")]
    Secret {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::secret::SecretError,
    },
    /// A profile's HTTP client could not be built (its CA file).
    #[error("profile {profile}: {source}")]
    Transport {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::graph::http::TransportError,
    },
    /// A profile's authority cannot carry the token or keys path.
    #[error("profile {profile}: the authority URL cannot be used: {detail}")]
    Authority {
        /// The profile.
        profile: String,
        /// Why.
        detail: String,
    },
    /// The encryption key pair for rich notifications could not be loaded or created.
    #[error("profile {profile}: {source}")]
    Keys {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::receiver::KeyError,
    },
    /// The notification receiver could not start (the address is taken, bad TLS files).
    #[error("profile {profile}: {source}")]
    Receiver {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::receiver::ReceiverError,
    },
    /// There is nothing to collect.
    #[error("no profiles configured; add one with `pilotwatch creds add`")]
    NoProfiles,
    /// The blocking task opening the store stopped without an answer.
    #[error("opening the store stopped unexpectedly: {0}")]
    Task(String),
}

/// A started collector.
pub struct Collector {
    store: Store,
    updates: broadcast::Sender<Update>,
    receivers: Vec<RunningReceiver>,
    tasks: JoinSet<()>,
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
        let store_dir = options.data_dir.join("store");
        let store = open_store(store_dir, options.store.clone(), clock.clone()).await?;
        let (updates, _) = broadcast::channel(UPDATE_BUFFER);
        let mut collector = Collector {
            store,
            updates,
            receivers: Vec::new(),
            tasks: JoinSet::new(),
            shutdown: CancellationToken::new(),
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
        collector.spawn_retention(clock);
        collector.spawn_committer();
        Ok(collector)
    }

    /// The store the collector owns.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A new subscription to everything the collector does from now on.
    pub fn updates(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    /// Where each profile's receiver listens, in profile order.
    pub fn receiver_addresses(&self) -> Vec<std::net::SocketAddr> {
        self.receivers.iter().map(|r| r.local_addr).collect()
    }

    /// Stops everything: receivers finish the requests in flight (each acknowledged batch is
    /// already committed), keepers and pollers stop at their next await, and a last commit
    /// writes what they recorded.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        for receiver in self.receivers.drain(..) {
            receiver.shutdown().await;
        }
        while self.tasks.join_next().await.is_some() {}
        if let Err(error) = self.store.commit().await {
            tracing::error!(%error, "the last commit before exit failed");
        }
    }

    async fn start_profile(
        &mut self,
        profile: &Profile,
        clock: &SharedClock,
        options: &CollectorOptions,
        budgets: &RateBudgets,
    ) -> Result<(), CollectorError> {
        let name = profile.name.clone();
        let secret = profile
            .secret
            .load_off_runtime(COMMAND_TIMEOUT)
            .await
            .map_err(|source| CollectorError::Secret {
                profile: name.clone(),
                source,
            })?;
        let http = build_http_client(profile.ca_file.as_deref()).map_err(|source| {
            CollectorError::Transport {
                profile: name.clone(),
                source,
            }
        })?;
        let tokens = TokenProvider::for_profile(profile, secret, http.clone(), clock.clone())
            .map_err(|error| CollectorError::Authority {
                profile: name.clone(),
                detail: error.to_string(),
            })?;
        let graph = GraphClient::new(
            profile.cloud.graph_root(),
            tokens,
            http.clone(),
            clock.clone(),
            budgets.for_tenant(&profile.tenant),
            RetryPolicy::default(),
        );
        let keys = Arc::new(load_keys(profile, &options.data_dir, clock.clone()).await?);
        let verifier =
            Verifier::for_profile(profile, Arc::clone(&keys), http).map_err(|error| {
                CollectorError::Authority {
                    profile: name.clone(),
                    detail: error.to_string(),
                }
            })?;

        let (lifecycle_tx, lifecycle_rx) = mpsc::channel(SIGNAL_BUFFER);
        let receiver = Receiver::start(
            receiver_config(profile)?,
            Arc::new(ProfileLedger::for_profile(self.store.clone(), profile)),
            Arc::new(verifier),
            lifecycle_tx,
            clock.clone(),
            self.shutdown.child_token(),
        )
        .await
        .map_err(|source| CollectorError::Receiver {
            profile: name.clone(),
            source,
        })?;
        let profile = with_loopback_urls(profile, &receiver);
        tracing::info!(
            profile = %name,
            listen = %receiver.local_addr,
            notification_url = profile.notification_url.as_ref().map_or("(none)", Url::as_str),
            "receiver listening"
        );
        self.spawn_forwarding(receiver.processed());
        self.receivers.push(receiver);

        let (gaps_tx, gaps_rx) = mpsc::channel(SIGNAL_BUFFER);
        let keeper = Keeper::new(
            profile.clone(),
            graph.clone(),
            self.store.clone(),
            keys,
            clock.clone(),
            self.updates.clone(),
            gaps_tx,
        )
        .with_options(options.keeper.clone());
        let poller = Poller::new(
            profile,
            graph,
            self.store.clone(),
            clock.clone(),
            self.updates.clone(),
            options.poll.clone(),
        );
        self.tasks
            .spawn(keeper.run(lifecycle_rx, self.shutdown.child_token()));
        self.tasks
            .spawn(poller.run(gaps_rx, self.shutdown.child_token()));
        Ok(())
    }

    /// The receiver's processed batches as updates: each notification, and each interaction
    /// that entered the feed.
    fn spawn_forwarding(&mut self, mut processed: broadcast::Receiver<ProcessedBatch>) {
        let updates = self.updates.clone();
        let shutdown = self.shutdown.child_token();
        self.tasks.spawn(async move {
            loop {
                let batch = tokio::select! {
                    () = shutdown.cancelled() => return,
                    batch = processed.recv() => batch,
                };
                match batch {
                    Ok(batch) => {
                        // No subscriber is not an error: the updates are for whoever listens.
                        for record in batch.notifications {
                            let _ = updates.send(Update::Notification(record));
                        }
                        for record in batch.interactions {
                            let _ = updates.send(Update::Interaction(record));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "update forwarding lagged; the store has them");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// The keeper and poller write through sled without committing (their writes are not
    /// acknowledgements to anyone); this commits after each of their actions, so a crash right
    /// after Graph created a subscription does not lose its clientState (which would cost a
    /// delete, a new subscription and a backfill on restart).
    fn spawn_committer(&mut self) {
        let mut updates = self.updates.subscribe();
        let store = self.store.clone();
        let shutdown = self.shutdown.child_token();
        self.tasks.spawn(async move {
            loop {
                let update = tokio::select! {
                    () = shutdown.cancelled() => return,
                    update = updates.recv() => update,
                };
                let commit = match update {
                    Ok(Update::Keeper(_) | Update::Lifecycle(_) | Update::Poll(_)) => true,
                    Ok(_) => false,
                    Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if commit && let Err(error) = store.commit().await {
                    tracing::error!(%error, "committing the keeper's and poller's writes failed");
                }
            }
        });
    }

    fn spawn_retention(&mut self, clock: SharedClock) {
        let store = self.store.clone();
        let shutdown = self.shutdown.child_token();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(clock.real_duration(chrono::Duration::from_std(RETENTION_EVERY).unwrap_or_default())) => {}
                }
                let store = store.clone();
                match tokio::task::spawn_blocking(move || store.apply_retention()).await {
                    Ok(Ok(report)) => tracing::debug!(?report, "retention"),
                    Ok(Err(error)) => tracing::warn!(%error, "retention failed"),
                    Err(error) => tracing::warn!(%error, "retention stopped"),
                }
            }
        });
    }
}

/// Opens the store off the runtime (sled reads its log on open).
async fn open_store(
    dir: PathBuf,
    options: StoreOptions,
    clock: SharedClock,
) -> Result<Store, CollectorError> {
    let store = tokio::task::spawn_blocking(move || Store::open(&dir, options, clock))
        .await
        .map_err(|error| CollectorError::Task(error.to_string()))??;
    if let Some(moved) = store.moved_aside() {
        tracing::error!(
            moved_to = %moved.display(),
            "the store was corrupt: it was moved aside and a fresh one started; the poller's \
             backfill refills it"
        );
    }
    Ok(store)
}

/// The profile's key pair for rich notifications: its configured files, else
/// `DATA_DIR/keys/NAME.{crt,key}`, generated on first use.
async fn load_keys(
    profile: &Profile,
    data_dir: &Path,
    clock: SharedClock,
) -> Result<EncryptionKeys, CollectorError> {
    let keys_dir = data_dir.join("keys");
    let certificate = profile
        .encryption_certificate
        .clone()
        .unwrap_or_else(|| keys_dir.join(format!("{}.crt", profile.name)));
    let key = profile
        .encryption_key
        .clone()
        .unwrap_or_else(|| keys_dir.join(format!("{}.key", profile.name)));
    let name = profile.name.clone();
    tokio::task::spawn_blocking(move || EncryptionKeys::load_or_generate(&certificate, &key, clock))
        .await
        .map_err(|error| CollectorError::Task(error.to_string()))?
        .map_err(|source| CollectorError::Keys {
            profile: name,
            source,
        })
}

/// The receiver for a profile: its bind address, and the paths of its notification URLs (so a
/// proxy in front may forward them unchanged).
fn receiver_config(profile: &Profile) -> Result<ReceiverConfig, CollectorError> {
    let bind = match profile.receiver_bind {
        Some(bind) => bind,
        None => DEFAULT_RECEIVER_BIND
            .parse()
            .map_err(|_| CollectorError::Authority {
                profile: profile.name.clone(),
                detail: "the default receiver address does not parse".to_owned(),
            })?,
    };
    let mut config = ReceiverConfig::new(profile.name.clone(), bind);
    if let Some(url) = &profile.notification_url {
        config.notification_path = url.path().to_owned();
    }
    if let Some(url) = &profile.lifecycle_notification_url {
        config.lifecycle_path = url.path().to_owned();
    }
    Ok(config)
}

/// A profile without notification URLs whose receiver listens on loopback: only a Graph on
/// this machine (the simulator) can reach it, so it is told the address the receiver got.
fn with_loopback_urls(profile: &Profile, receiver: &RunningReceiver) -> Profile {
    let mut profile = profile.clone();
    if profile.notification_url.is_none() && receiver.local_addr.ip().is_loopback() {
        let config = ReceiverConfig::new(profile.name.clone(), receiver.local_addr);
        profile.notification_url = receiver.url("http", &config.notification_path).parse().ok();
        if profile.lifecycle_notification_url.is_none() {
            profile.lifecycle_notification_url =
                receiver.url("http", &config.lifecycle_path).parse().ok();
        }
    }
    profile
}
