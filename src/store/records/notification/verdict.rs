//! What the receiver concluded about one notification item, check by check: `clientState`,
//! `validationTokens` (graph-facts §4), `encryptedContent` (§5), and why an item was kept out
//! of the feed. The names are stable (kebab-case): they are persisted, counted on `/metrics`
//! and shown to operators, so a variant is never renamed.
//!
//! Plain data: depends on serde and thiserror only.

use serde::{Deserialize, Serialize};

/// Outcome of comparing a shared value (here `clientState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// Present and equal.
    Ok,
    /// Present and different.
    Mismatch,
    /// Not in the item.
    Missing,
}

/// What became of the POST's `validationTokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum TokenVerdict {
    /// Every token verified.
    Valid,
    /// The field was not in the body (basic and lifecycle notifications).
    Absent,
    /// `null`, or a list holding `null` (graph-facts §4.1: assignment required).
    Null,
    /// Not examined: the item had already failed the `clientState` check, which is cheap and
    /// needs no request to the identity platform.
    Unchecked,
    /// A token failed verification.
    Invalid {
        /// The first check it failed.
        reason: TokenRejection,
    },
}

/// Which validation-token check failed (graph-facts §4). Its `Display` is a sentence for
/// people; [`TokenRejection::as_str`] is the stable name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
#[serde(rename_all = "kebab-case")]
pub enum TokenRejection {
    /// The RS256 signature does not verify with the key its `kid` names.
    #[error("the signature does not verify")]
    BadSignature,
    /// `aud` is not this app's client id.
    #[error("aud is not this app")]
    WrongAudience,
    /// `appid`/`azp` is not the Microsoft Graph Change Tracking app.
    #[error("the caller is not the Microsoft Graph Change Tracking app")]
    WrongAppId,
    /// `exp` has passed (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the identity platform's for a tenant of the batch.
    #[error("the issuer is not the identity platform for this tenant")]
    WrongIssuer,
    /// The header names an algorithm other than RS256 (`none`, HS256, …).
    #[error("the algorithm is not RS256")]
    AlgNotAllowed,
    /// No published key has the token's `kid`, even after refreshing the key set.
    #[error("no published signing key has this kid")]
    UnknownKey,
    /// Not a JWT, or claims missing or of the wrong type.
    #[error("the token is not a well-formed JWT")]
    Malformed,
}

impl TokenRejection {
    /// The stable name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadSignature => "bad-signature",
            Self::WrongAudience => "wrong-audience",
            Self::WrongAppId => "wrong-app-id",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
            Self::WrongIssuer => "wrong-issuer",
            Self::AlgNotAllowed => "alg-not-allowed",
            Self::UnknownKey => "unknown-key",
            Self::Malformed => "malformed",
        }
    }
}

/// What became of the item's `encryptedContent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum DecryptVerdict {
    /// The item carried no `encryptedContent` (a basic or lifecycle notification).
    NotEncrypted,
    /// Not attempted: the item had already failed the `clientState` or token checks, and the
    /// private key is not an oracle for forged input.
    Skipped,
    /// Decrypted, authenticated and parsed.
    Ok,
    /// Decryption failed.
    Failed {
        /// The step that failed.
        reason: DecryptFailure,
    },
}

/// Which decryption step failed (graph-facts §5). Its `Display` is a sentence for people;
/// [`DecryptFailure::as_str`] is the stable name.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
#[serde(rename_all = "kebab-case")]
pub enum DecryptFailure {
    /// The HMAC-SHA256 of `data` does not match `dataSignature`: altered or not for us.
    #[error("the content's HMAC-SHA256 does not match dataSignature")]
    HmacMismatch,
    /// No kept key has this certificate id and thumbprint.
    #[error("no encryption key has this certificate id and thumbprint")]
    UnknownCertificate,
    /// `data`, `dataKey` or `dataSignature` is not base64.
    #[error("data, dataKey or dataSignature is not valid base64")]
    BadBase64,
    /// RSA-OAEP could not unwrap `dataKey`, or it did not hold a 32-byte key.
    #[error("dataKey does not unwrap to an AES-256 key with our private key")]
    KeyUnwrapFailed,
    /// AES-CBC decryption failed (bad padding or a ciphertext that is not whole blocks).
    #[error("the content does not decrypt (AES-256-CBC padding)")]
    BadPadding,
    /// The plaintext is not the JSON of the resource.
    #[error("the decrypted content is not the expected JSON")]
    BadJson,
}

impl DecryptFailure {
    /// The stable name (as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HmacMismatch => "hmac-mismatch",
            Self::UnknownCertificate => "unknown-certificate",
            Self::BadBase64 => "bad-base64",
            Self::KeyUnwrapFailed => "key-unwrap-failed",
            Self::BadPadding => "bad-padding",
            Self::BadJson => "bad-json",
        }
    }
}

/// Why an item was kept out of the feed. Used as a counter key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    /// `clientState` differs from the subscription's (or is missing).
    ClientStateMismatch,
    /// `validationTokens` was null on a rich notification.
    TokensNull,
    /// `validationTokens` was absent on a rich notification.
    TokensAbsent,
    /// A validation token failed verification.
    TokensInvalid,
    /// `encryptedContent` could not be decrypted.
    DecryptFailed,
    /// The item or its body could not be parsed.
    MalformedNotification,
    /// The subscription is not one of ours.
    UnknownSubscription,
}

impl RejectReason {
    /// Every reason, in counter order.
    pub const ALL: [RejectReason; 7] = [
        Self::ClientStateMismatch,
        Self::TokensNull,
        Self::TokensAbsent,
        Self::TokensInvalid,
        Self::DecryptFailed,
        Self::MalformedNotification,
        Self::UnknownSubscription,
    ];

    /// The stable name (as serialized), e.g. for a metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientStateMismatch => "client-state-mismatch",
            Self::TokensNull => "tokens-null",
            Self::TokensAbsent => "tokens-absent",
            Self::TokensInvalid => "tokens-invalid",
            Self::DecryptFailed => "decrypt-failed",
            Self::MalformedNotification => "malformed-notification",
            Self::UnknownSubscription => "unknown-subscription",
        }
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each value serializes as its `as_str`, and the list as `expected`, in order.
    fn assert_stable_names<T: Serialize + Copy>(
        values: &[T],
        as_str: fn(T) -> &'static str,
        expected: &[&str],
    ) {
        for &value in values {
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{}\"", as_str(value)));
        }
        let listed = serde_json::to_value(values).unwrap();
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(names, expected);
    }

    #[test]
    fn names_are_the_stable_kebab_case_ones() {
        for reason in RejectReason::ALL {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
        assert_stable_names(
            &[
                TokenRejection::BadSignature,
                TokenRejection::WrongAudience,
                TokenRejection::WrongAppId,
                TokenRejection::Expired,
                TokenRejection::NotYetValid,
                TokenRejection::WrongIssuer,
                TokenRejection::AlgNotAllowed,
                TokenRejection::UnknownKey,
                TokenRejection::Malformed,
            ],
            TokenRejection::as_str,
            &[
                "bad-signature",
                "wrong-audience",
                "wrong-app-id",
                "expired",
                "not-yet-valid",
                "wrong-issuer",
                "alg-not-allowed",
                "unknown-key",
                "malformed",
            ],
        );
        assert_stable_names(
            &[
                DecryptFailure::HmacMismatch,
                DecryptFailure::UnknownCertificate,
                DecryptFailure::BadBase64,
                DecryptFailure::KeyUnwrapFailed,
                DecryptFailure::BadPadding,
                DecryptFailure::BadJson,
            ],
            DecryptFailure::as_str,
            &[
                "hmac-mismatch",
                "unknown-certificate",
                "bad-base64",
                "key-unwrap-failed",
                "bad-padding",
                "bad-json",
            ],
        );
    }

    #[test]
    fn verdicts_serialize_with_their_reason() {
        let verdict = TokenVerdict::Invalid {
            reason: TokenRejection::Expired,
        };
        assert_eq!(
            serde_json::to_value(verdict).unwrap(),
            serde_json::json!({"verdict": "invalid", "reason": "expired"})
        );
        let failed = DecryptVerdict::Failed {
            reason: DecryptFailure::HmacMismatch,
        };
        let json = serde_json::to_string(&failed).unwrap();
        assert_eq!(json, r#"{"verdict":"failed","reason":"hmac-mismatch"}"#);
        assert_eq!(
            serde_json::from_str::<DecryptVerdict>(&json).unwrap(),
            failed
        );
    }
}
