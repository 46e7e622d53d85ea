//! The 10-minute rule between a reauthorize and a PATCH (graph-facts §3.2): Graph warns that
//! sending `POST /subscriptions/{id}/reauthorize` and a `PATCH` for one subscription within 10
//! minutes of each other leaves it in an inconsistent state. The keeper's own plan never calls
//! `/reauthorize` (a PATCH does both), so only an operator's reauthorize order can bring the
//! two close; these decisions keep them apart in both directions: an order is refused when the
//! other call was too recent, and after an operator's reauthorize the planned renewal waits.
//!
//! Pure: no I/O and no clock; `now` is an argument. Depends on the store's subscription record
//! only.

use chrono::{DateTime, Duration, Utc};

use crate::store::records::SubscriptionRecord;

/// The least time between a reauthorize and a PATCH of one subscription, either way round.
pub const REAUTHORIZE_PATCH_SPACING: Duration = Duration::minutes(10);

/// Slack added to the spacing when the keeper plans a renewal after a reauthorize, so clock
/// jitter cannot put the PATCH just inside the window.
const SPACING_SLACK: Duration = Duration::seconds(30);

/// Room a reauthorize must leave before the expiry: the spacing, then time for the renewal
/// itself (and its retries) before the subscription lapses.
const RENEWAL_ROOM: Duration = Duration::minutes(15);

/// When a PATCH of `record` is allowed again, if an explicit reauthorize forbids it at `now`.
pub fn patch_blocked_until(
    record: &SubscriptionRecord,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    record
        .last_reauthorized_at
        .map(|at| at + REAUTHORIZE_PATCH_SPACING)
        .filter(|until| *until > now)
}

/// When a reauthorize of `record` is allowed again, if a PATCH forbids it at `now`.
pub fn reauthorize_blocked_until(
    record: &SubscriptionRecord,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    record
        .last_renewed_at
        .map(|at| at + REAUTHORIZE_PATCH_SPACING)
        .filter(|until| *until > now)
}

/// True when a reauthorize at `now` leaves no time to renew `record` before it expires: no
/// PATCH may follow for 10 minutes.
pub fn too_close_to_expiry(record: &SubscriptionRecord, now: DateTime<Utc>) -> bool {
    record.expires_at - now < REAUTHORIZE_PATCH_SPACING + RENEWAL_ROOM
}

/// The planned renewal `due`, moved past the spacing after an explicit reauthorize.
pub fn renewal_after_reauthorize(record: &SubscriptionRecord, due: DateTime<Utc>) -> DateTime<Utc> {
    match record.last_reauthorized_at {
        Some(at) => due.max(at + REAUTHORIZE_PATCH_SPACING + SPACING_SLACK),
        None => due,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::records::{ClientState, SubscriptionState};

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn record() -> SubscriptionRecord {
        SubscriptionRecord {
            id: "s-1".into(),
            profile: "p".into(),
            resource: "/copilot/interactionHistory/getAllEnterpriseInteractions".into(),
            expires_at: at("2026-11-25T08:00:00Z"),
            created_at: at("2026-11-22T08:00:00Z"),
            client_state: ClientState::new("x"),
            notification_url: "https://n.test/notify".into(),
            lifecycle_url: Some("https://n.test/lifecycle".into()),
            certificate_id: Some("cert-1".into()),
            state: SubscriptionState::Active,
            last_renewed_at: None,
            last_reauthorized_at: None,
        }
    }

    #[test]
    fn a_reauthorize_and_a_patch_stay_ten_minutes_apart() {
        let now = at("2026-11-22T12:00:00Z");
        let mut subscription = record();
        assert_eq!(patch_blocked_until(&subscription, now), None);
        assert_eq!(reauthorize_blocked_until(&subscription, now), None);

        subscription.last_renewed_at = Some(at("2026-11-22T11:55:00Z"));
        assert_eq!(
            reauthorize_blocked_until(&subscription, now),
            Some(at("2026-11-22T12:05:00Z"))
        );
        assert_eq!(
            patch_blocked_until(&subscription, now),
            None,
            "PATCH after PATCH is fine"
        );

        subscription.last_reauthorized_at = Some(at("2026-11-22T11:51:00Z"));
        assert_eq!(
            patch_blocked_until(&subscription, now),
            Some(at("2026-11-22T12:01:00Z"))
        );
        assert_eq!(
            patch_blocked_until(&subscription, at("2026-11-22T12:01:00Z")),
            None
        );
    }

    #[test]
    fn the_planned_renewal_waits_for_the_spacing() {
        let mut subscription = record();
        let due = at("2026-11-22T12:03:00Z");
        assert_eq!(renewal_after_reauthorize(&subscription, due), due);
        subscription.last_reauthorized_at = Some(at("2026-11-22T12:00:00Z"));
        assert_eq!(
            renewal_after_reauthorize(&subscription, due),
            at("2026-11-22T12:10:30Z")
        );
        let later = at("2026-11-23T12:00:00Z");
        assert_eq!(renewal_after_reauthorize(&subscription, later), later);
    }

    #[test]
    fn a_reauthorize_needs_room_for_the_renewal_after_it() {
        let subscription = record();
        assert!(!too_close_to_expiry(
            &subscription,
            at("2026-11-25T07:00:00Z")
        ));
        assert!(too_close_to_expiry(
            &subscription,
            at("2026-11-25T07:40:00Z")
        ));
    }
}
