//! Harness for the keeper and poller tests: an in-memory store implementing their store seams
//! (STAND-IN until `crate::store` lands; at merge the lead may swap in a real `Store` on a temp
//! dir), a Graph client on the simulator's own scaled clock, a profile pointing at a test
//! receiver, and a forwarder that turns the receiver's lifecycle POSTs into `LifecycleSignal`s
//! as the real receiver will.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::keeper::records::{
    Event, EventKind, InteractionRecord, KeeperAction, LifecycleSignal, Outcome, StoreError,
    SubscriptionRecord, SubscriptionState,
};
use pilotwatch::collector::keeper::{CertificateSource, KeeperStore};
use pilotwatch::collector::poller::PollerStore;
use pilotwatch::config::{Cloud, Profile};
use pilotwatch::graph::auth::{TokenProvider, token_endpoint};
use pilotwatch::graph::http::{EXPORT_REQUESTS_PER_SECOND, GraphClient, RateBudget, RetryPolicy};
use pilotwatch::graph::model::ChangeNotificationCollection;
use pilotwatch::secret::SecretSource;
use tokio::sync::mpsc;

use crate::common::TestSim;
use crate::common::receiver::TestReceiver;

/// The store, in memory. Clones share it.
#[derive(Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    subscriptions: BTreeMap<String, SubscriptionRecord>,
    events: Vec<Event>,
    interactions: BTreeMap<String, InteractionRecord>,
    last_notification: Option<DateTime<Utc>>,
}

impl MemoryStore {
    pub fn events(&self) -> Vec<Event> {
        self.inner.lock().unwrap().events.clone()
    }

    /// Keeper events of `action` with `outcome`.
    pub fn keeper_events(&self, action: KeeperAction, outcome: Outcome) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|event| event.kind == EventKind::Keeper { action, outcome })
            .collect()
    }

    pub fn subscriptions(&self) -> Vec<SubscriptionRecord> {
        self.inner
            .lock()
            .unwrap()
            .subscriptions
            .values()
            .cloned()
            .collect()
    }

    pub fn active(&self) -> Vec<SubscriptionRecord> {
        self.subscriptions()
            .into_iter()
            .filter(|record| record.state == SubscriptionState::Active)
            .collect()
    }

    pub fn interactions(&self) -> BTreeMap<String, InteractionRecord> {
        self.inner.lock().unwrap().interactions.clone()
    }

    pub fn put_interaction(&self, record: InteractionRecord) {
        self.inner
            .lock()
            .unwrap()
            .interactions
            .insert(record.id.clone(), record);
    }

    pub fn set_last_notification(&self, at: DateTime<Utc>) {
        self.inner.lock().unwrap().last_notification = Some(at);
    }

    /// Waits until `predicate` holds for the store, or panics after `limit` naming `what`.
    pub async fn wait_until(&self, limit: Duration, what: &str, predicate: impl Fn(&Self) -> bool) {
        let deadline = Instant::now() + limit;
        while !predicate(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; events: {:#?}",
                self.events()
                    .iter()
                    .map(|event| event.message.clone())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl KeeperStore for MemoryStore {
    fn put_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        self.inner
            .lock()
            .unwrap()
            .subscriptions
            .insert(record.id.clone(), record.clone());
        Ok(())
    }

    fn subscription(&self, id: &str) -> Result<Option<SubscriptionRecord>, StoreError> {
        Ok(self.inner.lock().unwrap().subscriptions.get(id).cloned())
    }

    fn active_subscriptions(&self, profile: &str) -> Result<Vec<SubscriptionRecord>, StoreError> {
        Ok(self
            .active()
            .into_iter()
            .filter(|record| record.profile == profile)
            .collect())
    }

    fn append_event(&self, event: &Event) -> Result<u64, StoreError> {
        let mut inner = self.inner.lock().unwrap();
        inner.events.push(event.clone());
        Ok(inner.events.len() as u64)
    }

    fn last_notification_at(&self, _profile: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(self.inner.lock().unwrap().last_notification)
    }
}

impl PollerStore for MemoryStore {
    fn insert_if_absent(&self, record: &InteractionRecord) -> Result<bool, StoreError> {
        let mut inner = self.inner.lock().unwrap();
        if inner.interactions.contains_key(&record.id) {
            return Ok(false);
        }
        inner.interactions.insert(record.id.clone(), record.clone());
        Ok(true)
    }

    fn interaction(&self, id: &str) -> Result<Option<InteractionRecord>, StoreError> {
        Ok(self.inner.lock().unwrap().interactions.get(id).cloned())
    }

    fn append_event(&self, event: &Event) -> Result<u64, StoreError> {
        KeeperStore::append_event(self, event)
    }
}

/// The test receiver's certificate.
pub struct ReceiverCertificate {
    pub base64: String,
}

pub const CERTIFICATE_ID: &str = "pilotwatch-test-cert";

impl CertificateSource for ReceiverCertificate {
    fn current_certificate_base64(&self) -> String {
        self.base64.clone()
    }

    fn current_certificate_id(&self) -> String {
        CERTIFICATE_ID.to_owned()
    }
}

/// The simulator's clock (scaled by its `--speed`), as the collector would be given under
/// `serve --sim`.
pub fn sim_clock(sim: &TestSim) -> SharedClock {
    sim.sim.state.clock.clone()
}

/// A Graph client for the registered app, on the simulator's clock.
pub fn sim_graph(sim: &TestSim) -> GraphClient {
    let state = &sim.sim.state;
    let clock = sim_clock(sim);
    let tokens = TokenProvider::new(
        token_endpoint(&sim.base.parse().unwrap(), &state.tenant.id).unwrap(),
        state.configured_client_id(),
        state.configured_secret(),
        sim.http.clone(),
        clock.clone(),
    );
    GraphClient::new(
        sim.base.parse().unwrap(),
        tokens,
        sim.http.clone(),
        clock,
        RateBudget::per_second(EXPORT_REQUESTS_PER_SECOND),
        RetryPolicy::default(),
    )
}

/// A profile for the simulated tenant; notifications go to `receiver` when one is given.
pub fn profile(sim: &TestSim, receiver: Option<&TestReceiver>) -> Profile {
    let state = &sim.sim.state;
    let base: url::Url = sim.base.parse().unwrap();
    Profile {
        name: "contoso".to_owned(),
        tenant: state.tenant.id.clone(),
        client_id: state.configured_client_id(),
        secret: SecretSource::Env {
            var: "PILOTWATCH_TEST_UNUSED".to_owned(),
        },
        cloud: Cloud::Custom {
            authority: base.clone(),
            graph: base,
        },
        ca_file: None,
        notification_url: receiver.map(|r| format!("{}/notify", r.base).parse().unwrap()),
        lifecycle_notification_url: receiver
            .map(|r| format!("{}/lifecycle", r.base).parse().unwrap()),
        receiver_bind: None,
        encryption_certificate: None,
        encryption_key: None,
        store_bodies: false,
        secret_expires: None,
        thresholds: Default::default(),
    }
}

/// Forwards every lifecycle item the receiver gets to `signals` (as the real receiver does
/// after checking it), and notes change notifications' arrival in `store`. Stops with the
/// receiver's owner (abort the handle).
pub fn forward_lifecycle(
    receiver: Arc<TestReceiver>,
    store: MemoryStore,
    clock: SharedClock,
    profile: String,
    signals: mpsc::Sender<LifecycleSignal>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut forwarded = 0;
        loop {
            let received = receiver.received();
            for post in received.iter().skip(forwarded) {
                let Ok(batch) =
                    serde_json::from_value::<ChangeNotificationCollection>(post.body.clone())
                else {
                    continue;
                };
                for item in batch.value {
                    match item.lifecycle_event {
                        Some(event) => {
                            let signal = LifecycleSignal {
                                profile: profile.clone(),
                                subscription_id: item.subscription_id,
                                event,
                            };
                            if signals.send(signal).await.is_err() {
                                return;
                            }
                        }
                        None => store.set_last_notification(clock.now()),
                    }
                }
            }
            forwarded = received.len();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}
