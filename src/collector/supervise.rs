//! Supervision of the collector's long-lived tasks: every keeper, poller, forwarder, probe,
//! diagnosis round, retention and committer is spawned through [`TaskSet::spawn`] with a name
//! and its profile, and the receiver's processor reports to the same [`TaskBoard`]. A task that
//! ends before shutdown — a panic (its message kept when it is text) or a return nobody asked
//! for — is recorded as a [`TaskDeath`] with the collector's clock, logged at error and
//! announced as [`Update::TaskDied`]; the board keeps every death for snapshots, `check` and
//! the control socket.
//!
//! Nothing is restarted: a task that died once will most likely die again, a crash loop hides
//! the bug behind a screen that looks alive, and the keeper or poller restarting from scratch
//! would hammer Graph (creations, backfills) on every lap. A dead task stays dead, visibly,
//! until the operator restarts pilotwatch and reads the log.
//!
//! Depends on the clock, the update enum and Tokio; never on what the tasks do.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::update::Update;
use crate::clock::SharedClock;

/// Why a supervised task ended before the collector asked it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EndReason {
    /// It panicked (a bug).
    Panicked {
        /// The panic's message, or "no message" when the payload was not text.
        message: String,
    },
    /// It returned although it should run until shutdown.
    Returned,
}

impl std::fmt::Display for EndReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Panicked { message } => write!(f, "panicked: {message}"),
            Self::Returned => f.write_str("stopped without being asked to"),
        }
    }
}

/// A collector task that ended before shutdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDeath {
    /// What the task did (`keeper`, `poller`, `receiver processor`, `diagnosis`, …).
    pub task: String,
    /// The profile it served; `None` for tasks shared by every profile.
    pub profile: Option<String>,
    /// When it ended, by the collector's clock.
    pub ended_at: DateTime<Utc>,
    /// How it ended.
    pub reason: EndReason,
}

impl TaskDeath {
    /// `keeper (contoso)` or `committer`: the task as an operator reads it.
    pub fn label(&self) -> String {
        match &self.profile {
            Some(profile) => format!("{} ({profile})", self.task),
            None => self.task.clone(),
        }
    }
}

/// How a supervised task is expected to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ends {
    /// Only at shutdown: returning earlier is a death.
    AtShutdown,
    /// It may finish its work and return (e.g. a keeper with nowhere to subscribe); only a
    /// panic is a death.
    WhenDone,
}

/// The collector's record of dead tasks, shared by every supervisor and read by snapshots.
#[derive(Debug, Clone)]
pub struct TaskBoard {
    deaths: Arc<Mutex<Vec<TaskDeath>>>,
    clock: SharedClock,
    updates: broadcast::Sender<Update>,
    stopping: CancellationToken,
}

impl TaskBoard {
    /// A board stamping deaths with `clock`, announcing them on `updates`; returns after
    /// `stopping` is cancelled are the shutdown, not deaths.
    pub fn new(
        clock: SharedClock,
        updates: broadcast::Sender<Update>,
        stopping: CancellationToken,
    ) -> Self {
        Self {
            deaths: Arc::new(Mutex::new(Vec::new())),
            clock,
            updates,
            stopping,
        }
    }

    /// Every task that died so far, oldest first.
    pub fn deaths(&self) -> Vec<TaskDeath> {
        self.deaths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Records that `task` of `profile` ended for `reason`, unless it merely returned while
    /// the collector is stopping. Logged at error and announced; returns whether it was a death.
    pub fn ended(&self, task: &str, profile: Option<&str>, reason: EndReason) -> bool {
        if reason == EndReason::Returned && self.stopping.is_cancelled() {
            return false;
        }
        let death = TaskDeath {
            task: task.to_owned(),
            profile: profile.map(str::to_owned),
            ended_at: self.clock.now(),
            reason,
        };
        tracing::error!(
            task = %death.task,
            profile = death.profile.as_deref().unwrap_or("-"),
            reason = %death.reason,
            "a collector task died; it is not restarted (restart pilotwatch)"
        );
        self.deaths
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(death.clone());
        // Nobody listening is not an error: the board keeps it for the next snapshot.
        let _ = self.updates.send(Update::TaskDied(Arc::new(death)));
        true
    }

    /// `work` as `task` (of `profile`), reporting to this board: a panic is caught in the task
    /// itself (so whoever spawned it still owns and can abort it) and recorded, as is a return
    /// before shutdown when `ends` is [`Ends::AtShutdown`]. For tasks outside a [`TaskSet`],
    /// such as the embedded console's.
    pub fn supervised(
        &self,
        task: &'static str,
        profile: Option<&str>,
        ends: Ends,
        work: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send + 'static {
        let board = self.clone();
        let profile = profile.map(str::to_owned);
        // The future is dropped right after a panic and never polled again, so no half-updated
        // state of its own is observed; what it shares sits behind poison-tolerant locks.
        let work = AssertUnwindSafe(work).catch_unwind();
        async move {
            let reason = match work.await {
                Ok(()) if ends == Ends::WhenDone => return,
                Ok(()) => EndReason::Returned,
                Err(panic) => EndReason::Panicked {
                    message: crate::store::panic_text(&panic),
                },
            };
            board.ended(task, profile.as_deref(), reason);
        }
    }
}

/// The collector's tasks: a `JoinSet` whose every task reports to a [`TaskBoard`] when it ends
/// early. Dropping the set aborts the tasks, like the `JoinSet` it wraps.
#[derive(Debug)]
pub struct TaskSet {
    tasks: JoinSet<()>,
    board: TaskBoard,
}

impl TaskSet {
    /// An empty set reporting to `board`.
    pub fn new(board: TaskBoard) -> Self {
        Self {
            tasks: JoinSet::new(),
            board,
        }
    }

    /// The board this set reports to.
    pub fn board(&self) -> &TaskBoard {
        &self.board
    }

    /// Spawns `work` as `task` (of `profile`), supervised (see [`TaskBoard::supervised`]).
    pub fn spawn(
        &mut self,
        task: &'static str,
        profile: Option<&str>,
        ends: Ends,
        work: impl Future<Output = ()> + Send + 'static,
    ) {
        self.tasks
            .spawn(self.board.supervised(task, profile, ends, work));
    }

    /// Waits for every task to end (after the board's stopping token is cancelled).
    pub async fn join_all(&mut self) {
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(error) = joined
                && !error.is_cancelled()
            {
                // Panics are caught inside each task; this is the runtime refusing it.
                tracing::error!(%error, "a collector task could not be joined");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use std::time::Duration;

    use super::*;
    use crate::clock::ManualClock;

    fn board() -> (TaskBoard, broadcast::Receiver<Update>, CancellationToken) {
        let clock: SharedClock =
            Arc::new(ManualClock::new("2026-03-01T10:00:00Z".parse().unwrap()));
        let (updates, rx) = broadcast::channel(8);
        let stopping = CancellationToken::new();
        (
            TaskBoard::new(clock, updates, stopping.clone()),
            rx,
            stopping,
        )
    }

    async fn died(rx: &mut broadcast::Receiver<Update>) -> Arc<TaskDeath> {
        match tokio::time::timeout(Duration::from_secs(2), rx.recv()).await {
            Ok(Ok(Update::TaskDied(death))) => death,
            other => panic!("expected a task death, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_panic_is_recorded_with_its_message_and_announced() {
        let (board, mut rx, _stopping) = board();
        let mut set = TaskSet::new(board.clone());
        set.spawn("poller", Some("contoso"), Ends::AtShutdown, async {
            panic!("boom at {}", 42);
        });
        let death = died(&mut rx).await;
        assert_eq!(death.label(), "poller (contoso)");
        assert_eq!(
            death.reason,
            EndReason::Panicked {
                message: "boom at 42".into()
            }
        );
        assert_eq!(board.deaths(), vec![death.as_ref().clone()]);
        assert_eq!(
            death.ended_at,
            "2026-03-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[tokio::test]
    async fn an_early_return_is_a_death_only_for_tasks_that_run_until_shutdown() {
        let (board, mut rx, _stopping) = board();
        let mut set = TaskSet::new(board.clone());
        set.spawn("keeper", Some("a"), Ends::WhenDone, async {});
        set.spawn("committer", None, Ends::AtShutdown, async {});
        let death = died(&mut rx).await;
        assert_eq!(death.task, "committer");
        assert_eq!(death.reason, EndReason::Returned);
        set.join_all().await;
        assert_eq!(board.deaths().len(), 1);
    }

    #[tokio::test]
    async fn returning_at_shutdown_is_not_a_death_but_a_panic_still_is() {
        let (board, _rx, stopping) = board();
        let mut set = TaskSet::new(board.clone());
        stopping.cancel();
        set.spawn("retention", None, Ends::AtShutdown, async {});
        set.spawn("diagnosis", None, Ends::AtShutdown, async {
            panic!("late")
        });
        set.join_all().await;
        let deaths = board.deaths();
        assert_eq!(deaths.len(), 1);
        assert_eq!(deaths[0].task, "diagnosis");
        assert_eq!(deaths[0].reason.to_string(), "panicked: late");
    }
}
