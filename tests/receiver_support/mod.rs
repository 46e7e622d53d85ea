//! Shared by `tests/receiver.rs` and `tests/receiver_negative.rs`: an in-memory [`Ledger`]
//! with switches for a failing, slow or held commit, a failing removal and a panicking commit
//! (which the sled store cannot be made to do on demand), that signals every `put` so tests
//! wait for events rather than sleep, and keeps each decrypted interaction whole, to prove
//! decryption intact; a
//! simulator scenario with near-instant delivery; and helpers that start a receiver for the
//! simulator's app on any ledger — the in-memory one or the real store — and subscribe it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::ports::ProfileLedger;
use pilotwatch::graph::model::AiInteraction;
use pilotwatch::receiver::{
    EncryptionKeys, Endpoint, Event, InteractionRecord, Ledger, LifecycleSignal,
    NotificationRecord, RawBatch, Receiver, ReceiverConfig, RunningReceiver, Verifier, keys_url,
};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::{ClientState, InteractionSource, SubscriptionRecord, SubscriptionState};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::common::TestSim;

/// `healthy`, with notifications following their interaction within milliseconds and no
/// background activity or lifecycle noise.
pub const FAST: &str = r#"
name = "receiver-test"
summary = "healthy, fast deterministic delivery, no background activity"
[activity]
pairs_per_hour = 0.0
history_days = 0
[lifecycle]
reauthorization_required = false
[delivery]
latency_median = "20ms"
latency_sigma = 0.0
tail_fraction = 0.0
"#;

/// The client state the tests' subscriptions carry.
pub const CLIENT_STATE: &str = "receiver-test-client-state-7f3a";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MemoryError(pub String);

#[derive(Default)]
pub struct Inner {
    pub next_id: u64,
    pub inbox: BTreeMap<u64, RawBatch>,
    /// Inbox ids written but not yet committed.
    pub uncommitted: HashSet<u64>,
    /// Every body ever put, in order (what the HTTP side stored).
    pub bodies: Vec<(Endpoint, Vec<u8>)>,
    pub client_states: BTreeMap<String, String>,
    pub interactions: BTreeMap<String, AiInteraction>,
    pub latencies: Vec<u64>,
    pub notifications: Vec<NotificationRecord>,
    pub lifecycle: Vec<Event>,
    /// How many times each subscription's `clientState` was looked up (one per screening of a
    /// batch naming it).
    pub lookups: BTreeMap<String, usize>,
}

/// The in-memory ledger.
pub struct MemoryLedger {
    pub inner: Mutex<Inner>,
    pub fail_commit: AtomicBool,
    pub fail_put: AtomicBool,
    pub commit_delay: Mutex<Option<Duration>>,
    /// While set, every commit waits for a permit of this semaphore (fair: in call order).
    pub commit_gate: Mutex<Option<Arc<Semaphore>>>,
    /// Inbox ids whose removal fails (a storage error that persists for that batch).
    pub fail_remove: Mutex<BTreeSet<u64>>,
    /// Commits made when nothing the HTTP side put is waiting (the processor's) panic.
    pub panic_processor_commit: AtomicBool,
    /// How many bodies have been put.
    pub puts: watch::Sender<usize>,
}

impl Default for MemoryLedger {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            fail_commit: AtomicBool::new(false),
            fail_put: AtomicBool::new(false),
            commit_delay: Mutex::new(None),
            commit_gate: Mutex::new(None),
            fail_remove: Mutex::default(),
            panic_processor_commit: AtomicBool::new(false),
            puts: watch::channel(0).0,
        }
    }
}

impl MemoryLedger {
    /// Commits wait until released with [`MemoryLedger::release_commits`].
    pub fn hold_commits(&self) {
        *self.commit_gate.lock().unwrap() = Some(Arc::new(Semaphore::new(0)));
    }

    /// Lets every waiting and future commit through.
    pub fn open_commits(&self) {
        if let Some(gate) = self.commit_gate.lock().unwrap().take() {
            gate.add_permits(Semaphore::MAX_PERMITS / 2);
        }
    }

    /// Waits until `count` bodies have been put (the request holds its permit by then).
    pub async fn wait_puts(&self, count: usize) {
        let mut puts = self.puts.subscribe();
        tokio::time::timeout(Duration::from_secs(5), puts.wait_for(|n| *n >= count))
            .await
            .expect("the puts happen in time")
            .unwrap();
    }

    /// Puts a committed batch directly, as if a previous run had acknowledged it.
    pub fn put_committed(
        &self,
        endpoint: Endpoint,
        received_at: DateTime<Utc>,
        body: &[u8],
    ) -> u64 {
        let id = self.put(PROFILE, endpoint, received_at, body).unwrap();
        self.lock().uncommitted.clear();
        id
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    pub fn register(&self, subscription_id: &str, client_state: &str) {
        self.lock()
            .client_states
            .insert(subscription_id.to_owned(), client_state.to_owned());
    }

    pub fn notifications(&self) -> Vec<NotificationRecord> {
        self.lock().notifications.clone()
    }

    pub fn interaction_count(&self) -> usize {
        self.lock().interactions.len()
    }

    /// Waits until `probe` holds for the ledger, or panics after `limit`.
    pub async fn wait_for(&self, what: &str, limit: Duration, probe: impl Fn(&Inner) -> bool) {
        let deadline = Instant::now() + limit;
        loop {
            if probe(&self.lock()) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Ledger for MemoryLedger {
    type Error = MemoryError;

    fn put(
        &self,
        profile: &str,
        endpoint: Endpoint,
        received_at: DateTime<Utc>,
        body: &[u8],
    ) -> Result<u64, MemoryError> {
        if self.fail_put.load(Ordering::SeqCst) {
            return Err(MemoryError("put failed (test)".into()));
        }
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        inner.inbox.insert(
            id,
            RawBatch {
                id,
                profile: profile.to_owned(),
                endpoint,
                received_at,
                body: body.to_vec(),
            },
        );
        inner.uncommitted.insert(id);
        inner.bodies.push((endpoint, body.to_vec()));
        let count = inner.bodies.len();
        drop(inner);
        self.puts.send_replace(count);
        Ok(id)
    }

    async fn commit(&self) -> Result<(), MemoryError> {
        if self.panic_processor_commit.load(Ordering::SeqCst) && self.lock().uncommitted.is_empty()
        {
            panic!("the processor's commit panics (test)");
        }
        let gate = self.commit_gate.lock().unwrap().clone();
        if let Some(gate) = gate {
            gate.acquire().await.unwrap().forget();
        }
        let delay = *self.commit_delay.lock().unwrap();
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        if self.fail_commit.load(Ordering::SeqCst) {
            return Err(MemoryError("commit failed (test)".into()));
        }
        self.lock().uncommitted.clear();
        Ok(())
    }

    fn pending(&self, after: Option<u64>, limit: usize) -> Result<Vec<RawBatch>, MemoryError> {
        let inner = self.lock();
        // Only what was committed is visible to the processor, as after a crash.
        Ok(inner
            .inbox
            .range(after.map_or(0, |after| after.saturating_add(1))..)
            .map(|(_, batch)| batch)
            .filter(|batch| !inner.uncommitted.contains(&batch.id))
            .take(limit)
            .cloned()
            .collect())
    }

    fn remove(&self, id: u64) -> Result<(), MemoryError> {
        if self.fail_remove.lock().unwrap().contains(&id) {
            return Err(MemoryError(format!("cannot remove batch {id} (test)")));
        }
        self.lock().inbox.remove(&id);
        Ok(())
    }

    fn client_state(&self, subscription_id: &str) -> Result<Option<SecretString>, MemoryError> {
        let mut inner = self.lock();
        *inner.lookups.entry(subscription_id.to_owned()).or_default() += 1;
        Ok(inner
            .client_states
            .get(subscription_id)
            .map(|state| SecretString::from(state.clone())))
    }

    fn insert_interaction(
        &self,
        _profile: &str,
        interaction: &AiInteraction,
        seen_at: DateTime<Utc>,
    ) -> Result<Option<InteractionRecord>, MemoryError> {
        let mut inner = self.lock();
        if inner.interactions.contains_key(&interaction.id) {
            return Ok(None);
        }
        inner
            .interactions
            .insert(interaction.id.clone(), interaction.clone());
        let record = InteractionRecord::from_graph(
            interaction,
            InteractionSource::Notification,
            seen_at,
            false,
        )
        .map_err(|error| MemoryError(error.to_string()))?;
        Ok(Some(record))
    }

    fn record_latency(&self, _at: DateTime<Utc>, latency_ms: u64) -> Result<(), MemoryError> {
        self.lock().latencies.push(latency_ms);
        Ok(())
    }

    fn append_notification(&self, record: &NotificationRecord) -> Result<(), MemoryError> {
        self.lock().notifications.push(record.clone());
        Ok(())
    }

    fn append_lifecycle(&self, event: &Event) -> Result<(), MemoryError> {
        self.lock().lifecycle.push(event.clone());
        Ok(())
    }
}

/// Where a test registers a subscription's `clientState`, as the keeper would.
pub trait Registry {
    fn register(&self, subscription_id: &str, client_state: &str);
}

impl Registry for MemoryLedger {
    fn register(&self, subscription_id: &str, client_state: &str) {
        MemoryLedger::register(self, subscription_id, client_state);
    }
}

impl Registry for ProfileLedger {
    fn register(&self, subscription_id: &str, client_state: &str) {
        let now = chrono::Utc::now();
        self.store()
            .subscriptions()
            .put(&SubscriptionRecord {
                id: subscription_id.to_owned(),
                profile: PROFILE.to_owned(),
                resource: "/copilot/interactionHistory/getAllEnterpriseInteractions".to_owned(),
                expires_at: now + chrono::Duration::hours(48),
                created_at: now,
                client_state: ClientState::new(client_state),
                notification_url: String::new(),
                lifecycle_url: None,
                certificate_id: None,
                state: SubscriptionState::Active,
                last_renewed_at: None,
                last_reauthorized_at: None,
            })
            .unwrap();
    }
}

/// The profile every test receiver serves.
pub const PROFILE: &str = "test";

/// A receiver for the simulator's app, with its own ledger and keys.
pub struct Harness<L = MemoryLedger> {
    pub ledger: Arc<L>,
    /// What the processor judges with (its JWKS cache shows whether keys were fetched).
    pub verifier: Arc<Verifier>,
    pub keys: Arc<EncryptionKeys>,
    pub receiver: RunningReceiver,
    pub lifecycle: mpsc::Receiver<LifecycleSignal>,
    pub base: String,
    pub http: reqwest::Client,
    pub shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

pub async fn sim() -> TestSim {
    TestSim::start_with(SimOptions::loopback(
        Scenario::parse(FAST, "inline").unwrap(),
    ))
    .await
}

/// Starts a receiver for `sim`'s app; `tweak` adjusts the configuration.
pub async fn harness(sim: &TestSim, tweak: impl FnOnce(&mut ReceiverConfig)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let clock: SharedClock = sim.sim.state.clock.clone();
    let keys = Arc::new(
        EncryptionKeys::load_or_generate(
            &dir.path().join("encryption.crt"),
            &dir.path().join("encryption.key"),
            clock.clone(),
        )
        .unwrap(),
    );
    harness_with_keys(sim, keys, dir, tweak).await
}

pub async fn harness_with_keys(
    sim: &TestSim,
    keys: Arc<EncryptionKeys>,
    dir: tempfile::TempDir,
    tweak: impl FnOnce(&mut ReceiverConfig),
) -> Harness {
    harness_on(sim, Arc::new(MemoryLedger::default()), keys, dir, tweak).await
}

/// Starts a receiver for `sim`'s app that stores through `ledger`.
pub async fn harness_on<L: Ledger>(
    sim: &TestSim,
    ledger: Arc<L>,
    keys: Arc<EncryptionKeys>,
    dir: tempfile::TempDir,
    tweak: impl FnOnce(&mut ReceiverConfig),
) -> Harness<L> {
    let clock: SharedClock = sim.sim.state.clock.clone();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let verifier = Arc::new(Verifier::new(
        sim.sim.state.tenant.app.client_id.clone(),
        keys_url(&url::Url::parse(&sim.base).unwrap()).unwrap(),
        Arc::clone(&keys),
        http.clone(),
    ));
    let mut config = ReceiverConfig::new(PROFILE, "127.0.0.1:0".parse().unwrap());
    tweak(&mut config);
    let (lifecycle_tx, lifecycle) = mpsc::channel(16);
    let shutdown = CancellationToken::new();
    let receiver = Receiver::start(
        config,
        Arc::clone(&ledger),
        Arc::clone(&verifier),
        lifecycle_tx,
        clock,
        shutdown.clone(),
    )
    .await
    .unwrap();
    let base = format!("http://{}", receiver.local_addr);
    Harness {
        ledger,
        verifier,
        keys,
        receiver,
        lifecycle,
        base,
        http,
        shutdown,
        _dir: dir,
    }
}

impl<L: Registry> Harness<L> {
    /// Creates a rich tenant-wide subscription pointing at this receiver and registers its
    /// client state in the ledger, as the keeper would; returns the subscription id.
    pub async fn subscribe(&self, sim: &TestSim) -> String {
        let id = self.subscribe_unregistered(sim).await;
        self.ledger.register(&id, CLIENT_STATE);
        id
    }
}

impl<L> Harness<L> {
    /// Creates the subscription [`Harness::subscribe`] does without registering it, as if
    /// the keeper's registry write were late; returns its id.
    pub async fn subscribe_unregistered(&self, sim: &TestSim) -> String {
        let expiry = sim.sim.state.now() + chrono::Duration::hours(48);
        let answer = sim
            .http
            .post(sim.url("/v1.0/subscriptions"))
            .bearer_auth(sim.token())
            .json(&json!({
                "changeType": "created",
                "notificationUrl": format!("{}/notify", self.base),
                "lifecycleNotificationUrl": format!("{}/lifecycle", self.base),
                "resource": "/copilot/interactionHistory/getAllEnterpriseInteractions",
                "includeResourceData": true,
                "encryptionCertificate": self.keys.current_certificate_base64(),
                "encryptionCertificateId": self.keys.current_certificate_id(),
                "expirationDateTime": expiry,
                "clientState": CLIENT_STATE,
            }))
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let body: Value = answer.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// POSTs `body` as JSON to `path`; returns the status.
    pub async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> u16 {
        self.http
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json; charset=utf-8")
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

/// A grace for unknown subscriptions short enough for tests: `holds` holds, waits doubling
/// from `first_wait_ms`.
pub fn grace(holds: u32, first_wait_ms: u64) -> impl FnOnce(&mut ReceiverConfig) {
    move |config| {
        config.unknown_subscription_holds = holds;
        config.unknown_subscription_first_wait = Duration::from_millis(first_wait_ms);
    }
}

/// Makes the simulator publish `pairs` prompt/response pairs now; returns them.
pub async fn generate(sim: &TestSim, pairs: u32) -> Vec<Value> {
    let made: Value = sim
        .http
        .post(sim.url("/_sim/interactions"))
        .json(&json!({ "pairs": pairs }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    made["value"].as_array().unwrap().clone()
}
