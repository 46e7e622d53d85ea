//! Facts in, report out: [`assess`] turns one profile's [`CredentialFacts`] into its
//! [`CredentialReport`]. Each check lives in its own submodule and follows the rules of
//! `shared/reference/graph-facts.md` (section numbers are cited where a rule comes from).
//!
//! Pure: no I/O and no clock — "now" is `facts.checked_at`. Depends only on the facts, the
//! report types, [`Severity`] and the wire model's well-known constants.
//!
//! # Checks that could not run
//!
//! Checks that need a token (roles, and every directory read) are **Unknown** with the summary
//! "not checked: no token" when the token was refused or not tried. Unknown is honest — nothing
//! was learned — and, because Unknown ranks below Critical, it can never raise the report above
//! the token check's own Critical: the overall severity stays the token's, and the token check
//! carries the one fix that matters. A read that Graph *refused* for lack of an optional
//! permission is **Ok** with "not readable: grant …": the app works without that permission, so
//! a healthy profile lacking it must still exit 0. A read that failed for any other reason
//! (network, 5xx) is Unknown.

use std::ops::ControlFlow;

use crate::creds::facts::{CredentialFacts, Readable};
use crate::creds::report::{Availability, Check, CheckId, CredentialReport};
use crate::severity::Severity;

mod expiry;
mod licences;
mod principal;
mod roles;
mod secret;
mod skew;
mod token;

#[cfg(test)]
mod scenarios;
#[cfg(test)]
pub(crate) mod test_facts;

/// Assesses one profile's credentials. Deterministic: the same facts give the same report.
pub fn assess(facts: &CredentialFacts) -> CredentialReport {
    let secret_check = secret::assess(facts);
    let (token_check, token) = token::assess(facts);
    let (roles_check, roles) = roles::assess(facts);
    let (expiry_check, expiry) = expiry::assess(facts);
    let (principal_check, service_principal) = principal::assess(facts);
    let (tenant_check, users_check, licences) = licences::assess(facts);
    let (skew_check, clock_skew) = skew::assess(facts);

    let checks = vec![
        secret_check,
        token_check,
        roles_check,
        expiry_check,
        principal_check,
        tenant_check,
        users_check,
        skew_check,
    ];
    CredentialReport {
        severity: Severity::worst(checks.iter().map(|check| check.severity)),
        profile: facts.profile.clone(),
        tenant: facts.tenant.clone(),
        client_id: facts.client_id.clone(),
        checked_at: facts.checked_at,
        checks,
        token,
        roles,
        secret: secret::section(facts, expiry),
        service_principal,
        licences,
        clock_skew,
    }
}

/// The human title of each check.
fn title(id: CheckId) -> &'static str {
    match id {
        CheckId::Secret => "Client secret",
        CheckId::Token => "Token",
        CheckId::Roles => "Application permissions",
        CheckId::SecretExpiry => "Secret expiry",
        CheckId::ServicePrincipal => "Service principal",
        CheckId::TenantLicences => "Tenant licences",
        CheckId::UserLicences => "User licences",
        CheckId::ClockSkew => "Clock",
    }
}

/// A check with no evidence, cause or fix yet.
fn check(id: CheckId, severity: Severity, summary: impl Into<String>) -> Check {
    Check {
        id,
        severity,
        title: title(id).to_owned(),
        summary: summary.into(),
        evidence: Vec::new(),
        cause: None,
        fix: Vec::new(),
    }
}

/// The value of a directory read to judge (`Continue`), or — when it was not read — the
/// finished check that says so (`Break`). `what` names the data ("the service principal").
fn read_or_check<'a, T>(
    id: CheckId,
    what: &str,
    readable: &'a Readable<T>,
) -> ControlFlow<Check, &'a T> {
    match readable {
        Readable::Read(value) => ControlFlow::Continue(value),
        Readable::NotReadable { grant } => {
            let mut unread = check(
                id,
                Severity::Ok,
                format!("not readable: grant {grant} (optional)"),
            );
            unread.evidence.push(format!(
                "Graph refused to show {what} (403): the app lacks {grant}"
            ));
            ControlFlow::Break(unread)
        }
        Readable::Failed { reason } => {
            let mut unread = check(
                id,
                Severity::Unknown,
                format!("not checked: {what} could not be read"),
            );
            unread.evidence.push(reason.clone());
            ControlFlow::Break(unread)
        }
        Readable::NotTried => ControlFlow::Break(not_checked_without_token(id)),
    }
}

/// The check of something that needs a token, when there is none (see the module docs).
fn not_checked_without_token(id: CheckId) -> Check {
    check(id, Severity::Unknown, "not checked: no token")
}

/// A directory read's outcome, for the report's sections.
fn availability<T>(readable: &Readable<T>) -> Availability {
    match readable {
        Readable::Read(_) => Availability::Read,
        Readable::NotReadable { grant } => Availability::NotReadable {
            grant: grant.clone(),
        },
        Readable::Failed { reason } => Availability::Failed {
            reason: reason.clone(),
        },
        Readable::NotTried => Availability::NotTried,
    }
}

/// The numbered-steps path to an app registration page in the Entra admin center.
fn app_registration(client_id: &str) -> String {
    format!(
        "Microsoft Entra admin center > App registrations > the app with Application (client) ID {client_id}"
    )
}

/// The steps that create a new client secret and store it for the profile.
fn new_secret_steps(facts: &CredentialFacts) -> Vec<String> {
    vec![
        format!(
            "Open {} > Certificates & secrets > Client secrets and choose New client secret.",
            app_registration(&facts.client_id)
        ),
        "Copy the new secret's \"Value\" column at once: the portal shows it only this once, \
         and the \"Secret ID\" next to it is not the secret."
            .to_owned(),
        format!(
            "Store it: `pilotwatch creds add {} --replace` (add `--secret-stdin` to pipe it in).",
            facts.profile
        ),
        format!(
            "Run `pilotwatch creds test {}` to confirm the new secret works.",
            facts.profile
        ),
    ]
}
