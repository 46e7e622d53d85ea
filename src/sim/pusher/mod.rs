//! The notification pusher: what simulated Graph sends to subscribers, when, and how it reacts
//! to their answers.
//!
//! Work arrives on the outbox (`state::Outbound`). A new interaction is matched against the live
//! subscriptions that watch `created` changes in its scope and queued for each, due at its
//! `createdDateTime` plus a delay sampled from the scenario (`schedule`). Lifecycle events are
//! due at once. The loop sleeps in simulated time until the next item is due, but wakes at
//! least every [`MAX_NAP`] of real time so clock jumps (`/_sim/clock/advance`), scenario
//! switches and outage windows take effect promptly. Due items are grouped per destination URL
//! into POSTs of at most `delivery.max_batch` items (`schedule::batches`), built
//! (`payload`: encryption, validation tokens) and sent from spawned tasks bounded by a
//! semaphore (`deliver`), so a slow receiver never blocks the loop. Graph's rules then apply
//! (graph-facts §3.5): failures are retried with exponential backoff for four hours of simulated
//! time and then dropped; slow hosts are delayed or dropped (`endpoint_health`); nothing goes out
//! during a Graph outage. Every attempt, including every drop, is recorded in
//! `state.deliveries()`.
//!
//! Depends on the simulator's state, ledger, registry and scenario and on `graph::model`; never
//! on routes.

mod deliver;
mod encrypt;
mod endpoint_health;
mod payload;
mod schedule;
mod validation_token;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::{OnceCell, Semaphore, mpsc};
use tokio::task::{JoinError, JoinSet};

pub use deliver::{FIRST_ATTEMPT_DEADLINE, REQUEST_TIMEOUT, UNREACHABLE_REASON};
pub use endpoint_health::{
    DELAY_ABOVE, DROP_ABOVE, MIN_SAMPLES, PENALTY, SLOW_RESPONSE_MS, WINDOW,
};
pub use schedule::{FIRST_RETRY_DELAY, LONGEST_RETRY_DELAY, RETRY_WINDOW};

use super::ledger::{DeliveryAttempt, DeliveryKind, DeliveryOutcome, Generated};
use super::registry::SubscriptionRecord;
use super::state::{Outbound, SimState};
use crate::clock::Clock as _;
use crate::graph::model::LifecycleEvent;
use deliver::Conditions;
use encrypt::ForeignCertificate;
use endpoint_health::{HealthBook, HealthState};
use payload::{Batch, ChangeEntry, LifecycleEntry};
use schedule::{BATCH_WINDOW, DueQueue};

/// Longest real time the loop sleeps before looking at the clock and the queue again.
pub const MAX_NAP: StdDuration = StdDuration::from_millis(250);

/// Most POSTs in flight at once; further ones wait for a slot in their own task.
pub const MAX_IN_FLIGHT: usize = 64;

/// Runs until shutdown.
pub async fn run(state: Arc<SimState>, outbox: mpsc::UnboundedReceiver<Outbound>) {
    Pusher::new(state).run(outbox).await;
}

/// A notification not sent yet.
struct PendingChange {
    subscription_id: String,
    /// The URL when the interaction was matched (for the record if the subscription goes).
    url: String,
    generated: Generated,
    /// Already held back once by the endpoint's delay state.
    delayed: bool,
}

/// A lifecycle event not sent yet.
struct PendingLifecycle {
    entry: LifecycleEntry,
    url: String,
    delayed: bool,
}

/// A built batch waiting for its next attempt.
struct Retry {
    batch: Batch,
    /// Number of the coming attempt.
    attempt: u32,
    first_attempt_at: DateTime<Utc>,
}

enum Work {
    Change(PendingChange),
    Lifecycle(PendingLifecycle),
    Retry(Retry),
}

/// What a delivery task is given.
enum Outgoing {
    Changes {
        url: String,
        entries: Vec<ChangeEntry>,
    },
    Lifecycles {
        url: String,
        entries: Vec<LifecycleEntry>,
    },
    Again(Retry),
}

/// What a delivery task hands back after an attempt.
struct Finished {
    batch: Batch,
    attempt: u32,
    first_attempt_at: DateTime<Utc>,
    at: DateTime<Utc>,
    outcome: DeliveryOutcome,
    slow: Option<bool>,
}

/// What the endpoint's health says to do with new notifications.
enum Triage {
    Send,
    Delay,
    Drop(String),
}

struct Pusher {
    state: Arc<SimState>,
    queue: DueQueue<Work>,
    health: HealthBook,
    in_flight: JoinSet<Option<Finished>>,
    permits: Arc<Semaphore>,
    foreign: Arc<OnceCell<ForeignCertificate>>,
}

impl Pusher {
    fn new(state: Arc<SimState>) -> Self {
        Self {
            state,
            queue: DueQueue::default(),
            health: HealthBook::default(),
            in_flight: JoinSet::new(),
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            foreign: Arc::new(OnceCell::new()),
        }
    }

    async fn run(mut self, mut outbox: mpsc::UnboundedReceiver<Outbound>) {
        loop {
            let nap = self.nap();
            tokio::select! {
                biased;
                () = self.state.shutdown.cancelled() => break,
                item = outbox.recv() => match item {
                    Some(item) => self.accept(item),
                    // The sender lives in the state we hold: only reachable if that changes.
                    None => break,
                },
                Some(joined) = self.in_flight.join_next() => self.finished(joined),
                () = tokio::time::sleep(nap) => {}
            }
            self.dispatch_due();
        }
        self.in_flight.shutdown().await;
    }

    /// Real time until the next item is due, at most [`MAX_NAP`].
    fn nap(&self) -> StdDuration {
        let now = self.state.now();
        match self.queue.next_due() {
            Some(due) if !self.state.in_outage(now) => {
                self.state.clock.real_duration(due - now).min(MAX_NAP)
            }
            _ => MAX_NAP,
        }
    }

    fn accept(&mut self, item: Outbound) {
        let now = self.state.now();
        match item {
            Outbound::Interaction(generated) => {
                let targets: Vec<(String, String)> = {
                    let registry = self.state.registry();
                    let interaction = &generated.interaction;
                    registry
                        .live(now)
                        .filter(|record| watches_created(record))
                        .filter(|record| {
                            record.matches(&interaction.app_class, Some(&generated.user_id))
                        })
                        .map(|record| {
                            let subscription = &record.subscription;
                            (
                                subscription.id.clone(),
                                subscription.notification_url.clone(),
                            )
                        })
                        .collect()
                };
                if targets.is_empty() {
                    return;
                }
                let scenario = self.state.scenario();
                let delay = schedule::sample_delay(&mut *self.state.rng(), &scenario.delivery);
                let due = generated.interaction.created_date_time + delay;
                for (subscription_id, url) in targets {
                    let pending = PendingChange {
                        subscription_id,
                        url,
                        generated: generated.clone(),
                        delayed: false,
                    };
                    self.queue.push(due, Work::Change(pending));
                }
            }
            Outbound::Lifecycle { record, event } => {
                let url = record
                    .subscription
                    .lifecycle_notification_url
                    .clone()
                    .filter(|url| !url.trim().is_empty());
                let entry = LifecycleEntry { record, event };
                match url {
                    Some(url) => {
                        let pending = PendingLifecycle {
                            entry,
                            url,
                            delayed: false,
                        };
                        self.queue.push(now, Work::Lifecycle(pending));
                    }
                    None => self.record_dropped(
                        DeliveryKind::Lifecycle,
                        "",
                        1,
                        vec![entry.record.subscription.id.clone()],
                        Vec::new(),
                        format!(
                            "{} not sent: the subscription has no lifecycleNotificationUrl",
                            lifecycle_name(event)
                        ),
                    ),
                }
            }
        }
    }

    fn dispatch_due(&mut self) {
        let now = self.state.now();
        let anything_due = self.queue.next_due().is_some_and(|due| due <= now);
        if !anything_due || self.state.in_outage(now) {
            return;
        }
        // Items due a moment later join the POST rather than follow in their own.
        let due = self.queue.pop_due(now + BATCH_WINDOW);
        let max_batch = self.state.scenario().delivery.max_batch;
        let mut changes = Vec::new();
        let mut lifecycles = Vec::new();
        for work in due {
            match work {
                Work::Change(pending) => changes.push(pending),
                Work::Lifecycle(pending) => lifecycles.push((pending.url.clone(), pending)),
                Work::Retry(retry) => self.dispatch_retry(retry, now),
            }
        }
        self.dispatch_changes(changes, now, max_batch);
        for (url, chunk) in schedule::batches(lifecycles, max_batch) {
            let (send, held): (Vec<_>, Vec<_>) = match self.triage(&url, now) {
                Triage::Drop(reason) => {
                    let ids = chunk
                        .iter()
                        .map(|p| p.entry.record.subscription.id.clone())
                        .collect();
                    self.record_dropped(DeliveryKind::Lifecycle, &url, 1, ids, Vec::new(), reason);
                    continue;
                }
                Triage::Send => (chunk, Vec::new()),
                Triage::Delay => chunk.into_iter().partition(|p| p.delayed),
            };
            for mut pending in held {
                pending.delayed = true;
                self.queue.push(now + PENALTY, Work::Lifecycle(pending));
            }
            if !send.is_empty() {
                let entries = send.into_iter().map(|p| p.entry).collect();
                self.spawn(Outgoing::Lifecycles { url, entries });
            }
        }
    }

    fn dispatch_changes(
        &mut self,
        pending: Vec<PendingChange>,
        now: DateTime<Utc>,
        max_batch: usize,
    ) {
        // Resolve against the registry as it is now: the current URL, expiry and certificate;
        // a subscription deleted or expired in the meantime gets nothing.
        let mut resolved = Vec::new();
        let mut gone = Vec::new();
        {
            let registry = self.state.registry();
            for item in pending {
                match registry.get(&item.subscription_id, now) {
                    Some(record) => {
                        let url = record.subscription.notification_url.clone();
                        resolved.push((url, (item, record.clone())));
                    }
                    None => gone.push(item),
                }
            }
        }
        for item in gone {
            self.record_dropped(
                DeliveryKind::Change,
                &item.url,
                1,
                vec![item.subscription_id],
                vec![item.generated.interaction.id.clone()],
                "the subscription was deleted or expired before the notification was due".into(),
            );
        }
        for (url, chunk) in schedule::batches(resolved, max_batch) {
            let (send, held): (Vec<_>, Vec<_>) = match self.triage(&url, now) {
                Triage::Drop(reason) => {
                    let subscriptions = chunk.iter().map(|(p, _)| p.subscription_id.clone());
                    let interactions = chunk
                        .iter()
                        .map(|(p, _)| p.generated.interaction.id.clone());
                    self.record_dropped(
                        DeliveryKind::Change,
                        &url,
                        1,
                        dedup(subscriptions),
                        dedup(interactions),
                        reason,
                    );
                    continue;
                }
                Triage::Send => (chunk, Vec::new()),
                Triage::Delay => chunk.into_iter().partition(|(p, _)| p.delayed),
            };
            for (mut item, _) in held {
                item.delayed = true;
                self.queue.push(now + PENALTY, Work::Change(item));
            }
            if !send.is_empty() {
                let entries = send
                    .into_iter()
                    .map(|(item, record)| ChangeEntry {
                        record,
                        generated: item.generated,
                    })
                    .collect();
                self.spawn(Outgoing::Changes { url, entries });
            }
        }
    }

    fn dispatch_retry(&mut self, retry: Retry, now: DateTime<Utc>) {
        match self.health.state(&retry.batch.url, now) {
            HealthState::Dropping { until } => {
                let batch = &retry.batch;
                self.record_dropped(
                    batch.kind,
                    &batch.url,
                    retry.attempt,
                    batch.subscription_ids.clone(),
                    batch.interaction_ids.clone(),
                    drop_reason(until),
                );
            }
            // Only new notifications are held back by the delay state.
            HealthState::Healthy | HealthState::Delaying { .. } => {
                self.spawn(Outgoing::Again(retry));
            }
        }
    }

    fn triage(&mut self, url: &str, now: DateTime<Utc>) -> Triage {
        match self.health.state(url, now) {
            HealthState::Healthy => Triage::Send,
            HealthState::Delaying { .. } => Triage::Delay,
            HealthState::Dropping { until } => Triage::Drop(drop_reason(until)),
        }
    }

    fn spawn(&mut self, outgoing: Outgoing) {
        let state = self.state.clone();
        let permits = self.permits.clone();
        let foreign = self.foreign.clone();
        self.in_flight
            .spawn(attempt(state, permits, foreign, outgoing));
    }

    fn finished(&mut self, joined: Result<Option<Finished>, JoinError>) {
        let done = match joined {
            Ok(Some(done)) => done,
            Ok(None) => return,
            Err(error) => {
                tracing::error!(%error, "a notification delivery task died");
                return;
            }
        };
        if let Some(slow) = done.slow {
            self.health.record(&done.batch.url, done.at, slow);
        }
        if deliver::is_final(&done.outcome) {
            return;
        }
        let failed_at = self.state.now();
        match schedule::next_retry(done.first_attempt_at, failed_at, done.attempt) {
            Some(due) => {
                let retry = Retry {
                    batch: done.batch,
                    attempt: done.attempt.saturating_add(1),
                    first_attempt_at: done.first_attempt_at,
                };
                self.queue.push(due, Work::Retry(retry));
            }
            None => {
                let batch = done.batch;
                self.record_dropped(
                    batch.kind,
                    &batch.url,
                    done.attempt.saturating_add(1),
                    batch.subscription_ids,
                    batch.interaction_ids,
                    format!(
                        "no 2xx after {} attempts over {} h of retries: dropped",
                        done.attempt,
                        RETRY_WINDOW.num_hours()
                    ),
                );
            }
        }
    }

    fn record_dropped(
        &self,
        kind: DeliveryKind,
        url: &str,
        attempt: u32,
        subscription_ids: Vec<String>,
        interaction_ids: Vec<String>,
        reason: String,
    ) {
        tracing::info!(?kind, attempt, %reason, "notification dropped");
        self.state.deliveries().record(DeliveryAttempt {
            seq: 0,
            kind,
            url: url.to_owned(),
            at: self.state.now(),
            attempt,
            subscription_ids,
            interaction_ids,
            elapsed_ms: 0,
            outcome: DeliveryOutcome::Dropped { reason },
        });
    }
}

/// Builds (first attempt) and sends one batch, records the attempt, and reports back.
async fn attempt(
    state: Arc<SimState>,
    permits: Arc<Semaphore>,
    foreign: Arc<OnceCell<ForeignCertificate>>,
    outgoing: Outgoing,
) -> Option<Finished> {
    // The semaphore is never closed; without a permit the attempt simply goes ahead.
    let _permit = permits.acquire_owned().await.ok();
    let built = match outgoing {
        Outgoing::Again(retry) => Ok((retry.batch, retry.attempt, Some(retry.first_attempt_at))),
        Outgoing::Changes { url, entries } => {
            payload::change_batch(&state, url.clone(), &entries, &foreign)
                .await
                .map(|batch| (batch, 1, None))
                .map_err(|error| (DeliveryKind::Change, url, entries_ids(&entries), error))
        }
        Outgoing::Lifecycles { url, entries } => payload::lifecycle_batch(url.clone(), &entries)
            .map(|batch| (batch, 1, None))
            .map_err(|error| {
                let ids = entries
                    .iter()
                    .map(|e| e.record.subscription.id.clone())
                    .collect();
                (DeliveryKind::Lifecycle, url, (ids, Vec::new()), error)
            }),
    };
    let (batch, attempt, first_attempt_at) = match built {
        Ok(built) => built,
        Err((kind, url, (subscription_ids, interaction_ids), error)) => {
            tracing::error!(%error, "cannot build a notification batch");
            state.deliveries().record(DeliveryAttempt {
                seq: 0,
                kind,
                url,
                at: state.now(),
                attempt: 1,
                subscription_ids,
                interaction_ids,
                elapsed_ms: 0,
                outcome: DeliveryOutcome::Dropped {
                    reason: error.to_string(),
                },
            });
            return None;
        }
    };
    let delivery = state.scenario().delivery.clone();
    let injected = delivery.injected_delay_fraction > 0.0
        && state.rng().random::<f64>() < delivery.injected_delay_fraction;
    let conditions = Conditions {
        reachable: delivery.endpoint_reachable,
        injected_delay: if injected {
            delivery.injected_delay
        } else {
            StdDuration::ZERO
        },
    };
    let at = state.now();
    let attempted = deliver::post(
        &state.http,
        &batch.url,
        batch.body.clone(),
        attempt,
        conditions,
    )
    .await;
    state.deliveries().record(DeliveryAttempt {
        seq: 0,
        kind: batch.kind,
        url: batch.url.clone(),
        at,
        attempt,
        subscription_ids: batch.subscription_ids.clone(),
        interaction_ids: batch.interaction_ids.clone(),
        elapsed_ms: u64::try_from(attempted.elapsed.as_millis()).unwrap_or(u64::MAX),
        outcome: attempted.outcome.clone(),
    });
    Some(Finished {
        batch,
        attempt,
        first_attempt_at: first_attempt_at.unwrap_or(at),
        at,
        outcome: attempted.outcome,
        slow: attempted.slow,
    })
}

/// True when the subscription's `changeType` lists `created`.
fn watches_created(record: &SubscriptionRecord) -> bool {
    record
        .subscription
        .change_type
        .split(',')
        .any(|kind| kind.trim().eq_ignore_ascii_case("created"))
}

fn entries_ids(entries: &[ChangeEntry]) -> (Vec<String>, Vec<String>) {
    (
        dedup(entries.iter().map(|e| e.record.subscription.id.clone())),
        dedup(entries.iter().map(|e| e.generated.interaction.id.clone())),
    )
}

fn dedup(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

fn drop_reason(until: DateTime<Utc>) -> String {
    format!(
        "endpoint host in Graph's drop state until {until}: more than {} % of responses in {} minutes were slower than {} ms",
        DROP_ABOVE * 100.0,
        WINDOW.num_minutes(),
        SLOW_RESPONSE_MS
    )
}

fn lifecycle_name(event: LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
        LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
        LifecycleEvent::Missed => "missed",
        LifecycleEvent::Unknown => "lifecycle event",
    }
}
