//! The keeper with `subscription_scope = "per-user"` against the simulator: one subscription
//! per user whose Copilot Chat plan is enabled (none for the unlicensed ones, no tenant-wide
//! one), each on `/copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions` with the
//! lifecycle URL, rich data, the certificate and its own clientState; and the licence changes
//! followed: when the users lose the licence their subscriptions are deleted, when they get it
//! back they get new ones. The simulator's registry is the referee.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collector_support;
mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::Duration;
use collector_support::{
    CERTIFICATE_ID, ReceiverCertificate, TestStore, profile, sim_clock, sim_graph,
};
use common::TestSim;
use common::receiver::TestReceiver;
use pilotwatch::collector::keeper::plan::user_resource;
use pilotwatch::collector::keeper::{Keeper, KeeperOptions};
use pilotwatch::config::SubscriptionScope;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::{KeeperAction, Outcome, SubscriptionState};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Live subscriptions at the simulated Graph: resource → (id, clientState, certificate id).
fn at_graph(sim: &TestSim) -> Vec<(String, String, Option<String>, Option<String>)> {
    let state = &sim.sim.state;
    state
        .registry()
        .live(state.now())
        .map(|record| {
            let subscription = &record.subscription;
            (
                subscription.resource.clone(),
                subscription.id.clone(),
                subscription.client_state.clone(),
                subscription.encryption_certificate_id.clone(),
            )
        })
        .collect()
}

fn licensed(sim: &TestSim) -> BTreeSet<String> {
    let state = &sim.sim.state;
    state
        .tenant
        .users
        .iter()
        .filter(|user| state.is_licensed(&user.id))
        .map(|user| user_resource(&user.id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_subscription_per_licensed_user_following_licence_changes() {
    let sim = TestSim::start_with(SimOptions {
        speed: 60.0,
        ..SimOptions::loopback(Scenario::load("healthy").unwrap())
    })
    .await;
    let receiver = Arc::new(TestReceiver::start().await);
    let store = TestStore::open(&sim);
    let mut profile = profile(&sim, Some(&receiver));
    profile.subscription_scope = SubscriptionScope::PerUser;
    // The user list is read again every simulated minute: a second of real time at 60×.
    let options = KeeperOptions {
        users_refresh_every: Duration::minutes(1),
        create_spacing: StdDuration::from_millis(20),
        ..KeeperOptions::default()
    };
    let (_signals, signals_rx) = mpsc::channel(16);
    let (gaps_tx, _gaps) = mpsc::channel(64);
    let (updates_tx, _updates) = broadcast::channel(4096);
    let keeper = Keeper::new(
        profile,
        sim_graph(&sim),
        store.store(),
        Arc::new(ReceiverCertificate {
            base64: receiver.certificate_b64.clone(),
        }),
        sim_clock(&sim),
        updates_tx,
        gaps_tx,
    )
    .with_options(options);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(keeper.run(signals_rx, shutdown.clone()));

    let expected = licensed(&sim);
    let all_users = sim.sim.state.tenant.users.len();
    assert!(
        expected.len() >= 2 && expected.len() < all_users,
        "the tenant has licensed and unlicensed users"
    );
    store
        .wait_until(
            StdDuration::from_secs(9),
            "one subscription per licensed user",
            |store| store.active().len() == expected.len(),
        )
        .await;
    let active = store.active();
    let registered: BTreeSet<String> = active.iter().map(|r| r.resource.clone()).collect();
    assert_eq!(
        registered, expected,
        "exactly the licensed users, each once"
    );
    let live = at_graph(&sim);
    assert_eq!(live.len(), expected.len(), "{live:?}");
    for record in &active {
        let (_, _, client_state, certificate) = live
            .iter()
            .find(|(_, id, _, _)| *id == record.id)
            .expect("Graph has every registered subscription");
        assert_eq!(client_state.as_deref(), Some(record.client_state.expose()));
        assert_eq!(certificate.as_deref(), Some(CERTIFICATE_ID));
        assert_eq!(
            record.lifecycle_url.as_deref(),
            Some(format!("{}/lifecycle", receiver.base).as_str())
        );
    }
    let states: BTreeSet<&str> = active.iter().map(|r| r.client_state.expose()).collect();
    assert_eq!(states.len(), active.len(), "each has its own clientState");
    assert!(
        live.iter()
            .all(|(resource, ..)| resource.contains("/users/")),
        "no tenant-wide subscription: {live:?}"
    );

    // Every user loses the licence: their subscriptions are deleted at Graph and retired.
    sim.sim
        .state
        .set_scenario(Scenario::load("unlicensed").unwrap());
    store
        .wait_until(
            StdDuration::from_secs(9),
            "the unlicensed users' deletions",
            |store| store.active().is_empty(),
        )
        .await;
    assert!(at_graph(&sim).is_empty(), "{:?}", at_graph(&sim));
    let deleted = store.keeper_events(KeeperAction::Delete, Outcome::Succeeded);
    assert_eq!(deleted.len(), expected.len());
    assert!(deleted.iter().all(|e| e.message.contains("licence")));
    assert!(
        store
            .subscriptions()
            .iter()
            .all(|r| r.state == SubscriptionState::Deleted)
    );

    // The licences come back: each user gets a new subscription.
    sim.sim
        .state
        .set_scenario(Scenario::load("healthy").unwrap());
    store
        .wait_until(
            StdDuration::from_secs(9),
            "the relicensed users' subscriptions",
            |store| store.active().len() == expected.len(),
        )
        .await;
    let again: BTreeSet<String> = store.active().iter().map(|r| r.resource.clone()).collect();
    assert_eq!(again, expected);
    assert_eq!(at_graph(&sim).len(), expected.len());
    assert!(
        !store
            .keeper_events(KeeperAction::ReadUsers, Outcome::Succeeded)
            .is_empty()
    );

    shutdown.cancel();
    tokio::time::timeout(StdDuration::from_secs(5), task)
        .await
        .expect("the keeper stops promptly")
        .unwrap();
    sim.stop().await;
}
