//! A refused token request explained exactly as the credential report's token check explains
//! it, for callers that have nothing but the refusal (`creds add`, before it saves anything): the
//! same plain cause and numbered fix whichever command meets the problem.
//!
//! Pure: builds the facts a probe would have gathered had it stopped at the token, and asks
//! `assess`. Depends on the config (the profile), the facts and the assessment.

use chrono::{DateTime, Utc};

use super::assess;
use super::facts::{CredentialFacts, SecretFacts, SecretShape, TokenFacts};
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
    let mut facts = CredentialFacts::for_profile(
        profile,
        now,
        SecretFacts {
            source: profile.secret.to_string(),
            loaded: Ok(secret),
        },
    );
    facts.token = TokenFacts::Refused(error.clone());
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
