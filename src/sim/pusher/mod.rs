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
mod dispatch;
mod encrypt;
mod endpoint_health;
mod payload;
mod schedule;
mod validation_token;

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
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
use encrypt::ForeignCertificate;
use endpoint_health::HealthBook;
use payload::{Batch, ChangeEntry, LifecycleEntry};
use schedule::DueQueue;

/// Longest real time the loop sleeps before looking at the clock and the queue again.
pub const MAX_NAP: StdDuration = StdDuration::from_millis(250);

/// Most POSTs in flight at once; further ones wait for a slot in their own task.
pub const MAX_IN_FLIGHT: usize = 64;

/// Most outbox items taken in one go before the loop looks at the queue again.
const MAX_INTAKE_BURST: usize = 1_000;

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
                    Some(item) => {
                        self.accept(item);
                        // Take a burst whole, so items already due go out batched.
                        for _ in 1..MAX_INTAKE_BURST {
                            let Ok(item) = outbox.try_recv() else { break };
                            self.accept(item);
                        }
                    }
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
                        .filter(|record| record.matches(interaction, &generated.user_id))
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

/// True when the subscription's `changeType` lists `created`.
fn watches_created(record: &SubscriptionRecord) -> bool {
    record
        .subscription
        .change_type
        .split(',')
        .any(|kind| kind.trim().eq_ignore_ascii_case("created"))
}

fn lifecycle_name(event: LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
        LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
        LifecycleEvent::Missed => "missed",
        LifecycleEvent::Unknown => "lifecycle event",
    }
}
