//! Moving due work out of the queue: resolving each notification against the subscription as
//! it is now, grouping per destination URL into POSTs of at most `max_batch` items, applying the
//! host's health (delay or drop new notifications, graph-facts §3.5), and the spawned task that
//! builds a batch on its first attempt, sends it and records the attempt.
//!
//! Part of the pusher's loop (`impl Pusher`); depends on its siblings and the simulator's state.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::sync::{OnceCell, Semaphore};

use super::deliver::{self, Conditions};
use super::encrypt::ForeignCertificate;
use super::endpoint_health::{DROP_ABOVE, HealthState, PENALTY, SLOW_RESPONSE_MS, WINDOW};
use super::payload::{self, ChangeEntry};
use super::schedule::{self, BATCH_WINDOW};
use super::{Finished, Outgoing, PendingChange, Pusher, Retry, Work};
use crate::sim::ledger::{DeliveryAttempt, DeliveryKind, DeliveryOutcome};
use crate::sim::state::SimState;

/// What the endpoint's health says to do with new notifications.
enum Triage {
    Send,
    Delay,
    Drop(String),
}

impl Pusher {
    pub(super) fn dispatch_due(&mut self) {
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
