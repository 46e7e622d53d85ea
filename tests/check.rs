//! `pilotwatch check` as monitoring runs it: the real binary, its status line, exit code and
//! JSON — in direct mode against the simulator (no collector runs), and in collector mode
//! against a fake collector on a control socket and a fake status endpoint announced in
//! `collector.json`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod control_support;
mod status_support;
mod tui_support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::TestSim;
use common::workspace::{Workspace, add, held};
use control_support::{Behaviour, FakeCollector};
use pilotwatch::clock::SystemClock;
use pilotwatch::control::protocol::Access;
use pilotwatch::diagnose::FindingCode;
use pilotwatch::severity::Severity;
use pilotwatch::status::announcement::Announcement;
use status_support::{FakeSource, at, verdict};
use tokio_util::sync::CancellationToken;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `pilotwatch --config CONFIG check --data-dir DATA ARGS...` off the async runtime (the
/// simulator answering it runs on that runtime), with a temporary home.
async fn check(config: &Path, data_dir: &Path, args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let mut argv: Vec<String> = vec!["--config".into(), config.display().to_string()];
    argv.extend([
        "check".into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
    ]);
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    tokio::task::spawn_blocking(move || {
        let root = home.path();
        let output = Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
            .args(&argv)
            .env_clear()
            .env("HOME", root)
            .env("XDG_CONFIG_HOME", root.join("config"))
            .env("XDG_DATA_HOME", root.join("data"))
            .env("XDG_STATE_HOME", root.join("state"))
            .env("PILOTWATCH_LOG", "warn")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap(),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    })
    .await
    .unwrap()
}

/// A workspace with profile `contoso` pointing at the simulator under `scenario`.
async fn workspace_for(sim: &TestSim) -> Workspace {
    let ws = Workspace::new();
    // `--force`: a scenario with broken credentials must still be saved to be checked.
    add(&ws, &held(sim), "contoso", &["--force"]).await;
    assert!(ws.config_file().exists(), "the profile was not saved");
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_without_a_collector_is_critical_for_want_of_a_subscription() {
    // Direct mode sees credentials and Graph's subscription list, never delivery. Nothing has
    // created a subscription in a fresh simulator (that is the collector's keeper's job), so
    // the ladder's first broken rung is "subscription alive": CRITICAL, subscription-missing —
    // exactly what an operator with no collector running must be told. The delivery rungs
    // below it are unknown, which a critical finding outranks.
    let sim = TestSim::start("healthy").await;
    let ws = workspace_for(&sim).await;
    let data = ws.root.join("data");
    let run = check(ws.config_file(), &data, &[]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let line = run.stdout.trim_end();
    assert!(!line.contains('\n'), "one line: {line}");
    assert!(
        line.starts_with("PILOTWATCH CRITICAL - contoso: "),
        "{line}"
    );
    assert!(line.contains("[subscription-missing]"), "{line}");
    assert!(!line.contains("[secret-"), "healthy credentials: {line}");
    assert!(line.contains(" | minutes_to_expiry=U;"), "{line}");

    let json = check(ws.config_file(), &data, &["--json"]).await;
    assert_eq!(json.code, 2);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["exit_code"], 2);
    assert_eq!(value["status"].as_str().unwrap(), line);
    let verdict = &value["verdicts"][0];
    assert_eq!(verdict["facts"]["source"]["kind"], "direct");
    assert_eq!(
        verdict["facts"]["subscriptions"]["active"],
        serde_json::json!([])
    );
    assert_eq!(
        verdict["diagnosis"]["ladder"]["first_broken"],
        "subscription-alive"
    );
    assert!(verdict["facts"]["delivery"].is_null());

    let verbose = check(ws.config_file(), &data, &["--verbose"]).await;
    assert!(
        verbose.stdout.contains("empty-dashboard ladder:"),
        "{}",
        verbose.stdout
    );
    assert!(
        verbose.stdout.contains("<- first broken rung"),
        "{}",
        verbose.stdout
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_direct_check_asks_for_one_token() {
    // The credential probe and GET /subscriptions share one Graph client, so the second use is
    // served from its token cache: a check every minute must not double the sign-ins.
    let sim = TestSim::start("healthy").await;
    let ws = workspace_for(&sim).await;
    let requests = || {
        sim.sim
            .state
            .token_requests
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let before = requests();
    let run = check(ws.config_file(), &ws.root.join("data"), &["--json"]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let facts = &value["verdicts"][0]["facts"];
    assert!(
        facts["subscriptions"]["active"].is_array(),
        "the subscriptions were read with the probe's token: {facts}"
    );
    assert_eq!(facts["client_id"], sim.sim.state.configured_client_id());
    assert_eq!(
        facts["thresholds"],
        serde_json::json!({"notification_silence_minutes": 15, "latency_p95_seconds": 10}),
        "the profile's (default) thresholds travel with the facts"
    );
    assert_eq!(requests() - before, 1, "one token request per check");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_secret_is_critical_and_named() {
    let sim = TestSim::start("secret-expired").await;
    let ws = workspace_for(&sim).await;
    let run = check(ws.config_file(), &ws.root.join("data"), &[]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("[secret-expired]"), "{}", run.stdout);
    assert!(run.stdout.starts_with("PILOTWATCH CRITICAL - contoso: "));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_profile_is_unknown_with_a_clear_message() {
    let sim = TestSim::start("healthy").await;
    let ws = workspace_for(&sim).await;
    let run = check(
        ws.config_file(),
        &ws.root.join("data"),
        &["--profile", "fabrikam"],
    )
    .await;
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr
            .contains("no profile named fabrikam; known profiles: contoso"),
        "{}",
        run.stderr
    );
    let bad = check(
        Path::new("/nonexistent/pilotwatch.toml"),
        &ws.root,
        &["--bogus"],
    )
    .await;
    assert_eq!(bad.code, 64, "usage errors stay EX_USAGE: {}", bad.stderr);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_collector_is_asked_through_its_control_socket_first() {
    let mut snapshot = tui_support::snapshot();
    snapshot.profiles[0].verdict = Some(verdict(
        "contoso",
        FindingCode::ValidationTokensNull,
        Severity::Critical,
    ));
    snapshot.profiles[1].verdict = Some(verdict(
        "fabrikam",
        FindingCode::SecretExpiring,
        Severity::Warning,
    ));
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("control.sock");
    let socket_arg = socket.to_str().unwrap().to_owned();
    let behaviour = Behaviour {
        pid: 4242,
        access: Access::ReadWrite,
        bye: None,
        snapshot: snapshot.clone(),
    };
    let mut fake = FakeCollector::start(&socket, behaviour.clone());
    // No configuration and no announcement: the socket's answer needs neither.
    let no_config = dir.path().join("absent.toml");
    let data = dir.path().join("data");

    let run = check(&no_config, &data, &["--control-socket", &socket_arg]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("contoso: validation-tokens-null for the test")
            && run.stdout.contains("fabrikam: secret-expiring"),
        "{}",
        run.stdout
    );
    // It asked read-only, and said it is a check (the collector logs who attached).
    let hello = fake.hellos.recv().await.unwrap();
    assert!(
        hello.readonly && hello.client.ends_with(" check"),
        "{hello:?}"
    );
    let one = check(
        &no_config,
        &data,
        &["--control-socket", &socket_arg, "--profile", "fabrikam"],
    )
    .await;
    assert_eq!(one.code, 1, "{}{}", one.stdout, one.stderr);
    assert!(!one.stdout.contains("contoso"), "{}", one.stdout);
    fake.stop().await;

    // Just started, nothing judged yet: UNKNOWN and why, not "no profile is configured".
    let mut unjudged = behaviour.clone();
    for profile in &mut unjudged.snapshot.profiles {
        profile.verdict = None;
    }
    let fake = FakeCollector::start(&socket, unjudged);
    let early = check(&no_config, &data, &["--control-socket", &socket_arg]).await;
    assert_eq!(early.code, 3, "{}{}", early.stdout, early.stderr);
    assert!(
        early.stdout.starts_with(
            "PILOTWATCH UNKNOWN - the collector (pid 4242) has not judged any profile yet"
        ),
        "{}",
        early.stdout
    );
    // A profile it runs but has not judged is not "no such profile"; one it does not run is.
    let one_early = check(
        &no_config,
        &data,
        &["--control-socket", &socket_arg, "--profile", "fabrikam"],
    )
    .await;
    assert_eq!(
        one_early.code, 3,
        "{}{}",
        one_early.stdout, one_early.stderr
    );
    assert!(
        one_early
            .stdout
            .contains("has not judged profile fabrikam yet"),
        "{}",
        one_early.stdout
    );
    let nope = check(
        &no_config,
        &data,
        &["--control-socket", &socket_arg, "--profile", "nope"],
    )
    .await;
    assert_eq!(nope.code, 3);
    assert!(
        nope.stderr.contains("known profiles: contoso, fabrikam"),
        "{}",
        nope.stderr
    );
    fake.stop().await;

    // A collector that will not take the check, with no status endpoint to ask instead, is
    // UNKNOWN with its reason and where check looked for the endpoint.
    let mut refusing = behaviour;
    refusing.bye = Some("this collector speaks control protocol v2".into());
    let fake = FakeCollector::start(&socket, refusing);
    let refused = check(&no_config, &data, &["--control-socket", &socket_arg]).await;
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("refused this client")
            && refused.stderr.contains("protocol v2")
            && refused
                .stderr
                .contains("no status endpoint answered instead"),
        "{}",
        refused.stderr
    );
    fake.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_collector_is_asked_through_its_announcement() {
    let verdicts = vec![
        verdict(
            "contoso",
            FindingCode::ValidationTokensNull,
            Severity::Critical,
        ),
        verdict("fabrikam", FindingCode::SecretExpiring, Severity::Warning),
    ];
    let shutdown = CancellationToken::new();
    let server = pilotwatch::status::serve(
        "127.0.0.1:0".parse().unwrap(),
        Arc::new(FakeSource(verdicts)),
        Arc::new(SystemClock),
        shutdown.clone(),
    )
    .await
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    // Our own pid: alive for as long as the test runs.
    Announcement {
        pid: std::process::id(),
        status_addr: Some(server.local_addr),
        started_at: at(),
    }
    .write(data.path())
    .unwrap();
    // No configuration at all: a collector's verdicts need none.
    let no_config = data.path().join("absent.toml");

    let run = check(&no_config, data.path(), &[]).await;
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("contoso: validation-tokens-null for the test"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("fabrikam: secret-expiring"),
        "{}",
        run.stdout
    );

    // A socket that will not take the check (a monitoring agent outside the collector's
    // group) does not stop it: the status endpoint, made for monitoring, answers instead.
    let socket = data.path().join("control.sock");
    let fake = FakeCollector::start(
        &socket,
        Behaviour {
            pid: 4242,
            access: Access::ReadOnly,
            bye: Some("not in the pilotwatch group".into()),
            snapshot: tui_support::snapshot(),
        },
    );
    let around = check(
        &no_config,
        data.path(),
        &["--control-socket", socket.to_str().unwrap()],
    )
    .await;
    assert_eq!(around.code, 2, "{}{}", around.stdout, around.stderr);
    assert!(around.stdout.contains("contoso: validation-tokens-null"));
    fake.stop().await;

    // When both answer, the socket's verdicts are the ones used.
    let fake = FakeCollector::start(
        &socket,
        Behaviour {
            pid: 4242,
            access: Access::ReadOnly,
            bye: None,
            snapshot: tui_support::snapshot(),
        },
    );
    let both = check(
        &no_config,
        data.path(),
        &["--control-socket", socket.to_str().unwrap()],
    )
    .await;
    assert!(
        both.stdout.contains("[secret-expired]") && !both.stdout.contains("validation-tokens-null"),
        "{}{}",
        both.stdout,
        both.stderr
    );
    fake.stop().await;

    let one = check(
        &no_config,
        data.path(),
        &["--profile", "fabrikam", "--json"],
    )
    .await;
    assert_eq!(one.code, 1, "{}{}", one.stdout, one.stderr);
    let value: serde_json::Value = serde_json::from_str(&one.stdout).unwrap();
    assert_eq!(value["verdicts"].as_array().unwrap().len(), 1);
    assert_eq!(value["verdicts"][0]["facts"]["source"]["kind"], "collector");

    let unknown = check(&no_config, data.path(), &["--profile", "nope"]).await;
    assert_eq!(unknown.code, 3);
    assert!(
        unknown.stderr.contains("known profiles: contoso, fabrikam"),
        "{}",
        unknown.stderr
    );

    shutdown.cancel();
    server.stopped().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_does_not_answer_leads_with_store_locked() {
    let sim = TestSim::start("healthy").await;
    let ws = workspace_for(&sim).await;
    let data = ws.root.join("data");
    // Announced, alive (our pid), but nothing listens on its address.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    Announcement {
        pid: std::process::id(),
        status_addr: Some(closed),
        started_at: at(),
    }
    .write(&data)
    .unwrap();
    let run = check(ws.config_file(), &data, &["--json"]).await;
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let verdict = &value["verdicts"][0];
    assert_eq!(
        verdict["facts"]["source"]["kind"], "unreachable",
        "{}",
        run.stdout
    );
    assert_eq!(verdict["facts"]["source"]["pid"], std::process::id());
    let codes: Vec<&str> = verdict["diagnosis"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"store-locked"), "{codes:?}");

    // Its control socket is there but never answers the hello (a hung collector): it cannot
    // be asked either way, and both reasons are kept.
    let socket = ws.root.join("control.sock");
    let _hung = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let run = check(
        ws.config_file(),
        &data,
        &["--json", "--control-socket", socket.to_str().unwrap()],
    )
    .await;
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let source = &value["verdicts"][0]["facts"]["source"];
    assert_eq!(source["kind"], "unreachable", "{}", run.stdout);
    assert_eq!(source["pid"], std::process::id());
    let reason = source["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("its control socket: ")
            && reason.contains("did not answer within 2s")
            && reason.contains(&closed.to_string()),
        "{reason}"
    );
    sim.stop().await;
}
