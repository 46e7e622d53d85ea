//! The `token` check: did the identity platform issue an app-only token, and if not, what the
//! AADSTS code means for the operator and how to fix it (graph-facts §6.1, §6.3). Branches on
//! the code (via `AadstsKind`), never on the description text, which is only quoted.
//!
//! Depends on the facts, the report types and `graph::auth`'s error types.

use crate::clock::stamp;
use crate::creds::facts::{CredentialFacts, TokenFacts};
use crate::creds::report::{Check, CheckId, TokenSection, TokenStatus};
use crate::graph::auth::{AadstsKind, AuthError};
use crate::graph::model::well_known::GRAPH_DEFAULT_SCOPE;
use crate::severity::Severity;

use super::{app_registration, check, new_secret_steps};

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

            let mut rejected = rejection(facts, *kind, *code, error, *status);
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

/// The cause and fix for an OAuth rejection, by AADSTS group.
fn rejection(
    facts: &CredentialFacts,
    kind: AadstsKind,
    code: Option<u64>,
    error: &str,
    status: u16,
) -> Check {
    let code_text = code.map_or_else(|| "no AADSTS code".to_owned(), |c| format!("AADSTS{c}"));
    let refused = |what: &str| {
        check(
            CheckId::Token,
            Severity::Critical,
            format!("token refused: {what} ({code_text})"),
        )
    };
    let profile = &facts.profile;
    let tenant = &facts.tenant;
    let client_id = &facts.client_id;
    let secret_shape = facts.secret.loaded.as_ref().ok();

    match kind {
        AadstsKind::UnknownTenant => {
            let mut c = refused("unknown tenant");
            c.cause = Some(format!(
                "Tenant `{tenant}` does not exist at {}: the tenant id or domain is mistyped, or \
                 the tenant lives in another cloud (public vs US Government).",
                facts.authority
            ));
            c.fix = vec![
                format!(
                    "Open {} > Overview and copy the Directory (tenant) ID.",
                    app_registration(client_id)
                ),
                format!("Set `tenant` in profile {profile} to it."),
                format!(
                    "If the tenant is in US Government, set `cloud = \"usgov-l4\"` (GCC High) or \
                     `\"usgov-l5\"` (DoD) in profile {profile}; otherwise `cloud = \"public\"`."
                ),
            ];
            c
        }
        AadstsKind::MalformedTenant => {
            let mut c = refused("malformed tenant");
            c.cause = Some(format!(
                "Tenant `{tenant}` is neither a GUID nor a valid domain name."
            ));
            c.fix = vec![
                format!(
                    "Open {} > Overview and copy the Directory (tenant) ID (a GUID).",
                    app_registration(client_id)
                ),
                format!("Set `tenant` in profile {profile} to it."),
            ];
            c
        }
        AadstsKind::UnknownClient => {
            let mut c = refused("unknown client id");
            if uuid::Uuid::try_parse(client_id).is_err() {
                c.evidence
                    .push(format!("client id `{client_id}` is not shaped like a GUID"));
            }
            c.cause = Some(format!(
                "No application with client id {client_id} exists in tenant `{tenant}`: a typo, \
                 an app registered in another tenant, or the app's \"Object ID\" pasted instead \
                 of its \"Application (client) ID\"."
            ));
            c.fix = vec![
                "Open Microsoft Entra admin center > App registrations > the app > Overview."
                    .to_owned(),
                "Copy the \"Application (client) ID\" (not the Object ID) and check that the \
                 Directory (tenant) ID on the same page is the profile's tenant."
                    .to_owned(),
                format!("Set `client_id` (and `tenant` if it differs) in profile {profile}."),
            ];
            c
        }
        AadstsKind::InvalidSecret => {
            let mut c = refused("wrong client secret");
            if secret_shape.is_some_and(|shape| shape.looks_like_secret_id) {
                c.cause = Some(
                    "The configured secret is shaped like a GUID: it is almost certainly the \
                     \"Secret ID\" pasted instead of the \"Value\". Only the Value signs in, and \
                     the portal shows it only once, when the secret is created."
                        .to_owned(),
                );
            } else {
                let hint = secret_shape
                    .map(|shape| shape.hint.as_str())
                    .filter(|hint| !hint.is_empty());
                c.cause = Some(format!(
                    "The secret matches none of app {client_id}'s current secrets: mistyped or \
                     cut short, copied from another app, or deleted.{}",
                    hint.map(|h| format!(
                        " The portal lists each secret's first three characters: look for `{h}`."
                    ))
                    .unwrap_or_default()
                ));
            }
            c.fix = new_secret_steps(facts);
            c
        }
        AadstsKind::ExpiredSecret => {
            let mut c = refused("the client secret has expired");
            c.cause = Some(format!(
                "The secret configured for app {client_id} has passed its expiry date; the \
                 identity platform refuses expired secrets."
            ));
            c.fix = new_secret_steps(facts);
            c.fix.push(format!(
                "Delete the expired secret in the portal. If the app cannot read its own \
                 registration (Application.Read.All), set `secret_expires` in profile {profile} \
                 to the new secret's expiry date so pilotwatch warns before it ends."
            ));
            c
        }
        AadstsKind::MissingSecret => {
            let mut c = refused("no client secret arrived");
            c.cause = Some(
                "The request reached the identity platform without a client secret. pilotwatch \
                 always sends one, so something in between (a proxy rewriting request bodies) \
                 removed it, or the authority is not the identity platform itself."
                    .to_owned(),
            );
            c.fix = vec![
                format!(
                    "Check any proxy between this host and {} passes POST bodies unchanged.",
                    facts.authority
                ),
                format!("Run `pilotwatch creds test {profile}` again."),
            ];
            c
        }
        AadstsKind::BadScope => {
            let mut c = refused("invalid scope");
            c.cause = Some(format!(
                "The identity platform at {} refused the scope {GRAPH_DEFAULT_SCOPE}: the \
                 authority and the Graph root {} probably belong to different clouds.",
                facts.authority, facts.graph_root
            ));
            c.fix = vec![format!(
                "Set `cloud` in profile {profile} to the cloud the tenant lives in (\"public\", \
                 \"usgov-l4\" or \"usgov-l5\"), or make a custom authority and Graph root match."
            )];
            c
        }
        AadstsKind::AppDisabled => {
            let mut c = refused("the application is disabled");
            c.cause = Some(format!(
                "App {client_id} is disabled in tenant `{tenant}`, so it cannot sign in."
            ));
            c.fix = vec![
                "Open Microsoft Entra admin center > Enterprise applications > the app > \
                 Properties."
                    .to_owned(),
                "Set \"Enabled for users to sign-in?\" to Yes and save.".to_owned(),
            ];
            c
        }
        AadstsKind::Other(n) => {
            let mut c = check(
                CheckId::Token,
                Severity::Critical,
                format!("token refused: {error} (HTTP {status}, AADSTS{n})"),
            );
            c.cause = Some(format!(
                "The identity platform refused with AADSTS{n}, which pilotwatch has no specific \
                 advice for; its own words are in the evidence."
            ));
            c.fix = vec![
                format!(
                    "Read Microsoft's explanation: https://login.microsoftonline.com/error?code={n}"
                ),
                "If that does not help, open a support case quoting the trace and correlation \
                 ids in the evidence."
                    .to_owned(),
            ];
            c
        }
        AadstsKind::NoCode => {
            let mut c = check(
                CheckId::Token,
                Severity::Critical,
                format!("token refused: {error} (HTTP {status}, no AADSTS code)"),
            );
            c.cause = Some(format!(
                "{} answered with an OAuth error but no AADSTS code: it may not be the \
                 Microsoft identity platform.",
                facts.authority
            ));
            c.fix = vec![format!(
                "Check the `cloud` setting of profile {profile} (it decides the authority URL)."
            )];
            c
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
