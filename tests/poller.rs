//! The poller (`pilotwatch::collector::poller`) against the in-process simulator, refereed by
//! its ground truth (the interaction ledger): a backfill returns exactly the window's
//! interactions of licensed users, a second one finds nothing new, a gap fill covers only its
//! window, reconciliation counts what notifications delivered, and `run` backfills first (over
//! the collector's downtime too), then fills queued gaps; reconciliation windows stay bounded
//! and contiguous when polls are incomplete; an item the store refuses is skipped, not fatal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod collector_support;
mod common;

use std::collections::BTreeSet;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use collector_support::{TestStore, profile, sim_clock, sim_graph};
use common::TestSim;
use pilotwatch::collector::poller::{
    Gap, GapReason, PollKind, PollOptions, PollReport, Poller, PollerStore,
};
use pilotwatch::collector::update::Update;
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::store::{
    Event, EventKind, InteractionRecord, InteractionSource, Outcome, PollTrigger, Store, StoreError,
};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

fn poller(
    sim: &TestSim,
    store: &TestStore,
    options: PollOptions,
) -> (Poller, broadcast::Receiver<Update>) {
    let (updates, receiver) = broadcast::channel(100_000);
    let poller = Poller::new(
        profile(sim, None),
        sim_graph(sim),
        store.store(),
        sim_clock(sim),
        updates,
        options,
    );
    (poller, receiver)
}

/// Ids the simulator generated with `createdDateTime` in `[from, to)`, and their owners.
fn truth(sim: &TestSim, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(String, String)> {
    sim.sim
        .state
        .interactions
        .read()
        .unwrap()
        .iter()
        .filter(|g| g.interaction.created_date_time >= from && g.interaction.created_date_time < to)
        .map(|g| (g.interaction.id.clone(), g.user_id.clone()))
        .collect()
}

/// A window of whole seconds ending a little before now.
fn window(sim: &TestSim, length: Duration) -> (DateTime<Utc>, DateTime<Utc>) {
    let to = (sim.sim.state.now() - Duration::seconds(5))
        .duration_trunc(Duration::seconds(1))
        .unwrap();
    (to - length, to)
}

fn licensed_users(sim: &TestSim) -> usize {
    let state = &sim.sim.state;
    state
        .tenant
        .users
        .iter()
        .filter(|u| state.is_licensed(&u.id))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_holds_exactly_the_windows_interactions_and_a_second_finds_nothing_new() {
    let sim = TestSim::start("healthy").await;
    let store = TestStore::open(&sim);
    // Several chunks per window, small pages: paging and chunk seams are exercised.
    let options = PollOptions {
        chunk: Duration::hours(2),
        page_size: 50,
        ..PollOptions::default()
    };
    let (poller, mut updates) = poller(&sim, &store, options);
    let (from, to) = window(&sim, Duration::hours(6));
    let expected = truth(&sim, from, to);
    assert!(
        expected.len() > 100,
        "the scenario's history fills the window: {}",
        expected.len()
    );

    let report = poller.backfill(from, to).await.unwrap();
    assert_eq!(report.kind, PollKind::Backfill);
    assert_eq!(
        report.users_polled as usize,
        licensed_users(&sim),
        "only licensed users"
    );
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.fetched as usize, expected.len());
    assert_eq!(report.new as usize, expected.len());
    assert_eq!(
        report.missing, report.fetched,
        "nothing came by notification"
    );
    assert_eq!(report.via_notifications, 0);

    let stored = store.interactions();
    let stored_pairs: BTreeSet<(String, String)> = stored
        .values()
        .map(|record| (record.id.clone(), record.user_id.clone().unwrap()))
        .collect();
    let expected_pairs: BTreeSet<(String, String)> = expected.iter().cloned().collect();
    assert_eq!(
        stored_pairs, expected_pairs,
        "every interaction once, with its owner"
    );
    assert!(
        stored
            .values()
            .all(|record| record.source == InteractionSource::Poll)
    );
    assert!(
        stored.values().all(|record| record.body.is_none()),
        "bodies dropped by default"
    );

    // Updates: one per new interaction, then the report.
    let mut interactions = 0;
    let mut last = None;
    while let Ok(update) = updates.try_recv() {
        match update {
            Update::Interaction(_) => interactions += 1,
            other => last = Some(other),
        }
    }
    assert_eq!(interactions, expected.len());
    assert!(matches!(last, Some(Update::Poll(ref r)) if *r == report));

    let again = poller.backfill(from, to).await.unwrap();
    assert_eq!(again.fetched, report.fetched);
    assert_eq!(again.new, 0, "de-duplicated by id");
    assert_eq!(store.interactions().len(), expected.len());
    assert_eq!(store.events().len(), 2, "one event per poll");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_fill_covers_its_window_and_nothing_else() {
    let sim = TestSim::start("healthy").await;
    let store = TestStore::open(&sim);
    let (poller, _updates) = poller(&sim, &store, PollOptions::default());
    let (from, to) = window(&sim, Duration::minutes(90));
    let expected: BTreeSet<String> = truth(&sim, from, to)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(!expected.is_empty());

    let report = poller
        .fill_gap(Gap {
            from,
            to,
            reason: GapReason::SubscriptionRemoved,
        })
        .await
        .unwrap();
    assert_eq!(report.kind, PollKind::Gap(GapReason::SubscriptionRemoved));
    let stored: BTreeSet<String> = store.interactions().into_keys().collect();
    assert_eq!(stored, expected);
    assert!(
        store.events()[0]
            .message
            .contains("gap fill (subscription removed)")
    );

    // An empty window is refused and changes nothing.
    assert!(poller.backfill(to, from).await.is_err());
    assert_eq!(store.interactions().len(), expected.len());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_counts_what_notifications_delivered() {
    let sim = TestSim::start("healthy").await;
    let store = TestStore::open(&sim);
    let options = PollOptions {
        reconcile_window: Duration::hours(3),
        reconcile_settle: Duration::minutes(10),
        ..PollOptions::default()
    };
    let (poller, _updates) = poller(&sim, &store, options);
    let to = sim.sim.state.now() - Duration::minutes(10);
    let expected = truth(
        &sim,
        to - Duration::hours(3) + Duration::seconds(2),
        to - Duration::seconds(2),
    );
    assert!(expected.len() > 10);

    // A third of them "arrived by notification" before the reconciliation.
    let notified: Vec<&(String, String)> = expected.iter().step_by(3).collect();
    let seen = sim.sim.state.now();
    for (id, user) in &notified {
        let generated = {
            let log = sim.sim.state.interactions.read().unwrap();
            log.iter()
                .find(|g| g.interaction.id == *id)
                .unwrap()
                .interaction
                .clone()
        };
        let mut record =
            InteractionRecord::from_graph(&generated, InteractionSource::Notification, seen, false)
                .unwrap();
        record.user_id = Some(user.clone());
        store.put_interaction(record);
    }

    let report = poller.reconcile().await.unwrap();
    assert_eq!(report.kind, PollKind::Reconcile);
    assert!(
        report.to <= sim.sim.state.now() - Duration::minutes(10),
        "the window is settled"
    );
    assert!(report.fetched as usize >= expected.len(), "{report:?}");
    assert_eq!(report.via_notifications as usize, notified.len());
    assert_eq!(report.missing, report.fetched - report.via_notifications);
    assert_eq!(
        report.new, report.missing,
        "the undelivered ones are stored now"
    );
    let coverage = report.push_coverage().unwrap();
    assert!((coverage - notified.len() as f64 / report.fetched as f64).abs() < 1e-9);
    // The notified ones keep their source.
    let stored = store.interactions();
    for (id, _) in &notified {
        assert_eq!(stored[id].source, InteractionSource::Notification);
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_backfills_first_then_fills_queued_gaps() {
    let sim = TestSim::start("healthy").await;
    let store = TestStore::open(&sim);
    let options = PollOptions {
        initial_backfill: Duration::hours(2),
        ..PollOptions::default()
    };
    let (poller, mut updates) = poller(&sim, &store, options);
    let (gaps_tx, gaps_rx) = mpsc::channel(8);
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(poller.run(gaps_rx, shutdown.clone()));
    let now = sim.sim.state.now();
    let gap = Gap {
        from: now - Duration::hours(5),
        to: now - Duration::hours(4),
        reason: GapReason::Missed,
    };
    gaps_tx.send(gap).await.unwrap();

    let mut kinds = Vec::new();
    let deadline = tokio::time::Instant::now() + StdDuration::from_secs(8);
    while kinds.len() < 2 {
        let update = tokio::time::timeout_at(deadline, updates.recv())
            .await
            .expect("both polls reported in time")
            .unwrap();
        if let Update::Poll(report) = update {
            kinds.push((report.kind, report.from, report.to));
        }
    }
    assert_eq!(kinds[0].0, PollKind::Backfill);
    assert!(kinds[0].2 - kinds[0].1 == Duration::hours(2));
    assert_eq!(
        kinds[1],
        (PollKind::Gap(GapReason::Missed), gap.from, gap.to)
    );
    let expected: BTreeSet<String> = truth(&sim, gap.from, gap.to)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let stored: BTreeSet<String> = store.interactions().into_keys().collect();
    assert!(
        expected.is_subset(&stored),
        "the gap's interactions are stored"
    );

    shutdown.cancel();
    tokio::time::timeout(StdDuration::from_secs(5), task)
        .await
        .expect("the poller stops promptly")
        .unwrap();
    sim.stop().await;
}

/// Poll reports from `updates` until `done` holds for them or `limit` passes.
async fn reports_until(
    updates: &mut broadcast::Receiver<Update>,
    limit: StdDuration,
    done: impl Fn(&[PollReport]) -> bool,
) -> Vec<PollReport> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut reports = Vec::new();
    while !done(&reports) {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Ok(Update::Poll(report))) => reports.push(report),
            Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(error)) => panic!("updates closed: {error}"),
            Err(_) => panic!("timed out; reports so far: {reports:#?}"),
        }
    }
    reports
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_initial_backfill_covers_the_collectors_downtime() {
    let sim = TestSim::start("healthy").await;
    let store = TestStore::open(&sim);
    // The collector last accepted a notification 40 hours ago, then was down.
    let now = sim.sim.state.now();
    let last = (now - Duration::hours(40))
        .duration_trunc(Duration::seconds(1))
        .unwrap();
    store.note_notification("contoso", last);
    let options = PollOptions {
        initial_backfill: Duration::hours(2),
        chunk: Duration::hours(24),
        page_size: 1000,
        ..PollOptions::default()
    };
    let (poller, mut updates) = poller(&sim, &store, options);
    let shutdown = CancellationToken::new();
    let (_gaps_tx, gaps_rx) = mpsc::channel(8);
    let task = tokio::spawn(poller.run(gaps_rx, shutdown.clone()));

    let reports = reports_until(&mut updates, StdDuration::from_secs(8), |reports| {
        !reports.is_empty()
    })
    .await;
    let backfill = &reports[0];
    assert_eq!(backfill.kind, PollKind::Backfill);
    assert_eq!(
        backfill.from,
        last - Duration::minutes(15),
        "from just before the last accepted notification, not {}",
        backfill.to - backfill.from
    );
    assert!(backfill.to >= now && backfill.to - now < Duration::seconds(5));
    assert!(backfill.complete(), "{backfill:?}");
    let expected: BTreeSet<String> = truth(&sim, backfill.from, backfill.to)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let downtime = truth(&sim, last, now - Duration::hours(2));
    assert!(
        downtime.len() > 100,
        "the downtime held interactions: {}",
        downtime.len()
    );
    let stored: BTreeSet<String> = store.interactions().into_keys().collect();
    assert_eq!(stored, expected, "the 40 hours are stored");

    shutdown.cancel();
    tokio::time::timeout(StdDuration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incomplete_reconciliations_are_retried_then_given_up_and_windows_never_grow() {
    // One simulated hour per real second; one item per user per window is read, so every
    // window with activity is truncated (incomplete).
    let mut sim_options = SimOptions::loopback(Scenario::load("healthy").unwrap());
    sim_options.speed = 3600.0;
    let sim = TestSim::start_with(sim_options).await;
    let store = TestStore::open(&sim);
    let options = PollOptions {
        initial_backfill: Duration::hours(1),
        reconcile_every: Duration::hours(1),
        reconcile_window: Duration::hours(1),
        reconcile_settle: Duration::minutes(15),
        page_size: 1,
        max_pages: 1,
        max_attempts: 2,
        retry_first: Duration::seconds(1),
        retry_max: Duration::seconds(2),
        ..PollOptions::default()
    };
    let (poller, mut updates) = poller(&sim, &store, options);
    let shutdown = CancellationToken::new();
    let (_gaps_tx, gaps_rx) = mpsc::channel(8);
    let task = tokio::spawn(poller.run(gaps_rx, shutdown.clone()));

    let distinct = |reports: &[PollReport]| {
        let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = reports
            .iter()
            .filter(|report| report.kind == PollKind::Reconcile)
            .map(|report| (report.from, report.to))
            .collect();
        windows.dedup();
        windows
    };
    let reports = reports_until(&mut updates, StdDuration::from_secs(9), |reports| {
        distinct(reports).len() >= 4
    })
    .await;
    shutdown.cancel();
    tokio::time::timeout(StdDuration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap();

    let reconciliations: Vec<&PollReport> = reports
        .iter()
        .filter(|report| report.kind == PollKind::Reconcile)
        .collect();
    assert!(
        reconciliations.iter().any(|report| !report.complete()),
        "the test needs incomplete windows: {reconciliations:#?}"
    );
    let windows = distinct(&reports);
    for pair in windows.windows(2) {
        assert_eq!(
            pair[1].0, pair[0].1,
            "contiguous, always advancing: {windows:?}"
        );
    }
    for (from, to) in &windows {
        assert!(
            *to - *from < Duration::minutes(90),
            "a reconciliation window grew to {}: {windows:?}",
            *to - *from
        );
    }
    // The first window is incomplete: retried (max_attempts in all), then given up, and the
    // next reconciliation starts where it ended all the same.
    let (first_from, first_to) = windows[0];
    let first: Vec<&&PollReport> = reconciliations
        .iter()
        .filter(|report| (report.from, report.to) == (first_from, first_to))
        .collect();
    assert_eq!(first.len(), 2, "{reconciliations:#?}");
    assert!(
        first
            .iter()
            .all(|report| report.truncated && !report.complete())
    );
    let given_up: Vec<Event> = store
        .events()
        .into_iter()
        .filter(|event| {
            matches!(
                event.kind,
                EventKind::Poll {
                    trigger: PollTrigger::Reconcile,
                    outcome: Outcome::Failed,
                    from,
                    to,
                    ..
                } if from == first_from && to == first_to
            ) && event.message.starts_with("gave up")
        })
        .collect();
    assert_eq!(given_up.len(), 1, "{given_up:#?}");
    sim.stop().await;
}

/// The real store, except that it refuses to index one interaction (as it refuses a
/// `createdDateTime` outside the years 1678 to 2261).
struct RefusingStore {
    store: Store,
    refused: String,
}

impl PollerStore for RefusingStore {
    fn insert_if_absent(&self, record: &InteractionRecord) -> Result<bool, StoreError> {
        if record.id == self.refused {
            return Err(StoreError::TimeOutOfRange {
                at: "+262143-12-31T23:59:59Z".to_owned(),
            });
        }
        self.store.interactions().insert_if_absent(record)
    }

    fn interaction(&self, id: &str) -> Result<Option<InteractionRecord>, StoreError> {
        self.store.interactions().get(id)
    }

    fn append_event(&self, event: &Event) -> Result<u64, StoreError> {
        self.store.events().append(event)
    }

    fn last_accepted_at(&self, profile: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.store.notifications().last_accepted_at(profile)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_the_store_refuses_is_skipped_and_the_window_completes() {
    let sim = TestSim::start("healthy").await;
    let store = TestStore::open(&sim);
    let (from, to) = window(&sim, Duration::hours(3));
    let expected: BTreeSet<String> = truth(&sim, from, to)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let refused = expected.iter().nth(expected.len() / 2).unwrap().clone();
    let (updates, _receiver) = broadcast::channel(100_000);
    let poller = Poller::new(
        profile(&sim, None),
        sim_graph(&sim),
        RefusingStore {
            store: store.store(),
            refused: refused.clone(),
        },
        sim_clock(&sim),
        updates,
        PollOptions::default(),
    );

    let report = poller.backfill(from, to).await.unwrap();
    assert!(report.complete(), "{report:?}");
    assert_eq!(report.fetched as usize, expected.len());
    assert_eq!(report.skipped, 1);
    assert_eq!(report.new as usize, expected.len() - 1);
    assert_eq!(report.missing, report.fetched);
    let stored: BTreeSet<String> = store.interactions().into_keys().collect();
    let mut others = expected.clone();
    others.remove(&refused);
    assert_eq!(stored, others, "everything else is stored");
    assert!(
        store.events()[0]
            .message
            .contains("1 unusable items skipped")
    );
    sim.stop().await;
}
