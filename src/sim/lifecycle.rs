//! The subscription lifecycle in simulated time (graph-facts §3.2, §3.5, §3.6): expired
//! subscriptions vanish; `reauthorizationRequired` challenges go out at the documented
//! illustrative cadence before expiry, when Graph's access token for the endpoint is about to
//! lapse ([`LAPSE_WARNING`] before [`SubscriptionRecord::authorized_until`]) and at once when
//! the admin consent for `AiEnterpriseInteraction.Read.All` is gone; scenarios can make Graph
//! send `missed` (`lifecycle.missed_after`) and remove subscriptions with `subscriptionRemoved`
//! (`lifecycle.remove_subscriptions_after`).
//!
//! Each challenge is anchored on its *due* time, not on when the loop noticed it, so the cadence
//! is the same at any `--speed` and across clock jumps; a sweep sends every challenge that has
//! come due (at most [`MAX_CHALLENGES_PER_SWEEP`] per subscription). The loop sleeps until the
//! next thing is due, in real time scaled by the clock, but at most [`TICK`].
//!
//! This loop only decides *what* happens and *when*: events are handed to the pusher through
//! [`SimState::send_lifecycle`], which delivers them. Whether a subscription's notifications
//! may flow is [`is_authorized`], which the pusher asks. Depends on the simulator's state,
//! registry and scenario; never on routes or the pusher's internals.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::registry::SubscriptionRecord;
use super::scenario::Scenario;
use super::state::{ActiveScenario, SimState, to_chrono};
use crate::clock::Clock as _;
use crate::graph::model::LifecycleEvent;

/// Longest real time between two sweeps.
pub const TICK: std::time::Duration = std::time::Duration::from_millis(500);

/// How long before Graph's endpoint token lapses it asks for reauthorization.
pub const LAPSE_WARNING: Duration = Duration::minutes(15);

/// Most challenges one sweep sends one subscription (after a long clock jump).
pub const MAX_CHALLENGES_PER_SWEEP: usize = 8;

/// Above this much remaining lifetime a challenge comes after a quarter of it.
const QUARTER_CADENCE_ABOVE_MINUTES: i64 = 180;

/// In the last hour challenges come every [`LAST_HOUR_INTERVAL_MINUTES`].
const LAST_HOUR_MINUTES: i64 = 60;

/// Interval between challenges in the last hour.
const LAST_HOUR_INTERVAL_MINUTES: i64 = 15;

/// When the next `reauthorizationRequired` is due for a subscription expiring at `expiry`,
/// counting from `anchor` (its creation, last renewal, last reauthorization or last challenge,
/// whichever is latest). `None` when no challenge falls before expiry.
///
/// The documentation's illustrative cadence (graph-facts §3.6), read on the remaining
/// lifetime: a quarter of the remaining time while more than 180 minutes remain, then half of
/// it, then every 15 minutes in the last hour. Microsoft warns the cadence may change.
pub fn next_reauthorization(anchor: DateTime<Utc>, expiry: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let remaining = expiry - anchor;
    if remaining <= Duration::zero() {
        return None;
    }
    let interval = if remaining > Duration::minutes(QUARTER_CADENCE_ABOVE_MINUTES) {
        remaining / 4
    } else if remaining > Duration::minutes(LAST_HOUR_MINUTES) {
        remaining / 2
    } else {
        Duration::minutes(LAST_HOUR_INTERVAL_MINUTES)
    };
    let due = anchor + interval;
    (due < expiry).then_some(due)
}

/// The moment the reauthorization cadence counts from.
pub fn reauthorization_anchor(record: &SubscriptionRecord) -> DateTime<Utc> {
    [
        record.last_renewed,
        record.last_reauthorized,
        record.last_reauthorization_sent,
    ]
    .into_iter()
    .flatten()
    .fold(record.created, DateTime::max)
}

/// Why a challenge is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The expiry cadence.
    Cadence,
    /// Graph's endpoint token is about to lapse (or has).
    TokenLapsing,
    /// The admin consent for the export permission is gone.
    ConsentRevoked,
}

/// The next challenge due for `record`, and why: the earliest of the expiry cadence, the
/// token-lapse warning (once per authorization) and, when consent was revoked at
/// `consent_revoked_at`, an immediate one (once).
pub fn next_challenge(
    record: &SubscriptionRecord,
    consent_revoked_at: Option<DateTime<Utc>>,
) -> Option<(DateTime<Utc>, Trigger)> {
    let sent = record.last_reauthorization_sent;
    let not_sent_since = |at: DateTime<Utc>| sent.is_none_or(|sent| sent < at);
    let revoked = consent_revoked_at
        .map(|at| at.max(record.created))
        .filter(|at| not_sent_since(*at))
        .map(|at| (at, Trigger::ConsentRevoked));
    let warning = Some(record.authorized_until() - LAPSE_WARNING)
        .filter(|at| not_sent_since(*at) && *at < record.subscription.expiration_date_time)
        .map(|at| (at, Trigger::TokenLapsing));
    let cadence = next_reauthorization(
        reauthorization_anchor(record),
        record.subscription.expiration_date_time,
    )
    .map(|at| (at, Trigger::Cadence));
    [revoked, warning, cadence]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _)| *at)
}

/// Whether Graph may send `record` change notifications at `now`: its endpoint token has not
/// lapsed and the export permission still has admin consent (graph-facts §3.5, §3.6).
pub fn is_authorized(record: &SubscriptionRecord, scenario: &Scenario, now: DateTime<Utc>) -> bool {
    scenario.consents_interaction_export() && now < record.authorized_until()
}

/// Scenario activation in Graph's (skewed) time, as the records' times are.
fn activated(active: &ActiveScenario) -> DateTime<Utc> {
    active.since + Duration::seconds(active.scenario.time.skew_seconds)
}

/// Runs until shutdown: one [`sweep`], then sleep until the next thing is due (at most
/// [`TICK`] of real time, so clock jumps and scenario switches are seen promptly).
pub async fn run(state: Arc<SimState>) {
    loop {
        sweep(&state);
        let nap = match next_due(&state) {
            Some(due) => state.clock.real_duration(due - state.now()).min(TICK),
            None => TICK,
        };
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(nap) => {}
        }
    }
}

/// The earliest simulated time something is due: an expiry, a challenge, a removal, a `missed`.
pub fn next_due(state: &SimState) -> Option<DateTime<Utc>> {
    let now = state.now();
    let active = state.active();
    let lifecycle = &active.scenario.lifecycle;
    let since = activated(&active);
    let revoked = (!active.scenario.consents_interaction_export()).then_some(since);
    let registry = state.registry();
    registry
        .live(now)
        .flat_map(|record| {
            let start = record.created.max(since);
            let challenge = (lifecycle.reauthorization_required
                && record.subscription.lifecycle_notification_url.is_some())
            .then(|| next_challenge(record, revoked).map(|(at, _)| at))
            .flatten();
            [
                Some(record.subscription.expiration_date_time),
                challenge,
                lifecycle
                    .remove_subscriptions_after
                    .map(|after| start + to_chrono(after)),
                lifecycle
                    .missed_after
                    .map(|after| start + to_chrono(after))
                    .filter(|at| *at > now),
            ]
        })
        .flatten()
        .min()
}

/// One pass at the current simulated time: purge, `missed`, remove, challenge. Returns the
/// events it handed to the pusher.
pub fn sweep(state: &SimState) -> Vec<(String, LifecycleEvent)> {
    let now = state.now();
    let active = state.active();
    let lifecycle = &active.scenario.lifecycle;
    let since = activated(&active);
    let mut events: Vec<(SubscriptionRecord, LifecycleEvent)> = Vec::new();
    {
        let mut registry = state.registry();
        for expired in registry.purge_expired(now) {
            tracing::info!(
                target: "pilotwatch::sim::lifecycle",
                subscription = %expired.subscription.id,
                "subscription expired and was deleted"
            );
        }
        // `missed` first: a subscription due both (after a clock jump) still gets it.
        if let Some(after) = lifecycle.missed_after {
            let after = to_chrono(after);
            let mut sent = state
                .missed_sent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for record in registry.live(now) {
                let key = (record.subscription.id.clone(), since);
                if record.created.max(since) + after <= now && !sent.contains(&key) {
                    sent.insert(key);
                    events.push((record.clone(), LifecycleEvent::Missed));
                }
            }
        }
        if let Some(after) = lifecycle.remove_subscriptions_after {
            let after = to_chrono(after);
            let due: Vec<String> = registry
                .live(now)
                .filter(|record| record.created.max(since) + after <= now)
                .map(|record| record.subscription.id.clone())
                .collect();
            for id in due {
                let Some(record) = registry.remove(&id) else {
                    continue;
                };
                tracing::info!(
                    target: "pilotwatch::sim::lifecycle",
                    subscription = %id,
                    "scenario removed the subscription"
                );
                events.push((record, LifecycleEvent::SubscriptionRemoved));
            }
        }
        if lifecycle.reauthorization_required {
            let revoked = (!active.scenario.consents_interaction_export()).then_some(since);
            let ids: Vec<String> = registry
                .live(now)
                .filter(|record| record.subscription.lifecycle_notification_url.is_some())
                .map(|record| record.subscription.id.clone())
                .collect();
            for id in ids {
                let Some(record) = registry.get_mut(&id, now) else {
                    continue;
                };
                for _ in 0..MAX_CHALLENGES_PER_SWEEP {
                    let Some((due, trigger)) = next_challenge(record, revoked) else {
                        break;
                    };
                    if due > now {
                        break;
                    }
                    tracing::info!(
                        target: "pilotwatch::sim::lifecycle",
                        subscription = %id,
                        ?trigger,
                        %due,
                        "reauthorizationRequired"
                    );
                    record.last_reauthorization_sent = Some(due);
                    events.push((record.clone(), LifecycleEvent::ReauthorizationRequired));
                }
            }
        }
    }
    events
        .into_iter()
        .map(|(record, event)| {
            state.send_lifecycle(&record, event);
            (record.subscription.id, event)
        })
        .collect()
}

#[cfg(test)]
mod tests;
