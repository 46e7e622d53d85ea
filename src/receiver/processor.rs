//! After the acknowledgement: drains the inbox oldest first — at start-up too, for batches a
//! crash left — as a two-stage pipeline. Judging (`judging`: screening, tokens, decryption,
//! mostly RSA) keeps two entries per core running, out of order so one slow entry never idles
//! a core, and passes them on in inbox order; the writer meanwhile takes whatever has been
//! judged, writes it in that order and removes the batches (`round`), and commits it once —
//! one durable write for many notifications, so the ack path's commits are not queued behind
//! ours, and the cores keep decrypting while a round is committed. Lifecycle signals go to
//! the keeper only after that commit.
//!
//! Once its round is committed, what a batch produced goes out as a [`ProcessedBatch`] to
//! whoever subscribed (best effort; the store is the record).
//!
//! No entry can block the others. A batch is skipped while the HTTP side is still committing
//! it (`ack`), so it is never processed before it is durable and its acknowledgement time is
//! the real one. A batch that fails for a transient reason (the identity platform's keys
//! unreachable, a storage error) is held back with exponential backoff (`retry`) while the
//! rest go on; bad data is never a transient reason — it is rejected with a reason in its
//! record (`batch`) — and an entry the store cannot decode is quarantined by the store. A
//! batch naming a subscription the registry does not hold is held back too, a bounded number
//! of times (`retry::Grace`, counted in holds, so the simulated clock's speed does not
//! matter): the keeper registers a subscription only after Graph has answered its creation,
//! and Graph may notify first. Each hold costs a screening (no key fetch, no decryption); once
//! the grace is spent its items are rejected as unknown, with the batch's original reception
//! and acknowledgement times. A held entry is simply not part of a pass: the others go on,
//! and at shutdown it stays in the durable inbox for the next start (where its grace starts
//! afresh). A crash mid-round means its batches are processed again: interactions stay single
//! (insert-if-absent), the repeated records say `duplicate`.
//!
//! Validation tokens are judged at the batch's arrival time, not at processing time: a
//! backlog processed after an outage or a restart was genuine when Graph sent it.
//!
//! The store's synchronous writes run on tokio's blocking pool. Nothing here panics on input.
//!
//! Depends on `ack`, `retry`, `judging`, `round`, `ledger`, `verifier`, the store's record
//! types and the clock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::LifecycleSignal;
use super::ack::{AckBook, AckStatus, Acked};
use super::ledger::Ledger;
use super::listener::DRAIN_LIMIT;
use super::retry::{Grace, OnUnknown, RetrySchedule};
use super::round::{self, Judged, Written};
use super::verifier::Verifier;
use crate::clock::SharedClock;
use crate::store::records::{Endpoint, InteractionRecord, NotificationRecord, RawBatch};

/// Inbox entries read per page.
const BATCHES_PER_PAGE: usize = 64;

/// How often the inbox is looked at with no wake-up.
const IDLE_POLL: Duration = Duration::from_secs(5);

/// At shutdown, the acknowledgements have stopped once none came for this long.
const FINAL_QUIET: Duration = Duration::from_millis(250);

/// What one inbox entry produced, once it is committed: its notification records and the
/// interactions that entered the feed for the first time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedBatch {
    /// The inbox id of the batch.
    pub batch_id: u64,
    /// The profile whose endpoint received it.
    pub profile: String,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// The records, in order: one for the whole batch when it was refused whole, one per
    /// reason for the items refused before authentication (see
    /// [`NotificationRecord::items`]), then one per other item. Lifecycle items that were
    /// accepted have none: they are events, sent to the keeper.
    pub notifications: Vec<NotificationRecord>,
    /// Interactions new to the store (a reprocessed batch has none).
    pub interactions: Vec<InteractionRecord>,
}

/// Why a batch was held back this time.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Deferred {
    #[error("storage: {0}")]
    Storage(String),
    #[error("{0}")]
    Keys(#[from] super::jwks::JwksError),
    #[error("processing stopped unexpectedly (a bug); the batch is retried later")]
    Panicked,
    #[error("{0} item(s) name a subscription not (yet) in the registry")]
    UnknownSubscription(u32),
}

/// An inbox entry that may be judged in this pass.
struct Ready {
    batch: RawBatch,
    /// When and how fast the HTTP side acknowledged it (its reception time, unmeasured, when
    /// this run did not).
    acked: Acked,
    on_unknown: OnUnknown,
}

pub(crate) struct Processor<L: Ledger> {
    pub(crate) ledger: Arc<L>,
    pub(crate) verifier: Arc<Verifier>,
    pub(crate) clock: SharedClock,
    pub(crate) lifecycle_tx: mpsc::Sender<LifecycleSignal>,
    pub(crate) processed: broadcast::Sender<ProcessedBatch>,
    pub(crate) acks: Arc<AckBook>,
    pub(crate) shutdown: CancellationToken,
    /// How long a batch naming an unknown subscription waits for the registry.
    pub(crate) grace: Grace,
}

impl<L: Ledger> Processor<L> {
    /// Runs until `shutdown`; the inbox is drained first, then after every wake-up.
    pub(crate) async fn run(self) {
        let retries = Mutex::new(RetrySchedule::new(self.grace));
        loop {
            self.drain(&retries, true).await;
            let next = lock(&retries)
                .next_due(std::time::Instant::now())
                .map_or(IDLE_POLL, |due| due.min(IDLE_POLL));
            tokio::select! {
                () = self.shutdown.cancelled() => {
                    self.finish(&retries).await;
                    return;
                }
                () = self.acks.changed() => {}
                () = tokio::time::sleep(next) => {}
            }
        }
    }

    /// At shutdown: processes what is in the inbox, including batches the listener acknowledges
    /// while it drains its last requests, until the acknowledgements have been quiet for
    /// [`FINAL_QUIET`] or [`DRAIN_LIMIT`] has passed. Whatever is left stays in the inbox
    /// (it is durable) for the next start.
    async fn finish(&self, retries: &Mutex<RetrySchedule>) {
        let deadline = Instant::now() + DRAIN_LIMIT;
        loop {
            self.drain(retries, false).await;
            let quiet = (Instant::now() + FINAL_QUIET).min(deadline);
            if tokio::time::timeout_at(quiet, self.acks.changed())
                .await
                .is_err()
            {
                self.drain(retries, false).await;
                return;
            }
        }
    }

    /// One pass over the inbox, oldest first, as a pipeline: entries not held back or in flight
    /// are judged [`judging_width`] at a time, without waiting for earlier ones to be written,
    /// while the writer takes whatever has been judged (in inbox order), writes it and commits
    /// it as one round. So the cores keep decrypting while a round is being committed. With
    /// `stop_on_shutdown`, no new page is read once shutdown begins; what was judged is written.
    async fn drain(&self, retries: &Mutex<RetrySchedule>, stop_on_shutdown: bool) {
        let (judged_tx, mut judged_rx) = mpsc::channel(BATCHES_PER_PAGE);
        let judging = async move {
            let width = judging_width();
            // Judged out of order (a slow entry must not idle the cores), sent on in inbox order.
            let mut running = FuturesUnordered::new();
            let mut dispatched = VecDeque::new();
            let mut finished = BTreeMap::new();
            let mut waiting: VecDeque<Ready> = VecDeque::new();
            let mut cursor = Some(None);
            loop {
                while running.len() < width && dispatched.len() < BATCHES_PER_PAGE {
                    if let Some(ready) = waiting.pop_front() {
                        dispatched.push_back(ready.batch.id);
                        running.push(self.judge_entry(ready.batch, ready.acked, ready.on_unknown));
                    } else if let Some(after) = cursor {
                        let page = self.next_page(after, retries, stop_on_shutdown).await;
                        cursor = page.as_ref().map(|(last, _)| Some(*last));
                        waiting.extend(page.map(|(_, ready)| ready).unwrap_or_default());
                    } else {
                        break;
                    }
                }
                let Some((id, outcome)) = running.next().await else {
                    return;
                };
                finished.insert(id, outcome);
                while let Some(&next) = dispatched.front() {
                    let Some(outcome) = finished.remove(&next) else {
                        break;
                    };
                    dispatched.pop_front();
                    if judged_tx.send((next, outcome)).await.is_err() {
                        return;
                    }
                }
            }
        };
        let writing = async {
            let mut round = Vec::with_capacity(BATCHES_PER_PAGE);
            while judged_rx.recv_many(&mut round, BATCHES_PER_PAGE).await > 0 {
                self.write_round(std::mem::take(&mut round), retries).await;
            }
        };
        tokio::join!(judging, writing);
    }

    /// The next page of the inbox after `after`: the id of its last entry, and those of its
    /// entries that may be processed now, with the time each was acknowledged and whether an
    /// unknown subscription would still hold it back. `None` when the pass is over (the inbox
    /// read to its end, unreadable, or shutdown begun). A page whose every entry is held back
    /// or in flight yields an empty list, so the pass goes on past it.
    async fn next_page(
        &self,
        after: Option<u64>,
        retries: &Mutex<RetrySchedule>,
        stop_on_shutdown: bool,
    ) -> Option<(u64, Vec<Ready>)> {
        if stop_on_shutdown && self.shutdown.is_cancelled() {
            return None;
        }
        let ledger = Arc::clone(&self.ledger);
        let page = blocking(move || {
            ledger
                .pending(after, BATCHES_PER_PAGE)
                .map_err(|e| Deferred::Storage(e.to_string()))
        })
        .await;
        let batches = match page {
            Ok(batches) => batches,
            Err(deferred) => {
                tracing::warn!(target: "pilotwatch::receiver", error = %deferred, "cannot read the inbox; retrying shortly");
                return None;
            }
        };
        let mut retries = lock(retries);
        if after.is_none() {
            retries.forget_before(batches.first().map(|batch| batch.id));
        }
        let last = batches.last()?.id;
        let now = std::time::Instant::now();
        let ready = batches
            .into_iter()
            .filter(|batch| !retries.holds(batch.id, now))
            .filter_map(|batch| {
                let acked = match self.acks.status(batch.id) {
                    // Its commit is under way; the acknowledgement wakes us.
                    AckStatus::InFlight => return None,
                    AckStatus::Acked(acked) => acked,
                    AckStatus::Unknown => Acked::unmeasured(batch.received_at),
                };
                let on_unknown = retries.on_unknown(batch.id);
                Some(Ready {
                    batch,
                    acked,
                    on_unknown,
                })
            })
            .collect();
        Some((last, ready))
    }

    /// Writes judged entries in inbox order, commits once, and only then lets out what they
    /// produced. An entry that could not be judged or written is held back; a failed commit
    /// holds back the whole round.
    async fn write_round(
        &self,
        judged: Vec<(u64, Result<Judged, Deferred>)>,
        retries: &Mutex<RetrySchedule>,
    ) {
        let mut ready = Vec::with_capacity(judged.len());
        for (id, outcome) in judged {
            match outcome {
                Ok(entry) => ready.push(entry),
                Err(deferred) => hold_back(retries, id, &deferred),
            }
        }
        if ready.is_empty() {
            return;
        }
        let ids: Vec<u64> = ready.iter().map(|entry| entry.batch.id).collect();
        let ledger = Arc::clone(&self.ledger);
        let written = match blocking(move || Ok(round::write_round(&*ledger, ready))).await {
            Ok(written) => written,
            Err(deferred) => {
                ids.iter().for_each(|&id| hold_back(retries, id, &deferred));
                return;
            }
        };
        let mut committed = Vec::with_capacity(written.len());
        for (id, outcome) in written {
            match outcome {
                Ok(entry) => committed.push((id, entry)),
                Err(e) => hold_back(retries, id, &Deferred::Storage(e.to_string())),
            }
        }
        // Entries that failed were partly written; their reprocessing is marked `duplicate`.
        if let Err(e) = self.ledger.commit().await {
            let deferred = Deferred::Storage(e.to_string());
            committed
                .iter()
                .for_each(|(id, _)| hold_back(retries, *id, &deferred));
            return;
        }
        for (id, entry) in committed {
            lock(retries).succeeded(id);
            self.acks.forget(id);
            self.release(entry).await;
        }
    }

    /// Lets out what a committed entry produced: its records to subscribers, its lifecycle
    /// signals to the keeper.
    async fn release(&self, written: Written) {
        // No subscriber is not an error: the store holds everything.
        let _ = self.processed.send(written.produced);
        for signal in written.signals {
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                sent = self.lifecycle_tx.send(signal) => if sent.is_err() {
                    tracing::warn!(target: "pilotwatch::receiver", "the keeper is gone; lifecycle signal dropped (the event is logged)");
                },
            }
        }
    }
}

/// Holds `id` back after `deferred`, with backoff; the others go on.
fn hold_back(retries: &Mutex<RetrySchedule>, id: u64, deferred: &Deferred) {
    let now = std::time::Instant::now();
    if let Deferred::UnknownSubscription(_) = deferred {
        // Expected right after a subscription is created, and what a forged flood looks like:
        // not worth a warning (the rejection, if it comes, is recorded and counted).
        let (wait, holds) = lock(retries).unknown(id, now);
        tracing::debug!(target: "pilotwatch::receiver", batch = id, reason = %deferred, holds, retry_in = ?wait, "notification batch waits for the subscription registry");
        return;
    }
    let wait = lock(retries).failed(id, now);
    tracing::warn!(target: "pilotwatch::receiver", batch = id, error = %deferred, retry_in = ?wait, "notification batch held back; the others go on");
}

/// The retry schedule, shared by the two halves of the pipeline (never held across an await).
fn lock(retries: &Mutex<RetrySchedule>) -> MutexGuard<'_, RetrySchedule> {
    retries.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many entries are judged at once: two per core. Judging is CPU-bound decryption, but an
/// entry also waits on its trip to the blocking pool (and, rarely, on fetching keys); a second
/// entry per core keeps the core busy meanwhile.
fn judging_width() -> usize {
    static WIDTH: LazyLock<usize> = LazyLock::new(|| {
        2 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    *WIDTH
}

/// Runs synchronous storage work on the blocking pool; a panic there holds the batch back
/// instead of killing the processor.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Deferred> + Send + 'static,
) -> Result<T, Deferred> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or(Err(Deferred::Panicked))
}
