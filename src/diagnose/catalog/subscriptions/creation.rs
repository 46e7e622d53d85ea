//! The subscription findings of a failing `POST /subscriptions` whose cause Graph's answer
//! names: the validation handshake (graph-facts §3.3: 200, text/plain, the decoded token,
//! within 10 s) and the quota of one tenant-wide subscription per app and tenant (§2, §3.2).
//!
//! Also the grace a freshly started keeper gets: until its first `POST /subscriptions` has
//! an answer (Graph's handshake alone may take 10 s), no subscription is the expected state of
//! a start, not a finding to alarm on.
//!
//! Part of `subscriptions`; pure.

use chrono::{DateTime, Duration, Utc};

use super::{ago, attempt_lines, stamp};
use crate::diagnose::facts::{ActionFact, SubscriptionFacts};
use crate::diagnose::thresholds::FIRST_CREATE_GRACE_MINUTES;
use crate::diagnose::{Finding, FindingCode};
use crate::severity::Severity;

fn url_or_unset(url: Option<&str>) -> String {
    url.map_or_else(|| "(not configured)".to_owned(), str::to_owned)
}

pub(super) fn handshake_failing(
    facts: &SubscriptionFacts,
    action: &ActionFact,
    now: DateTime<Utc>,
) -> Finding {
    let url = url_or_unset(facts.notification_url.as_deref());
    let mut evidence = vec![format!("notification URL: {url}")];
    evidence.extend(attempt_lines("POST /subscriptions", action, now));
    let mut fix = Vec::new();
    if facts.notification_url.is_none() {
        fix.push(
            "Set `notification_url` in the profile to the public HTTPS URL of the receiver."
                .to_owned(),
        );
    }
    let probe = facts
        .notification_url
        .as_deref()
        .unwrap_or("https://<notification-url>");
    let separator = if probe.contains('?') { '&' } else { '?' };
    fix.extend([
        format!(
            "From outside your network, send what Graph sends: curl -i -X POST -H \
             'Content-Type: text/plain; charset=utf-8' '{probe}{separator}validationToken=probe'. \
             It must answer within 10 s with 200, Content-Type text/plain and the body `probe`."
        ),
        "No answer or a timeout: check DNS, the TLS certificate, the firewall, and that the \
         reverse proxy forwards HTTPS POSTs with their query string to the receiver. Graph calls \
         from Microsoft 365's published address ranges, which change without notice, so an \
         IP allow-list alone breaks it."
            .to_owned(),
        "An answer Graph refuses: the body must be the URL-decoded token as plain text (not \
         still encoded), with status 200 — not 202, not JSON."
            .to_owned(),
        "When a lifecycle URL is configured, Graph validates it the same way; test it too."
            .to_owned(),
        "The keeper retries creation on its own once the endpoint answers.".to_owned(),
    ]);
    Finding {
        code: FindingCode::HandshakeFailing,
        severity: Severity::Critical,
        title: "creating the subscription fails at Graph's validation handshake".to_owned(),
        evidence,
        since: action.failing_since.or(Some(action.at)),
        cause: "Before creating a subscription Graph POSTs a validationToken to the notification \
                URL and needs 200 with Content-Type text/plain and the decoded token as the body \
                within 10 seconds. The endpoint is unreachable from Graph or does not answer so, \
                and Graph refuses to create the subscription (400)."
            .to_owned(),
        fix,
    }
}

pub(super) fn quota(facts: &SubscriptionFacts, action: &ActionFact, now: DateTime<Utc>) -> Finding {
    let mut evidence = attempt_lines("POST /subscriptions", action, now);
    evidence.push(format!("resource: {}", facts.resource));
    Finding {
        code: FindingCode::SubscriptionQuota,
        severity: Severity::Critical,
        title: "Graph's subscription quota is taken: another process of this app holds the \
                subscription"
            .to_owned(),
        evidence,
        since: action.failing_since.or(Some(action.at)),
        cause: "Graph allows one tenant-wide Copilot subscription per app and tenant (and one per \
                app and user). A subscription for this resource already exists under this app \
                registration, created by another process — another collector, a script or an \
                older deployment — so Graph answers 403 to ours."
            .to_owned(),
        fix: vec![
            "With this app's credentials, list its subscriptions: GET /subscriptions (it returns \
             every subscription this app created)."
                .to_owned(),
            format!(
                "Find the one whose resource is {} and whose notificationUrl is not this \
                 collector's; that notificationUrl tells you which process holds it.",
                facts.resource
            ),
            "Stop that process (or give it its own app registration), then remove its \
             subscription: DELETE /subscriptions/{id}."
                .to_owned(),
            "The keeper creates ours on its next attempt.".to_owned(),
        ],
    }
}

/// No subscription yet because the keeper that started at `keeper_started` has not had an
/// answer to its first creation: an info finding for the grace period, `None` otherwise
/// (no keeper runs, an attempt since the start already answered, or the grace is over).
pub(super) fn establishing(
    create: Option<&ActionFact>,
    keeper_started: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<Finding> {
    let started = keeper_started?;
    let answered = create.is_some_and(|action| action.at >= started);
    if answered || now - started >= Duration::minutes(FIRST_CREATE_GRACE_MINUTES) {
        return None;
    }
    Some(Finding {
        code: FindingCode::SubscriptionMissing,
        severity: Severity::Info,
        title: "no subscription yet: the keeper is creating one".to_owned(),
        evidence: vec![format!(
            "the collector started at {} ({}); its first POST /subscriptions has not \
                 answered yet",
            stamp(started),
            ago(now, started)
        )],
        since: Some(started),
        cause: "The collector has just started; its keeper creates the subscription first \
                thing, and Graph validates the notification URL before answering."
            .to_owned(),
        fix: vec![format!(
            "Nothing to do yet. If no subscription exists {} minutes after the start, the \
             subscription findings say why.",
            FIRST_CREATE_GRACE_MINUTES
        )],
    })
}
