//! One profile's subscription rows: the registry's records joined with how their notifications
//! fared over the diagnosis window (received, share carrying validation tokens, decryption
//! failures, `clientState` mismatches, acknowledgement p95), their last lifecycle event, and
//! when the keeper renews them next.
//!
//! The next renewal follows the keeper's own rule (`keeper::plan`): a random fraction of the
//! current lifetime within `renew_between`. The fraction drawn is the keeper's secret, so the
//! row shows the start of that range: the keeper renews at or after it, and an operator seeing
//! it pass with no renewal knows something is wrong. Graph validates the notification URL
//! while creating a subscription (graph-facts §3.1), so a registered subscription's creation
//! is its last successful handshake.
//!
//! Depends on the store, the keeper's plan and the console's snapshot types.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use hdrhistogram::Histogram;

use super::percentiles;
use crate::collector::facts::{EVENT_LOOKBACK, WINDOW_MINUTES};
use crate::collector::keeper::KeeperOptions;
use crate::collector::keeper::plan::{lifetime_base, renewal_due};
use crate::console::SubscriptionRow;
use crate::store::records::{
    Check, DecryptVerdict, EventKind, NotificationRecord, SubscriptionRecord, SubscriptionState,
    TokenVerdict,
};
use crate::store::{Store, StoreError};

/// Most notification records read for the window's delivery.
const MAX_NOTIFICATIONS: usize = 500_000;

/// Most events read for the last lifecycle event of each subscription.
const MAX_EVENTS: usize = 100_000;

/// How one subscription's notifications fared.
#[derive(Debug, Default)]
struct Delivery {
    received: u64,
    with_tokens: u64,
    tokens_judged: u64,
    decrypt_failures: u64,
    client_state_mismatches: u64,
    ack: Option<Histogram<u64>>,
}

impl Delivery {
    fn record(&mut self, record: &NotificationRecord) {
        let items = u64::from(record.items.max(1));
        self.received += items;
        match record.validation_tokens {
            TokenVerdict::Valid | TokenVerdict::Invalid { .. } => {
                self.with_tokens += items;
                self.tokens_judged += items;
            }
            TokenVerdict::Absent | TokenVerdict::Null => self.tokens_judged += items,
            // Never looked at: says nothing about whether Graph sent them.
            TokenVerdict::Unchecked => {}
        }
        if matches!(record.decryption, DecryptVerdict::Failed { .. }) {
            self.decrypt_failures += items;
        }
        if record.client_state == Check::Mismatch {
            self.client_state_mismatches += items;
        }
        if self.ack.is_none() {
            self.ack = percentiles::millis();
        }
        if let Some(ack) = self.ack.as_mut() {
            percentiles::record(ack, record.ack_duration());
        }
    }
}

/// The rows of `profile`: active subscriptions first, then those that ended within a day (the
/// one Graph removed is what an operator looks for), each group newest first.
pub(super) fn rows(
    store: &Store,
    profile: &str,
    keeper: &KeeperOptions,
    now: DateTime<Utc>,
) -> Result<Vec<SubscriptionRow>, StoreError> {
    let mut records: Vec<SubscriptionRecord> = store
        .subscriptions()
        .all()?
        .into_iter()
        .filter(|record| record.profile == profile)
        .filter(|record| {
            record.state == SubscriptionState::Active || record.expires_at > now - EVENT_LOOKBACK
        })
        .collect();
    records.sort_by(|a, b| {
        (b.state == SubscriptionState::Active)
            .cmp(&(a.state == SubscriptionState::Active))
            .then_with(|| b.created_at.cmp(&a.created_at))
    });
    let mut delivery: HashMap<String, Delivery> = HashMap::new();
    let window_start = now - Duration::minutes(i64::from(WINDOW_MINUTES));
    store.notifications().visit_between(
        window_start,
        now + Duration::seconds(1),
        MAX_NOTIFICATIONS,
        |record| {
            if record.profile == profile {
                delivery
                    .entry(record.subscription_id.clone())
                    .or_default()
                    .record(record);
            }
        },
    )?;
    let mut lifecycle: HashMap<String, (DateTime<Utc>, String)> = HashMap::new();
    for event in store.events().since(now - EVENT_LOOKBACK, MAX_EVENTS)? {
        if let EventKind::Lifecycle {
            event: name,
            subscription_id,
        } = event.kind
            && event.profile == profile
        {
            // Oldest first: a later event replaces an earlier one.
            lifecycle.insert(subscription_id, (event.at, name));
        }
    }
    let fraction = earliest_fraction(keeper);
    Ok(records
        .into_iter()
        .map(|record| {
            let seen = delivery.remove(&record.id).unwrap_or_default();
            let last_lifecycle = lifecycle.remove(&record.id);
            row(record, seen, last_lifecycle, fraction)
        })
        .collect())
}

/// The low end of the keeper's renewal range, sanitised as the keeper sanitises it.
fn earliest_fraction(keeper: &KeeperOptions) -> f64 {
    let clean = |x: f64| {
        if x.is_finite() {
            x.clamp(0.1, 0.9)
        } else {
            0.5
        }
    };
    let (a, b) = keeper.renew_between;
    clean(a).min(clean(b))
}

fn row(
    record: SubscriptionRecord,
    seen: Delivery,
    last_lifecycle: Option<(DateTime<Utc>, String)>,
    renewal_fraction: f64,
) -> SubscriptionRow {
    let active = record.state == SubscriptionState::Active;
    let next_renewal_at =
        active.then(|| renewal_due(lifetime_base(&record), record.expires_at, renewal_fraction));
    let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    SubscriptionRow {
        rich: record.certificate_id.is_some(),
        last_handshake_at: Some(record.created_at),
        next_renewal_at,
        last_lifecycle,
        received: seen.received,
        tokens_present_share: share(seen.with_tokens, seen.tokens_judged),
        decrypt_failures: seen.decrypt_failures,
        client_state_mismatches: seen.client_state_mismatches,
        ack_p95_seconds: seen
            .ack
            .as_ref()
            .and_then(|ack| percentiles::point(record.created_at, ack))
            .map(|point| point.p95),
        // The key pair is the collector's; it does not expose the certificate's validity.
        certificate_expires_at: None,
        id: record.id,
        resource: record.resource,
        expires_at: record.expires_at,
        created_at: record.created_at,
        last_renewed_at: record.last_renewed_at,
        lifecycle_url: record.lifecycle_url,
        certificate_id: record.certificate_id,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_earliest_renewal_follows_the_keepers_range() {
        let keeper = KeeperOptions::default();
        assert_eq!(earliest_fraction(&keeper), keeper.renew_between.0);
        let odd = KeeperOptions {
            renew_between: (0.95, f64::NAN),
            ..KeeperOptions::default()
        };
        assert_eq!(earliest_fraction(&odd), 0.5);
    }
}
