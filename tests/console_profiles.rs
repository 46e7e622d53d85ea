//! The credentials form's commands through the embedded backend, against the in-process
//! simulator and a configuration of its own in a temporary directory: a draft is validated
//! (a token, or the exact failure), a save whose credentials fail is refused and changes
//! nothing, the same save with `force` ("save anyway") is written and says UNVALIDATED, and
//! a removal takes the profile and its own secret file. Every outcome of a change says the
//! running collector picks it up at its next start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TestSim;
use common::workspace::{Workspace, add, held};
use pilotwatch::clock::SharedClock;
use pilotwatch::collector::{Collector, CollectorOptions};
use pilotwatch::console::embedded::{EmbeddedOptions, serve};
use pilotwatch::console::{Command, ProfileDraft};
use secrecy::{ExposeSecret, SecretString};

fn draft(held: &common::workspace::Held, secret: &str) -> ProfileDraft {
    ProfileDraft {
        name: "sim".into(),
        tenant: held.tenant.clone(),
        client_id: held.client_id.clone(),
        secret: Some(SecretString::from(secret.to_owned())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_refuses_failing_credentials_unless_forced_and_remove_takes_the_secret_file() {
    let sim = TestSim::start("healthy").await;
    let held = held(&sim);
    let ws = Workspace::new();
    // The profile the form edits, saved the CLI's way (it points at the simulator).
    add(&ws, &held, "sim", &[]).await.ok();
    let before = std::fs::read(ws.config_file()).unwrap();
    let secret_file = ws.own_secret_file("sim");
    let store = tempfile::tempdir().unwrap();
    let clock: SharedClock = sim.sim.state.clock.clone();
    // The running collector keeps the profiles it started with, whatever the form saves.
    let collector = Collector::start(
        &ws.config().profiles,
        clock.clone(),
        CollectorOptions::new(store.path()),
    )
    .await
    .unwrap();
    let handle = serve(
        &collector,
        EmbeddedOptions::new(Vec::new(), clock).with_paths(ws.context.paths.clone()),
    );

    let good = held.secret.expose_secret().to_owned();
    let valid = handle
        .command(Command::ValidateProfile {
            draft: draft(&held, &good),
        })
        .await
        .unwrap();
    assert!(valid.succeeded, "{valid:?}");
    assert!(valid.message.contains("token issued"), "{valid:?}");

    let wrong = "wrong-secret-value";
    let invalid = handle
        .command(Command::ValidateProfile {
            draft: draft(&held, wrong),
        })
        .await
        .unwrap();
    assert!(!invalid.succeeded, "{invalid:?}");
    assert!(invalid.message.contains("AADSTS"), "{invalid:?}");

    let refused = handle
        .command(Command::SaveProfile {
            draft: draft(&held, wrong),
            force: false,
        })
        .await
        .unwrap();
    assert!(!refused.succeeded, "{refused:?}");
    assert!(refused.message.contains("not saved"), "{refused:?}");
    assert_eq!(std::fs::read(ws.config_file()).unwrap(), before);
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), good);

    let forced = handle
        .command(Command::SaveProfile {
            draft: draft(&held, wrong),
            force: true,
        })
        .await
        .unwrap();
    assert!(forced.succeeded, "{forced:?}");
    assert!(
        forced.message.contains("UNVALIDATED (saved anyway)"),
        "{forced:?}"
    );
    assert!(forced.message.contains("AADSTS"), "{forced:?}");
    assert!(
        forced
            .message
            .ends_with("the collector uses it from its next start"),
        "{forced:?}"
    );
    assert!(
        !forced.message.contains(wrong),
        "the secret leaked: {forced:?}"
    );
    assert_eq!(std::fs::read_to_string(&secret_file).unwrap(), wrong);
    assert_eq!(ws.config().profiles.len(), 1);

    let removed = handle
        .command(Command::RemoveProfile {
            profile: "sim".into(),
        })
        .await
        .unwrap();
    assert!(removed.succeeded, "{removed:?}");
    assert!(removed.message.contains("at its next start"), "{removed:?}");
    assert!(ws.config().profiles.is_empty());
    assert!(!secret_file.exists());

    collector.shutdown().await;
    sim.stop().await;
}
