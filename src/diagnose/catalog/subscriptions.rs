//! Subscription findings, read off the registry, the keeper's latest attempt of each action and
//! the lifecycle notifications: no subscription, creation failing at the validation handshake
//! or on the quota, expiring without renewal, expired, removed by Graph, renewals or
//! reauthorizations failing, and a subscription without a lifecycle URL (which Graph does not
//! let anyone add later).
//!
//! Every Graph rule quoted here is from graph-facts §2, §3.2, §3.3, §3.5 and §3.6. The
//! create-failure findings live in `creation`, the removed and lifecycle-URL ones in `lifecycle`.
//!
//! Depends on the facts and finding types, the thresholds and `clock::stamp`; pure.

use chrono::{DateTime, Duration, Utc};

use super::text::{ago, count, span};
use crate::clock::stamp;
use crate::diagnose::facts::{ActionFact, FailureKind, SubscriptionFact, SubscriptionFacts};
use crate::diagnose::thresholds::{
    GRAPH_RETRY_HOURS, KEEPER_FAILURES_CRITICAL, LIFECYCLE_URL_REQUIRED_BEYOND_MINUTES,
    SUBSCRIPTION_EXPIRY_CRITICAL_HOURS, SUBSCRIPTION_EXPIRY_WARNING_HOURS,
};
use crate::diagnose::{Finding, FindingCode};
use crate::severity::Severity;
use crate::store::records::{KeeperAction, Outcome};

/// The lifecycle event Graph sends when it has removed a subscription.
const SUBSCRIPTION_REMOVED: &str = "subscriptionRemoved";

/// The subscription findings as of `now`; `keeper_started` is when the running collector (and
/// so its keeper) started, `None` when no collector runs.
pub(super) fn findings(
    facts: &SubscriptionFacts,
    keeper_started: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Finding> {
    let create = latest(facts, KeeperAction::Create);
    let create_failure = create.and_then(|action| failed_as(action));
    let live: Vec<&SubscriptionFact> = facts
        .active
        .iter()
        .filter(|subscription| subscription.expires_at > now)
        .collect();
    let mut all = Vec::new();
    if facts.active.is_empty() {
        all.push(
            creation::establishing(create, keeper_started, now)
                .unwrap_or_else(|| missing(facts, create, now)),
        );
    } else if live.is_empty() {
        all.push(expired(facts, now));
    }
    match create_failure {
        Some((action, FailureKind::Handshake)) => {
            all.push(creation::handshake_failing(facts, action, now));
        }
        Some((action, FailureKind::Quota)) => all.push(creation::quota(facts, action, now)),
        _ => {}
    }
    all.extend(
        live.iter()
            .filter_map(|subscription| expiring(subscription, facts, now)),
    );
    all.extend(removed(facts, now));
    all.extend(keeper_failing(facts, now));
    all.extend(
        live.iter()
            .filter(|subscription| subscription.lifecycle_url.is_none())
            .map(|subscription| lifecycle_url_missing(subscription, facts)),
    );
    all
}

/// The keeper's latest attempt of `action`.
fn latest(facts: &SubscriptionFacts, action: KeeperAction) -> Option<&ActionFact> {
    facts.actions.iter().find(|fact| fact.action == action)
}

/// The attempt and its failure kind, when it failed.
fn failed_as(action: &ActionFact) -> Option<(&ActionFact, FailureKind)> {
    if action.outcome != Outcome::Failed {
        return None;
    }
    Some((
        action,
        action
            .failure
            .as_ref()
            .map_or(FailureKind::Other, |f| f.kind),
    ))
}

/// "failed 3 times in a row since …; last at …" and Graph's answer, one line each.
fn attempt_lines(call: &str, action: &ActionFact, now: DateTime<Utc>) -> Vec<String> {
    let mut lines = vec![match action.failing_since {
        Some(since) if action.failures_in_a_row > 1 => format!(
            "{call} failed {} in a row since {} ({}); last at {}",
            count(u64::from(action.failures_in_a_row), "time"),
            stamp(since),
            ago(now, since),
            stamp(action.at)
        ),
        _ => format!(
            "{call} failed at {} ({})",
            stamp(action.at),
            ago(now, action.at)
        ),
    }];
    if let Some(failure) = &action.failure {
        let status = failure
            .status
            .map_or_else(|| "no HTTP answer".to_owned(), |s| format!("HTTP {s}"));
        let code = failure
            .code
            .as_deref()
            .map_or_else(String::new, |c| format!(" {c}"));
        lines.push(format!(
            "Graph answered: {status}{code}: {}",
            failure.detail
        ));
    } else if !action.message.is_empty() {
        lines.push(format!("keeper: {}", action.message));
    }
    lines
}

fn missing(facts: &SubscriptionFacts, create: Option<&ActionFact>, now: DateTime<Utc>) -> Finding {
    let failure = create.and_then(failed_as);
    let (title, cause) = match failure.map(|(_, kind)| kind) {
        Some(FailureKind::Handshake) => (
            "no active subscription: creating one fails at Graph's validation handshake",
            "Graph creates a subscription only after our notification URL answers its \
             validation request; that request fails, so no subscription exists and no \
             notification is sent (see handshake-failing).",
        ),
        Some(FailureKind::Quota) => (
            "no active subscription: the app's one tenant-wide subscription is held elsewhere",
            "Graph allows one tenant-wide Copilot subscription per app and tenant; another \
             process of the same app holds it, so ours cannot be created (see \
             subscription-quota).",
        ),
        Some(_) => (
            "no active subscription: creating one fails",
            "Without a subscription Graph sends no notifications; the keeper's attempts to \
             create one fail (Graph's answer is above).",
        ),
        None => (
            "no active subscription",
            "Without a subscription Graph sends no notifications, so nothing reaches the \
             dashboard.",
        ),
    };
    let mut evidence = vec![format!("no subscription for {}", facts.resource)];
    match (create, failure) {
        (_, Some((action, _))) => {
            evidence.extend(attempt_lines("POST /subscriptions", action, now))
        }
        (Some(action), None) => evidence.push(format!(
            "latest POST /subscriptions: {} at {}",
            outcome_word(action.outcome),
            stamp(action.at)
        )),
        (None, None) => evidence.push("the keeper has not tried to create one".to_owned()),
    }
    Finding {
        code: FindingCode::SubscriptionMissing,
        severity: Severity::Critical,
        title: title.to_owned(),
        evidence,
        since: failure.and_then(|(action, _)| action.failing_since.or(Some(action.at))),
        cause: cause.to_owned(),
        fix: vec![
            "Make sure a collector runs for this profile: its keeper creates the subscription \
             and keeps it alive."
                .to_owned(),
            "List what Graph holds for this app: GET /subscriptions.".to_owned(),
            "Fix the failure the keeper reports (the other subscription findings name it); \
             the keeper retries creation on its own."
                .to_owned(),
        ],
    }
}

fn outcome_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Succeeded => "succeeded",
        Outcome::Failed => "failed",
        Outcome::Skipped => "skipped",
    }
}

fn expired(facts: &SubscriptionFacts, now: DateTime<Utc>) -> Finding {
    let newest = facts.active.iter().map(|s| s.expires_at).max();
    let evidence = facts
        .active
        .iter()
        .map(|s| {
            format!(
                "subscription {} expired at {} ({}); last renewed {}",
                s.id,
                stamp(s.expires_at),
                ago(now, s.expires_at),
                s.last_renewed_at.map_or_else(|| "never".to_owned(), stamp)
            )
        })
        .collect();
    Finding {
        code: FindingCode::SubscriptionExpired,
        severity: Severity::Critical,
        title: "the subscription has expired: Graph sends no notifications".to_owned(),
        evidence,
        since: newest,
        cause: "A subscription that is not renewed before its expirationDateTime is deleted by \
                Graph and delivers nothing more; renewing it is no longer possible (PATCH \
                answers 404)."
            .to_owned(),
        fix: vec![
            "Check why renewals stopped: is a collector running for this profile, and do the \
             credential findings show a token problem?"
                .to_owned(),
            "A running keeper creates a new subscription (POST /subscriptions) on its own; the \
             poller backfills the gap from the export API."
                .to_owned(),
        ],
    }
}

fn expiring(
    subscription: &SubscriptionFact,
    facts: &SubscriptionFacts,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let left = subscription.expires_at - now;
    let severity = if left <= Duration::hours(SUBSCRIPTION_EXPIRY_CRITICAL_HOURS) {
        Severity::Critical
    } else if left <= Duration::hours(SUBSCRIPTION_EXPIRY_WARNING_HOURS) {
        Severity::Warning
    } else {
        return None;
    };
    let mut evidence = vec![
        format!(
            "subscription {} expires at {} (in {})",
            subscription.id,
            stamp(subscription.expires_at),
            span(left)
        ),
        format!(
            "last successful renewal: {}",
            subscription
                .last_renewed_at
                .map_or_else(|| "none since creation".to_owned(), stamp)
        ),
    ];
    if let Some((renew, _)) = latest(facts, KeeperAction::Renew).and_then(failed_as) {
        evidence.extend(attempt_lines("PATCH /subscriptions/{id}", renew, now));
    }
    Some(Finding {
        code: FindingCode::SubscriptionExpiring,
        severity,
        title: format!(
            "the subscription expires in {} without a renewal",
            span(left)
        ),
        evidence,
        since: subscription
            .last_renewed_at
            .or(Some(subscription.created_at)),
        cause: "The keeper renews well before expiry (a Copilot subscription lives at most 3 \
                days); one this close to its end means renewals are not happening or not \
                succeeding. When it expires Graph deletes it and notifications stop."
            .to_owned(),
        fix: vec![
            "Make sure a collector runs for this profile and look at its renewal failures \
             (reauthorization-failing, credential findings)."
                .to_owned(),
            format!(
                "To renew by hand: PATCH /subscriptions/{} with a new expirationDateTime (at \
                 most 3 days ahead).",
                subscription.id
            ),
        ],
    })
}

fn keeper_failing(facts: &SubscriptionFacts, now: DateTime<Utc>) -> Option<Finding> {
    let failing: Vec<(&ActionFact, FailureKind)> = [KeeperAction::Reauthorize, KeeperAction::Renew]
        .into_iter()
        .filter_map(|action| latest(facts, action).and_then(failed_as))
        .collect();
    let worst = failing.iter().map(|(a, _)| a.failures_in_a_row).max()?;
    let since = failing.iter().filter_map(|(a, _)| a.failing_since).min();
    let mut evidence = Vec::new();
    for (action, _) in &failing {
        let call = match action.action {
            KeeperAction::Reauthorize => "reauthorize (PATCH /subscriptions/{id})",
            _ => "renew (PATCH /subscriptions/{id})",
        };
        evidence.extend(attempt_lines(call, action, now));
    }
    if let Some(since) = since {
        let deadline = since + Duration::hours(GRAPH_RETRY_HOURS);
        if deadline > now {
            evidence.push(format!(
                "Graph retries held-back notifications for {GRAPH_RETRY_HOURS} h: succeeding \
                 before {} recovers them",
                stamp(deadline)
            ));
        }
    }
    let kinds: Vec<FailureKind> = failing.iter().map(|(_, kind)| *kind).collect();
    let cause = if kinds.contains(&FailureKind::NotFound) {
        "Graph answers 404: the subscription no longer exists (expired or removed). Renewing \
         cannot bring it back; a new one has to be created."
    } else if kinds.contains(&FailureKind::Forbidden) {
        "Graph answers 403: the app no longer holds the permission or licences the \
         subscription needs (an admin may have revoked consent)."
    } else if kinds.contains(&FailureKind::Unauthenticated) {
        "No token could be had for the request: the credential findings say why."
    } else if kinds
        .iter()
        .any(|k| matches!(k, FailureKind::Throttled | FailureKind::Unavailable))
    {
        "Graph throttles or fails the requests (see the Graph-side findings); the keeper keeps \
         retrying."
    } else {
        "Graph refuses to renew or reauthorize the subscription (its answer is above)."
    };
    Some(Finding {
        code: FindingCode::ReauthorizationFailing,
        severity: if worst >= KEEPER_FAILURES_CRITICAL {
            Severity::Critical
        } else {
            Severity::Warning
        },
        title: format!(
            "renewing or reauthorizing the subscription fails ({} in a row)",
            count(u64::from(worst), "time")
        ),
        evidence,
        since,
        cause: format!(
            "{cause} Until it succeeds, Graph may stop delivering notifications once its \
             access token for the subscription expires, and the subscription expires."
        ),
        fix: vec![
            "Fix what Graph's answer names (for 401/403, the credential findings: consent, \
             roles, licences)."
                .to_owned(),
            "Check the subscription still exists: GET /subscriptions/{id}; if it answers 404, \
             the keeper must create a new one (POST /subscriptions)."
                .to_owned(),
            "Renew and reauthorize in one call: PATCH /subscriptions/{id} with a new \
             expirationDateTime; do not also POST /subscriptions/{id}/reauthorize within 10 \
             minutes of it."
                .to_owned(),
        ],
    })
}

mod creation;
mod lifecycle;

use lifecycle::{lifecycle_url_missing, removed};
#[cfg(test)]
mod tests;
