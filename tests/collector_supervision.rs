//! Supervision of the collector's tasks, end to end: a real collector against the in-process
//! simulator, served by the embedded console. A task registered through
//! `Collector::spawn_supervised` — the same supervisor every keeper, poller, probe and
//! background task runs under — that panics or returns early is on the task board, in the
//! snapshot the console serves, announced as `Update::TaskDied` within 2 s, and diagnosed as
//! the critical `collector-task-died` (what `check` and `/metrics` report); a healthy
//! collector reports no dead task, and the shutdown's own task endings are not deaths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use pilotwatch::diagnose::FindingCode;
use pilotwatch::severity::Severity;

mod common;

use std::time::{Duration, Instant};

use common::collected::{Collected as Run, Setup};
use pilotwatch::collector::update::Update;
use pilotwatch::collector::{EndReason, TaskDeath};
use pilotwatch::console::CollectorHandle;
use tokio::sync::broadcast;

/// How soon a death must be visible.
const VISIBLE_WITHIN: Duration = Duration::from_secs(2);

async fn run() -> Run {
    Setup::healthy().start().await
}

/// Stops the collector and the simulator, checking that none of the shutdown's own task
/// endings was recorded as a death.
async fn stop(run: Run) {
    let board = run.collector.task_board();
    let before = board.deaths();
    run.collector.shutdown().await;
    // Every task returned at shutdown; none of that is a death.
    assert_eq!(board.deaths(), before, "shutdown recorded deaths");
    run.sim.stop().await;
}

/// The next `TaskDied` on `updates`, within [`VISIBLE_WITHIN`].
async fn next_death(updates: &mut broadcast::Receiver<Update>) -> TaskDeath {
    let deadline = tokio::time::Instant::now() + VISIBLE_WITHIN;
    loop {
        match tokio::time::timeout_at(deadline, updates.recv()).await {
            Ok(Ok(Update::TaskDied(death))) => return death.as_ref().clone(),
            Ok(Ok(_) | Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(broadcast::error::RecvError::Closed)) => panic!("the update stream closed"),
            Err(_) => panic!("no task death announced within {VISIBLE_WITHIN:?}"),
        }
    }
}

/// The console's snapshot once it carries `count` dead tasks, within [`VISIBLE_WITHIN`].
async fn snapshot_with_deaths(handle: &CollectorHandle, count: usize) -> Vec<TaskDeath> {
    let deadline = Instant::now() + VISIBLE_WITHIN;
    loop {
        let snapshot = handle.snapshot().await.unwrap();
        if snapshot.dead_tasks.len() >= count {
            return snapshot.dead_tasks;
        }
        assert!(
            Instant::now() < deadline,
            "the snapshot shows {:?} after {VISIBLE_WITHIN:?}",
            snapshot.dead_tasks
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_task_is_in_the_served_snapshot_and_announced() {
    let mut run = run().await;
    let mut updates = run.handle.updates();
    // Healthy: the collector's own tasks are all alive a moment after start.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(run.handle.snapshot().await.unwrap().dead_tasks, Vec::new());
    assert!(run.collector.dead_tasks().is_empty());

    let before = run.clock.now();
    let profile = run.profile.name.clone();
    run.collector
        .spawn_supervised("test probe", Some(&profile), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            panic!("deliberate test panic: {}", 7);
        });

    let announced = next_death(&mut updates).await;
    assert_eq!(announced.task, "test probe");
    assert_eq!(announced.profile.as_deref(), Some(profile.as_str()));
    assert_eq!(
        announced.reason,
        EndReason::Panicked {
            message: "deliberate test panic: 7".into()
        }
    );
    assert!(
        announced.ended_at >= before,
        "stamped by the collector's clock"
    );
    assert!(announced.ended_at <= run.clock.now());

    let served = snapshot_with_deaths(&run.handle, 1).await;
    assert_eq!(served, vec![announced.clone()]);
    assert_eq!(run.collector.dead_tasks(), vec![announced]);

    // The diagnosis says so too, so `check`, `/metrics` and `/diagnosis.json` report it.
    let verdicts = run.collector.verdicts();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let finding = loop {
        let found = verdicts.verdicts().into_iter().find_map(|verdict| {
            verdict
                .diagnosis
                .findings
                .into_iter()
                .find(|finding| finding.code == FindingCode::CollectorTaskDied)
        });
        if let Some(finding) = found {
            break finding;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no collector-task-died finding"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(finding.severity, Severity::Critical);
    assert!(finding.title.contains("test probe"), "{}", finding.title);
    stop(run).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_returns_before_shutdown_is_a_death_too() {
    let mut run = run().await;
    let mut updates = run.handle.updates();
    run.collector
        .spawn_supervised("test committer", None, async {});
    let announced = next_death(&mut updates).await;
    assert_eq!(announced.task, "test committer");
    assert_eq!(announced.profile, None);
    assert_eq!(announced.reason, EndReason::Returned);
    assert_eq!(
        announced.reason.to_string(),
        "stopped without being asked to"
    );
    let served = snapshot_with_deaths(&run.handle, 1).await;
    assert_eq!(served, vec![announced]);
    // The snapshot is serde both ways (the control socket carries it), deaths included.
    let snapshot = run.handle.snapshot().await.unwrap();
    let json = serde_json::to_string(&snapshot).unwrap();
    let back: pilotwatch::console::Snapshot = serde_json::from_str(&json).unwrap();
    assert_eq!(back.dead_tasks, snapshot.dead_tasks);
    stop(run).await;
}
