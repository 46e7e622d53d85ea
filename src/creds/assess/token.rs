//! The `token` check: did the identity platform issue an app-only token, and if not, what the
//! AADSTS code means for the operator and how to fix it (graph-facts §6.1, §6.3). Branches on
//! the code (via `AadstsKind`), never on the description text, which is only quoted.
//!
//! Depends on the facts, the report types and `graph::auth`'s error types. What each AADSTS
//! group means and how to fix it is [`rejection`]'s.

mod rejection;

use crate::clock::stamp;
use crate::creds::facts::{CredentialFacts, TokenFacts};
use crate::creds::report::{Check, CheckId, TokenSection, TokenStatus};
use crate::graph::auth::AuthError;
use crate::severity::Severity;

use super::check;

/// Judges the token answer.
pub(super) fn assess(facts: &CredentialFacts) -> (Check, TokenSection) {
    let mut section = TokenSection {
        status: TokenStatus::NotTried,
        authority: facts.authority.clone(),
        http_status: None,
        error: None,
        aadsts_code: None,
        trace_id: None,
        correlation_id: None,
        expires_at: None,
    };
    let check = match &facts.token {
        TokenFacts::Granted { claims, expires_at } => {
            section.status = TokenStatus::Granted;
            section.expires_at = Some(*expires_at);
            let mut granted = check(
                CheckId::Token,
                Severity::Ok,
                "the identity platform issues an app-only token",
            );
            granted.evidence.push(format!(
                "token from {} valid until {}",
                facts.authority,
                stamp(*expires_at)
            ));
            match claims {
                Some(claims) => {
                    let app = claims.appid.as_deref().or(claims.azp.as_deref());
                    granted.evidence.push(format!(
                        "issued to app {} in tenant {}",
                        app.unwrap_or("(not stated)"),
                        claims.tid
                    ));
                }
                None => granted.evidence.push(
                    "the token is not a decodable JWT, so its permissions cannot be read"
                        .to_owned(),
                ),
            }
            granted
        }
        TokenFacts::NotTried => check(
            CheckId::Token,
            Severity::Unknown,
            "not tried: the client secret could not be loaded",
        ),
        TokenFacts::Refused(error) => refused(facts, error, &mut section),
    };
    (check, section)
}

fn refused(facts: &CredentialFacts, error: &AuthError, section: &mut TokenSection) -> Check {
    match error {
        AuthError::Rejected { status, code, .. } if error.is_transient() => {
            section.status = TokenStatus::Refused;
            section.http_status = Some(*status);
            section.aadsts_code = *code;
            unavailable(facts, *status)
        }
        AuthError::Rejected {
            status,
            code,
            error,
            kind,
            description,
            trace_id,
            correlation_id,
        } => {
            section.status = TokenStatus::Refused;
            section.http_status = Some(*status);
            section.error = Some(error.clone());
            section.aadsts_code = *code;
            section.trace_id.clone_from(trace_id);
            section.correlation_id.clone_from(correlation_id);

            let mut rejected = rejection::assess(facts, *kind, *code, error, *status);
            if let Some(first_line) = description.lines().next().filter(|l| !l.trim().is_empty()) {
                rejected
                    .evidence
                    .push(format!("the identity platform said: {}", first_line.trim()));
            }
            if trace_id.is_some() || correlation_id.is_some() {
                rejected.evidence.push(format!(
                    "for a support case: trace id {}, correlation id {}",
                    trace_id.as_deref().unwrap_or("(none)"),
                    correlation_id.as_deref().unwrap_or("(none)")
                ));
            }
            rejected
        }
        AuthError::Network {
            message,
            tls_certificate,
        } => {
            section.status = TokenStatus::Unreachable;
            let mut unreachable = check(
                CheckId::Token,
                Severity::Critical,
                format!("cannot reach the token endpoint at {}", facts.authority),
            );
            unreachable.evidence.push(message.clone());
            if *tls_certificate {
                unreachable.cause = Some(format!(
                    "The TLS certificate presented for {} is not trusted by this host (a private \
                     CA, a TLS-inspecting proxy, or the wrong host).",
                    facts.authority
                ));
                unreachable.fix = vec![
                    format!(
                        "Set `ca_file` in profile {} to the CA certificate (PEM) that signed the \
                         endpoint's certificate (for a TLS-inspecting proxy: the proxy's CA).",
                        facts.profile
                    ),
                    format!("Run `pilotwatch creds test {}` again.", facts.profile),
                ];
            } else {
                unreachable.cause = Some(format!(
                    "The connection to {} failed before any answer: DNS, a firewall, a proxy, or \
                     a wrong authority URL.",
                    facts.authority
                ));
                unreachable.fix = vec![
                    format!(
                        "Check that this host reaches {} (e.g. `curl -sI {}`), through the proxy \
                         if one is required.",
                        facts.authority, facts.authority
                    ),
                    format!(
                        "Check the `cloud` setting of profile {}: it decides the authority URL.",
                        facts.profile
                    ),
                ];
            }
            unreachable
        }
        AuthError::UnexpectedAnswer { status } if error.is_transient() => {
            section.status = TokenStatus::UnexpectedAnswer;
            section.http_status = Some(*status);
            unavailable(facts, *status)
        }
        AuthError::UnexpectedAnswer { status } => {
            section.status = TokenStatus::UnexpectedAnswer;
            section.http_status = Some(*status);
            let mut odd = check(
                CheckId::Token,
                Severity::Critical,
                format!(
                    "the token endpoint answered HTTP {status} with neither a token nor an OAuth error"
                ),
            );
            odd.evidence.push(format!("authority: {}", facts.authority));
            odd.cause = Some(format!(
                "{} does not behave like the Microsoft identity platform: it may be a proxy's or \
                 captive portal's page, or another service's URL.",
                facts.authority
            ));
            odd.fix = vec![format!(
                "Check the `cloud` setting of profile {}; a custom `authority` must be the login \
                 host root, e.g. https://login.microsoftonline.com.",
                facts.profile
            )];
            odd
        }
        AuthError::InvalidAuthority { authority } => {
            section.status = TokenStatus::InvalidAuthority;
            let mut invalid = check(
                CheckId::Token,
                Severity::Critical,
                format!("the authority URL {authority} cannot be used"),
            );
            invalid.cause =
                Some("The token endpoint path cannot be appended to this URL.".to_owned());
            invalid.fix = vec![format!(
                "Set `cloud` in profile {} to \"public\", \"usgov-l4\" or \"usgov-l5\", or give a \
                 custom `authority` such as https://login.microsoftonline.com.",
                facts.profile
            )];
            invalid
        }
    }
}

/// Throttling or a server error at the token endpoint: nothing is known about the credentials.
fn unavailable(facts: &CredentialFacts, status: u16) -> Check {
    let mut busy = check(
        CheckId::Token,
        Severity::Unknown,
        format!(
            "the identity platform is unavailable for the moment (HTTP {status}): the \
             credentials could not be checked"
        ),
    );
    busy.evidence
        .push(format!("authority: {}", facts.authority));
    busy.cause = Some(
        "The token endpoint answered with throttling or a server error, which says nothing \
         about the credentials."
            .to_owned(),
    );
    busy.fix = vec![format!(
        "Run `pilotwatch creds test {}` again in a few minutes; if it persists, check the \
         Microsoft 365 service health page and any proxy in between.",
        facts.profile
    )];
    busy
}
