//! After the acknowledgement: drains the inbox oldest first — at start-up too, for batches a
//! crash left — screens and judges every batch (`batch`, `judge`), writes what it concluded,
//! removes the batch and commits. Lifecycle signals go to the keeper only after that commit.
//!
//! Once a batch is committed, what it produced goes out as a [`ProcessedBatch`] to whoever
//! subscribed (best effort; the store is the record).
//!
//! No entry can block the others. A batch is skipped while the HTTP side is still committing
//! it (`ack`), so it is never processed before it is durable and its acknowledgement time is
//! the real one. A batch that fails for a transient reason (the identity platform's keys
//! unreachable, a storage error) is held back with exponential backoff (`retry`) while the
//! rest go on; bad data is never a transient reason — it is rejected with a reason in its
//! record (`batch`) — and an entry the store cannot decode is quarantined by the store. A
//! crash mid-batch means it is processed again: interactions stay single (insert-if-absent),
//! the repeated records say `duplicate`.
//!
//! Validation tokens are judged at the batch's arrival time, not at processing time: a
//! backlog processed after an outage or a restart was genuine when Graph sent it.
//!
//! The store's synchronous writes run on tokio's blocking pool. Nothing here panics on input.
//!
//! Depends on `ack`, `retry`, `batch`, `judge`, `ledger`, `verifier`, the store's record
//! types and the clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
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

    /// One pass over the inbox: every entry not held back or in flight is processed (or, with
    /// `stop_on_shutdown`, until shutdown begins).
    async fn drain(&self, retries: &mut RetrySchedule, stop_on_shutdown: bool) {
        let mut after = None;
        loop {
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
            for batch in batches {
                if stop_on_shutdown && self.shutdown.is_cancelled() {
                    return;
                }
                let id = batch.id;
                if retries.holds(id, std::time::Instant::now()) {
                    continue;
                }
                let acked_at = match self.acks.status(id) {
                    // Its commit is under way; the acknowledgement wakes us.
                    AckStatus::InFlight => continue,
                    AckStatus::Acked(at) => at,
                    AckStatus::Unknown => batch.received_at,
                };
                match self.process(batch, acked_at).await {
                    Ok(()) => {
                        retries.succeeded(id);
                        self.acks.forget(id);
                    }
                    Err(deferred) => {
                        let wait = retries.failed(id, std::time::Instant::now());
                        tracing::warn!(target: "pilotwatch::receiver", batch = id, error = %deferred, retry_in = ?wait, "notification batch held back; the others go on");
                    }
                }
            }
        }
    }

    async fn process(&self, batch: RawBatch, acked_at: DateTime<Utc>) -> Result<(), Deferred> {
        let storage = |e: L::Error| Deferred::Storage(e.to_string());
        let now = self.clock.now();
        let base = batch::blank_record(&batch, acked_at, now);
        let batch = Arc::new(batch);
        let screened = {
            let (ledger, batch, base) =
                (Arc::clone(&self.ledger), Arc::clone(&batch), base.clone());
            blocking(move || batch::screen(&*ledger, &batch, &base).map_err(storage)).await?
        };
        let mut produced = ProcessedBatch {
            batch_id: batch.id,
            profile: batch.profile.clone(),
            endpoint: batch.endpoint,
            notifications: Vec::new(),
            interactions: Vec::new(),
        };
        let ledger = Arc::clone(&self.ledger);
        let (produced, signals) = match batch.endpoint {
            Endpoint::Notification => {
                let tokens = self.judge_tokens(&screened, batch.received_at).await?;
                let keys = Arc::clone(&self.verifier.keys);
                // RSA decryption costs about a millisecond per item: off the async workers too.
                blocking(move || {
                    batch::write_changes(
                        &*ledger,
                        &batch,
                        &base,
                        screened,
                        &tokens,
                        &keys,
                        &mut produced,
                    )
                    .map_err(storage)?;
                    Ok((produced, Vec::new()))
                })
                .await?
            }
            Endpoint::Lifecycle => {
                blocking(move || {
                    let signals = batch::write_lifecycle(
                        &*ledger,
                        &batch,
                        &base,
                        screened,
                        now,
                        &mut produced,
                    )
                    .map_err(storage)?;
                    Ok((produced, signals))
                })
                .await?
            }
        };
        self.ledger.commit().await.map_err(storage)?;
        // No subscriber is not an error: the store holds everything.
        let _ = self.processed.send(produced);
        for signal in signals {
            tokio::select! {
                () = self.shutdown.cancelled() => break,
                sent = self.lifecycle_tx.send(signal) => if sent.is_err() {
                    tracing::warn!(target: "pilotwatch::receiver", "the keeper is gone; lifecycle signal dropped (the event is logged)");
                },
            }
        }
        Ok(())
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

/// Runs synchronous storage work on the blocking pool; a panic there holds the batch back
/// instead of killing the processor.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Deferred> + Send + 'static,
) -> Result<T, Deferred> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or(Err(Deferred::Panicked))
}
