//! After the acknowledgement: drains the inbox oldest first — at start-up too, for batches a
//! crash left — a round (one page) at a time. The round's batches are screened and judged
//! concurrently, two per core (`batch`, `judge`: judging is mostly RSA decryption); then what
//! they concluded is written in inbox order and the batches removed (`round`), and the round
//! is committed once — one durable write for many notifications, so the ack path's commits
//! are not queued behind ours. Lifecycle signals go to the keeper only after that commit.
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
//! crash mid-round means its batches are processed again: interactions stay single
//! (insert-if-absent), the repeated records say `duplicate`.
//!
//! Validation tokens are judged at the batch's arrival time, not at processing time: a
//! backlog processed after an outage or a restart was genuine when Graph sent it.
//!
//! The store's synchronous writes run on tokio's blocking pool. Nothing here panics on input.
//!
//! Depends on `ack`, `retry`, `batch`, `round`, `judge`, `ledger`, `verifier`, the store's
//! record types and the clock.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::LifecycleSignal;
use super::ack::{AckBook, AckStatus};
use super::batch::{self, Screened};
use super::judge::{self, BatchTokens};
use super::ledger::Ledger;
use super::listener::DRAIN_LIMIT;
use super::retry::RetrySchedule;
use super::round::{self, Judged, Verdict, Written};
use super::verifier::Verifier;
use crate::clock::SharedClock;
use crate::graph::model::ValidationTokens;
use crate::store::records::{
    Endpoint, InteractionRecord, NotificationRecord, RawBatch, TokenRejection,
};

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
enum Deferred {
    #[error("storage: {0}")]
    Storage(String),
    #[error("{0}")]
    Keys(#[from] super::jwks::JwksError),
    #[error("processing stopped unexpectedly (a bug); the batch is retried later")]
    Panicked,
}

pub(crate) struct Processor<L: Ledger> {
    pub(crate) ledger: Arc<L>,
    pub(crate) verifier: Arc<Verifier>,
    pub(crate) clock: SharedClock,
    pub(crate) lifecycle_tx: mpsc::Sender<LifecycleSignal>,
    pub(crate) processed: broadcast::Sender<ProcessedBatch>,
    pub(crate) acks: Arc<AckBook>,
    pub(crate) shutdown: CancellationToken,
}

impl<L: Ledger> Processor<L> {
    /// Runs until `shutdown`; the inbox is drained first, then after every wake-up.
    pub(crate) async fn run(self) {
        let mut retries = RetrySchedule::default();
        loop {
            self.drain(&mut retries, true).await;
            let next = retries
                .next_due(std::time::Instant::now())
                .map_or(IDLE_POLL, |due| due.min(IDLE_POLL));
            tokio::select! {
                () = self.shutdown.cancelled() => {
                    self.finish(&mut retries).await;
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
    async fn finish(&self, retries: &mut RetrySchedule) {
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

    /// One pass over the inbox, a page at a time: every entry not held back or in flight is
    /// processed (or, with `stop_on_shutdown`, until shutdown begins).
    async fn drain(&self, retries: &mut RetrySchedule, stop_on_shutdown: bool) {
        let mut after = None;
        loop {
            if stop_on_shutdown && self.shutdown.is_cancelled() {
                return;
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
                    return;
                }
            };
            if after.is_none() {
                retries.forget_before(batches.first().map(|batch| batch.id));
            }
            let Some(last) = batches.last() else {
                return;
            };
            after = Some(last.id);
            let now = std::time::Instant::now();
            let round: Vec<(RawBatch, DateTime<Utc>)> = batches
                .into_iter()
                .filter(|batch| !retries.holds(batch.id, now))
                .filter_map(|batch| match self.acks.status(batch.id) {
                    // Its commit is under way; the acknowledgement wakes us.
                    AckStatus::InFlight => None,
                    AckStatus::Acked(at) => Some((batch, at)),
                    AckStatus::Unknown => {
                        let received_at = batch.received_at;
                        Some((batch, received_at))
                    }
                })
                .collect();
            if !round.is_empty() {
                self.process_round(round, retries).await;
            }
        }
    }

    /// Judges the round's entries concurrently, writes them in inbox order, commits once, and
    /// only then lets out what they produced. An entry that cannot be judged or written is held
    /// back; a failed commit holds back the whole round.
    async fn process_round(
        &self,
        round: Vec<(RawBatch, DateTime<Utc>)>,
        retries: &mut RetrySchedule,
    ) {
        let judged: Vec<(u64, Result<Judged, Deferred>)> = stream::iter(round)
            .map(|(batch, acked_at)| async move { (batch.id, self.judge(batch, acked_at).await) })
            .buffered(judging_width())
            .collect()
            .await;
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
            retries.succeeded(id);
            self.acks.forget(id);
            self.release(entry).await;
        }
    }

    /// Screens and judges one entry, writing nothing: the RSA decryption (about a millisecond
    /// per item) runs on the blocking pool, off the async workers.
    async fn judge(&self, batch: RawBatch, acked_at: DateTime<Utc>) -> Result<Judged, Deferred> {
        let storage = |e: L::Error| Deferred::Storage(e.to_string());
        let now = self.clock.now();
        let base = batch::blank_record(&batch, acked_at, now);
        let batch = Arc::new(batch);
        let screened = {
            let (ledger, batch, base) =
                (Arc::clone(&self.ledger), Arc::clone(&batch), base.clone());
            blocking(move || batch::screen(&*ledger, &batch, &base).map_err(storage)).await?
        };
        let verdict = match batch.endpoint {
            Endpoint::Notification => {
                let tokens = self.judge_tokens(&screened, batch.received_at).await?;
                let keys = Arc::clone(&self.verifier.keys);
                blocking(move || Ok(batch::judge_changes(screened, &tokens, &keys))).await?
            }
            Endpoint::Lifecycle => {
                return Ok(Judged {
                    batch: Arc::unwrap_or_clone(batch),
                    base,
                    verdict: Verdict::Lifecycle { screened, now },
                });
            }
        };
        Ok(Judged {
            batch: Arc::unwrap_or_clone(batch),
            base,
            verdict: Verdict::Changes(verdict),
        })
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

    /// The batch's tokens, judged at `received_at` — only when an item passed the
    /// `clientState` check: forged batches never make us fetch keys.
    async fn judge_tokens(
        &self,
        screened: &Screened,
        received_at: DateTime<Utc>,
    ) -> Result<BatchTokens, Deferred> {
        let Screened::Items {
            tokens, admitted, ..
        } = screened
        else {
            return Ok(BatchTokens::Absent);
        };
        if admitted.is_empty() {
            return Ok(BatchTokens::Absent);
        }
        let tenants = batch::tenants(admitted);
        let app_id = &self.verifier.app_id;
        let judge = |keys| judge::judge_tokens(tokens, keys, app_id, &tenants, received_at);
        let real_tokens = matches!(tokens, ValidationTokens::Tokens(_)) && !tokens.is_null_like();
        if !real_tokens {
            return Ok(judge(None));
        }
        let keys = self.verifier.jwks.keys().await?;
        let judged = judge(Some(&keys));
        if judged != BatchTokens::Invalid(TokenRejection::UnknownKey) {
            return Ok(judged);
        }
        // The identity platform may have rotated its keys since the cache was filled.
        let keys = self.verifier.jwks.refresh_for_unknown_kid().await?;
        Ok(judge(Some(&keys)))
    }
}

/// Holds `id` back after `deferred`, with backoff; the others go on.
fn hold_back(retries: &mut RetrySchedule, id: u64, deferred: &Deferred) {
    let wait = retries.failed(id, std::time::Instant::now());
    tracing::warn!(target: "pilotwatch::receiver", batch = id, error = %deferred, retry_in = ?wait, "notification batch held back; the others go on");
}

/// How many entries are judged at once: two per core. Judging is CPU-bound decryption, but
/// each entry also waits on the async token check and on hops to the blocking pool; a second
/// entry per core keeps the core busy meanwhile (measured: 1,321/s against 1,105/s with one).
fn judging_width() -> usize {
    static WIDTH: LazyLock<usize> = LazyLock::new(|| {
        2 * std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    *WIDTH
}

/// Runs synchronous storage work on the blocking pool; a panic there holds the batch back
/// instead of killing the processor.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Deferred> + Send + 'static,
) -> Result<T, Deferred> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or(Err(Deferred::Panicked))
}
