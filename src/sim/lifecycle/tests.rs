//! The simulator's `reauthorizationRequired` cadence: quarters, then halves, then every fifteen
//! minutes, counted from the latest renewal, reauthorization or challenge; short and expired
//! lifetimes.
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
