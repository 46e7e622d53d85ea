//! A refused token request explained exactly as the credential report's token check explains
//! it, for callers that have nothing but the refusal (`creds add`, before it saves anything): the
//! same plain cause and numbered fix whichever command meets the problem.
//!
//! Pure: builds the facts a probe would have gathered had it stopped at the token, and asks
//! `assess`. Depends on the config (the profile), the facts and the assessment.

use chrono::{DateTime, Utc};

use super::assess;
use super::facts::{CredentialFacts, Readable, SecretFacts, SecretShape, TokenFacts};
use super::report::{Check, CheckId};
use crate::config::Profile;
use crate::graph::auth::AuthError;
use crate::severity::Severity;

/// The report's token check for `profile` refused with `error`; `secret` is the shape of the
/// secret that was sent.
pub fn explain_refusal(
    profile: &Profile,
    secret: SecretShape,
    error: &AuthError,
    now: DateTime<Utc>,
) -> Check {
    let facts = CredentialFacts {
        profile: profile.name.clone(),
        tenant: profile.tenant.clone(),
        client_id: profile.client_id.clone(),
        authority: profile.cloud.authority().to_string(),
        graph_root: profile.cloud.graph_root().to_string(),
        checked_at: now,
        secret: SecretFacts {
            source: profile.secret.to_string(),
            loaded: Ok(secret),
        },
        token: TokenFacts::Refused(error.clone()),
        service_principal: Readable::NotTried,
        application: Readable::NotTried,
        subscribed_skus: Readable::NotTried,
        sampled_users: Readable::NotTried,
        server_date: None,
        configured_secret_expires: profile.secret_expires,
        expiry_warning_days: profile.thresholds.secret_expiry_warning_days.clone(),
    };
    // `assess` always judges the token; the fallback only keeps this function total.
    assess(&facts)
        .check(CheckId::Token)
        .cloned()
        .unwrap_or_else(|| Check {
            id: CheckId::Token,
            severity: Severity::Critical,
            title: "Token".to_owned(),
            summary: error.to_string(),
            evidence: Vec::new(),
            cause: None,
            fix: Vec::new(),
        })
}
