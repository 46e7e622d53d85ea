//! Harness for the keeper and poller tests: the real sled [`Store`] on a temporary directory
//! (with readers for what the tests look at), a Graph client on the simulator's own scaled
//! clock, a profile pointing at a test receiver, and a forwarder that turns the test
//! receiver's POSTs into what the real receiver would produce: lifecycle events logged and
//! signalled, change notifications recorded as accepted.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::keeper::CertificateSource;
use pilotwatch::config::{Cloud, Profile, SubscriptionScope};
use pilotwatch::graph::auth::{TokenProvider, token_endpoint};
use pilotwatch::graph::http::{EXPORT_REQUESTS_PER_SECOND, GraphClient, RateBudget, RetryPolicy};
use pilotwatch::graph::model::ChangeNotificationCollection;
use pilotwatch::receiver::LifecycleSignal;
use pilotwatch::secret::SecretSource;
use pilotwatch::store::{
    Check, DecryptVerdict, Durability, Event, EventKind, InteractionRecord, KeeperAction,
    NotificationRecord, Outcome, Store, StoreOptions, SubscriptionRecord, SubscriptionState,
    TokenVerdict,
};
use tokio::sync::mpsc;

use crate::common::TestSim;
use crate::common::receiver::TestReceiver;

/// The real store on a temporary directory. Clones share both.
#[derive(Clone)]
pub struct TestStore {
    store: Store,
    _dir: Arc<tempfile::TempDir>,
}

impl TestStore {
    /// A fresh store on `sim`'s clock. Flush durability: nothing here survives the test.
    pub fn open(sim: &TestSim) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            durability: Durability::Flush,
            ..StoreOptions::default()
        };
        let store = Store::open(&dir.path().join("store"), options, sim_clock(sim)).unwrap();
        Self {
            store,
            _dir: Arc::new(dir),
        }
    }

    /// The store, to hand to a keeper or poller.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// Every event, oldest first.
    pub fn events(&self) -> Vec<Event> {
        let mut events = self.store.events().recent(usize::MAX).unwrap();
        events.reverse();
        events
    }

    /// Keeper events of `action` with `outcome`.
    pub fn keeper_events(&self, action: KeeperAction, outcome: Outcome) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|event| {
                matches!(event.kind, EventKind::Keeper { action: a, outcome: o, .. } if a == action && o == outcome)
            })
            .collect()
    }

    pub fn subscriptions(&self) -> Vec<SubscriptionRecord> {
        self.store.subscriptions().all().unwrap()
    }

    pub fn active(&self) -> Vec<SubscriptionRecord> {
        self.subscriptions()
            .into_iter()
            .filter(|record| record.state == SubscriptionState::Active)
            .collect()
    }

    /// Every stored interaction, by id.
    pub fn interactions(&self) -> BTreeMap<String, InteractionRecord> {
        self.store
            .interactions()
            .recent(usize::MAX)
            .unwrap()
            .into_iter()
            .map(|record| (record.id.clone(), record))
            .collect()
    }

    pub fn put_interaction(&self, record: InteractionRecord) {
        assert!(self.store.interactions().insert_if_absent(&record).unwrap());
    }

    /// Records an accepted change notification for `profile` received at `at`, as the
    /// receiver does.
    pub fn note_notification(&self, profile: &str, at: DateTime<Utc>) {
        let record = NotificationRecord {
            received_at: at,
            acked_at: at,
            ack_ms: Some(0),
            processed_at: at,
            profile: profile.to_owned(),
            subscription_id: String::new(),
            tenant_id: None,
            change_type: Some("created".to_owned()),
            resource: None,
            client_state: Check::Ok,
            validation_tokens: TokenVerdict::Valid,
            decryption: DecryptVerdict::Ok,
            interaction_id: None,
            created_at: None,
            latency_ms: None,
            duplicate: false,
            accepted: true,
            rejected: None,
            items: 1,
            unknown_certificate: None,
        };
        self.store.notifications().append(&record).unwrap();
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
        subscription_scope: SubscriptionScope::Tenant,
        secret_expires: None,
        thresholds: Default::default(),
    }
}

/// Does for every POST the test receiver gets what the real receiver does once it has checked
/// it: a lifecycle item is logged and sent to `signals`, a change notification is recorded as
/// accepted in `store`. Stops with the receiver's owner (abort the handle).
pub fn forward_lifecycle(
    receiver: Arc<TestReceiver>,
    store: TestStore,
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
                            let logged = Event {
                                at: clock.now(),
                                profile: profile.clone(),
                                kind: EventKind::lifecycle(event, item.subscription_id.clone()),
                                message: "lifecycle event (test forwarder)".to_owned(),
                            };
                            store.store.events().append(&logged).unwrap();
                            let signal = LifecycleSignal {
                                profile: profile.clone(),
                                subscription_id: item.subscription_id,
                                event,
                            };
                            if signals.send(signal).await.is_err() {
                                return;
                            }
                        }
                        None => store.note_notification(&profile, clock.now()),
                    }
                }
            }
            forwarded = received.len();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
}
