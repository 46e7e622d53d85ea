//! The collector's background tasks besides the per-profile parts: forwarding the receivers'
//! processed batches as [`Update`]s (and into each profile's delivery statistics), relaying a
//! receiver processor's death to the task board, committing the keeper's and poller's writes,
//! and retention.
//! Each stops when its cancellation token fires, and is supervised (`supervise`) otherwise.
//! Depends on the store, the receiver's batch and processor-death types, the delivery
//! statistics, the task set and the update enum.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::delivery::DeliveryStats;
use super::supervise::{EndReason, Ends, TaskSet};
use super::update::Update;
use crate::clock::SharedClock;
use crate::receiver::{ProcessedBatch, ProcessorStopped};
use crate::store::Store;
use crate::store::records::RejectReason;

/// A rejection reason is logged at most this often.
const REJECTION_WARNING_EVERY: Duration = Duration::from_secs(60);

/// How often retention runs.
const RETENTION_EVERY: Duration = Duration::from_secs(15 * 60);

/// A receiver's processed batches as updates — each notification, and each interaction that
/// entered the feed — with every notification counted in the profile's delivery statistics.
pub(super) fn spawn_forwarding(
    tasks: &mut TaskSet,
    profile: &str,
    mut processed: broadcast::Receiver<ProcessedBatch>,
    updates: broadcast::Sender<Update>,
    delivery: Arc<Mutex<DeliveryStats>>,
    shutdown: CancellationToken,
) {
    tasks.spawn(
        "update forwarding",
        Some(profile),
        Ends::AtShutdown,
        async move {
            let mut last_warned: HashMap<RejectReason, Instant> = HashMap::new();
            loop {
                let batch = tokio::select! {
                    () = shutdown.cancelled() => return,
                    batch = processed.recv() => batch,
                };
                match batch {
                    Ok(batch) => {
                        {
                            let mut stats = delivery.lock().unwrap_or_else(PoisonError::into_inner);
                            for record in &batch.notifications {
                                stats.record(record);
                            }
                        }
                        // No subscriber is not an error: the updates are for whoever listens.
                        for record in batch.notifications {
                            if let Some(reason) = record.rejected {
                                warn_rejected(&mut last_warned, reason, &record.profile);
                            }
                            let _ = updates.send(Update::Notification(record));
                        }
                        for record in batch.interactions {
                            let _ = updates.send(Update::Interaction(record));
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        // The delivery statistics miss these batches until they age out of the
                        // hour; a rare undercount, not worth re-reading the log on the hot path.
                        tracing::debug!(missed, "update forwarding lagged; the store has them");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        },
    );
}

/// A rejected notification is what an operator looks for when the dashboard is empty, so it is
/// logged — at most once a minute per reason, because a misconfigured tenant rejects every one.
fn warn_rejected(
    last_warned: &mut HashMap<RejectReason, Instant>,
    reason: RejectReason,
    profile: &str,
) {
    let now = Instant::now();
    let due = last_warned
        .get(&reason)
        .is_none_or(|at| now.duration_since(*at) >= REJECTION_WARNING_EVERY);
    if due {
        last_warned.insert(reason, now);
        tracing::warn!(
            profile,
            reason = reason.as_str(),
            "notifications are being kept out of the feed (repeats are counted in the store, \
             not logged, for a minute)"
        );
    }
}

/// The keeper and poller write through sled without committing (their writes are not
/// acknowledgements to anyone); this commits after each of their actions, so a crash right
/// after Graph created a subscription does not lose its clientState (which would cost a
/// delete, a new subscription and a backfill on restart).
pub(super) fn spawn_committer(
    tasks: &mut TaskSet,
    mut updates: broadcast::Receiver<Update>,
    store: Store,
    shutdown: CancellationToken,
) {
    tasks.spawn("committer", None, Ends::AtShutdown, async move {
        loop {
            let update = tokio::select! {
                () = shutdown.cancelled() => return,
                update = updates.recv() => update,
            };
            let commit = match update {
                Ok(Update::Keeper(_) | Update::Lifecycle(_) | Update::Poll(_)) => true,
                Ok(_) => false,
                Err(broadcast::error::RecvError::Lagged(_)) => true,
                Err(broadcast::error::RecvError::Closed) => return,
            };
            if commit && let Err(error) = store.commit().await {
                tracing::error!(%error, "committing the keeper's and poller's writes failed");
            }
        }
    });
}

/// Retention every [`RETENTION_EVERY`] of the collector's clock.
pub(super) fn spawn_retention(
    tasks: &mut TaskSet,
    store: Store,
    clock: SharedClock,
    shutdown: CancellationToken,
) {
    let every = chrono::Duration::from_std(RETENTION_EVERY).unwrap_or_default();
    tasks.spawn("retention", None, Ends::AtShutdown, async move {
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(clock.real_duration(every)) => {}
            }
            let store = store.clone();
            match tokio::task::spawn_blocking(move || store.apply_retention()).await {
                Ok(Ok(report)) => tracing::debug!(?report, "retention"),
                Ok(Err(error)) => tracing::warn!(%error, "retention failed"),
                Err(error) => tracing::warn!(%error, "retention stopped"),
            }
        }
    });
}

/// Puts the death of `profile`'s receiver processor on the task board. The receiver
/// supervises its processor itself (it must turn acknowledgements into 503s at once); this
/// only relays what it publishes, and ends quietly when the receiver stops normally.
pub(super) fn watch_processor(
    tasks: &mut TaskSet,
    profile: &str,
    mut stopped: tokio::sync::watch::Receiver<Option<ProcessorStopped>>,
) {
    let board = tasks.board().clone();
    let owner = profile.to_owned();
    tasks.spawn(
        "receiver watch",
        Some(profile),
        Ends::WhenDone,
        async move {
            let Ok(Some(stop)) = stopped.wait_for(Option::is_some).await.map(|s| s.clone()) else {
                return;
            };
            let reason = match stop.panic {
                Some(message) => EndReason::Panicked { message },
                None => EndReason::Returned,
            };
            board.ended("receiver processor", Some(&owner), reason);
        },
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::time::Duration;

    use tokio::sync::watch;

    use super::*;
    use crate::clock::ManualClock;
    use crate::collector::supervise::TaskBoard;

    fn set() -> (TaskSet, CancellationToken) {
        let clock: SharedClock =
            Arc::new(ManualClock::new("2026-03-01T10:00:00Z".parse().unwrap()));
        let (updates, _) = broadcast::channel(8);
        let stopping = CancellationToken::new();
        let board = TaskBoard::new(clock, updates, stopping.clone());
        (TaskSet::new(board), stopping)
    }

    #[tokio::test]
    async fn a_dead_receiver_processor_is_put_on_the_board() {
        let (mut tasks, _stopping) = set();
        let (stopped, watched) = watch::channel(None);
        watch_processor(&mut tasks, "contoso", watched);
        stopped
            .send(Some(ProcessorStopped {
                panic: Some("bad batch".into()),
            }))
            .unwrap();
        drop(stopped);
        tokio::time::timeout(Duration::from_secs(2), tasks.join_all())
            .await
            .unwrap();
        let deaths = tasks.board().deaths();
        assert_eq!(deaths.len(), 1);
        assert_eq!(deaths[0].label(), "receiver processor (contoso)");
        assert_eq!(
            deaths[0].reason,
            EndReason::Panicked {
                message: "bad batch".into()
            }
        );
    }

    #[tokio::test]
    async fn a_receiver_that_stops_normally_is_no_death() {
        let (mut tasks, stopping) = set();
        let (stopped, watched) = watch::channel(None);
        watch_processor(&mut tasks, "contoso", watched);
        stopping.cancel();
        drop(stopped);
        tokio::time::timeout(Duration::from_secs(2), tasks.join_all())
            .await
            .unwrap();
        assert!(tasks.board().deaths().is_empty());
    }
}
