//! The subscription side of a profile's facts, from the registry's active records and the event
//! log: the keeper's latest attempt of each action with its run of failures, and the lifecycle
//! notifications of the lookback window.
//!
//! Pure: records and events in, [`SubscriptionFacts`] out. Depends on the store's record types
//! and `diagnose::facts` only.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::diagnose::facts::{
    ActionFact, ActionFailure, FailureKind, LifecycleFact, SubscriptionFact, SubscriptionFacts,
};
use crate::store::records::{
    Event, EventKind, KeeperAction, KeeperFailure, KeeperFailureKind, Outcome, SubscriptionRecord,
};

/// What the profile asks for, from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionSetup {
    /// The resource its subscriptions are for.
    pub resource: String,
    /// Its notification URL.
    pub notification_url: Option<String>,
    /// Whether it has a lifecycle notification URL.
    pub lifecycle_url_configured: bool,
}

/// The subscription facts of `profile` as of `now`: `active` are its registry's active records,
/// `events` the event log (any profile, oldest first), and lifecycle notifications count when
/// they are less than `lookback` old.
pub fn subscription_facts(
    profile: &str,
    setup: &SubscriptionSetup,
    active: &[SubscriptionRecord],
    events: &[Event],
    now: DateTime<Utc>,
    lookback: Duration,
) -> SubscriptionFacts {
    let mine = || events.iter().filter(move |event| event.profile == profile);
    let mut lifecycle: Vec<LifecycleFact> = mine()
        .filter(|event| now - event.at <= lookback)
        .filter_map(|event| match &event.kind {
            EventKind::Lifecycle {
                event: name,
                subscription_id,
            } => Some(LifecycleFact {
                at: event.at,
                event: name.clone(),
                subscription_id: subscription_id.clone(),
            }),
            _ => None,
        })
        .collect();
    lifecycle.reverse();
    SubscriptionFacts {
        resource: setup.resource.clone(),
        notification_url: setup.notification_url.clone(),
        lifecycle_url_configured: setup.lifecycle_url_configured,
        active: active.iter().map(subscription_fact).collect(),
        actions: action_facts(mine()),
        lifecycle,
    }
}

/// The latest attempt of each keeper action in `events` (oldest first), with how many failed in
/// a row up to it. An adoption is how a create that met a 409 ends, so it counts as the create
/// attempt: a create "held by another deployment" is then the quota finding it is.
pub fn action_facts<'a>(events: impl IntoIterator<Item = &'a Event>) -> Vec<ActionFact> {
    let mut latest: BTreeMap<ActionKey, ActionFact> = BTreeMap::new();
    for event in events {
        let EventKind::Keeper {
            action,
            outcome,
            failure,
        } = &event.kind
        else {
            continue;
        };
        let action = match action {
            KeeperAction::Adopt => KeeperAction::Create,
            other => *other,
        };
        let previous = latest.get(&ActionKey(action));
        let (failures_in_a_row, failing_since) = match outcome {
            Outcome::Failed => (
                previous
                    .map_or(0, |p| p.failures_in_a_row)
                    .saturating_add(1),
                previous.and_then(|p| p.failing_since).or(Some(event.at)),
            ),
            Outcome::Succeeded => (0, None),
            // Not attempted: the run of failures neither grows nor ends.
            Outcome::Skipped => {
                previous.map_or((0, None), |p| (p.failures_in_a_row, p.failing_since))
            }
        };
        latest.insert(
            ActionKey(action),
            ActionFact {
                action,
                at: event.at,
                outcome: *outcome,
                failure: failure.as_ref().map(action_failure),
                failures_in_a_row,
                failing_since,
                message: event.message.clone(),
            },
        );
    }
    latest.into_values().collect()
}

/// `KeeperAction` is not `Ord`; its serialised order is stable enough to key a map by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ActionKey(KeeperAction);

impl PartialOrd for ActionKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ActionKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        rank(self.0).cmp(&rank(other.0))
    }
}

fn rank(action: KeeperAction) -> u8 {
    match action {
        KeeperAction::Create => 0,
        KeeperAction::Adopt => 1,
        KeeperAction::Renew => 2,
        KeeperAction::Reauthorize => 3,
        KeeperAction::Verify => 4,
        KeeperAction::Delete => 5,
        KeeperAction::RequestBackfill => 6,
        KeeperAction::RotateCertificate => 7,
        KeeperAction::ReadUsers => 8,
    }
}

/// The stored failure as diagnosis reads it.
pub fn action_failure(failure: &KeeperFailure) -> ActionFailure {
    ActionFailure {
        kind: match failure.kind {
            KeeperFailureKind::Handshake => FailureKind::Handshake,
            KeeperFailureKind::Quota => FailureKind::Quota,
            KeeperFailureKind::Forbidden => FailureKind::Forbidden,
            KeeperFailureKind::NotFound => FailureKind::NotFound,
            KeeperFailureKind::Throttled => FailureKind::Throttled,
            KeeperFailureKind::Unavailable => FailureKind::Unavailable,
            KeeperFailureKind::Unauthenticated => FailureKind::Unauthenticated,
            KeeperFailureKind::Other => FailureKind::Other,
        },
        status: failure.status,
        code: failure.code.clone(),
        detail: failure.detail.clone(),
    }
}

fn subscription_fact(record: &SubscriptionRecord) -> SubscriptionFact {
    SubscriptionFact {
        id: record.id.clone(),
        resource: record.resource.clone(),
        expires_at: record.expires_at,
        created_at: record.created_at,
        lifecycle_url: record.lifecycle_url.clone(),
        certificate_id: record.certificate_id.clone(),
        last_renewed_at: record.last_renewed_at,
        last_reauthorized_at: record.last_reauthorized_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::days(20_000) + Duration::minutes(minute)
    }

    fn keeper(
        minute: i64,
        profile: &str,
        action: KeeperAction,
        outcome: Outcome,
        failure: Option<KeeperFailureKind>,
    ) -> Event {
        Event {
            at: at(minute),
            profile: profile.into(),
            kind: EventKind::Keeper {
                action,
                outcome,
                failure: failure.map(|kind| KeeperFailure {
                    kind,
                    status: Some(400),
                    code: None,
                    detail: "validation request failed".into(),
                }),
            },
            message: format!("{action:?} {outcome:?}"),
        }
    }

    fn lifecycle(minute: i64, name: &str) -> Event {
        Event {
            at: at(minute),
            profile: "contoso".into(),
            kind: EventKind::Lifecycle {
                event: name.into(),
                subscription_id: "sub-1".into(),
            },
            message: String::new(),
        }
    }

    fn setup() -> SubscriptionSetup {
        SubscriptionSetup {
            resource: "/copilot/interactionHistory/getAllEnterpriseInteractions".into(),
            notification_url: Some("https://example.test/notify".into()),
            lifecycle_url_configured: true,
        }
    }

    #[test]
    fn failures_in_a_row_count_from_the_last_success_and_keep_the_first_failure_time() {
        let handshake = Some(KeeperFailureKind::Handshake);
        let events = [
            keeper(
                0,
                "contoso",
                KeeperAction::Create,
                Outcome::Failed,
                handshake,
            ),
            keeper(1, "contoso", KeeperAction::Create, Outcome::Succeeded, None),
            keeper(
                2,
                "contoso",
                KeeperAction::Create,
                Outcome::Failed,
                handshake,
            ),
            keeper(
                3,
                "fabrikam",
                KeeperAction::Create,
                Outcome::Succeeded,
                None,
            ),
            keeper(4, "contoso", KeeperAction::Renew, Outcome::Succeeded, None),
            keeper(
                5,
                "contoso",
                KeeperAction::Create,
                Outcome::Failed,
                handshake,
            ),
        ];
        let facts =
            subscription_facts("contoso", &setup(), &[], &events, at(6), Duration::hours(1));
        assert_eq!(facts.actions.len(), 2);
        let create = &facts.actions[0];
        assert_eq!(create.action, KeeperAction::Create);
        assert_eq!(create.outcome, Outcome::Failed);
        assert_eq!(create.failures_in_a_row, 2);
        assert_eq!(create.failing_since, Some(at(2)));
        assert_eq!(create.at, at(5));
        assert_eq!(
            create.failure.as_ref().map(|f| f.kind),
            Some(FailureKind::Handshake)
        );
        let renew = &facts.actions[1];
        assert_eq!((renew.failures_in_a_row, renew.failing_since), (0, None));
        assert_eq!(renew.failure, None);
    }

    #[test]
    fn an_adoption_held_elsewhere_is_the_create_attempt() {
        let events = [
            keeper(0, "contoso", KeeperAction::Create, Outcome::Succeeded, None),
            keeper(
                1,
                "contoso",
                KeeperAction::Adopt,
                Outcome::Failed,
                Some(KeeperFailureKind::Quota),
            ),
        ];
        let actions = action_facts(&events);
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].action, KeeperAction::Create);
        assert_eq!(
            actions[0].failure.as_ref().map(|f| f.kind),
            Some(FailureKind::Quota)
        );
    }

    #[test]
    fn skipped_attempts_neither_end_nor_grow_a_run_of_failures() {
        let events = [
            keeper(0, "contoso", KeeperAction::Renew, Outcome::Failed, None),
            keeper(1, "contoso", KeeperAction::Renew, Outcome::Skipped, None),
        ];
        let actions = action_facts(&events);
        assert_eq!(actions[0].outcome, Outcome::Skipped);
        assert_eq!(actions[0].failures_in_a_row, 1);
        assert_eq!(actions[0].failing_since, Some(at(0)));
    }

    #[test]
    fn lifecycle_notifications_of_the_window_newest_first() {
        let events = [
            lifecycle(0, "missed"),
            lifecycle(50, "reauthorizationRequired"),
            lifecycle(70, "subscriptionRemoved"),
        ];
        let facts = subscription_facts(
            "contoso",
            &setup(),
            &[],
            &events,
            at(80),
            Duration::hours(1),
        );
        let names: Vec<&str> = facts.lifecycle.iter().map(|l| l.event.as_str()).collect();
        assert_eq!(names, ["subscriptionRemoved", "reauthorizationRequired"]);
        assert!(facts.lifecycle_url_configured);
        assert_eq!(
            facts.notification_url.as_deref(),
            Some("https://example.test/notify")
        );
    }
}
