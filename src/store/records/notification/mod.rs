//! One record per notification item: what arrived, when, and every verdict the receiver reached
//! on it, with the certificate an undecryptable item named. The verdicts themselves (and their
//! stable names) are `verdict`'s, re-exported here.
//!
//! Plain data: depends on chrono and serde only; never on the store's engine or the receiver.

mod verdict;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use verdict::{
    Check, DecryptFailure, DecryptVerdict, RejectReason, TokenRejection, TokenVerdict,
};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
