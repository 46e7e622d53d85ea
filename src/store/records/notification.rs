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
    /// Reception to acknowledgement in real milliseconds, measured on a monotonic timer, as
    /// Graph measures our response time (the collector's clock runs faster under the
    /// simulator, so `acked_at − received_at` is not it there). `None` in records written
    /// before it was kept, and for entries acknowledged by an earlier run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_ms: Option<u32>,
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
    /// How many items this record stands for: 1, except for the one record a batch gets for
    /// all its items refused before authentication (unknown subscription, `clientState`
    /// mismatch) or for a batch refused whole (too many items). The rejection counters add
    /// this many. Records written before the field existed read as 1.
    #[serde(default = "one")]
    pub items: u32,
    /// The certificate Graph encrypted the item for, when decryption failed because no kept
    /// key has it (graph-facts §5: the key is chosen by `encryptionCertificateId` and
    /// thumbprint). Records written before the field existed read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown_certificate: Option<CertificateRef>,
}

impl NotificationRecord {
    /// Our time to acknowledge as Graph experiences it: the real-time measurement when this
    /// run took one, otherwise `acked_at − received_at` on the collector's clock.
    pub fn ack_duration(&self) -> chrono::Duration {
        self.ack_ms.map_or(self.acked_at - self.received_at, |ms| {
            chrono::Duration::milliseconds(i64::from(ms))
        })
    }
}

/// A certificate as an encrypted item names it: the subscriber's `encryptionCertificateId`
/// and, when the item carried one, the certificate's thumbprint. Its `Display` is
/// "id / thumbprint" (or the id alone), as diagnosis shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CertificateRef {
    /// `encryptionCertificateId` of the item.
    pub id: String,
    /// `encryptionCertificateThumbprint` of the item; `None` when it was empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
}

impl std::fmt::Display for CertificateRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.thumbprint {
            Some(thumbprint) => write!(f, "{} / {thumbprint}", self.id),
            None => f.write_str(&self.id),
        }
    }
}

fn one() -> u32 {
    1
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
        let token_rejections = [
            TokenRejection::BadSignature,
            TokenRejection::WrongAudience,
            TokenRejection::WrongAppId,
            TokenRejection::Expired,
            TokenRejection::NotYetValid,
            TokenRejection::WrongIssuer,
            TokenRejection::AlgNotAllowed,
            TokenRejection::UnknownKey,
            TokenRejection::Malformed,
        ];
        for rejection in token_rejections {
            let json = serde_json::to_string(&rejection).unwrap();
            assert_eq!(json, format!("\"{}\"", rejection.as_str()));
        }
        let token = serde_json::to_value(token_rejections).unwrap();
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
        let decrypt_failures = [
            DecryptFailure::HmacMismatch,
            DecryptFailure::UnknownCertificate,
            DecryptFailure::BadBase64,
            DecryptFailure::KeyUnwrapFailed,
            DecryptFailure::BadPadding,
            DecryptFailure::BadJson,
        ];
        for failure in decrypt_failures {
            let json = serde_json::to_string(&failure).unwrap();
            assert_eq!(json, format!("\"{}\"", failure.as_str()));
        }
        let decrypt = serde_json::to_value(decrypt_failures).unwrap();
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
    fn a_record_without_the_certificate_reads_as_none_and_one_with_it_round_trips() {
        let json = serde_json::json!({
            "received_at": "2026-11-22T08:00:00Z",
            "acked_at": "2026-11-22T08:00:00Z",
            "processed_at": "2026-11-22T08:00:01Z",
            "profile": "contoso",
            "subscription_id": "s",
            "tenant_id": null,
            "change_type": null,
            "resource": null,
            "client_state": "ok",
            "validation_tokens": {"verdict": "valid"},
            "decryption": {"verdict": "failed", "reason": "unknown-certificate"},
            "interaction_id": null,
            "created_at": null,
            "latency_ms": null,
            "duplicate": false,
            "accepted": false,
            "rejected": "decrypt-failed"
        });
        let mut old: NotificationRecord = serde_json::from_value(json).unwrap();
        assert_eq!((old.items, old.unknown_certificate.as_ref()), (1, None));
        let certificate = CertificateRef {
            id: "pilotwatch-2025".into(),
            thumbprint: Some("9F3AC2".into()),
        };
        assert_eq!(certificate.to_string(), "pilotwatch-2025 / 9F3AC2");
        old.unknown_certificate = Some(certificate);
        let again: NotificationRecord =
            serde_json::from_str(&serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(again, old);
        let bare = CertificateRef {
            id: "only-the-id".into(),
            thumbprint: None,
        };
        assert_eq!(bare.to_string(), "only-the-id");
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
