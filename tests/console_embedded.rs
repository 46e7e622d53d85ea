//! The embedded backend: a `CollectorHandle` served from a real collector running against the
//! in-process simulator (snapshot, feed, activity, latency, export, scenario switch, the
//! refusals), and the feed's paging over a store of 50 000 interactions (complete, newest first,
//! bounded per page under a rare filter).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::collected::{Collected as Run, Setup};
use common::records;
use pilotwatch::clock::{ManualClock, SharedClock};
use pilotwatch::console::audit::Operator;
use pilotwatch::console::embedded::feed::{MAX_EXAMINED_PER_PAGE, read_page};
use pilotwatch::console::{
    Command, ConsoleError, ExportFormat, FeedFilter, FeedQuery, LatencyQuery, LatencyWindow,
};
use pilotwatch::store::records::AuditOutcome;
use pilotwatch::store::records::InteractionRecord;
use pilotwatch::store::{Durability, Store, StoreOptions};

/// Longest real wait for any one condition.
const WAIT: Duration = Duration::from_secs(8);

/// The healthy simulator at a gentle speed with brisk Copilot use, a collector against it,
/// and the embedded backend on top, with the scenario switch.
async fn run() -> Run {
    Setup::healthy().used(3600.0).switchable().start().await
}

impl Run {
    /// Waits (bounded) until the snapshot shows notifications received on a subscription and
    /// interactions stored.
    async fn settled(&self) -> pilotwatch::console::Snapshot {
        let deadline = Instant::now() + WAIT;
        loop {
            let snapshot = self.handle.snapshot().await.unwrap();
            let received = snapshot.profiles[0]
                .subscriptions
                .iter()
                .any(|row| row.received > 0);
            if received
                && snapshot.interactions_stored > 0
                && snapshot.profiles[0].verdict.is_some()
            {
                return snapshot;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for notifications; snapshot: {snapshot:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn playing(&self) -> String {
        let body: serde_json::Value = self
            .sim
            .http
            .get(self.sim.url("/_sim/scenario"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["name"].as_str().unwrap().to_owned()
    }
}

/// How many rows an export's outcome says it wrote.
fn rows_in(message: &str) -> usize {
    message
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no row count in {message:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_snapshot_is_filled_from_the_running_collector() {
    let run = run().await;
    let snapshot = run.settled().await;
    assert_eq!(snapshot.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(snapshot.pid, std::process::id());
    assert!(snapshot.started_at <= snapshot.taken_at);
    let simulation = snapshot.simulation.as_ref().unwrap();
    assert_eq!(simulation.scenario, "healthy");
    assert!(simulation.scenarios.iter().any(|name| name == "throttled"));
    let profile = &snapshot.profiles[0];
    assert_eq!(profile.name, "sim");
    assert_eq!(profile.tenant, run.sim.sim.state.tenant.id);
    let row = profile
        .subscriptions
        .iter()
        .find(|row| row.received > 0)
        .unwrap();
    assert!(row.rich && row.certificate_id.is_some(), "{row:#?}");
    assert!(
        row.tokens_present_share.is_some_and(|share| share > 0.5),
        "{row:#?}"
    );
    assert_eq!((row.decrypt_failures, row.client_state_mismatches), (0, 0));
    assert!(row.ack_p95_seconds.is_some(), "{row:#?}");
    let renewal = row.next_renewal_at.unwrap();
    assert!(
        row.created_at < renewal && renewal < row.expires_at,
        "{row:#?}"
    );
    assert!(
        !profile.recent_events.is_empty(),
        "the keeper's creation is an event"
    );
    assert!(!snapshot.feed_head.is_empty());
    assert!(snapshot.feed_head.len() as u64 <= snapshot.interactions_stored);
    assert!(
        snapshot
            .feed_head
            .windows(2)
            .all(|pair| pair[0].created_at >= pair[1].created_at),
        "the feed head is newest first"
    );

    let activity = run.handle.activity(FeedFilter::default()).await.unwrap();
    assert!(activity.counted > 0 && !activity.rows.is_empty());
    assert!(!activity.truncated);
    assert!(activity.rows.iter().any(|row| row.prompts > 0));
    let latency = run
        .handle
        .latency(LatencyQuery {
            window: LatencyWindow::Day,
            profile: None,
        })
        .await
        .unwrap();
    assert!(latency.ack.is_some_and(|ack| ack.count > 0), "{latency:#?}");
    assert!(!latency.by_app.is_empty(), "{latency:#?}");
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_pages_through_what_arrived_and_exports_it() {
    let run = run().await;
    run.settled().await;
    let stored_before = run.collector.store().interactions().count().unwrap();
    let (mut seen, mut ids) = (Vec::new(), HashSet::new());
    let mut query = FeedQuery {
        filter: FeedFilter::default(),
        after: None,
        limit: 7,
    };
    loop {
        let page = run.handle.feed(query.clone()).await.unwrap();
        for row in &page.rows {
            assert!(ids.insert(row.id.clone()), "{} came twice", row.id);
        }
        seen.extend(page.rows);
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    assert!(
        seen.len() as u64 >= stored_before,
        "{} < {stored_before}",
        seen.len()
    );
    assert!(
        seen.windows(2)
            .all(|pair| (pair[0].created_at, &pair[0].id) > (pair[1].created_at, &pair[1].id)),
        "newest first, ties by id"
    );

    let dir = run.data.path();
    let jsonl = dir.join("feed.jsonl");
    let outcome = run
        .handle
        .command(Command::Export {
            filter: FeedFilter::default(),
            format: ExportFormat::Jsonl,
            path: jsonl.clone(),
        })
        .await
        .unwrap();
    assert!(outcome.succeeded, "{outcome:?}");
    let lines: Vec<InteractionRecord> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), rows_in(&outcome.message), "{outcome:?}");
    assert!(lines.len() >= seen.len());

    let csv_path = dir.join("prompts.csv");
    let prompts = FeedFilter {
        interaction_type: Some("userPrompt".into()),
        ..FeedFilter::default()
    };
    let outcome = run
        .handle
        .command(Command::Export {
            filter: prompts,
            format: ExportFormat::Csv,
            path: csv_path.clone(),
        })
        .await
        .unwrap();
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let rows: Vec<InteractionRecord> = reader.deserialize().map(Result::unwrap).collect();
    assert_eq!(rows.len(), rows_in(&outcome.message), "{outcome:?}");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|row| row.interaction_type == "userPrompt"));
    assert!(
        rows.iter()
            .all(|row| ids.contains(&row.id) || row.created_at > seen[0].created_at)
    );

    // An existing file is never overwritten.
    let outcome = run
        .handle
        .command(Command::Export {
            filter: FeedFilter::default(),
            format: ExportFormat::Csv,
            path: jsonl.clone(),
        })
        .await;
    assert!(
        matches!(&outcome, Err(ConsoleError::Refused(why)) if why.contains("exists")),
        "{outcome:?}"
    );
    let again: usize = std::fs::read_to_string(&jsonl).unwrap().lines().count();
    assert_eq!(again, lines.len(), "the existing export is untouched");
    let leftovers = std::fs::read_dir(dir)
        .unwrap()
        .filter(|entry| {
            let name = entry.as_ref().unwrap().file_name();
            name.to_string_lossy().starts_with(".pilotwatch-export-")
        })
        .count();
    assert_eq!(leftovers, 0, "no temporary file is left behind");
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_names_its_users_and_filters_by_those_names() {
    let run = run().await;
    run.settled().await;
    let newest = FeedQuery {
        filter: FeedFilter::default(),
        after: None,
        limit: 50,
    };
    // The first page queues its users' ids; a later one carries their names.
    let deadline = Instant::now() + WAIT;
    let page = loop {
        let page = run.handle.feed(newest.clone()).await.unwrap();
        if !page.names.is_empty() {
            break page;
        }
        assert!(Instant::now() < deadline, "no names came: {page:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let tenant = &run.sim.sim.state.tenant.users;
    for (id, name) in &page.names {
        let user = tenant.iter().find(|user| &user.id == id).unwrap();
        assert_eq!(
            name, &user.display_name,
            "the directory's name, not the MRI"
        );
    }
    assert_eq!(page.names_unavailable, None);
    let (id, name) = page.names.iter().next().unwrap();
    let by_name = run
        .handle
        .feed(FeedQuery {
            filter: FeedFilter {
                user: Some(name.to_uppercase()),
                ..FeedFilter::default()
            },
            ..newest.clone()
        })
        .await
        .unwrap();
    assert!(
        !by_name.rows.is_empty(),
        "user:{name} finds their interactions"
    );
    assert!(
        by_name
            .rows
            .iter()
            .all(|row| row.user_id.as_ref() == Some(id)),
        "only theirs"
    );
    let activity = run.handle.activity(FeedFilter::default()).await.unwrap();
    assert!(
        activity
            .rows
            .iter()
            .any(|row| row.user_name.as_ref() == Some(name)),
        "the activity view names them too: {activity:#?}"
    );
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_switch_and_bad_commands_change_nothing() {
    let run = run().await;
    let before = run.settled().await.profiles[0].subscriptions[0].clone();
    let renewed = run
        .handle
        .command(Command::Renew {
            profile: "sim".into(),
            subscription: before.id.clone(),
        })
        .await
        .unwrap();
    assert!(renewed.succeeded, "{renewed:?}");
    let after = run.handle.snapshot().await.unwrap().profiles[0].subscriptions[0].clone();
    assert_eq!(after.id, before.id);
    assert!(after.last_renewed_at.is_some(), "{after:?}");
    let refused = run
        .handle
        .command(Command::SwitchScenario {
            name: "no-such-scenario".into(),
        })
        .await;
    assert!(
        matches!(&refused, Err(ConsoleError::Refused(why)) if why.contains("unknown scenario")),
        "{refused:?}"
    );
    assert_eq!(run.playing().await, "healthy");

    let switched = run
        .handle
        .command(Command::SwitchScenario {
            name: "throttled".into(),
        })
        .await
        .unwrap();
    assert!(switched.succeeded, "{switched:?}");
    assert_eq!(run.playing().await, "throttled");
    let snapshot = run.handle.snapshot().await.unwrap();
    assert_eq!(snapshot.simulation.unwrap().scenario, "throttled");

    let unknown_subscription = run
        .handle
        .command(Command::Renew {
            profile: "sim".into(),
            subscription: "x".into(),
        })
        .await;
    assert!(
        matches!(&unknown_subscription, Err(ConsoleError::Refused(why)) if why.contains("x")),
        "{unknown_subscription:?}"
    );
    let unknown = run
        .handle
        .command(Command::TestCredentials {
            profile: "nope".into(),
        })
        .await;
    assert!(
        matches!(unknown, Err(ConsoleError::Refused(_))),
        "{unknown:?}"
    );
    let tested = run
        .handle
        .command(Command::TestCredentials {
            profile: "sim".into(),
        })
        .await
        .unwrap();
    assert!(
        tested.message.starts_with("profile sim: credentials"),
        "{tested:?}"
    );
    let edit = run
        .handle
        .command(Command::RemoveProfile {
            profile: "sim".into(),
        })
        .await;
    assert!(matches!(edit, Err(ConsoleError::Refused(_))), "{edit:?}");
    // Nobody was named to record these as: the control socket in front records its own.
    let snapshot = run.handle.snapshot().await.unwrap();
    assert!(
        snapshot.recent_audit.is_empty(),
        "{:?}",
        snapshot.recent_audit
    );
    run.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_console_records_every_command_as_its_operator() {
    let operator = Operator {
        uid: 4321,
        user: "oncall".into(),
        pid: Some(777),
        client: "pilotwatch 0.1.0 tui (embedded)".into(),
    };
    let run = Setup::healthy()
        .switchable()
        .audited_as(operator.clone())
        .start()
        .await;
    let refused = run
        .handle
        .command(Command::SwitchScenario {
            name: "no-such-scenario".into(),
        })
        .await;
    assert!(
        matches!(refused, Err(ConsoleError::Refused(_))),
        "{refused:?}"
    );
    let switched = run
        .handle
        .command(Command::SwitchScenario {
            name: "throttled".into(),
        })
        .await
        .unwrap();
    assert!(switched.succeeded, "{switched:?}");

    let trail = run.handle.snapshot().await.unwrap().recent_audit;
    let seen: Vec<(&str, &serde_json::Value, AuditOutcome)> = trail
        .iter()
        .map(|entry| {
            (
                entry.command.as_str(),
                &entry.arguments["name"],
                entry.outcome,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "switch-scenario",
                &serde_json::json!("throttled"),
                AuditOutcome::Succeeded
            ),
            (
                "switch-scenario",
                &serde_json::json!("no-such-scenario"),
                AuditOutcome::Refused
            ),
        ],
        "newest first: {trail:?}"
    );
    for entry in &trail {
        assert_eq!(
            (
                entry.uid,
                entry.user.as_str(),
                entry.pid,
                entry.client.as_str()
            ),
            (4321, "oncall", Some(777), operator.client.as_str())
        );
    }
    assert!(trail[1].message.contains("unknown scenario"), "{trail:?}");
    run.stop().await;
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// Interaction `n`: five share each creation time (ties), every 10 000th is from a rare app.
fn interaction(n: u32) -> InteractionRecord {
    let created_at = at("2026-11-01T00:00:00Z") + chrono::Duration::seconds(i64::from(n / 5));
    records::seeded(format!("{n:08}"), n, created_at, n % 10_000 == 7)
}

fn store_of(dir: &Path, count: u32) -> Store {
    let clock: SharedClock = Arc::new(ManualClock::new(at("2026-11-22T00:00:00Z")));
    let options = StoreOptions {
        flush_every_ms: None,
        durability: Durability::Flush,
        ..StoreOptions::default()
    };
    let store = Store::open(&dir.join("store"), options, clock).unwrap();
    let interactions = store.interactions();
    let records: Vec<InteractionRecord> = (0..count).map(interaction).collect();
    for chunk in records.chunks(5_000) {
        assert_eq!(
            interactions.insert_all_if_absent(chunk).unwrap(),
            chunk.len() as u64
        );
    }
    store
}

#[test]
fn paging_fifty_thousand_interactions_is_complete_and_bounded() {
    const COUNT: u32 = 50_000;
    let dir = tempfile::tempdir().unwrap();
    let store = store_of(dir.path(), COUNT);
    let interactions = store.interactions();

    let mut query = FeedQuery {
        filter: FeedFilter::default(),
        after: None,
        limit: 1_000,
    };
    let (mut previous, mut total, mut pages) = (None::<(DateTime<Utc>, String)>, 0_u32, 0);
    loop {
        let page = read_page(&interactions, &query, MAX_EXAMINED_PER_PAGE).unwrap();
        assert_eq!(
            page.scanned,
            page.rows.len() as u64,
            "no filter: nothing skipped"
        );
        for row in page.rows {
            let key = (row.created_at, row.id);
            if let Some(previous) = &previous {
                assert!(*previous > key, "{previous:?} then {key:?}");
            }
            previous = Some(key);
            total += 1;
        }
        pages += 1;
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    // Strictly decreasing keys over every page: no duplicates; the count says none is missing.
    assert_eq!((total, pages), (COUNT, 50));

    // A rare filter: pages stop at the scan bound with a cursor, and following the cursors
    // finds every match.
    let mut rare = FeedQuery {
        filter: FeedFilter {
            app: Some("rare".into()),
            ..FeedFilter::default()
        },
        after: None,
        limit: 100,
    };
    let mut found = Vec::new();
    let mut short_pages_with_cursor = 0;
    loop {
        let page = read_page(&interactions, &rare, MAX_EXAMINED_PER_PAGE).unwrap();
        assert!(page.scanned <= MAX_EXAMINED_PER_PAGE, "{}", page.scanned);
        found.extend(page.rows.iter().map(|row| row.id.clone()));
        match page.next {
            Some(next) => {
                assert_eq!(page.scanned, MAX_EXAMINED_PER_PAGE);
                short_pages_with_cursor += 1;
                rare.after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(
        found,
        ["00040007", "00030007", "00020007", "00010007", "00000007"]
    );
    assert_eq!(
        short_pages_with_cursor, 2,
        "50 000 entries at 20 000 a page"
    );

    // The cost of a page is its bound, whatever the store holds: the first page of a filter
    // that matches nothing examines exactly the bound, not the 50 000.
    let none = FeedQuery {
        filter: FeedFilter {
            user: Some("nobody".into()),
            ..FeedFilter::default()
        },
        after: None,
        limit: 10,
    };
    let page = read_page(&interactions, &none, MAX_EXAMINED_PER_PAGE).unwrap();
    assert!(page.rows.is_empty());
    assert_eq!(page.scanned, MAX_EXAMINED_PER_PAGE);
    assert!(page.next.is_some());
}
