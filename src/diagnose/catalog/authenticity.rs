//! Delivery findings about what arrives being trustworthy and readable: validation tokens null
//! (the service principal requires assignment), validation tokens failing a check, a
//! `clientState` that is not ours, and rich content that does not decrypt.
//!
//! A finding is critical when nothing got into the feed in the window (nothing gets past the
//! rung), a warning when some items still did — except null tokens, which are always critical:
//! Graph cannot sign for the app at all. Graph rules are from graph-facts §4, §4.1 and §5.
//!
//! Depends on the facts and finding types, the credential report's service principal section
//! and `clock::stamp`; pure.

use chrono::{DateTime, Utc};

use super::text::{count, percent, share};
use crate::clock::stamp;
use crate::diagnose::facts::{DeliveryFacts, Facts};
use crate::diagnose::{Finding, FindingCode};
use crate::graph::model::well_known::CHANGE_TRACKING_APP_ID;
use crate::severity::Severity;
use crate::store::records::{DecryptFailure, RejectReason, TokenRejection};

/// Within this many seconds the local clock agrees with the identity platform's, so expired
/// tokens are not its fault (chosen: well inside the receiver's 5-minute leeway).
const CLOCK_AGREES_SECONDS: i64 = 60;

/// The profile's client id as a fix step can use it: the configured one, else the one the
/// credential report names, else a placeholder the operator fills in.
fn client_id(facts: &Facts) -> &str {
    facts
        .client_id
        .as_deref()
        .or_else(|| {
            facts
                .credentials
                .as_ref()
                .map(|report| report.client_id.as_str())
        })
        .filter(|id| !id.is_empty())
        .unwrap_or("{client-id}")
}

/// The authenticity findings.
pub(super) fn findings(facts: &Facts, _now: DateTime<Utc>) -> Vec<Finding> {
    let Some(delivery) = &facts.delivery else {
        return Vec::new();
    };
    let mut all = Vec::new();
    all.extend(tokens_null(facts, delivery));
    all.extend(tokens_invalid(facts, delivery));
    all.extend(client_state_mismatch(delivery));
    all.extend(decryption_failing(delivery));
    all
}

fn rejected(delivery: &DeliveryFacts, reason: RejectReason) -> u64 {
    delivery.rejected.get(&reason).copied().unwrap_or(0)
}

/// Critical when nothing entered the feed in the window, else a warning.
fn blocking(delivery: &DeliveryFacts) -> Severity {
    if delivery.accepted == 0 {
        Severity::Critical
    } else {
        Severity::Warning
    }
}

/// "12 of 40 items (30.0 %) …" over the window.
fn of_received(delivery: &DeliveryFacts, n: u64, what: &str) -> String {
    format!(
        "{} of {} received in the last {} minutes ({}) {what}",
        n,
        count(delivery.received, "item"),
        delivery.window_minutes,
        percent(share(n, delivery.received))
    )
}

fn last_received(delivery: &DeliveryFacts) -> Option<String> {
    delivery
        .last_received_at
        .map(|at| format!("last notification received at {}", stamp(at)))
}

fn tokens_null(facts: &Facts, delivery: &DeliveryFacts) -> Option<Finding> {
    let null = rejected(delivery, RejectReason::TokensNull);
    let absent = rejected(delivery, RejectReason::TokensAbsent);
    if null + absent == 0 {
        return None;
    }
    let mut evidence = Vec::new();
    if null > 0 {
        evidence.push(of_received(
            delivery,
            null,
            "arrived with validationTokens null and were kept out",
        ));
    }
    if absent > 0 {
        evidence.push(of_received(
            delivery,
            absent,
            "carried encrypted content but no validationTokens and were kept out",
        ));
    }
    let flag = facts
        .credentials
        .as_ref()
        .and_then(|report| report.service_principal.assignment_required);
    match flag {
        Some(true) => evidence.push(
            "confirmed: the app's service principal has appRoleAssignmentRequired = true"
                .to_owned(),
        ),
        Some(false) => evidence.push(
            "the service principal does not require assignment now: the subscription may \
             predate the change, or the setting was changed back"
                .to_owned(),
        ),
        None => evidence
            .push("the service principal's appRoleAssignmentRequired flag was not read".to_owned()),
    }
    evidence.extend(last_received(delivery));
    Some(Finding {
        code: FindingCode::ValidationTokensNull,
        severity: Severity::Critical,
        title: "notifications arrive with validationTokens null: Graph cannot sign for this app"
            .to_owned(),
        evidence,
        since: None,
        cause: format!(
            "A null validationTokens means Graph could not produce the token because of the \
             app's configuration: the app's service principal has appRoleAssignmentRequired = \
             true (\"Assignment required?\" in Enterprise applications) and the Microsoft Graph \
             Change Tracking app ({CHANGE_TRACKING_APP_ID}) holds no app role of it. Without a \
             token a notification cannot be proven to come from Graph, so none enters the feed \
             and the dashboard stays empty."
        ),
        fix: vec![
            "Option 1 (Microsoft's recommendation): Entra admin center › Enterprise \
             applications › the app › Properties: set \"Assignment required?\" to No and save."
                .to_owned(),
            format!(
                "Option 2, if assignment must stay required: assign the Microsoft Graph Change \
                 Tracking service principal (appId {CHANGE_TRACKING_APP_ID}) an app role of \
                 this application."
            ),
            format!(
                "Check: GET /servicePrincipals(appId='{}')?$select=appRoleAssignmentRequired \
                 answers false (or the Change Tracking app holds a role).",
                client_id(facts)
            ),
            "Recreate the subscription — the setting must be in place before a subscription \
             with resource data is created: DELETE /subscriptions/{id} and let the keeper \
             create a new one; the poller backfills the gap."
                .to_owned(),
        ],
    })
}

fn tokens_invalid(facts: &Facts, delivery: &DeliveryFacts) -> Option<Finding> {
    let items = rejected(delivery, RejectReason::TokensInvalid);
    if items == 0 && delivery.token_failures.is_empty() {
        return None;
    }
    let mut evidence = Vec::new();
    if items > 0 {
        evidence.push(of_received(
            delivery,
            items,
            "failed validation-token checks and were kept out",
        ));
    }
    for (check, n) in &delivery.token_failures {
        evidence.push(format!(
            "{}: {} ({check})",
            check.as_str(),
            count(*n, "token")
        ));
    }
    let failed = |check: TokenRejection| delivery.token_failures.contains_key(&check);
    let mut causes = Vec::new();
    let mut fix = Vec::new();
    if failed(TokenRejection::Expired) || failed(TokenRejection::NotYetValid) {
        let skew = facts
            .credentials
            .as_ref()
            .and_then(|report| report.clock_skew.skew_seconds);
        match skew {
            Some(skew) if skew.abs() < CLOCK_AGREES_SECONDS => {
                evidence.push(format!(
                    "the local clock agrees with the identity platform's ({skew} s apart)"
                ));
                causes.push(
                    "tokens judged expired or not yet valid while the clock is right are stale: \
                     old notifications replayed to the endpoint"
                        .to_owned(),
                );
                fix.push(
                    "Treat them as replayed: they are kept out. Find their source in the reverse \
                     proxy's logs."
                        .to_owned(),
                );
            }
            _ => {
                if let Some(skew) = skew {
                    evidence.push(format!(
                        "the local clock differs from the identity platform's by {skew} s"
                    ));
                }
                causes.push(
                    "tokens judged expired or not yet valid usually mean the local clock is off"
                        .to_owned(),
                );
                fix.push(
                    "Synchronise the clock (NTP: timedatectl status, chronyc tracking).".to_owned(),
                );
            }
        }
    }
    if failed(TokenRejection::WrongAudience) {
        causes.push(
            "aud is another app's client id: notifications of another app reach this URL, or \
             the profile's client id is not the app that created the subscription"
                .to_owned(),
        );
        fix.push(
            "Compare the profile's client id with the applicationId of GET /subscriptions; \
             give each app its own notification URL."
                .to_owned(),
        );
    }
    if failed(TokenRejection::BadSignature)
        || failed(TokenRejection::UnknownKey)
        || failed(TokenRejection::WrongIssuer)
        || failed(TokenRejection::WrongAppId)
        || failed(TokenRejection::AlgNotAllowed)
        || failed(TokenRejection::Malformed)
    {
        causes.push(format!(
            "tokens not signed by the Microsoft identity platform for this tenant, or not \
             issued to the Microsoft Graph Change Tracking app ({CHANGE_TRACKING_APP_ID}), are \
             not Graph's: someone else is posting to the notification URL"
        ));
        fix.push(
            "Treat these notifications as forged: they are kept out. Find their source in the \
             reverse proxy's logs and restrict who can reach the endpoint."
                .to_owned(),
        );
        fix.push(
            "If every token fails the signature check, make sure the collector can reach \
             https://login.microsoftonline.com to fetch the signing keys (they rotate)."
                .to_owned(),
        );
    }
    if causes.is_empty() {
        causes.push("a validation token failed one of Graph's documented checks".to_owned());
    }
    Some(Finding {
        code: FindingCode::ValidationTokensInvalid,
        severity: blocking(delivery),
        title: "validation tokens fail their checks: notifications are kept out".to_owned(),
        evidence,
        since: None,
        cause: format!(
            "Every validation token must be unexpired, signed by the Microsoft identity \
             platform, addressed to this app and issued to the Change Tracking app. Here {}.",
            causes.join("; and ")
        ),
        fix,
    })
}

fn client_state_mismatch(delivery: &DeliveryFacts) -> Option<Finding> {
    let items = rejected(delivery, RejectReason::ClientStateMismatch);
    if items == 0 {
        return None;
    }
    let mut evidence = vec![of_received(
        delivery,
        items,
        "carried a clientState that is not our subscription's and were kept out",
    )];
    let unknown = rejected(delivery, RejectReason::UnknownSubscription);
    if unknown > 0 {
        evidence.push(of_received(
            delivery,
            unknown,
            "were for a subscription that is not ours",
        ));
    }
    evidence.extend(last_received(delivery));
    Some(Finding {
        code: FindingCode::ClientStateMismatch,
        severity: blocking(delivery),
        title: "notifications carry a clientState that is not ours".to_owned(),
        evidence,
        since: None,
        cause: "Graph echoes the subscription's clientState on every notification. A different \
                value means a stale subscription — created by an earlier run or another process \
                with another clientState — still posts to this URL, or someone is posting forged \
                notifications."
            .to_owned(),
        fix: vec![
            "List the app's subscriptions: GET /subscriptions; any whose notificationUrl is ours \
             but whose id the collector does not know is stale."
                .to_owned(),
            "Delete stale ones: DELETE /subscriptions/{id}.".to_owned(),
            "If there are none, treat the notifications as forged (they are kept out) and find \
             their source in the reverse proxy's logs."
                .to_owned(),
        ],
    })
}

fn decryption_failing(delivery: &DeliveryFacts) -> Option<Finding> {
    let items = rejected(delivery, RejectReason::DecryptFailed);
    if items == 0 && delivery.decrypt_failures.is_empty() {
        return None;
    }
    let mut evidence = Vec::new();
    if items > 0 {
        evidence.push(of_received(
            delivery,
            items,
            "did not decrypt and were kept out",
        ));
    }
    for (step, n) in &delivery.decrypt_failures {
        evidence.push(format!("{}: {} ({step})", step.as_str(), count(*n, "item")));
    }
    for certificate in &delivery.unknown_certificates {
        evidence.push(format!("Graph encrypted for certificate {certificate}"));
    }
    evidence.push(format!(
        "our subscription's certificate: {}",
        delivery
            .current_certificate_id
            .as_deref()
            .unwrap_or("(unknown)")
    ));
    let failed = |step: DecryptFailure| delivery.decrypt_failures.contains_key(&step);
    let cause = if failed(DecryptFailure::UnknownCertificate) {
        "Graph encrypts each item for the certificate the subscription was created with, and \
         we hold no private key for the one it names: the certificate was rotated without \
         keeping the old key, or the subscription was created with another certificate."
    } else if failed(DecryptFailure::KeyUnwrapFailed) {
        "The private key does not unwrap dataKey: the configured key is not the one matching \
         the certificate Graph encrypts for."
    } else if failed(DecryptFailure::HmacMismatch) {
        "The content's HMAC does not match dataSignature: it was altered on the way or not \
         encrypted for us."
    } else {
        "The encrypted content is damaged (not base64, bad padding, or not the resource's \
         JSON)."
    };
    Some(Finding {
        code: FindingCode::DecryptionFailing,
        severity: blocking(delivery),
        title: "notification content does not decrypt".to_owned(),
        evidence,
        since: None,
        cause: cause.to_owned(),
        fix: vec![
            "Check that `encryption_certificate` and `encryption_key` in the profile are a \
             matching pair."
                .to_owned(),
            "When rotating the certificate, keep the old key until every subscription created \
             with it has been replaced: Graph encrypts with the certificate of the subscription."
                .to_owned(),
            "To move to the current certificate, recreate the subscription: DELETE \
             /subscriptions/{id}, then let the keeper create a new one; the poller backfills \
             the gap."
                .to_owned(),
        ],
    })
}

#[cfg(test)]
mod tests;
