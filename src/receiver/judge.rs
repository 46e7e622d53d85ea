//! The processing core, pure: given a notification batch, the expected `clientState` of each
//! subscription, the identity platform's keys, the encryption keys and `now`, what is each item
//! — which checks passed, why it is kept out of the feed, and the interaction it carries.
//!
//! Order of checks per item (graph-facts §3–5): the subscription must be ours and its
//! `clientState` equal (constant time); for encrypted content every validation token of the
//! batch must be valid and one must vouch for the item's tenant; only then is the content
//! decrypted (HMAC first) and parsed. The first failure names the reason.
//!
//! Depends on `validation`, `decrypt`, `keys`, the store's verdict records and the wire model;
//! no I/O, no clock.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::JwkSet;
use secrecy::{ExposeSecret as _, SecretString};

use super::decrypt::decrypt;
use super::keys::EncryptionKeys;
use super::validation;
use crate::graph::model::{AiInteraction, ChangeNotification, EncryptedContent, ValidationTokens};
use crate::store::records::{
    CertificateRef, Check, DecryptFailure, DecryptVerdict, RejectReason, TokenRejection,
    TokenVerdict,
};

/// The batch's `validationTokens`, judged once for all its items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchTokens {
    /// The field is absent.
    Absent,
    /// `null`, `[]` or a `null` entry.
    Null,
    /// A token failed: the whole batch is suspect (graph-facts §4).
    Invalid(TokenRejection),
    /// Every token passed; these tenants (lower case) are vouched for.
    Valid(Vec<String>),
}

/// Judges the tokens of a batch whose items name `tenants`, with `keys` (`None` when the batch
/// has no tokens to check).
pub fn judge_tokens(
    tokens: &ValidationTokens,
    keys: Option<&JwkSet>,
    app_id: &str,
    tenants: &[&str],
    now: DateTime<Utc>,
) -> BatchTokens {
    match tokens {
        ValidationTokens::Absent => BatchTokens::Absent,
        ValidationTokens::Null => BatchTokens::Null,
        tokens if tokens.is_null_like() => BatchTokens::Null,
        ValidationTokens::Tokens(list) => {
            let empty = JwkSet { keys: Vec::new() };
            let keys = keys.unwrap_or(&empty);
            let mut vouched = Vec::new();
            for token in list.iter().flatten() {
                match validation::validate(token, keys, app_id, tenants, now) {
                    Ok(valid) => vouched.push(valid.tenant_id),
                    Err(rejection) => return BatchTokens::Invalid(rejection),
                }
            }
            BatchTokens::Valid(vouched)
        }
    }
}

/// The outcome for one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemJudgement {
    /// The `clientState` comparison.
    pub client_state: Check,
    /// The tokens as they bear on this item.
    pub tokens: TokenVerdict,
    /// What became of the content.
    pub decryption: DecryptVerdict,
    /// The first failed check, if any.
    pub rejected: Option<RejectReason>,
    /// The interaction, when the item is authentic and carried one.
    pub interaction: Option<AiInteraction>,
    /// The certificate the content was encrypted for, when we hold no key for it.
    pub unknown_certificate: Option<CertificateRef>,
}

/// Judges one change-notification item. `expected` is the subscription's `clientState` from
/// the registry (`None`: not a subscription of ours).
pub fn judge_item(
    item: &ChangeNotification,
    expected: Option<&SecretString>,
    batch_tokens: &BatchTokens,
    keys: &EncryptionKeys,
) -> ItemJudgement {
    let (client_state, mut rejected) = judge_client_state(item.client_state.as_deref(), expected);
    let tokens = token_verdict(batch_tokens, &item.tenant_id);
    let Some(content) = &item.encrypted_content else {
        return ItemJudgement {
            client_state,
            tokens,
            decryption: DecryptVerdict::NotEncrypted,
            rejected,
            interaction: None,
            unknown_certificate: None,
        };
    };
    if rejected.is_none() {
        rejected = match tokens {
            TokenVerdict::Valid => None,
            TokenVerdict::Absent => Some(RejectReason::TokensAbsent),
            TokenVerdict::Null => Some(RejectReason::TokensNull),
            // Unchecked tokens never vouch for anything.
            TokenVerdict::Invalid { .. } | TokenVerdict::Unchecked => {
                Some(RejectReason::TokensInvalid)
            }
        };
    }
    if rejected.is_some() {
        return ItemJudgement {
            client_state,
            tokens,
            decryption: DecryptVerdict::Skipped,
            rejected,
            interaction: None,
            unknown_certificate: None,
        };
    }
    let decrypted = decrypt(content, keys).and_then(|plaintext| {
        serde_json::from_slice::<AiInteraction>(&plaintext).map_err(|_| DecryptFailure::BadJson)
    });
    match decrypted {
        Err(reason) => ItemJudgement {
            client_state,
            tokens,
            decryption: DecryptVerdict::Failed { reason },
            rejected: Some(RejectReason::DecryptFailed),
            interaction: None,
            unknown_certificate: (reason == DecryptFailure::UnknownCertificate)
                .then(|| named_certificate(content)),
        },
        Ok(interaction) => {
            // Authentic content under another item's resource is a replay, not this item.
            let other_item = item
                .resource_data
                .as_ref()
                .is_some_and(|data| data.id != interaction.id);
            ItemJudgement {
                client_state,
                tokens,
                decryption: DecryptVerdict::Ok,
                rejected: other_item.then_some(RejectReason::MalformedNotification),
                interaction: (!other_item).then_some(interaction),
                unknown_certificate: None,
            }
        }
    }
}

/// The certificate `content` names: what the operator must find (or restore the key of) to
/// decrypt such items again.
fn named_certificate(content: &EncryptedContent) -> CertificateRef {
    let thumbprint = content.encryption_certificate_thumbprint.trim();
    CertificateRef {
        id: content.encryption_certificate_id.clone(),
        thumbprint: (!thumbprint.is_empty()).then(|| thumbprint.to_owned()),
    }
}

/// The `clientState` check of a change or lifecycle item, and the rejection it implies.
pub fn judge_client_state(
    received: Option<&str>,
    expected: Option<&SecretString>,
) -> (Check, Option<RejectReason>) {
    match (received, expected) {
        (None, None) => (Check::Missing, Some(RejectReason::UnknownSubscription)),
        (Some(_), None) => (Check::Mismatch, Some(RejectReason::UnknownSubscription)),
        (None, Some(_)) => (Check::Missing, Some(RejectReason::ClientStateMismatch)),
        (Some(received), Some(expected)) => {
            let equal = aws_lc_rs::constant_time::verify_slices_are_equal(
                received.as_bytes(),
                expected.expose_secret().as_bytes(),
            )
            .is_ok();
            if equal {
                (Check::Ok, None)
            } else {
                (Check::Mismatch, Some(RejectReason::ClientStateMismatch))
            }
        }
    }
}

fn token_verdict(batch: &BatchTokens, tenant_id: &str) -> TokenVerdict {
    match batch {
        BatchTokens::Absent => TokenVerdict::Absent,
        BatchTokens::Null => TokenVerdict::Null,
        BatchTokens::Invalid(reason) => TokenVerdict::Invalid { reason: *reason },
        BatchTokens::Valid(tenants)
            if tenants.iter().any(|t| t.eq_ignore_ascii_case(tenant_id)) =>
        {
            TokenVerdict::Valid
        }
        // No token vouches for this tenant: as if its token named another issuer.
        BatchTokens::Valid(_) => TokenVerdict::Invalid {
            reason: TokenRejection::WrongIssuer,
        },
    }
}

/// Looks up the expected `clientState` of each distinct subscription of a batch once.
pub fn expected_states<E>(
    items: &[ChangeNotification],
    mut lookup: impl FnMut(&str) -> Result<Option<SecretString>, E>,
) -> Result<HashMap<String, Option<SecretString>>, E> {
    let mut states = HashMap::new();
    for item in items {
        if !states.contains_key(&item.subscription_id) {
            let state = lookup(&item.subscription_id)?;
            states.insert(item.subscription_id.clone(), state);
        }
    }
    Ok(states)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn client_state_cases() {
        let expected = secret("s3cret");
        assert_eq!(
            judge_client_state(Some("s3cret"), Some(&expected)),
            (Check::Ok, None)
        );
        assert_eq!(
            judge_client_state(Some("s3creT"), Some(&expected)),
            (Check::Mismatch, Some(RejectReason::ClientStateMismatch))
        );
        assert_eq!(
            judge_client_state(Some("s3cret-longer"), Some(&expected)),
            (Check::Mismatch, Some(RejectReason::ClientStateMismatch))
        );
        assert_eq!(
            judge_client_state(None, Some(&expected)),
            (Check::Missing, Some(RejectReason::ClientStateMismatch))
        );
        assert_eq!(
            judge_client_state(Some("s3cret"), None),
            (Check::Mismatch, Some(RejectReason::UnknownSubscription))
        );
    }

    #[test]
    fn null_like_tokens_and_uncovered_tenants() {
        let now = Utc::now();
        for tokens in [
            ValidationTokens::Null,
            ValidationTokens::Tokens(vec![]),
            ValidationTokens::Tokens(vec![None]),
        ] {
            assert_eq!(
                judge_tokens(&tokens, None, "app", &["t"], now),
                BatchTokens::Null
            );
        }
        assert_eq!(
            judge_tokens(&ValidationTokens::Absent, None, "app", &["t"], now),
            BatchTokens::Absent
        );
        let valid = BatchTokens::Valid(vec!["tenant-a".to_owned()]);
        assert_eq!(token_verdict(&valid, "TENANT-A"), TokenVerdict::Valid);
        assert_eq!(
            token_verdict(&valid, "tenant-b"),
            TokenVerdict::Invalid {
                reason: TokenRejection::WrongIssuer
            }
        );
    }
}
