//! Activity against arrival: whether anyone used Copilot in the window, and whether Graph's
//! notifications told us about it. Two findings come from that one comparison — the push path
//! broken (silence while the export API shows new interactions) and nobody used Copilot at all
//! — so both judge activity the same way: an interaction the export API showed, one the store
//! holds from the window, or a notification Graph sent for one of our subscriptions (even one
//! rejected later for its tokens or its encryption: Graph sends them only for interactions).
//!
//! Silence counts only from when notifications could be expected: not before the collector
//! started, nor before the oldest live subscription was created. Right after a start the export
//! API's history is news to nobody, and Graph never notifies about interactions created before
//! a subscription existed (graph-facts §2). Whether what arrives is authentic is
//! `authenticity`'s business.
//!
//! Depends on the facts and finding types, the thresholds and `clock::stamp`; pure.

use chrono::{DateTime, Duration, Utc};

use super::super::text::{ago, count};
use crate::clock::stamp;
use crate::diagnose::facts::{DeliveryFacts, ExportFacts, FactSource, Facts};
use crate::diagnose::{Finding, FindingCode};
use crate::severity::Severity;
use crate::store::records::RejectReason;

/// Notification items that came from Graph for one of our subscriptions: everything received
/// but what failed the `clientState` check, named no subscription of ours, or did not parse
/// (those may be anyone's POSTs).
pub(super) fn items_from_graph(delivery: &DeliveryFacts) -> u64 {
    let foreign: u64 = [
        RejectReason::ClientStateMismatch,
        RejectReason::UnknownSubscription,
        RejectReason::MalformedNotification,
    ]
    .iter()
    .filter_map(|reason| delivery.rejected.get(reason))
    .sum();
    delivery.received.saturating_sub(foreign)
}

/// Since when notifications could be expected: the later of the collector's start and the
/// oldest live subscription's creation. `None` when none could be — no live subscription (the
/// subscription findings say so) — or when the subscriptions were not read and no collector
/// start is known.
pub(super) fn expected_since(facts: &Facts) -> Option<DateTime<Utc>> {
    let started = match facts.source {
        FactSource::Collector { since, .. } => Some(since),
        FactSource::Direct | FactSource::Unreachable { .. } => None,
    };
    let subscribed = match &facts.subscriptions {
        Some(subscriptions) => Some(subscriptions.active.iter().map(|s| s.created_at).min()?),
        None => None,
    };
    match (started, subscribed) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// No notification for the profile's silence line (`notification_silence_minutes`) of the time they could be expected, while the
/// export API shows interactions created in that silence.
pub(super) fn push_path_broken(
    facts: &Facts,
    delivery: &DeliveryFacts,
    export: &ExportFacts,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let expected = expected_since(facts)?;
    let last = delivery.last_received_at;
    let quiet_since = last.map_or(expected, |last| last.max(expected));
    let silence_minutes = facts.thresholds.notification_silence_minutes;
    if now - quiet_since < facts.thresholds.silence() {
        return None;
    }
    // The key fact: the export API holds interactions created in the silence.
    let newest = export.newest_created_at?;
    if newest <= quiet_since {
        return None;
    }
    let mut evidence = vec![match last {
        Some(last) if last >= expected => format!(
            "last notification received at {} ({}): silent for over {silence_minutes} minutes",
            stamp(last),
            ago(now, last)
        ),
        _ => format!(
            "no notification received since {} ({}), when the collector and a live \
             subscription were both up",
            stamp(expected),
            ago(now, expected)
        ),
    }];
    evidence.push(format!(
        "the export API shows {} in the window, the newest created at {}",
        count(export.seen_in_window, "interaction"),
        stamp(newest)
    ));
    if let Some(reconcile) = &export.last_reconcile
        && reconcile.missing > 0
    {
        evidence.push(format!(
            "reconciliation at {}: {} of {} interactions from {} to {} came by no notification",
            stamp(reconcile.at),
            reconcile.missing,
            reconcile.fetched,
            stamp(reconcile.from),
            stamp(reconcile.to)
        ));
    }
    Some(Finding {
        code: FindingCode::PushPathBroken,
        severity: Severity::Critical,
        title: format!(
            "no notifications for {silence_minutes}+ minutes while the export API shows new \
             interactions"
        ),
        evidence,
        since: Some(quiet_since),
        cause: "People are using Copilot — the export API has their interactions — but Graph's \
                notifications do not reach the receiver. Microsoft's average delivery latency \
                is under 10 seconds, so this is not normal lag: the path from Graph to the \
                receiver is broken."
            .to_owned(),
        fix: vec![
            "Check that the subscription exists and points at this receiver: GET \
             /subscriptions (compare notificationUrl with the profile's)."
                .to_owned(),
            "From outside your network, POST to the notification URL and confirm it reaches \
             the receiver (DNS, TLS certificate, firewall, reverse proxy)."
                .to_owned(),
            "If the endpoint was slow or down, Graph may be delaying or dropping notifications \
             for 10-minute periods (see endpoint-slow); it retries failed deliveries for up to \
             4 hours."
                .to_owned(),
            "Meanwhile the poller backfills from the export API, so nothing is lost.".to_owned(),
        ],
    })
}

/// Nobody used Copilot in the window: the export API showed nothing, the store holds nothing
/// created in it, and Graph sent no notification for one of our subscriptions.
pub(super) fn no_recent_activity(
    delivery: Option<&DeliveryFacts>,
    export: &ExportFacts,
    window: u32,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let window_start = now - Duration::minutes(i64::from(window));
    let notified = delivery.is_some_and(|d| items_from_graph(d) > 0);
    let created_in_window = export.newest_created_at.is_some_and(|at| at > window_start);
    if export.seen_in_window > 0 || created_in_window || notified {
        return None;
    }
    let newest = export.newest_created_at.map_or_else(
        || "the export API has shown no interaction at all".to_owned(),
        |at| {
            format!(
                "the newest interaction the export API has shown was created at {} ({})",
                stamp(at),
                ago(now, at)
            )
        },
    );
    let mut evidence = vec![format!(
        "the export API shows no interaction in the last {window} minutes"
    )];
    if delivery.is_some() {
        evidence.push(format!(
            "no notification for our subscriptions in the last {window} minutes"
        ));
    }
    evidence.push(newest);
    Some(Finding {
        code: FindingCode::NoRecentActivity,
        severity: Severity::Info,
        title: format!("nobody used Copilot in the last {window} minutes"),
        evidence,
        since: export.newest_created_at,
        cause: "The dashboard is empty because there is nothing to show: the export API, \
                which reads Copilot's interaction history directly, has no new interactions \
                either. Nothing in the pipeline is at fault."
            .to_owned(),
        fix: vec![
            "Nothing to fix. To prove the path end to end, ask a licensed user to send a \
             Copilot prompt and watch it arrive (usually within seconds)."
                .to_owned(),
        ],
    })
}
