//! The CLI twins (`status`, `subs`, `export`) as functions of a collector handle: over an
//! embedded backend on a real collector against the in-process simulator, over a handle that
//! reads as attached (a relay standing in for the control socket), and through
//! `collector_handle` starting a collector of its own from a configuration file. Plus the
//! binary's refusals: bad filter, existing file, no profile — each with its exit code and
//! nothing written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::TestSim;
use common::collected::{Collected as Run, Setup};
use common::records;
use pilotwatch::cli::{StatusArgs, SubsArgs};
use pilotwatch::clock::{Clock as _, SharedClock};
use pilotwatch::commands::serve::sim_profile;
use pilotwatch::commands::twins::handle::{Attach, AttachFuture, Attached};
use pilotwatch::commands::twins::run::{self as twins, TwinContext};
use pilotwatch::commands::twins::status::StatusJson;
use pilotwatch::commands::twins::subs::SubsJson;
use pilotwatch::commands::twins::{NoControlSocket, TwinError, TwinFailure, export, status, subs};
use pilotwatch::config::{Config, Paths};
use pilotwatch::console::embedded::feed::Matcher;
use pilotwatch::console::query::filter;
use pilotwatch::console::{CollectorHandle, Connection, ExportFormat, Request, Snapshot};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::records::InteractionRecord;
use pilotwatch::store::{Durability, Store, StoreOptions};

/// Longest real wait for any one condition.
const WAIT: Duration = Duration::from_secs(8);

/// The simulator at a gentle speed with `pairs_per_hour` of Copilot use, a collector against
/// it on `data` (which may hold a store already), and the embedded backend on top.
async fn run_on(data: tempfile::TempDir, pairs_per_hour: f64) -> Run {
    Setup::healthy().used(pairs_per_hour).on(data).start().await
}

impl Run {
    /// Waits (bounded) until notifications arrived on a subscription, interactions are stored
    /// and the verdict has its credentials.
    async fn settled(&self) -> Snapshot {
        let deadline = Instant::now() + WAIT;
        loop {
            let snapshot = self.handle.snapshot().await.unwrap();
            let profile = &snapshot.profiles[0];
            if profile.subscriptions.iter().any(|row| row.received > 0)
                && snapshot.interactions_stored > 0
                && profile
                    .verdict
                    .as_ref()
                    .is_some_and(|v| v.facts.credentials.is_some())
            {
                return snapshot;
            }
            assert!(Instant::now() < deadline, "never settled: {snapshot:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A handle that reads as attached to pid 4242 (read-only), relaying every request to
/// `inner`: what the control client hands a twin.
fn attached(inner: &CollectorHandle) -> CollectorHandle {
    let (updates, _) = tokio::sync::broadcast::channel(16);
    let connection = Connection::Attached {
        pid: 4242,
        read_write: false,
    };
    let (handle, mut served) = CollectorHandle::new(updates, connection);
    let inner = inner.clone();
    tokio::spawn(async move {
        while let Some(request) = served.recv().await {
            match request {
                Request::Snapshot(reply) => drop(reply.send(inner.snapshot().await)),
                Request::Feed(query, reply) => drop(reply.send(inner.feed(query).await)),
                other => panic!("a twin asked for more than it reads: {other:?}"),
            }
        }
    });
    handle
}

fn text(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_subs_show_the_verdict_and_the_subscription_facts() {
    let run = run_on(tempfile::tempdir().unwrap(), 3600.0).await;
    let settled = run.settled().await;
    let row = &settled.profiles[0].subscriptions[0];
    let verdict = settled.profiles[0].verdict.clone().unwrap();
    let handle = attached(&run.handle);

    let mut out = Vec::new();
    let code = status::run(&handle, None, false, &mut out).await.unwrap();
    let screen = text(out);
    assert_eq!(code, verdict.diagnosis.severity.exit_code(), "{screen}");
    assert_eq!(code, 0, "a healthy run is OK:\n{screen}");
    for expected in [
        "PILOTWATCH OK",
        "attached to pid 4242",
        "token granted",
        row.id.as_str(),
        "tenant-wide",
        "validationTokens 100%",
        "ack p95 0.",
        "interactions stored, newest",
    ] {
        assert!(screen.contains(expected), "no {expected:?} in:\n{screen}");
    }
    assert!(!screen.contains("no collector running"), "{screen}");
    // Healthy may carry an info finding (nothing to do): either way a word, not a colour.
    assert!(
        screen.contains("\nsim  ✔ OK  ") || screen.contains("\nsim  ℹ INFO  "),
        "{screen}"
    );
    println!("{screen}");

    // The same handle, embedded in this process: nobody keeps the subscriptions once the
    // command exits, which is CRITICAL whatever the verdict.
    let mut out = Vec::new();
    let code = status::run(&run.handle, None, false, &mut out)
        .await
        .unwrap();
    let screen = text(out);
    assert_eq!(code, 2, "{screen}");
    assert!(screen.starts_with("PILOTWATCH CRITICAL"), "{screen}");
    assert!(screen.contains("✖ CRIT  no collector running"), "{screen}");

    // JSON: parses into the documented shape and reads back to the same value.
    let mut out = Vec::new();
    let code = status::run(&handle, Some("sim"), true, &mut out)
        .await
        .unwrap();
    let json = text(out);
    let parsed: StatusJson = serde_json::from_str(&json).unwrap();
    assert_eq!((parsed.exit_code, parsed.status.as_str()), (code, "OK"));
    assert_eq!(parsed.snapshot.profiles.len(), 1);
    assert_eq!(parsed.snapshot.profiles[0].subscriptions[0].id, row.id);
    assert_eq!(
        serde_json::to_value(&parsed).unwrap(),
        serde_json::from_str::<serde_json::Value>(&json).unwrap()
    );

    // subs: the table and its machine form.
    let mut out = Vec::new();
    let code = subs::run(&handle, None, false, &mut out).await.unwrap();
    let table = text(out);
    assert_eq!(code, 0, "{table}");
    for expected in [
        row.id.as_str(),
        "tenant-wide",
        "100%",
        "recv",
        "ack p95",
        "in 2d",
    ] {
        assert!(table.contains(expected), "no {expected:?} in:\n{table}");
    }
    let mut out = Vec::new();
    subs::run(&handle, None, true, &mut out).await.unwrap();
    let parsed: SubsJson = serde_json::from_str(&text(out)).unwrap();
    assert_eq!(parsed.profiles[0].profile, "sim");
    assert_eq!(parsed.profiles[0].subscriptions[0].id, row.id);
    assert!(parsed.profiles[0].subscriptions[0].received > 0);

    // An unknown profile: an error naming the known ones, nothing printed, UNKNOWN.
    for twin in ["status", "subs"] {
        let mut out = Vec::new();
        let error = match twin {
            "status" => status::run(&handle, Some("nope"), false, &mut out).await,
            _ => subs::run(&handle, Some("nope"), true, &mut out).await,
        }
        .unwrap_err();
        assert!(matches!(error, TwinError::UnknownProfile { .. }), "{error}");
        assert!(error.to_string().contains("known profiles: sim"), "{error}");
        assert!(out.is_empty(), "{twin} printed {:?}", text(out));
        assert_eq!(TwinFailure::status(error).exit_code(), 3);
    }
    run.stop().await;
}

/// `count` interactions created in the `count` seconds before `now`: every 5 000th from a
/// rare app, alternating prompts and responses.
fn interactions(count: u32, now: DateTime<Utc>) -> Vec<InteractionRecord> {
    (0..count)
        .map(|n| {
            let created_at = now - chrono::Duration::seconds(i64::from(n) + 60);
            records::seeded(format!("seeded-{n:06}"), n, created_at, n % 5_000 == 4)
        })
        .collect()
}

/// A data directory whose store holds `records`, closed again for a collector to open.
fn seeded(records: &[InteractionRecord], clock: SharedClock) -> tempfile::TempDir {
    let data = tempfile::tempdir().unwrap();
    let options = StoreOptions {
        flush_every_ms: None,
        durability: Durability::Flush,
        ..StoreOptions::default()
    };
    let store = Store::open(&data.path().join("store"), options, clock).unwrap();
    for chunk in records.chunks(5_000) {
        store.interactions().insert_all_if_absent(chunk).unwrap();
    }
    drop(store);
    data
}

/// The ids the store holds under `filter_text`, newest first, read directly.
fn matching_in_store(store: &Store, filter_text: &str) -> Vec<String> {
    let matcher = Matcher::new(&filter::parse(filter_text).unwrap());
    let mut ids = Vec::new();
    store
        .interactions()
        .visit_newest_first(None, u64::MAX, |record| {
            if matcher.matches(record) {
                ids.push(record.id.clone());
            }
            ControlFlow::Continue(())
        })
        .unwrap();
    ids
}

fn exported_ids(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<InteractionRecord>(line).unwrap().id)
        .collect()
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains(".pilotwatch-export-"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_pages_the_feed_into_exactly_the_matching_rows_and_never_overwrites() {
    // Quiet: no live traffic, so the store holds exactly what was seeded while we compare.
    let clock: SharedClock = Arc::new(pilotwatch::clock::SystemClock);
    let records = interactions(24_000, clock.now());
    let run = run_on(seeded(&records, clock), 0.0).await;
    let out_dir = tempfile::tempdir().unwrap();

    // A rare filter: the first page stops at the scan bound with a cursor and few rows; the
    // export follows the cursor to the end.
    let rare = out_dir.path().join("rare.jsonl");
    let filter_text = "app:rare type:prompt";
    let done = export::export(
        &run.handle,
        filter::parse(filter_text).unwrap(),
        ExportFormat::Jsonl,
        &rare,
    )
    .await
    .unwrap();
    let expected = matching_in_store(run.collector.store(), filter_text);
    assert!(!expected.is_empty() && expected.len() < 10, "{expected:?}");
    assert_eq!(exported_ids(&rare), expected);
    assert_eq!(done.rows, expected.len() as u64);
    assert!(done.pages >= 2, "the cursor was not followed: {done:?}");

    // Everything, through the attached relay, as CSV: one header and every stored row.
    let all = out_dir.path().join("all.csv");
    let mut out = Vec::new();
    export::run(
        &attached(&run.handle),
        filter::parse("").unwrap(),
        ExportFormat::Csv,
        &all,
        &mut out,
    )
    .await
    .unwrap();
    let stored = matching_in_store(run.collector.store(), "");
    assert_eq!(stored.len(), records.len());
    let mut csv = csv::Reader::from_path(&all).unwrap();
    let ids: BTreeSet<String> = csv
        .deserialize::<InteractionRecord>()
        .map(|row| row.unwrap().id)
        .collect();
    assert_eq!(ids, stored.iter().cloned().collect::<BTreeSet<_>>());
    assert_eq!(
        text(out).trim(),
        format!("exported 24000 interactions to {} (CSV)", all.display())
    );

    // An existing file is refused and left as it was.
    let before = std::fs::read(&rare).unwrap();
    let error = export::export(
        &run.handle,
        filter::parse("").unwrap(),
        ExportFormat::Jsonl,
        &rare,
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("does not overwrite"), "{error}");
    assert_eq!(std::fs::read(&rare).unwrap(), before);
    assert_eq!(TwinFailure::export(error).exit_code(), 1);

    // The connection dropping after the first page: an error, no file, no temporary file.
    let broken = out_dir.path().join("broken.jsonl");
    let error = export::export(
        &one_page_then_gone(&run.handle),
        filter::parse("").unwrap(),
        ExportFormat::Jsonl,
        &broken,
    )
    .await
    .unwrap_err();
    assert!(matches!(error, TwinError::Console(_)), "{error}");
    assert!(!broken.exists());
    assert_eq!(leftovers(out_dir.path()), Vec::<PathBuf>::new());
    assert_eq!(TwinFailure::export(error).exit_code(), 2);
    run.stop().await;
}

/// A handle that answers one feed page from `inner` and then loses its connection.
fn one_page_then_gone(inner: &CollectorHandle) -> CollectorHandle {
    let (updates, _) = tokio::sync::broadcast::channel(16);
    let (handle, mut served) = CollectorHandle::new(updates, Connection::Embedded);
    let inner = inner.clone();
    tokio::spawn(async move {
        if let Some(Request::Feed(query, reply)) = served.recv().await {
            drop(reply.send(inner.feed(query).await));
        }
    });
    handle
}

/// An attach that finds a collector speaking another protocol version.
struct Refusing;

impl Attach for Refusing {
    fn attach(&self) -> AttachFuture<'_> {
        Box::pin(std::future::ready(Attached::Refused(
            "it speaks control protocol 9; this pilotwatch speaks 1".to_owned(),
        )))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_collector_a_twin_starts_one_for_the_moment_and_says_so() {
    let mut scenario = Scenario::load("healthy").unwrap();
    scenario.activity.history_days = 0;
    let sim = TestSim::start_with(SimOptions::loopback(scenario)).await;
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().join("data"),
        state_dir: None,
        runtime_dir: None,
    };
    let profile = sim_profile(&sim.sim, &paths.data_dir).unwrap();
    Config {
        profiles: vec![profile],
        control: Default::default(),
    }
    .save(&paths.config_file)
    .unwrap();
    let context = TwinContext {
        paths: &paths,
        attach: &NoControlSocket,
        clock: sim.sim.state.clock.clone(),
    };

    let args = StatusArgs {
        profile: None,
        json: false,
        data_dir: None,
    };
    let mut out = Vec::new();
    let code = twins::status(&args, &context, &mut out).await.unwrap();
    let screen = text(out);
    assert_eq!(code, 2, "{screen}");
    assert!(screen.starts_with("PILOTWATCH CRITICAL"), "{screen}");
    assert!(screen.contains("no collector running"), "{screen}");
    assert!(screen.contains("token granted"), "{screen}");
    // It only looked: no subscription was created at Graph for a receiver about to stop.
    let now = sim.sim.state.clock.now();
    assert_eq!(sim.sim.state.registry().live(now).count(), 0);
    // The collector it started is gone again: the store opens.
    let clock: SharedClock = sim.sim.state.clock.clone();
    drop(
        Store::open(
            &paths.data_dir.join("store"),
            StoreOptions::default(),
            clock,
        )
        .unwrap(),
    );

    // A collector that answers but refuses: an error, and its store is not opened behind its
    // back (a fresh data directory stays empty).
    let untouched = dir.path().join("untouched");
    let refusing = TwinContext {
        attach: &Refusing,
        ..context
    };
    let args = SubsArgs {
        profile: None,
        json: true,
        data_dir: Some(untouched.clone()),
    };
    let mut out = Vec::new();
    let failure = twins::subs(&args, &refusing, &mut out).await.unwrap_err();
    assert!(
        matches!(failure.error(), TwinError::AttachRefused(_)),
        "{failure}"
    );
    assert!(failure.to_string().contains("protocol 9"), "{failure}");
    assert_eq!(failure.exit_code(), 3);
    assert!(out.is_empty() && !untouched.exists());
    sim.stop().await;
}

/// One run of the binary in a home of its own.
fn pilotwatch(home: &Path, args: &[&str]) -> (i32, String, String) {
    let output = Process::new(env!("CARGO_BIN_EXE_pilotwatch"))
        .args(["--config", &home.join("config.toml").display().to_string()])
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env_remove("XDG_RUNTIME_DIR")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_binary_refuses_bad_input_with_its_exit_code_and_writes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let output = home.path().join("out.jsonl");
    let out = output.display().to_string();

    let (code, stdout, stderr) = pilotwatch(
        home.path(),
        &["export", "--filter", "colour:red", "--output", &out],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("unknown field `colour:`"), "{stderr}");
    assert!(!output.exists());

    std::fs::write(&output, "keep me\n").unwrap();
    let (code, _, stderr) = pilotwatch(home.path(), &["export", "--output", &out]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("does not overwrite"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "keep me\n");

    let missing = home.path().join("no-such-dir").join("x.csv");
    let (code, _, stderr) = pilotwatch(
        home.path(),
        &[
            "export",
            "--format",
            "csv",
            "--output",
            &missing.display().to_string(),
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");

    // No profile configured: status cannot run, which monitoring reads as UNKNOWN.
    for twin in ["status", "subs"] {
        let (code, stdout, stderr) = pilotwatch(home.path(), &[twin]);
        assert_eq!(code, 3, "{twin}: {stdout}{stderr}");
        assert!(stderr.contains("no profiles are configured"), "{stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("out.jsonl")]);
}
