//! One record per notification item: what arrived, when, and every verdict the receiver reached
//! on it. The verdict names are stable (kebab-case): they are persisted, counted on `/metrics`
//! and shown to operators.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Everything the receiver learnt about one notification item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// When the POST was received.
    pub received_at: DateTime<Utc>,
    /// When it was acknowledged (202 sent).
    pub acked_at: DateTime<Utc>,
    /// When the item was verified and processed.
    pub processed_at: DateTime<Utc>,
    /// The profile whose endpoint received it.
    pub profile: String,
    /// `subscriptionId` of the item.
    pub subscription_id: String,
    /// `tenantId` of the item, when present.
    pub tenant_id: Option<String>,
    /// `changeType`, when present.
    pub change_type: Option<String>,
    /// `resource`, when present.
    pub resource: Option<String>,
    /// `clientState` compared with the subscription's.
    pub client_state: Check,
    /// `validationTokens` of the POST.
    pub validation_tokens: TokenVerdict,
    /// `encryptedContent` of the item.
    pub decryption: DecryptVerdict,
    /// The interaction the item carried, when known.
    pub interaction_id: Option<String>,
    /// Its `createdDateTime`, when decrypted.
    pub created_at: Option<DateTime<Utc>>,
    /// `received_at − created_at` in milliseconds (negative under clock skew).
    pub latency_ms: Option<i64>,
    /// The interaction was already in the store.
    pub duplicate: bool,
    /// The item entered the feed.
    pub accepted: bool,
    /// Why it was kept out of the feed.
    pub rejected: Option<RejectReason>,
}

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
    /// A token failed verification.
    Invalid {
        /// The first check it failed.
        reason: TokenRejection,
    },
}

/// Which validation-token check failed (graph-facts §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenRejection {
    /// The RS256 signature does not verify.
    BadSignature,
    /// `aud` is not this app.
    WrongAudience,
    /// `appid`/`azp` is not the Change Tracking app.
    WrongAppId,
    /// `exp` has passed (beyond the leeway).
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid,
    /// `iss` is neither accepted issuer form.
    WrongIssuer,
    /// `alg` is not RS256 (`none`, HS256, …).
    AlgNotAllowed,
    /// No key with that `kid`, even after refreshing the key set.
    UnknownKey,
    /// Not a JWT.
    Malformed,
}

/// What became of the item's `encryptedContent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum DecryptVerdict {
    /// The item carried no `encryptedContent`.
    NotEncrypted,
    /// Decrypted and parsed.
    Ok,
    /// Decryption failed.
    Failed {
        /// The step that failed.
        reason: DecryptFailure,
    },
}

/// Which decryption step failed (graph-facts §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecryptFailure {
    /// `dataSignature` does not match the ciphertext.
    HmacMismatch,
    /// No key for that certificate id and thumbprint.
    UnknownCertificate,
    /// A field is not valid base64.
    BadBase64,
    /// RSA-OAEP unwrap of `dataKey` failed.
    KeyUnwrapFailed,
    /// AES-CBC padding is wrong.
    BadPadding,
    /// The plaintext is not an aiInteraction.
    BadJson,
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

    #[test]
    fn names_are_the_stable_kebab_case_ones() {
        for reason in RejectReason::ALL {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{}\"", reason.as_str()));
        }
        let names = |values: &[serde_json::Value]| -> Vec<String> {
            values
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let token = serde_json::to_value([
            TokenRejection::BadSignature,
            TokenRejection::WrongAudience,
            TokenRejection::WrongAppId,
            TokenRejection::Expired,
            TokenRejection::NotYetValid,
            TokenRejection::WrongIssuer,
            TokenRejection::AlgNotAllowed,
            TokenRejection::UnknownKey,
            TokenRejection::Malformed,
        ])
        .unwrap();
        assert_eq!(
            names(token.as_array().unwrap()),
            [
                "bad-signature",
                "wrong-audience",
                "wrong-app-id",
                "expired",
                "not-yet-valid",
                "wrong-issuer",
                "alg-not-allowed",
                "unknown-key",
                "malformed"
            ]
        );
        let decrypt = serde_json::to_value([
            DecryptFailure::HmacMismatch,
            DecryptFailure::UnknownCertificate,
            DecryptFailure::BadBase64,
            DecryptFailure::KeyUnwrapFailed,
            DecryptFailure::BadPadding,
            DecryptFailure::BadJson,
        ])
        .unwrap();
        assert_eq!(
            names(decrypt.as_array().unwrap()),
            [
                "hmac-mismatch",
                "unknown-certificate",
                "bad-base64",
                "key-unwrap-failed",
                "bad-padding",
                "bad-json"
            ]
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
