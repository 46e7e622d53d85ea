//! Certificate rotation end to end: the running collector rotates a profile's keys in process
//! (`Collector::rotate_certificate`) and its keeper moves the subscription to the new
//! certificate at once (one live subscription on the new id, the old one deleted at Graph and
//! marked replaced); a notification Graph encrypted for the old certificate, judged after the
//! rotation, still decrypts; and `pilotwatch keys rotate` turns the key files, printing both
//! ids, and refuses an unknown profile without touching anything.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod receiver_support;

use std::time::{Duration, Instant};

use common::TestSim;
use pilotwatch::cli::KeysCommand;
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::{Collector, CollectorOptions, RotationError};
use pilotwatch::commands::keys::{KeysError, run as keys_run};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::config::Paths;
use pilotwatch::receiver::EncryptionKeys;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::{DecryptVerdict, EventKind, KeeperAction, Outcome, SubscriptionState};
use receiver_support::{generate, harness};

async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_process_rotation_moves_the_subscription_to_the_new_certificate() {
    let sim = TestSim::start_with(SimOptions {
        speed: 10.0,
        ..SimOptions::loopback(Scenario::load("healthy").unwrap())
    })
    .await;
    let data = tempfile::tempdir().unwrap();
    let profile = sim_profile(&sim.sim, data.path()).unwrap();
    let clock: SharedClock = sim.sim.state.clock.clone();
    let mut options = CollectorOptions::new(data.path());
    options.poll.initial_backfill = chrono::Duration::minutes(5);
    let collector = Collector::start(&[profile], clock, options).await.unwrap();
    let store = collector.store().clone();
    let active = || store.subscriptions().active("sim").unwrap();
    wait_for("the first subscription", Duration::from_secs(8), || {
        active().len() == 1
    })
    .await;
    let old = active().remove(0);

    let refused = collector.rotate_certificate("nope").await.unwrap_err();
    assert!(
        matches!(&refused, RotationError::UnknownProfile { known, .. } if known == &["sim".to_owned()]),
        "{refused}"
    );
    let rotation = collector.rotate_certificate("sim").await.unwrap();
    assert_eq!(Some(&rotation.previous_id), old.certificate_id.as_ref());
    assert_ne!(rotation.current_id, rotation.previous_id);

    // Well before any renewal is due: the keeper was woken, not timed.
    wait_for("the replacement", Duration::from_secs(8), || {
        active()
            .first()
            .is_some_and(|record| record.certificate_id.as_ref() == Some(&rotation.current_id))
    })
    .await;
    let now = sim.sim.state.now();
    let live: Vec<_> = sim
        .sim
        .state
        .registry()
        .live(now)
        .map(|record| record.subscription.clone())
        .collect();
    assert_eq!(live.len(), 1, "exactly one live subscription: {live:?}");
    assert_eq!(
        live[0].encryption_certificate_id.as_deref(),
        Some(rotation.current_id.as_str())
    );
    assert_ne!(live[0].id, old.id);
    let current = active();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, live[0].id);
    let retired = store.subscriptions().get(&old.id).unwrap().unwrap();
    assert_eq!(retired.state, SubscriptionState::Replaced);
    let events = store.events().recent(1000).unwrap();
    let rotated = events.iter().find(|event| {
        event.kind == EventKind::keeper(KeeperAction::RotateCertificate, Outcome::Succeeded)
            && event.message.contains(&old.id)
    });
    let rotated = rotated.expect("the move is an event");
    assert!(
        rotated.message.contains(&rotation.current_id),
        "{}",
        rotated.message
    );

    collector.shutdown().await;
    // The files hold the new pair and keep the old one beside it.
    let keys = EncryptionKeys::load_or_generate(
        &data.path().join("keys/sim.crt"),
        &data.path().join("keys/sim.key"),
        sim.sim.state.clock.clone(),
    )
    .unwrap();
    assert_eq!(keys.current_certificate_id(), rotation.current_id);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_encrypted_for_the_old_certificate_decrypts_after_the_rotation() {
    let sim = receiver_support::sim().await;
    let h = harness(&sim, |_| {}).await;
    h.subscribe(&sim).await;
    let old_id = h.keys.current_certificate_id();
    // Graph encrypts for the current (soon old) certificate; the receiver stores the batch and
    // judges it only once its commit goes through, after the rotation.
    h.ledger.hold_commits();
    generate(&sim, 1).await;
    h.ledger.wait_puts(1).await;
    h.keys.rotate().unwrap();
    assert_ne!(h.keys.current_certificate_id(), old_id);
    h.ledger.open_commits();
    h.ledger
        .wait_for(
            "the judged notifications",
            Duration::from_secs(8),
            |inner| inner.notifications.len() >= 2,
        )
        .await;
    let judged = h.ledger.notifications();
    assert!(
        judged
            .iter()
            .all(|record| record.decryption == DecryptVerdict::Ok && record.accepted),
        "{judged:#?}"
    );
}

fn write_config(dir: &std::path::Path) -> std::path::PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        r#"[[profile]]
name = "contoso"
tenant = "contoso.onmicrosoft.com"
client_id = "11111111-2222-4333-8444-555555555555"
secret = { kind = "env", var = "PILOTWATCH_TEST_UNUSED" }
"#,
    )
    .unwrap();
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_turns_the_files_and_refuses_a_bad_profile() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::with_config(write_config(dir.path())).unwrap();
    let data = dir.path().join("data");
    let rotate = |profile: Option<&str>| KeysCommand::Rotate {
        profile: profile.map(str::to_owned),
        data_dir: Some(data.clone()),
    };

    // No key pair yet: nothing to rotate, nothing written.
    let mut out = Vec::new();
    let error = keys_run(rotate(None), &paths, &mut out).await.unwrap_err();
    assert!(
        error.to_string().contains("no encryption key pair"),
        "{error}"
    );
    assert!(!data.join("keys").exists());

    let clock: SharedClock = std::sync::Arc::new(pilotwatch::clock::SystemClock);
    let (cert, key) = (data.join("keys/contoso.crt"), data.join("keys/contoso.key"));
    let before = EncryptionKeys::load_or_generate(&cert, &key, clock.clone()).unwrap();
    let old_id = before.current_certificate_id();
    let old_cert = std::fs::read(&cert).unwrap();

    let error = keys_run(rotate(Some("nope")), &paths, &mut out)
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        KeysError::Rotation(RotationError::UnknownProfile { .. })
    ));
    assert_eq!(
        error.to_string(),
        "no profile named nope; known profiles: contoso"
    );
    assert_eq!(std::fs::read(&cert).unwrap(), old_cert, "nothing changed");
    assert!(out.is_empty());

    keys_run(rotate(Some("contoso")), &paths, &mut out)
        .await
        .unwrap();
    let after = EncryptionKeys::load_or_generate(&cert, &key, clock).unwrap();
    let new_id = after.current_certificate_id();
    assert_ne!(new_id, old_id);
    let thumbprint = before.current_thumbprint();
    assert!(
        after.decryption_key(&old_id, &thumbprint).is_some(),
        "the old pair is kept as previous"
    );
    let printed = String::from_utf8(out).unwrap();
    assert!(
        printed.contains(&old_id) && printed.contains(&new_id),
        "{printed}"
    );
    assert!(printed.contains("collector"), "{printed}");
}
