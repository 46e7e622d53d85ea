//! The collector's directory of display names (`pilotwatch::collector::names`) against the
//! in-process simulator: ids a view shows are resolved through `GET /users/{id}` to the names
//! the tenant holds; an id no tenant knows stays nameless; a profile without `User.Read.All`
//! makes the directory say why names are missing instead of asking again and again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestSim;
use pilotwatch::clock::{SharedClock, SystemClock};
use pilotwatch::collector::names::{NameSource, UserNames, resolve};
use pilotwatch::graph::auth::{TokenProvider, token_endpoint};
use pilotwatch::graph::http::{EXPORT_REQUESTS_PER_SECOND, GraphClient, RateBudget, RetryPolicy};
use tokio_util::sync::CancellationToken;

fn source(sim: &TestSim) -> NameSource {
    let state = &sim.sim.state;
    let clock: SharedClock = Arc::new(SystemClock);
    let tokens = TokenProvider::new(
        token_endpoint(&sim.base.parse().unwrap(), &state.tenant.id).unwrap(),
        state.configured_client_id(),
        state.configured_secret(),
        sim.http.clone(),
        clock.clone(),
    );
    NameSource {
        profile: "sim".into(),
        graph: GraphClient::new(
            sim.base.parse().unwrap(),
            tokens,
            sim.http.clone(),
            clock,
            RateBudget::per_second(EXPORT_REQUESTS_PER_SECOND),
            RetryPolicy::default(),
        ),
    }
}

/// Asks for `ids` until `done` holds of the answer (bounded at 10 s).
async fn ask_until(
    names: &UserNames,
    ids: &[&str],
    done: impl Fn(&std::collections::BTreeMap<String, String>) -> bool,
) -> std::collections::BTreeMap<String, String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let known = names.names_for(ids.iter().copied());
        if done(&known) || tokio::time::Instant::now() > deadline {
            return known;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shown_ids_resolve_to_the_tenants_display_names_and_strangers_stay_nameless() {
    let sim = TestSim::start("healthy").await;
    let users: Vec<(String, String)> = sim
        .sim
        .state
        .tenant
        .users
        .iter()
        .take(3)
        .map(|user| (user.id.clone(), user.display_name.clone()))
        .collect();
    let stranger = "00000000-0000-4000-8000-000000000000";
    let (names, queue) = UserNames::new();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(resolve(
        names.clone(),
        queue,
        vec![source(&sim)],
        shutdown.clone(),
    ));
    let mut ids: Vec<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
    ids.push(stranger);
    let known = ask_until(&names, &ids, |known| known.len() == users.len()).await;
    for (id, name) in &users {
        assert_eq!(known.get(id), Some(name), "{known:?}");
        assert!(!name.starts_with("8:"), "a person's name, not the MRI");
    }
    assert!(!known.contains_key(stranger));
    assert_eq!(names.known(&users[0].0).as_ref(), Some(&users[0].1));
    assert_eq!(names.unavailable(), None);
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_user_read_all_the_directory_says_why_and_stops_asking() {
    let sim = TestSim::start("wrong-permissions").await;
    let id = sim.sim.state.tenant.users[0].id.clone();
    let (names, queue) = UserNames::new();
    let task = tokio::spawn(resolve(
        names.clone(),
        queue,
        vec![source(&sim)],
        CancellationToken::new(),
    ));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    names.names_for([id.as_str()]);
    while names.unavailable().is_none() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let why = names.unavailable().expect("the directory says why");
    assert!(why.contains("User.Read.All"), "{why}");
    assert!(why.contains("sim"), "names the profile: {why}");
    assert!(names.names_for([id.as_str()]).is_empty());
    // With every profile refused, the resolver has nothing left to ask and ends.
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();
    sim.stop().await;
}
