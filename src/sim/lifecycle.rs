//! The subscription lifecycle in simulated time (graph-facts §3.2, §3.6): expired subscriptions
//! vanish; `reauthorizationRequired` challenges go out at the documented illustrative cadence;
//! scenarios can make Graph remove subscriptions (`subscriptionRemoved`, then `missed`).
//!
//! This loop only decides *what* happens and *when*: events are handed to the pusher through
//! [`SimState::send_lifecycle`], which delivers them. Depends on the simulator's state and
//! registry; never on routes or the pusher's internals.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::registry::SubscriptionRecord;
use super::state::{SimState, to_chrono};
use crate::graph::model::LifecycleEvent;

/// Real time between two passes (the brief: at least once a real second).
const TICK: std::time::Duration = std::time::Duration::from_millis(500);

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

/// Runs until shutdown, one [`sweep`] per tick.
pub async fn run(state: Arc<SimState>) {
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(TICK) => {}
        }
        sweep(&state);
    }
}

/// One pass at the current simulated time: purge, remove, challenge. Returns the events it
/// handed to the pusher.
pub fn sweep(state: &SimState) -> Vec<(String, LifecycleEvent)> {
    let now = state.now();
    let active = state.active();
    let lifecycle = &active.scenario.lifecycle;
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
        if let Some(after) = lifecycle.remove_subscriptions_after {
            // Scenario activation in Graph's (skewed) time, as the records' creation times are.
            let activated = active.since + Duration::seconds(active.scenario.time.skew_seconds);
            let after = to_chrono(after);
            let due: Vec<String> = registry
                .live(now)
                .filter(|record| record.created.max(activated) + after <= now)
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
                if record.subscription.lifecycle_notification_url.is_some() {
                    events.push((record.clone(), LifecycleEvent::SubscriptionRemoved));
                    events.push((record, LifecycleEvent::Missed));
                }
            }
        }
        if lifecycle.reauthorization_required {
            let due: Vec<String> = registry
                .live(now)
                .filter(|record| record.subscription.lifecycle_notification_url.is_some())
                .filter(|record| {
                    next_reauthorization(
                        reauthorization_anchor(record),
                        record.subscription.expiration_date_time,
                    )
                    .is_some_and(|due| due <= now)
                })
                .map(|record| record.subscription.id.clone())
                .collect();
            for id in due {
                if let Some(record) = registry.get_mut(&id, now) {
                    record.last_reauthorization_sent = Some(now);
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
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn start() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z")
            .unwrap()
            .to_utc()
    }

    /// Every challenge of an unanswered subscription from `anchor` to `expiry`.
    fn schedule(anchor: DateTime<Utc>, expiry: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let mut at = anchor;
        let mut all = Vec::new();
        while let Some(due) = next_reauthorization(at, expiry) {
            assert!(due > at, "the cadence always moves forward");
            all.push(due);
            at = due;
        }
        all
    }

    #[test]
    fn three_day_subscription_first_challenge_after_a_quarter() {
        let anchor = start();
        let expiry = anchor + Duration::minutes(4_320);
        assert_eq!(
            next_reauthorization(anchor, expiry),
            Some(anchor + Duration::minutes(1_080))
        );
    }

    #[test]
    fn quarters_then_halves_then_every_fifteen_minutes() {
        let anchor = start();
        let expiry = anchor + Duration::minutes(4_320);
        let all = schedule(anchor, expiry);
        let mut previous = anchor;
        for due in &all {
            let remaining_before = expiry - previous;
            let interval = *due - previous;
            if remaining_before > Duration::minutes(180) {
                assert_eq!(interval, remaining_before / 4);
            } else if remaining_before > Duration::minutes(60) {
                assert_eq!(interval, remaining_before / 2);
            } else {
                assert_eq!(interval, Duration::minutes(15));
            }
            assert!(*due < expiry);
            previous = *due;
        }
        let last_hour: Vec<_> = all
            .iter()
            .filter(|due| expiry - **due < Duration::minutes(60))
            .collect();
        assert!(last_hour.len() >= 2, "{all:?}");
        assert!(all.len() < 30, "the cadence is sparse: {}", all.len());
    }

    #[test]
    fn the_cadence_counts_from_the_latest_renewal_reauthorization_or_challenge() {
        use crate::graph::model::Subscription;
        let created = start();
        let mut record = SubscriptionRecord {
            subscription: Subscription {
                odata_context: None,
                id: "s".into(),
                resource: "r".into(),
                application_id: None,
                change_type: "created".into(),
                client_state: None,
                notification_url: "https://x.test/n".into(),
                notification_query_options: None,
                lifecycle_notification_url: Some("https://x.test/l".into()),
                expiration_date_time: created + Duration::days(3),
                creator_id: None,
                include_resource_data: None,
                latest_supported_tls_version: None,
                encryption_certificate: None,
                encryption_certificate_id: None,
                notification_url_app_id: None,
                notification_content_type: None,
            },
            tenant_id: "t".into(),
            app_id: "a".into(),
            certificate: None,
            app_class_filter: None,
            conversation_type_filter: None,
            user_id: None,
            created,
            last_renewed: None,
            last_reauthorized: None,
            last_reauthorization_sent: None,
            last_reauthorize_call: None,
            reauthorize_patch_pairs: 0,
        };
        assert_eq!(reauthorization_anchor(&record), created);
        record.last_reauthorization_sent = Some(created + Duration::hours(18));
        record.last_renewed = Some(created + Duration::hours(2));
        assert_eq!(
            reauthorization_anchor(&record),
            created + Duration::hours(18)
        );
        record.last_reauthorized = Some(created + Duration::hours(20));
        assert_eq!(
            reauthorization_anchor(&record),
            created + Duration::hours(20)
        );
    }

    #[test]
    fn short_and_expired_lifetimes() {
        let anchor = start();
        assert_eq!(
            next_reauthorization(anchor, anchor + Duration::minutes(45)),
            Some(anchor + Duration::minutes(15))
        );
        assert_eq!(
            next_reauthorization(anchor, anchor + Duration::minutes(10)),
            None
        );
        assert_eq!(next_reauthorization(anchor, anchor), None);
        assert_eq!(
            next_reauthorization(anchor, anchor - Duration::minutes(1)),
            None
        );
        assert_eq!(
            next_reauthorization(anchor, anchor + Duration::minutes(120)),
            Some(anchor + Duration::minutes(60))
        );
    }
}
