//! After the acknowledgement: drains the inbox oldest first — at start-up too, for batches a
//! crash left — judges every item (`judge`), writes one notification record per item, a latency
//! sample and the interaction (deduplicated by id) for authentic ones, lifecycle events for
//! lifecycle POSTs, then removes the batch and commits. Lifecycle signals go to the keeper only
//! after that commit.
//!
//! Once a batch is committed, what it produced goes out as a [`ProcessedBatch`] to whoever
//! subscribed (best effort; the store is the record).
//!
//! A batch is removed only once everything it produced is written, so a crash mid-batch means
//! it is processed again: interactions stay single (insert-if-absent), the repeated notification
//! records say `duplicate`. A batch whose tokens cannot be checked because the identity
//! platform's keys are unreachable stays in the inbox and is retried; a storage error backs off
//! and retries. Nothing here panics on input.
//!
//! Depends on `ledger`, `judge`, `verifier`, the store's record types and the clock.

use super::listener::DRAIN_LIMIT;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::LifecycleSignal;
use super::judge::{self, BatchTokens, ItemJudgement};
use super::ledger::Ledger;
use super::verifier::Verifier;
use crate::clock::SharedClock;
use crate::graph::model::{ChangeNotification, ChangeNotificationCollection, ValidationTokens};
use crate::store::records::{
    Check, DecryptVerdict, Endpoint, Event, EventKind, InteractionRecord, NotificationRecord,
    RawBatch, RejectReason, TokenRejection, TokenVerdict, lifecycle_event_name,
};

/// Inbox entries read per round.
const BATCHES_PER_ROUND: usize = 64;

/// How often the inbox is looked at with no wake-up (retries of deferred batches).
const IDLE_POLL: Duration = Duration::from_secs(5);

/// At shutdown, the acknowledgements have stopped once none came for this long.
const FINAL_QUIET: Duration = Duration::from_millis(250);

/// What one inbox entry produced, once it is committed: a record per item and the
/// interactions that entered the feed for the first time.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedBatch {
    /// The inbox id of the batch.
    pub batch_id: u64,
    /// The profile whose endpoint received it.
    pub profile: String,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// One record per item (one for the whole batch when it could not be parsed), in order.
    /// Lifecycle items that were accepted have none: they are events, sent to the keeper.
    pub notifications: Vec<NotificationRecord>,
    /// Interactions new to the store (a reprocessed batch has none).
    pub interactions: Vec<InteractionRecord>,
}

/// The acknowledgement of one inbox entry, sent by the HTTP side after its 202.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Acked {
    pub(crate) id: u64,
    pub(crate) at: DateTime<Utc>,
}

/// Why a batch was left in the inbox this round.
#[derive(Debug, thiserror::Error)]
enum Deferred {
    #[error("storage: {0}")]
    Storage(String),
    #[error("{0}")]
    Keys(#[from] super::jwks::JwksError),
    #[error("judging stopped unexpectedly")]
    Judge,
}

pub(crate) struct Processor<L: Ledger> {
    pub(crate) ledger: Arc<L>,
    pub(crate) verifier: Arc<Verifier>,
    pub(crate) clock: SharedClock,
    pub(crate) lifecycle_tx: mpsc::Sender<LifecycleSignal>,
    pub(crate) processed: broadcast::Sender<ProcessedBatch>,
    pub(crate) acked: mpsc::Receiver<Acked>,
    pub(crate) shutdown: CancellationToken,
}

impl<L: Ledger> Processor<L> {
    /// Runs until `shutdown`; the inbox is drained first, then after every wake-up.
    pub(crate) async fn run(mut self) {
        let mut acked_at: HashMap<u64, DateTime<Utc>> = HashMap::new();
        loop {
            while let Ok(acked) = self.acked.try_recv() {
                acked_at.insert(acked.id, acked.at);
            }
            if let Err(deferred) = self.drain(&mut acked_at, true).await {
                tracing::warn!(target: "pilotwatch::receiver", error = %deferred, "notification processing deferred; retrying shortly");
            }
            tokio::select! {
                () = self.shutdown.cancelled() => {
                    self.finish(&mut acked_at).await;
                    return;
                }
                acked = self.acked.recv() => match acked {
                    Some(acked) => { acked_at.insert(acked.id, acked.at); }
                    None => tokio::time::sleep(IDLE_POLL).await,
                },
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }

    /// At shutdown: processes what is in the inbox, including batches the listener acknowledges
    /// while it drains its last requests, until the acknowledgements have been quiet for
    /// [`FINAL_QUIET`] or [`DRAIN_LIMIT`] has passed. Whatever is left stays in the inbox
    /// (it is durable) for the next start.
    async fn finish(&mut self, acked_at: &mut HashMap<u64, DateTime<Utc>>) {
        let deadline = tokio::time::Instant::now() + DRAIN_LIMIT;
        loop {
            if let Err(deferred) = self.drain(acked_at, false).await {
                tracing::warn!(target: "pilotwatch::receiver", error = %deferred, "left in the inbox for the next start");
                return;
            }
            let quiet = (tokio::time::Instant::now() + FINAL_QUIET).min(deadline);
            match tokio::time::timeout_at(quiet, self.acked.recv()).await {
                Ok(Some(acked)) => {
                    acked_at.insert(acked.id, acked.at);
                }
                Ok(None) | Err(_) => {
                    if let Err(deferred) = self.drain(acked_at, false).await {
                        tracing::warn!(target: "pilotwatch::receiver", error = %deferred, "left in the inbox for the next start");
                    }
                    return;
                }
            }
        }
    }

    /// Processes pending batches until the inbox is empty (or, with `stop_on_shutdown`, until
    /// shutdown begins).
    async fn drain(
        &self,
        acked_at: &mut HashMap<u64, DateTime<Utc>>,
        stop_on_shutdown: bool,
    ) -> Result<(), Deferred> {
        loop {
            let batches = self
                .ledger
                .pending(BATCHES_PER_ROUND)
                .map_err(|e| Deferred::Storage(e.to_string()))?;
            if batches.is_empty() {
                return Ok(());
            }
            for batch in batches {
                if stop_on_shutdown && self.shutdown.is_cancelled() {
                    return Ok(());
                }
                let acked = acked_at.remove(&batch.id).unwrap_or(batch.received_at);
                self.process(batch, acked).await?;
            }
        }
    }

    async fn process(&self, batch: RawBatch, acked_at: DateTime<Utc>) -> Result<(), Deferred> {
        let storage = |e: L::Error| Deferred::Storage(e.to_string());
        let mut produced = ProcessedBatch {
            batch_id: batch.id,
            profile: batch.profile.clone(),
            endpoint: batch.endpoint,
            notifications: Vec::new(),
            interactions: Vec::new(),
        };
        let signals = match batch.endpoint {
            Endpoint::Notification => {
                self.process_changes(&batch, acked_at, &mut produced)
                    .await?;
                Vec::new()
            }
            Endpoint::Lifecycle => self.process_lifecycle(&batch, acked_at, &mut produced)?,
        };
        self.ledger.remove(batch.id).map_err(storage)?;
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

    async fn process_changes(
        &self,
        batch: &RawBatch,
        acked_at: DateTime<Utc>,
        produced: &mut ProcessedBatch,
    ) -> Result<(), Deferred> {
        let storage = |e: L::Error| Deferred::Storage(e.to_string());
        let base = self.blank_record(batch, acked_at);
        let collection = match parse(&batch.body) {
            Some(collection) => collection,
            None => {
                let record = rejected(base, RejectReason::MalformedNotification);
                return self.append(record, produced);
            }
        };
        let tokens = self.judge_tokens(&collection).await?;
        let states = judge::expected_states(&collection.value, |id| self.ledger.client_state(id))
            .map_err(storage)?;
        let keys = Arc::clone(&self.verifier.keys);
        let items = collection.value;
        // RSA decryption costs about a millisecond per item: off the async workers.
        let judged = tokio::task::spawn_blocking(move || {
            items
                .into_iter()
                .map(|item| {
                    let expected = states.get(&item.subscription_id).and_then(Option::as_ref);
                    let judgement = judge::judge_item(&item, expected, &tokens, &keys);
                    (item, judgement)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|_| Deferred::Judge)?;
        for (item, judgement) in judged {
            let record = self.record_item(&base, batch, &item, judgement, produced)?;
            self.append(record, produced)?;
        }
        Ok(())
    }

    /// Writes a notification record and keeps it for the [`ProcessedBatch`].
    fn append(
        &self,
        record: NotificationRecord,
        produced: &mut ProcessedBatch,
    ) -> Result<(), Deferred> {
        self.ledger
            .append_notification(&record)
            .map_err(|e| Deferred::Storage(e.to_string()))?;
        produced.notifications.push(record);
        Ok(())
    }

    async fn judge_tokens(
        &self,
        collection: &ChangeNotificationCollection,
    ) -> Result<BatchTokens, Deferred> {
        let tenants = judge::tenants(&collection.value);
        let app_id = &self.verifier.app_id;
        let tokens = &collection.validation_tokens;
        let real_tokens = matches!(tokens, ValidationTokens::Tokens(_)) && !tokens.is_null_like();
        if !real_tokens {
            return Ok(judge::judge_tokens(
                tokens,
                None,
                app_id,
                &tenants,
                self.clock.now(),
            ));
        }
        let keys = self.verifier.jwks.keys().await?;
        let judged = judge::judge_tokens(tokens, Some(&keys), app_id, &tenants, self.clock.now());
        if judged != BatchTokens::Invalid(TokenRejection::UnknownKey) {
            return Ok(judged);
        }
        // The identity platform may have rotated its keys since the cache was filled.
        let keys = self.verifier.jwks.refresh_for_unknown_kid().await?;
        Ok(judge::judge_tokens(
            tokens,
            Some(&keys),
            app_id,
            &tenants,
            self.clock.now(),
        ))
    }

    fn record_item(
        &self,
        base: &NotificationRecord,
        batch: &RawBatch,
        item: &ChangeNotification,
        judgement: ItemJudgement,
        produced: &mut ProcessedBatch,
    ) -> Result<NotificationRecord, Deferred> {
        let storage = |e: L::Error| Deferred::Storage(e.to_string());
        let mut record = NotificationRecord {
            subscription_id: item.subscription_id.clone(),
            tenant_id: Some(item.tenant_id.clone()),
            change_type: item.change_type.clone(),
            resource: item.resource.clone(),
            client_state: judgement.client_state,
            validation_tokens: judgement.tokens,
            decryption: judgement.decryption,
            interaction_id: item.resource_data.as_ref().map(|data| data.id.clone()),
            rejected: judgement.rejected,
            ..base.clone()
        };
        let authentic = judgement.interaction.is_some();
        let storable = judgement
            .interaction
            .filter(|interaction| InteractionRecord::check_id(&interaction.id).is_ok());
        if authentic && storable.is_none() {
            // Authentic, but its id cannot be a key: kept out, not retried forever.
            record.rejected = Some(RejectReason::MalformedNotification);
        }
        if let Some(interaction) = storable {
            let latency = (batch.received_at - interaction.created_date_time).num_milliseconds();
            if let Ok(sample) = u64::try_from(latency) {
                self.ledger
                    .record_latency(batch.received_at, sample)
                    .map_err(storage)?;
            }
            let new = self
                .ledger
                .insert_interaction(&batch.profile, &interaction, record.processed_at)
                .map_err(storage)?;
            record.interaction_id = Some(interaction.id.clone());
            record.created_at = Some(interaction.created_date_time);
            record.latency_ms = Some(latency);
            record.duplicate = new.is_none();
            record.accepted = true;
            produced.interactions.extend(new);
        }
        Ok(record)
    }

    fn process_lifecycle(
        &self,
        batch: &RawBatch,
        acked_at: DateTime<Utc>,
        produced: &mut ProcessedBatch,
    ) -> Result<Vec<LifecycleSignal>, Deferred> {
        let storage = |e: L::Error| Deferred::Storage(e.to_string());
        let base = self.blank_record(batch, acked_at);
        let Some(collection) = parse(&batch.body) else {
            let record = rejected(base, RejectReason::MalformedNotification);
            self.append(record, produced)?;
            return Ok(Vec::new());
        };
        let mut signals = Vec::new();
        for item in &collection.value {
            let expected = self
                .ledger
                .client_state(&item.subscription_id)
                .map_err(storage)?;
            let (check, rejection) =
                judge::judge_client_state(item.client_state.as_deref(), expected.as_ref());
            let rejection = rejection.or(item
                .lifecycle_event
                .is_none()
                .then_some(RejectReason::MalformedNotification));
            match (rejection, item.lifecycle_event) {
                (None, Some(event)) => {
                    let entry = Event {
                        at: self.clock.now(),
                        profile: batch.profile.clone(),
                        kind: EventKind::lifecycle(event, item.subscription_id.clone()),
                        message: format!(
                            "Graph sent {} for subscription {}",
                            lifecycle_event_name(event),
                            item.subscription_id
                        ),
                    };
                    self.ledger.append_lifecycle(&entry).map_err(storage)?;
                    signals.push(LifecycleSignal {
                        profile: batch.profile.clone(),
                        subscription_id: item.subscription_id.clone(),
                        event,
                    });
                }
                (reason, _) => {
                    let record = NotificationRecord {
                        subscription_id: item.subscription_id.clone(),
                        tenant_id: Some(item.tenant_id.clone()),
                        client_state: check,
                        rejected: reason.or(Some(RejectReason::MalformedNotification)),
                        ..base.clone()
                    };
                    self.append(record, produced)?;
                }
            }
        }
        Ok(signals)
    }

    fn blank_record(&self, batch: &RawBatch, acked_at: DateTime<Utc>) -> NotificationRecord {
        NotificationRecord {
            received_at: batch.received_at,
            acked_at,
            processed_at: self.clock.now(),
            profile: batch.profile.clone(),
            subscription_id: String::new(),
            tenant_id: None,
            change_type: None,
            resource: None,
            client_state: Check::Missing,
            validation_tokens: TokenVerdict::Absent,
            decryption: DecryptVerdict::NotEncrypted,
            interaction_id: None,
            created_at: None,
            latency_ms: None,
            duplicate: false,
            accepted: false,
            rejected: None,
        }
    }
}

/// The body as a notification collection with at least one item, or `None`.
fn parse(body: &[u8]) -> Option<ChangeNotificationCollection> {
    serde_json::from_slice::<ChangeNotificationCollection>(body)
        .ok()
        .filter(|collection| !collection.value.is_empty())
}

fn rejected(base: NotificationRecord, reason: RejectReason) -> NotificationRecord {
    NotificationRecord {
        rejected: Some(reason),
        ..base
    }
}
