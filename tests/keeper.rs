//! The subscription keeper (`pilotwatch::collector::keeper`) against the in-process simulator:
//! creation and the registry, renewals at high `--speed`, `reauthorizationRequired` answered by
//! one PATCH, `missed` and `subscriptionRemoved` (recreate + gap backfills over the exact
//! windows, polled), the 409 path for a subscription whose clientState is unknown (replaced when
//! it notifies our URL, left alone when it notifies another deployment's), resuming after a
//! restart, and handshake failures retried with backoff. The simulator's ground truth (its
//! registry and interaction ledger) is the referee.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collector_support;
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use collector_support::{
    CERTIFICATE_ID, ReceiverCertificate, TestStore, forward_lifecycle, profile, sim_clock,
    sim_graph,
};
use common::TestSim;
use common::receiver::TestReceiver;
use pilotwatch::collector::keeper::{Keeper, KeeperOptions};
use pilotwatch::collector::poller::{Gap, GapReason, PollKind, PollOptions, Poller};
use pilotwatch::collector::update::Update;
use pilotwatch::graph::model::well_known::TENANT_WIDE_RESOURCE;
use pilotwatch::receiver::LifecycleSignal;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::{EventKind, KeeperAction, Outcome, SubscriptionState};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A keeper running against a simulator, with everything a test looks at.
struct Running {
    sim: TestSim,
    receiver: Arc<TestReceiver>,
    store: TestStore,
    gaps: mpsc::Receiver<Gap>,
    updates: broadcast::Receiver<Update>,
    shutdown: CancellationToken,
    keeper: JoinHandle<()>,
    forwarder: JoinHandle<()>,
}

impl Running {
    async fn start(scenario: &str, speed: f64, options: KeeperOptions) -> Self {
        Self::start_with(Scenario::load(scenario).unwrap(), speed, options).await
    }

    async fn start_with(scenario: Scenario, speed: f64, options: KeeperOptions) -> Self {
        let mut sim_options = SimOptions::loopback(scenario);
        sim_options.speed = speed;
        let sim = TestSim::start_with(sim_options).await;
        let receiver = Arc::new(TestReceiver::start().await);
        let store = TestStore::open(&sim);
        Self::start_on(sim, receiver, store, options)
    }

    fn start_on(
        sim: TestSim,
        receiver: Arc<TestReceiver>,
        store: TestStore,
        options: KeeperOptions,
    ) -> Self {
        let clock = sim_clock(&sim);
        let profile = profile(&sim, Some(&receiver));
        let (signals_tx, signals_rx) = mpsc::channel::<LifecycleSignal>(64);
        let (gaps_tx, gaps) = mpsc::channel(64);
        let (updates_tx, updates) = broadcast::channel(1024);
        let forwarder = forward_lifecycle(
            receiver.clone(),
            store.clone(),
            clock.clone(),
            profile.name.clone(),
            signals_tx,
        );
        let certificate = Arc::new(ReceiverCertificate {
            base64: receiver.certificate_b64.clone(),
        });
        let keeper = Keeper::new(
            profile,
            sim_graph(&sim),
            store.store(),
            certificate,
            clock,
            updates_tx,
            gaps_tx,
        )
        .with_options(options);
        let shutdown = CancellationToken::new();
        let keeper = tokio::spawn(keeper.run(signals_rx, shutdown.clone()));
        Self {
            sim,
            receiver,
            store,
            gaps,
            updates,
            shutdown,
            keeper,
            forwarder,
        }
    }

    /// Stops the keeper (bounded) and hands back the simulator, receiver and store.
    async fn stop(self) -> (TestSim, Arc<TestReceiver>, TestStore) {
        self.shutdown.cancel();
        tokio::time::timeout(StdDuration::from_secs(5), self.keeper)
            .await
            .expect("the keeper stops promptly on shutdown")
            .unwrap();
        self.forwarder.abort();
        (self.sim, self.receiver, self.store)
    }

    /// Live subscriptions at the simulated Graph: (id, client state, expiry).
    fn graph_subscriptions(&self) -> Vec<(String, Option<String>, chrono::DateTime<chrono::Utc>)> {
        let state = &self.sim.sim.state;
        state
            .registry()
            .live(state.now())
            .map(|record| {
                (
                    record.subscription.id.clone(),
                    record.subscription.client_state.clone(),
                    record.subscription.expiration_date_time,
                )
            })
            .collect()
    }

    async fn next_gap(&mut self, limit: StdDuration) -> Gap {
        tokio::time::timeout(limit, self.gaps.recv())
            .await
            .expect("a gap backfill was requested in time")
            .expect("the keeper holds the gap sender")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_the_tenant_wide_subscription_and_registers_it() {
    let mut running = Running::start("healthy", 1.0, KeeperOptions::default()).await;
    running
        .store
        .wait_until(StdDuration::from_secs(8), "the subscription", |store| {
            !store.active().is_empty()
        })
        .await;
    let record = running.store.active().remove(0);
    let now = running.sim.sim.state.now();

    // Graph has exactly it, with our clientState, resource, URLs, rich data and certificate.
    let state = &running.sim.sim.state;
    {
        let registry = state.registry();
        let at_graph = registry
            .get(&record.id, now)
            .expect("Graph has the registered id");
        let subscription = &at_graph.subscription;
        assert_eq!(subscription.resource, TENANT_WIDE_RESOURCE);
        assert_eq!(subscription.change_type, "created");
        assert_eq!(
            subscription.client_state.as_deref(),
            Some(record.client_state.expose())
        );
        assert_eq!(subscription.include_resource_data, Some(true));
        assert_eq!(
            subscription.encryption_certificate_id.as_deref(),
            Some(CERTIFICATE_ID)
        );
        assert_eq!(
            subscription.lifecycle_notification_url.as_deref(),
            Some(format!("{}/lifecycle", running.receiver.base).as_str())
        );
        assert_eq!(subscription.expiration_date_time, record.expires_at);
    }
    // The longest lifetime Graph allows, minus the safety margin.
    let lifetime = record.expires_at - record.created_at;
    assert!(
        lifetime > Duration::minutes(4_280) && lifetime <= Duration::minutes(4_290),
        "{lifetime}"
    );
    assert_eq!(record.client_state.expose().len(), 43, "256 random bits");
    assert!(
        !format!("{record:?}").contains(record.client_state.expose()),
        "Debug redacts the clientState"
    );
    assert_eq!(
        running.receiver.handshakes().len(),
        2,
        "both endpoints were validated"
    );

    let created = running
        .store
        .keeper_events(KeeperAction::Create, Outcome::Succeeded);
    assert_eq!(created.len(), 1);
    assert!(created[0].message.contains(&record.id));
    assert!(!created[0].message.contains(record.client_state.expose()));
    match running.updates.try_recv().unwrap() {
        Update::Keeper(event) => assert_eq!(event, created[0]),
        other => panic!("expected the creation update, got {other:?}"),
    }
    assert!(
        running.gaps.try_recv().is_err(),
        "no gap on a first creation"
    );
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renews_at_half_to_three_quarters_of_the_lifetime_and_never_lets_it_expire() {
    // 45-minute lifetimes at 1000× speed: one lifetime is 2.7 s of real time. Graph sends no
    // challenges here (each would be answered with a PATCH, which is also a renewal), so only
    // the schedule keeps the subscription alive.
    let options = KeeperOptions {
        lifetime: Duration::minutes(45),
        ..KeeperOptions::default()
    };
    let mut scenario = Scenario::load("healthy").unwrap();
    scenario.lifecycle.reauthorization_required = false;
    let running = Running::start_with(scenario, 1000.0, options).await;
    running
        .store
        .wait_until(StdDuration::from_secs(9), "two renewals", |store| {
            store
                .keeper_events(KeeperAction::Renew, Outcome::Succeeded)
                .len()
                >= 2
        })
        .await;
    let records = running.store.subscriptions();
    assert_eq!(
        records.len(),
        1,
        "the same subscription throughout: {records:?}"
    );
    let record = &records[0];
    assert_eq!(
        running
            .store
            .keeper_events(KeeperAction::Create, Outcome::Succeeded)
            .len(),
        1
    );
    assert!(
        running
            .store
            .keeper_events(KeeperAction::Renew, Outcome::Failed)
            .is_empty()
    );

    // Each renewal came 50–75 % into the lifetime it extended (a little slack for the
    // simulated minutes a real millisecond is worth at this speed).
    let renewals: Vec<_> = running
        .store
        .keeper_events(KeeperAction::Renew, Outcome::Succeeded)
        .into_iter()
        .map(|event| event.at)
        .collect();
    let mut base = record.created_at;
    for at in &renewals {
        let into = *at - base;
        assert!(
            into >= Duration::minutes(22) && into <= Duration::minutes(36),
            "renewed {into} into a 45-minute lifetime"
        );
        base = *at;
    }
    let graph = running.graph_subscriptions();
    assert_eq!(graph.len(), 1);
    assert_eq!(graph[0].0, record.id);
    {
        let state = &running.sim.sim.state;
        let registry = state.registry();
        let at_graph = registry.get(&record.id, state.now()).unwrap();
        assert!(at_graph.last_renewed.is_some());
        assert_eq!(
            at_graph.reauthorize_patch_pairs, 0,
            "never reauthorize and PATCH within 10 minutes"
        );
    }
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthorization_required_is_answered_with_one_patch() {
    // Graph's endpoint token lasts an hour; it asks for reauthorization 15 minutes before it
    // lapses: 45 simulated minutes after creation, 2.25 s of real time at 1200×.
    let mut running = Running::start("healthy", 1200.0, KeeperOptions::default()).await;
    running
        .store
        .wait_until(StdDuration::from_secs(9), "a reauthorization", |store| {
            !store
                .keeper_events(KeeperAction::Reauthorize, Outcome::Succeeded)
                .is_empty()
        })
        .await;
    // The keeper tells watchers about the challenge (the receiver logged it).
    let mut challenges = 0;
    loop {
        let update = match running.updates.try_recv() {
            Ok(update) => update,
            Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
            Err(_) => break,
        };
        if let Update::Lifecycle(event) = update {
            assert!(
                matches!(&event.kind, EventKind::Lifecycle { event, .. } if event == "reauthorizationRequired"),
                "{event:?}"
            );
            challenges += 1;
        }
    }
    assert!(challenges > 0, "the challenge itself is an update");
    let record = running.store.active().remove(0);
    assert!(
        record.last_renewed_at.is_some(),
        "the PATCH renewed (and so reauthorized) it"
    );
    let state = &running.sim.sim.state;
    {
        let registry = state.registry();
        let at_graph = registry.get(&record.id, state.now()).unwrap();
        assert!(
            at_graph.last_reauthorized.is_some(),
            "Graph counts it reauthorized"
        );
        assert!(
            at_graph.last_reauthorize_call.is_none(),
            "a PATCH, not a reauthorize call"
        );
        assert_eq!(at_graph.reauthorize_patch_pairs, 0);
        assert!(at_graph.authorized_until() > state.now());
    }
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_and_removed_subscriptions_trigger_gap_backfills_and_a_recreation() {
    // `missed` 5 simulated minutes after creation, removal at 10: 1 s and 2 s at 300×.
    let mut running = Running::start("subscription-removed", 300.0, KeeperOptions::default()).await;
    running
        .store
        .wait_until(
            StdDuration::from_secs(8),
            "the first subscription",
            |store| !store.active().is_empty(),
        )
        .await;
    let first = running.store.active().remove(0);

    let missed = running.next_gap(StdDuration::from_secs(6)).await;
    assert_eq!(missed.reason, GapReason::Missed);
    // Graph retries deliveries for four hours, but nothing before the subscription (less the
    // overlap) was its to deliver: from 15 minutes before its creation to when `missed` came
    // (5 simulated minutes in).
    assert_eq!(
        missed.from,
        first.created_at - Duration::minutes(15),
        "{missed:?}"
    );
    let missed_after = missed.to - first.created_at;
    assert!(
        missed_after >= Duration::minutes(5) && missed_after < Duration::minutes(8),
        "{missed_after}"
    );

    let removed = running.next_gap(StdDuration::from_secs(6)).await;
    assert_eq!(removed.reason, GapReason::SubscriptionRemoved);
    // From 15 minutes before the last notification received before the removal (the
    // subscription's creation, had none arrived) to the removal (10 simulated minutes in).
    let removal_seen = running
        .store
        .events()
        .into_iter()
        .find(|event| {
            matches!(&event.kind, EventKind::Lifecycle { event, subscription_id }
                if event == "subscriptionRemoved" && *subscription_id == first.id)
        })
        .expect("the forwarder logged the removal")
        .at;
    let last_before = |at: DateTime<Utc>| {
        running
            .store
            .store()
            .notifications()
            .recent(usize::MAX)
            .unwrap()
            .into_iter()
            .map(|record| record.received_at)
            .filter(|received| *received <= at)
            .max()
    };
    let earliest =
        last_before(removal_seen).map_or(first.created_at, |at| at - Duration::minutes(15));
    let latest = last_before(removed.to).map_or(first.created_at, |at| at - Duration::minutes(15));
    assert!(
        removed.from >= earliest && removed.from <= latest,
        "{removed:?}: expected from between {earliest} and {latest}"
    );
    assert!(removed.to >= removal_seen, "{removed:?}");
    let removed_after = removed.to - first.created_at;
    assert!(
        removed_after >= Duration::minutes(10) && removed_after < Duration::minutes(13),
        "{removed_after}"
    );

    // Each request becomes a gap poll over exactly its window, which stores every interaction
    // the simulator created in it.
    let (updates, _) = broadcast::channel(100_000);
    let poller = Poller::new(
        profile(&running.sim, None),
        sim_graph(&running.sim),
        running.store.store(),
        sim_clock(&running.sim),
        updates,
        PollOptions::default(),
    );
    for gap in [missed, removed] {
        let report = poller.fill_gap(gap).await.unwrap();
        assert_eq!(
            (report.kind, report.from, report.to),
            (PollKind::Gap(gap.reason), gap.from, gap.to)
        );
        assert!(report.complete(), "{report:?}");
        let expected = created_between(&running.sim, gap.from, gap.to);
        let stored: BTreeSet<String> = running.store.interactions().into_keys().collect();
        assert!(
            expected.is_subset(&stored),
            "{:?} not stored",
            expected.difference(&stored).collect::<Vec<_>>()
        );
        assert_eq!(report.fetched as usize, expected.len(), "{report:?}");
    }

    // The old one is marked removed; a new one with a fresh clientState serves the profile.
    let old = running
        .store
        .subscriptions()
        .into_iter()
        .find(|record| record.id == first.id)
        .unwrap();
    assert_eq!(old.state, SubscriptionState::Removed);
    let current = running.store.active();
    assert_eq!(current.len(), 1);
    assert_ne!(current[0].id, first.id);
    assert_ne!(current[0].client_state, first.client_state);
    assert!(
        running
            .store
            .keeper_events(KeeperAction::Create, Outcome::Succeeded)
            .len()
            >= 2
    );
    running
        .store
        .wait_until(
            StdDuration::from_secs(2),
            "the backfill request event",
            |store| {
                store
                    .keeper_events(KeeperAction::RequestBackfill, Outcome::Succeeded)
                    .iter()
                    .any(|event| event.message.contains("subscription removed"))
            },
        )
        .await;
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_subscription_with_an_unknown_client_state_is_replaced() {
    let sim = TestSim::start("healthy").await;
    let receiver = Arc::new(TestReceiver::start().await);
    // Someone (an earlier install, a crash between Graph's 201 and our registry write) holds
    // the tenant-wide subscription with a clientState pilotwatch does not know.
    let now = sim.sim.state.now();
    let foreign = sim
        .http
        .post(sim.url("/v1.0/subscriptions"))
        .bearer_auth(sim.token())
        .json(&json!({
            "changeType": "created",
            "notificationUrl": format!("{}/notify", receiver.base),
            "lifecycleNotificationUrl": format!("{}/lifecycle", receiver.base),
            "resource": TENANT_WIDE_RESOURCE,
            "expirationDateTime": now + Duration::days(2),
            "clientState": "not-known-to-pilotwatch",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 201);
    let foreign_id = foreign.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let store = TestStore::open(&sim);
    let mut running = Running::start_on(sim, receiver, store, KeeperOptions::default());
    running
        .store
        .wait_until(StdDuration::from_secs(9), "the replacement", |store| {
            !store.active().is_empty()
        })
        .await;
    let record = running.store.active().remove(0);
    assert_ne!(record.id, foreign_id);
    let graph = running.graph_subscriptions();
    assert_eq!(graph.len(), 1, "the unknown one was deleted: {graph:?}");
    assert_eq!(graph[0].0, record.id);
    assert_eq!(graph[0].1.as_deref(), Some(record.client_state.expose()));
    let deleted = running
        .store
        .keeper_events(KeeperAction::Delete, Outcome::Succeeded);
    assert!(deleted[0].message.contains(&foreign_id) && deleted[0].message.contains("clientState"));
    let gap = running.next_gap(StdDuration::from_secs(3)).await;
    assert_eq!(gap.reason, GapReason::Replaced);
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_subscription_of_another_deployment_is_never_deleted() {
    let mut sim_options = SimOptions::loopback(Scenario::load("healthy").unwrap());
    sim_options.speed = 60.0;
    let sim = TestSim::start_with(sim_options).await;
    let receiver = Arc::new(TestReceiver::start().await);
    // Another collector, sharing the app registration, holds the tenant-wide subscription.
    let other = TestReceiver::start().await;
    let other_url = format!("{}/notify", other.base);
    let now = sim.sim.state.now();
    let foreign = sim
        .http
        .post(sim.url("/v1.0/subscriptions"))
        .bearer_auth(sim.token())
        .json(&json!({
            "changeType": "created",
            "notificationUrl": other_url,
            "lifecycleNotificationUrl": format!("{}/lifecycle", other.base),
            "resource": TENANT_WIDE_RESOURCE,
            "expirationDateTime": now + Duration::days(2),
            "clientState": "the-other-collectors-secret",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 201);
    let foreign_id = foreign.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Retries every 15–60 simulated seconds: a fraction of a real second at 60×.
    let options = KeeperOptions {
        retry_first: Duration::seconds(30),
        retry_max: Duration::minutes(1),
        ..KeeperOptions::default()
    };
    let store = TestStore::open(&sim);
    let running = Running::start_on(sim, receiver, store, options);
    running
        .store
        .wait_until(StdDuration::from_secs(8), "two refusals", |store| {
            store
                .keeper_events(KeeperAction::Adopt, Outcome::Failed)
                .len()
                >= 2
        })
        .await;
    let refused = running
        .store
        .keeper_events(KeeperAction::Adopt, Outcome::Failed);
    for event in &refused {
        assert!(
            event.message.contains(&other_url) && event.message.contains(&foreign_id),
            "the refusal names the other deployment's URL: {}",
            event.message
        );
        assert!(event.message.contains("retrying in"), "{}", event.message);
    }
    assert!(
        refused[1].at - refused[0].at >= Duration::seconds(15),
        "retried with backoff"
    );
    let deletes: Vec<_> = running
        .store
        .events()
        .into_iter()
        .filter(|event| {
            matches!(
                event.kind,
                EventKind::Keeper {
                    action: KeeperAction::Delete,
                    ..
                }
            )
        })
        .collect();
    assert!(deletes.is_empty(), "{deletes:#?}");
    let graph = running.graph_subscriptions();
    assert_eq!(graph.len(), 1, "{graph:?}");
    assert_eq!(
        graph[0].0, foreign_id,
        "the other deployment keeps its subscription"
    );
    assert!(running.store.active().is_empty());
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_keeper_resumes_its_registered_subscription() {
    let running = Running::start("healthy", 1.0, KeeperOptions::default()).await;
    running
        .store
        .wait_until(StdDuration::from_secs(8), "the subscription", |store| {
            !store.active().is_empty()
        })
        .await;
    let first = running.store.active().remove(0);
    let (sim, receiver, store) = running.stop().await;

    let running = Running::start_on(sim, receiver, store, KeeperOptions::default());
    running
        .store
        .wait_until(StdDuration::from_secs(8), "the resumption", |store| {
            !store
                .keeper_events(KeeperAction::Verify, Outcome::Succeeded)
                .is_empty()
        })
        .await;
    assert_eq!(running.store.active().len(), 1);
    assert_eq!(running.store.active()[0].id, first.id);
    assert_eq!(
        running
            .store
            .keeper_events(KeeperAction::Create, Outcome::Succeeded)
            .len(),
        1,
        "no second creation"
    );
    assert_eq!(running.graph_subscriptions().len(), 1);
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_handshakes_are_retried_with_backoff_until_the_endpoint_answers() {
    // Graph cannot reach the endpoint: every create answers 400 ValidationError.
    let options = KeeperOptions {
        retry_first: Duration::seconds(30),
        retry_max: Duration::minutes(2),
        ..KeeperOptions::default()
    };
    let running = Running::start("endpoint-unreachable", 60.0, options).await;
    running
        .store
        .wait_until(StdDuration::from_secs(8), "two failed creations", |store| {
            store
                .keeper_events(KeeperAction::Create, Outcome::Failed)
                .len()
                >= 2
        })
        .await;
    let failed = running
        .store
        .keeper_events(KeeperAction::Create, Outcome::Failed);
    assert!(
        failed[0].message.contains("validation request"),
        "{}",
        failed[0].message
    );
    assert!(failed[0].message.contains("retrying in"));
    let spacing = failed[1].at - failed[0].at;
    assert!(
        spacing >= Duration::seconds(15),
        "backed off, not a tight loop: {spacing}"
    );
    assert!(running.graph_subscriptions().is_empty());

    // The endpoint becomes reachable: the next retry succeeds.
    running
        .sim
        .sim
        .state
        .set_scenario(Scenario::load("healthy").unwrap());
    running
        .store
        .wait_until(StdDuration::from_secs(9), "the creation", |store| {
            !store.active().is_empty()
        })
        .await;
    assert_eq!(running.graph_subscriptions().len(), 1);
    let (sim, _, _) = running.stop().await;
    sim.stop().await;
}

/// Ids of the interactions the simulator created in `[from, to)`.
fn created_between(sim: &TestSim, from: DateTime<Utc>, to: DateTime<Utc>) -> BTreeSet<String> {
    sim.sim
        .state
        .interactions
        .read()
        .unwrap()
        .iter()
        .filter(|g| g.interaction.created_date_time >= from && g.interaction.created_date_time < to)
        .map(|g| g.interaction.id.clone())
        .collect()
}
