//! Everything the simulated tenant knows at runtime, shared by its routes and background tasks:
//! the clock, the tenant, the active scenario, signing keys, subscriptions, the ground-truth
//! logs, request budgets, and the outbox the notification pusher drains.
//!
//! Depends on the other `sim` data modules, `clock` and `graph::model`; never on routes.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use chrono::{DateTime, Duration, Utc};
use rand::SeedableRng;
use rand::rngs::StdRng;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::activity::ActivityBook;
use super::ledger::{DeliveryLog, Generated, InteractionLog};
use super::registry::{Registry, SubscriptionRecord};
use super::scenario::{ConfiguredClientId, ConfiguredSecret, Scenario};
use super::signing_keys::SigningKeys;
use super::tenant::Tenant;
use super::throttle::WindowLimiter;
use crate::clock::{Clock, ScaledClock};
use crate::graph::model::LifecycleEvent;
use crate::graph::model::well_known::CHANGE_TRACKING_APP_ID;

/// Work for the notification pusher.
#[derive(Debug, Clone)]
pub enum Outbound {
    /// A new interaction: notify every matching subscription.
    Interaction(Generated),
    /// A lifecycle event for one subscription.
    Lifecycle {
        /// The subscription as it was when the event fired (it may be gone from the registry
        /// by the time the event is delivered, e.g. after `subscriptionRemoved`).
        record: Box<SubscriptionRecord>,
        /// What happened.
        event: LifecycleEvent,
    },
}

/// The scenario in force and when it started (simulated time).
#[derive(Debug, Clone)]
pub struct ActiveScenario {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// When it became active.
    pub since: DateTime<Utc>,
}

/// Shared state of one running simulator.
#[derive(Debug)]
pub struct SimState {
    /// Simulated time (before scenario skew; use [`SimState::now`]).
    pub clock: Arc<ScaledClock>,
    /// The seed everything random starts from.
    pub seed: u64,
    /// The tenant.
    pub tenant: Tenant,
    /// Token-signing keys.
    pub keys: SigningKeys,
    /// Subscriptions.
    pub registry: Mutex<Registry>,
    /// Every generated interaction.
    pub interactions: RwLock<InteractionLog>,
    /// Every delivery attempt.
    pub deliveries: Mutex<DeliveryLog>,
    /// The activity generator's taken ids and open sessions.
    pub activity: ActivityBook,
    /// `GET /subscriptions`: 40 requests per 20 s.
    pub list_budget: WindowLimiter,
    /// HTTP client for handshakes and deliveries (trusts `--receiver-ca`).
    pub http: reqwest::Client,
    /// Cancelled when the simulator stops.
    pub shutdown: CancellationToken,
    /// `(subscription id, scenario activation)` pairs that were sent `missed` (the lifecycle
    /// loop sends it once per subscription per activation).
    pub missed_sent: Mutex<std::collections::BTreeSet<(String, DateTime<Utc>)>>,
    /// Requests the token endpoint answered, issued or refused: ground truth for how often a
    /// client asks for a token.
    pub token_requests: std::sync::atomic::AtomicU64,
    scenario: RwLock<ActiveScenario>,
    export_budget: RwLock<Arc<WindowLimiter>>,
    outbox: mpsc::UnboundedSender<Outbound>,
    rng: Mutex<StdRng>,
}

impl SimState {
    /// Assembles the state; the receiving end of the outbox goes to the pusher.
    pub fn new(
        clock: Arc<ScaledClock>,
        seed: u64,
        scenario: Scenario,
        keys: SigningKeys,
        http: reqwest::Client,
    ) -> (Arc<Self>, mpsc::UnboundedReceiver<Outbound>) {
        let now = clock.now();
        let (outbox, outbox_rx) = mpsc::unbounded_channel();
        let export_budget = WindowLimiter::per_second(scenario.graph.export_requests_per_second);
        let state = Self {
            tenant: Tenant::generate(seed, now),
            seed,
            keys,
            registry: Mutex::new(Registry::default()),
            interactions: RwLock::new(InteractionLog::default()),
            deliveries: Mutex::new(DeliveryLog::default()),
            activity: ActivityBook::default(),
            list_budget: WindowLimiter::new(40, std::time::Duration::from_secs(20)),
            http,
            shutdown: CancellationToken::new(),
            missed_sent: Mutex::new(std::collections::BTreeSet::new()),
            token_requests: std::sync::atomic::AtomicU64::new(0),
            scenario: RwLock::new(ActiveScenario {
                scenario: Arc::new(scenario),
                since: now,
            }),
            export_budget: RwLock::new(Arc::new(export_budget)),
            outbox,
            rng: Mutex::new(StdRng::seed_from_u64(seed.wrapping_add(0x5eed))),
            clock,
        };
        (Arc::new(state), outbox_rx)
    }

    /// Simulated Graph time: the clock plus the scenario's skew.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now() + Duration::seconds(self.active().scenario.time.skew_seconds)
    }

    /// The scenario in force.
    pub fn active(&self) -> ActiveScenario {
        self.scenario
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The scenario in force (shorthand).
    pub fn scenario(&self) -> Arc<Scenario> {
        self.active().scenario
    }

    /// Switches scenario now; budgets follow it.
    pub fn set_scenario(&self, scenario: Scenario) {
        let budget = WindowLimiter::per_second(scenario.graph.export_requests_per_second);
        *self
            .export_budget
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(budget);
        let since = self.clock.now();
        *self
            .scenario
            .write()
            .unwrap_or_else(PoisonError::into_inner) = ActiveScenario {
            scenario: Arc::new(scenario),
            since,
        };
    }

    /// The export API budget (per app per tenant).
    pub fn export_budget(&self) -> Arc<WindowLimiter> {
        self.export_budget
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// True while the scenario's Graph outage window is open.
    pub fn in_outage(&self, now: DateTime<Utc>) -> bool {
        let active = self.active();
        let Some(outage) = &active.scenario.graph.outage else {
            return false;
        };
        let skew = Duration::seconds(active.scenario.time.skew_seconds);
        let start = active.since + skew + to_chrono(outage.starts_after);
        now >= start && now < start + to_chrono(outage.lasts)
    }

    /// When the app's client secret expires under the active scenario.
    pub fn secret_expires(&self) -> DateTime<Utc> {
        let active = self.active();
        active.since + Duration::days(active.scenario.credentials.secret_expires_in_days)
    }

    /// The client id an operator's configuration holds under the active scenario.
    pub fn configured_client_id(&self) -> String {
        match self.scenario().credentials.configured_client_id {
            ConfiguredClientId::Registered => self.tenant.app.client_id.clone(),
            ConfiguredClientId::Unknown => {
                let bytes = (u128::from(self.seed) ^ 0x0bad_c11e_u128).to_be_bytes();
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .hyphenated()
                    .to_string()
            }
        }
    }

    /// The secret an operator's configuration holds under the active scenario.
    pub fn configured_secret(&self) -> SecretString {
        let app = &self.tenant.app;
        match self.scenario().credentials.configured_secret {
            ConfiguredSecret::Value => app.secret.clone(),
            ConfiguredSecret::KeyId => SecretString::from(app.secret_key_id.clone()),
            ConfiguredSecret::Wrong => {
                let mut wrong: String = app.secret.expose_secret().chars().rev().collect();
                wrong.replace_range(3..4, "~");
                SecretString::from(wrong)
            }
        }
    }

    /// Users holding a working Copilot licence under the active scenario.
    pub fn is_licensed(&self, user_id: &str) -> bool {
        self.scenario().directory.copilot_licences
            && self
                .tenant
                .user(user_id)
                .is_some_and(|user| user.has_copilot_seat)
    }

    /// The tenant as `/_sim/tenant` and `--tenant-out` describe it: ids, the app registration
    /// (secret included: this is the simulated tenant's own record), the users with their
    /// licence under the active scenario, and the credentials an operator's configuration would
    /// hold under the scenario.
    pub fn tenant_document(&self) -> serde_json::Value {
        let tenant = &self.tenant;
        let app = &tenant.app;
        let users: Vec<_> = tenant
            .users
            .iter()
            .map(|user| {
                serde_json::json!({
                    "id": user.id,
                    "displayName": user.display_name,
                    "userPrincipalName": user.user_principal_name,
                    "licensed": self.is_licensed(&user.id),
                })
            })
            .collect();
        serde_json::json!({
            "tenant_id": tenant.id,
            "tenant_domain": tenant.domain,
            "client_id": app.client_id,
            "client_secret": app.secret.expose_secret(),
            "secret_key_id": app.secret_key_id,
            "secret_hint": app.secret_hint(),
            "secret_expires": self.secret_expires(),
            "change_tracking_app_id": CHANGE_TRACKING_APP_ID,
            "users": users,
            "scenario": self.scenario().name,
            "seed": self.seed,
            "speed": self.clock.speed(),
            "configured": {
                "client_id": self.configured_client_id(),
                "client_secret": self.configured_secret().expose_secret(),
            },
        })
    }

    /// Records a generated interaction and hands it to the pusher.
    pub fn publish(&self, generated: Generated) {
        self.interactions
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(generated.clone());
        // The pusher is gone only while the simulator shuts down; nothing to deliver then.
        let _ = self.outbox.send(Outbound::Interaction(generated));
    }

    /// Hands a lifecycle event for `record` to the pusher.
    pub fn send_lifecycle(&self, record: &SubscriptionRecord, event: LifecycleEvent) {
        let record = Box::new(record.clone());
        let _ = self.outbox.send(Outbound::Lifecycle { record, event });
    }

    /// The simulator's seeded random source (lock held while the guard lives).
    pub fn rng(&self) -> MutexGuard<'_, StdRng> {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The subscription registry (lock held while the guard lives).
    pub fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The delivery log (lock held while the guard lives).
    pub fn deliveries(&self) -> MutexGuard<'_, DeliveryLog> {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Converts a configuration duration to a chrono span, saturating far beyond any scenario.
pub fn to_chrono(span: std::time::Duration) -> Duration {
    Duration::from_std(span).unwrap_or(Duration::days(36_500))
}
