//! The `secret` check: the configured secret loads, and is not shaped like the portal's
//! "Secret ID" (a GUID) instead of its value (graph-facts §6.3, AADSTS7000215). Also assembles
//! the report's secret section from the shape and the expiry check's findings.
//!
//! Sees only the secret's source, hint, shape flags and length — never the secret.

use crate::creds::facts::{CredentialFacts, TokenFacts};
use crate::creds::report::{Check, CheckId, SecretSection};
use crate::graph::auth::{AadstsKind, AuthError};
use crate::severity::Severity;

use super::expiry::ExpiryFindings;
use super::{check, new_secret_steps};

/// Judges whether the secret loaded and looks like a secret value.
pub(super) fn assess(facts: &CredentialFacts) -> Check {
    let source = &facts.secret.source;
    let shape = match &facts.secret.loaded {
        Ok(shape) => shape,
        Err(error) => {
            let mut failed = check(
                CheckId::Secret,
                Severity::Critical,
                format!("the client secret could not be loaded from {source}"),
            );
            failed.evidence.push(error.clone());
            failed.cause = Some(format!(
                "Without the secret no token can be requested, so nothing else could be checked. {error}"
            ));
            failed.fix = vec![
                format!("Correct the secret source as the error above says ({source})."),
                format!(
                    "Or store the secret again: `pilotwatch creds add {} --replace`.",
                    facts.profile
                ),
            ];
            return failed;
        }
    };

    let shape_line = if shape.hint.is_empty() {
        format!(
            "loaded from {source}: {} characters, too short to show a hint",
            shape.length
        )
    } else {
        format!(
            "loaded from {source}: {} characters, beginning `{}`",
            shape.length, shape.hint
        )
    };
    let accepted = matches!(facts.token, TokenFacts::Granted { .. });

    if shape.looks_like_secret_id && !accepted {
        let mut suspicious = check(
            CheckId::Secret,
            Severity::Warning,
            "the configured secret is shaped like a GUID: probably the Secret ID, not the Value",
        );
        suspicious.evidence.push(shape_line);
        suspicious.cause = Some(
            "Client secret values are random strings; the portal's \"Secret ID\" column is a GUID \
             shown right next to the \"Value\" column, and is often copied instead. The Secret ID \
             is only a name for the secret and cannot be used to sign in."
                .to_owned(),
        );
        // When the identity platform already refused it as the wrong secret, the token check
        // carries the same steps; printing them twice buries the rest of the report.
        suspicious.fix = if refused_as_wrong_secret(&facts.token) {
            vec!["Replace it with a secret's Value: the steps are under Token below.".to_owned()]
        } else {
            new_secret_steps(facts)
        };
        return suspicious;
    }

    let mut loaded = check(
        CheckId::Secret,
        Severity::Ok,
        format!("the client secret loads from {source}"),
    );
    loaded.evidence.push(shape_line);
    if shape.looks_like_secret_id {
        loaded
            .evidence
            .push("it is shaped like a GUID, yet the identity platform accepted it".to_owned());
    }
    loaded
}

/// The identity platform refused the secret itself (AADSTS7000215).
fn refused_as_wrong_secret(token: &TokenFacts) -> bool {
    matches!(
        token,
        TokenFacts::Refused(AuthError::Rejected {
            kind: AadstsKind::InvalidSecret,
            ..
        })
    )
}

/// The report's secret section: source and shape from the facts, expiry from the expiry check.
pub(super) fn section(facts: &CredentialFacts, expiry: ExpiryFindings) -> SecretSection {
    let shape = facts.secret.loaded.as_ref().ok();
    SecretSection {
        source: facts.secret.source.clone(),
        load_error: facts.secret.loaded.as_ref().err().cloned(),
        hint: shape
            .map(|shape| shape.hint.clone())
            .filter(|hint| !hint.is_empty()),
        looks_like_secret_id: shape.is_some_and(|shape| shape.looks_like_secret_id),
        expires_at: expiry.expires_at,
        expiry_source: expiry.source,
        days_left: expiry.days_left,
        threshold_crossed_days: expiry.threshold_crossed_days,
        expired: expiry.expired,
        credential_name: expiry.credential_name,
        credential_key_id: expiry.credential_key_id,
    }
}
