//! DESIGN rule 1 under SIGKILL: the real `pilotwatch serve` binary collects from the in-process
//! simulator and is killed without warning ten times mid-stream, then restarted; after the last
//! restart every change notification the simulator saw answered 2xx is in the store's
//! notification log (the poller's backfills also fill the feed, so the feed alone proves nothing)
//! and its interactions are in the feed. The simulator's delivery log is the witness of what was
//! acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use common::TestSim;
use pilotwatch::clock::SystemClock;
use pilotwatch::sim::activity::{GenerateRequest, generate_now};
use pilotwatch::sim::ledger::{DeliveryKind, DeliveryOutcome};
use pilotwatch::store::{Store, StoreOptions};
use rand::Rng as _;

const KILLS: usize = 10;

/// A free loopback port for the receiver: it must stay the same across restarts, because the
/// subscription's notification URL names it.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_config(sim: &TestSim, dir: &Path, port: u16) -> std::path::PathBuf {
    let state = &sim.sim.state;
    let secret = dir.join("sim.secret");
    pilotwatch::secret::store_secret_file(&secret, &state.configured_secret()).unwrap();
    let config = dir.join("config.toml");
    let text = format!(
        r#"[[profile]]
name = "crash"
tenant = "{tenant}"
client_id = "{client}"
secret = {{ kind = "file", path = "{secret}" }}
receiver_bind = "127.0.0.1:{port}"
notification_url = "http://127.0.0.1:{port}/notify"
lifecycle_notification_url = "http://127.0.0.1:{port}/lifecycle"

[profile.cloud]
authority = "{base}"
graph = "{base}"
"#,
        tenant = state.tenant.id,
        client = state.configured_client_id(),
        secret = secret.display(),
        base = sim.base,
    );
    std::fs::write(&config, text).unwrap();
    config
}

fn serve(config: &Path, data: &Path, home: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args(["--config"])
        .arg(config)
        // No control socket: these runs are about the store, and a second serve must meet the
        // store's lock, not the first one's socket.
        .args(["serve", "--no-control", "--data-dir"])
        .arg(data)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("PILOTWATCH_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_notification_survives_sigkill() {
    // Real time: the collector runs on the system clock, as in production.
    let sim = TestSim::start("healthy").await;
    // Activity at about ten Copilot exchanges a second, for as long as the collector is killed.
    let state = sim.sim.state.clone();
    let generating = tokio_util::sync::CancellationToken::new();
    let stop_generating = generating.clone();
    let mut generator = Some(tokio::spawn(async move {
        let request = GenerateRequest {
            pairs: 1,
            user_id: None,
            app_class: None,
        };
        while !stop_generating.is_cancelled() {
            generate_now(&state, &request).unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }));
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let config = write_config(&sim, home.path(), free_port());

    let mut rng = rand::rng();
    for round in 0..=KILLS {
        let mut child = serve(&config, &data, home.path());
        // The first run creates the subscription; later ones are killed anywhere in the stream.
        let alive = if round == 0 {
            3000
        } else {
            rng.random_range(800..2500)
        };
        tokio::time::sleep(Duration::from_millis(alive)).await;
        if round < KILLS {
            child.kill().unwrap(); // SIGKILL: no drain, no last commit
            child.wait().unwrap();
        } else {
            // The last run processes what the killed ones acknowledged, then stops cleanly.
            generating.cancel();
            if let Some(generator) = generator.take() {
                generator.await.unwrap();
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            let pid = child.id().to_string();
            Command::new("kill").args(["-TERM", &pid]).status().unwrap();
            let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
                .await
                .unwrap();
            assert!(status.success(), "serve exited {status:?} after SIGTERM");
        }
    }

    let acknowledged: Vec<(u64, Vec<String>)> = sim
        .sim
        .state
        .deliveries
        .lock()
        .unwrap()
        .iter()
        .filter(|a| a.kind == DeliveryKind::Change)
        .filter(|a| {
            matches!(
                a.outcome,
                DeliveryOutcome::Delivered | DeliveryOutcome::Slow
            )
        })
        .map(|a| (a.seq, a.interaction_ids.clone()))
        .collect();
    assert!(
        acknowledged.len() > 20,
        "too few acknowledged notifications ({}) for the test to mean anything",
        acknowledged.len()
    );
    let store = Store::open(
        &data.join("store"),
        StoreOptions::default(),
        Arc::new(SystemClock),
    )
    .unwrap();
    // The notification log, not the feed: every restart's backfill also fills the feed from the
    // export API, which would hide a lost notification.
    let notified: HashSet<String> = store
        .notifications()
        .recent(1_000_000)
        .unwrap()
        .into_iter()
        .filter_map(|record| record.interaction_id)
        .collect();
    let mut lost = HashSet::new();
    for (seq, ids) in &acknowledged {
        for id in ids {
            let in_feed = store.interactions().get(id).unwrap().is_some();
            if !notified.contains(id) || !in_feed {
                lost.insert((seq, id.clone()));
            }
        }
    }
    if !lost.is_empty() {
        let rejected = store
            .notifications()
            .rejected_counts(chrono::DateTime::<chrono::Utc>::MIN_UTC)
            .unwrap();
        let mut events = store.events().recent(1000).unwrap();
        events.reverse();
        let journal: Vec<String> = events
            .iter()
            .map(|e| format!("{} {:?} {}", e.at, e.kind, e.message))
            .collect();
        let verdicts: Vec<String> = store
            .notifications()
            .recent(100_000)
            .unwrap()
            .iter()
            .filter(|n| n.rejected.is_some())
            .take(3)
            .map(|n| {
                format!(
                    "{:?} received {} created {:?}",
                    n.validation_tokens, n.received_at, n.created_at
                )
            })
            .collect();
        panic!(
            "{} acknowledged interactions are not in the store: {:?}\nrejected: {rejected:?} {verdicts:?}\n{}",
            lost.len(),
            lost.iter().take(5).collect::<Vec<_>>(),
            journal.join("\n")
        );
    }
    assert!(store.inbox().is_empty(), "batches were left unprocessed");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_serve_on_the_same_store_is_told_who_owns_it() {
    let sim = TestSim::start("healthy").await;
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let config = write_config(&sim, home.path(), free_port());
    let mut first = serve(&config, &data, home.path());
    // Wait until the first one holds the store.
    let pid_file = data.join("store").join(pilotwatch::store::PID_FILE);
    for _ in 0..100 {
        if std::fs::read_to_string(&pid_file).is_ok_and(|pid| !pid.trim().is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args(["--config"])
        .arg(&config)
        .args(["serve", "--no-control", "--data-dir"])
        .arg(&data)
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    let expected = format!(
        "another pilotwatch collector (pid {}) owns {}",
        first.id(),
        data.join("store").display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    first.kill().unwrap();
    first.wait().unwrap();
    sim.stop().await;
}
