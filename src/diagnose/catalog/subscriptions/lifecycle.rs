//! The subscription findings about its lifecycle: Graph removed it (`subscriptionRemoved`),
//! and it has no lifecycle notification URL (which cannot be added later). Part of the
//! subscription catalog; pure, like all of it.
//!
//! A removal the keeper has made good is only worth knowing; removals that keep coming are a
//! warning, since each one stops delivery until the keeper recreates the subscription and the
//! poller resyncs the gap, and something (revoked consent, a disabled app, another process
//! deleting it) keeps causing them.

use super::*;

/// Removals in the lookback window from which they are recurring, not a one-off (chosen: one
/// removal can be a transient on Graph's side; a second within the hour is a pattern).
const REMOVALS_RECURRING: usize = 2;

pub(super) fn removed(facts: &SubscriptionFacts, now: DateTime<Utc>) -> Option<Finding> {
    // Newest first: the latest removal is the one that matters.
    let event = facts
        .lifecycle
        .iter()
        .find(|event| event.event == SUBSCRIPTION_REMOVED)?;
    // Any other live subscription replaces the removed one (the registry may still list it).
    let recreated = facts
        .active
        .iter()
        .find(|s| s.id != event.subscription_id && s.expires_at > now);
    let mut evidence = vec![format!(
        "Graph sent subscriptionRemoved for {} at {} ({})",
        event.subscription_id,
        stamp(event.at),
        ago(now, event.at)
    )];
    let removals = facts
        .lifecycle
        .iter()
        .filter(|event| event.event == SUBSCRIPTION_REMOVED)
        .count();
    let (severity, title, fix) = match recreated {
        Some(new) if removals >= REMOVALS_RECURRING => {
            evidence.push(format!(
                "{removals} subscriptionRemoved notifications in the lookback window; the \
                 keeper recreated each, latest subscription {} since {}",
                new.id,
                stamp(new.created_at)
            ));
            (
                Severity::Warning,
                format!("Graph keeps removing the subscription ({removals} times lately)"),
                vec![
                    "Look at the credential findings for the reason: revoked admin consent, a \
                     disabled app or service principal, a deleted secret or certificate."
                        .to_owned(),
                    "Make sure no other process deletes subscriptions of this app: GET \
                     /subscriptions and compare the ids with the keeper's."
                        .to_owned(),
                    "Meanwhile the keeper recreates it and the poller backfills each gap from \
                     the export API."
                        .to_owned(),
                ],
            )
        }
        Some(new) => {
            evidence.push(format!(
                "the keeper recreated it: subscription {} since {}",
                new.id,
                stamp(new.created_at)
            ));
            (
                Severity::Info,
                "Graph removed the subscription; the keeper recreated it".to_owned(),
                vec![
                    "Nothing to do: the poller backfills the gap from the export API. If it \
                     happens again, check the credential findings (revoked consent, disabled \
                     app) for the reason."
                        .to_owned(),
                ],
            )
        }
        None => {
            evidence.push("no subscription has been created since".to_owned());
            if let Some((create, _)) = latest(facts, KeeperAction::Create).and_then(failed_as) {
                evidence.extend(attempt_lines("POST /subscriptions", create, now));
            }
            (
                Severity::Critical,
                "Graph removed the subscription and it has not been recreated".to_owned(),
                vec![
                    "Make sure a collector runs for this profile; its keeper recreates the \
                     subscription (POST /subscriptions) and the poller backfills the gap."
                        .to_owned(),
                    "If recreation fails, the other subscription findings say why.".to_owned(),
                ],
            )
        }
    };
    Some(Finding {
        code: FindingCode::SubscriptionRemoved,
        severity,
        title,
        evidence,
        since: Some(event.at),
        cause: "Graph removed the subscription and said so with a subscriptionRemoved lifecycle \
                notification; Microsoft's guidance is to recreate it and resync what was missed."
            .to_owned(),
        fix,
    })
}

pub(super) fn lifecycle_url_missing(
    subscription: &SubscriptionFact,
    facts: &SubscriptionFacts,
) -> Finding {
    let mut evidence = vec![format!(
        "subscription {} (created {}) has no lifecycleNotificationUrl",
        subscription.id,
        stamp(subscription.created_at)
    )];
    let mut fix = Vec::new();
    if facts.lifecycle_url_configured {
        evidence.push("the profile now configures one: the subscription predates it".to_owned());
    } else {
        evidence.push("the profile configures no lifecycle_notification_url".to_owned());
        fix.push(
            "Set `lifecycle_notification_url` in the profile to a public HTTPS URL of the \
             receiver (it may be the notification URL)."
                .to_owned(),
        );
    }
    fix.extend([
        format!(
            "Delete the subscription: DELETE /subscriptions/{}; a lifecycle URL cannot be added \
             with PATCH.",
            subscription.id
        ),
        "Let the keeper create a new one with the lifecycle URL; the poller backfills the gap."
            .to_owned(),
    ]);
    Finding {
        code: FindingCode::LifecycleUrlMissing,
        severity: Severity::Warning,
        title: "the subscription has no lifecycle notification URL".to_owned(),
        evidence,
        since: Some(subscription.created_at),
        cause: format!(
            "Without a lifecycleNotificationUrl Graph cannot send reauthorizationRequired, so \
             a revoked or expiring authorization goes unnoticed, and Graph does not accept an \
             expiry more than {LIFECYCLE_URL_REQUIRED_BEYOND_MINUTES} minutes ahead for \
             Copilot, so the subscription needs constant renewal. The URL can only be set when \
             the subscription is created."
        ),
        fix,
    }
}
