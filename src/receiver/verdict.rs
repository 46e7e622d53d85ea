//! What the receiver concludes about one notification item: the verdict of each authenticity
//! check, why an item is kept out of the feed, and the record the processor writes for it.
//!
//! These mirror the issue-4 contract's store record types (`Check`, `TokenVerdict`,
//! `DecryptVerdict`, `RejectReason`, `NotificationRecord`) name for name and with the same
//! stable kebab-case serde names, so the store can persist them as they are. `DecryptVerdict`
//! adds `Skipped`: content is never decrypted for an item that already failed the client-state
//! or token checks (our private key is not an oracle for forged input).
//!
//! Pure data: depends only on the failure enums of `validation` and `decrypt`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use super::decrypt::DecryptFailure;
pub use super::validation::TokenRejection;

/// The `clientState` comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// Equal to the subscription's.
    Ok,
    /// Different (or the subscription is not ours).
    Mismatch,
    /// The item carries none.
    Missing,
}

/// The `validationTokens` of the item's batch, as they bear on this item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum TokenVerdict {
    /// Every token is valid and one vouches for the item's tenant.
    Valid,
    /// The field is absent.
    Absent,
    /// `null`, `[null]` or `[]`: Graph could not mint a token (graph-facts §4.1).
    Null,
    /// A token failed a check.
    Invalid {
        /// Which check.
        reason: TokenRejection,
    },
}

/// What became of `encryptedContent`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "verdict")]
pub enum DecryptVerdict {
    /// The item has none (a basic or lifecycle notification).
    NotEncrypted,
    /// Not attempted: the item had already failed an authenticity check.
    Skipped,
    /// Decrypted, authenticated and parsed.
    Ok,
    /// A step failed.
    Failed {
        /// Which step.
        reason: DecryptFailure,
    },
}

/// Why an item was kept out of the feed. Stable names; counted by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    /// `clientState` missing or different from the subscription's.
    ClientStateMismatch,
    /// `validationTokens` is `null` or holds `null`.
    TokensNull,
    /// Encrypted content without `validationTokens`.
    TokensAbsent,
    /// A validation token failed a check.
    TokensInvalid,
    /// `encryptedContent` did not decrypt.
    DecryptFailed,
    /// The POST body or the item is not a notification.
    MalformedNotification,
    /// The subscription is not in pilotwatch's registry.
    UnknownSubscription,
}

impl RejectReason {
    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
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

/// One notification item as the processor records it (the contract's `NotificationRecord`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// When the POST arrived.
    pub received_at: DateTime<Utc>,
    /// When it was acknowledged (committed, then answered 202).
    pub acked_at: DateTime<Utc>,
    /// When this record was made.
    pub processed_at: DateTime<Utc>,
    /// The profile whose endpoint received it.
    pub profile: String,
    /// Empty when the body could not be parsed.
    pub subscription_id: String,
    /// The item's `tenantId`.
    pub tenant_id: Option<String>,
    /// `created`, …
    pub change_type: Option<String>,
    /// The item's `resource`.
    pub resource: Option<String>,
    /// The `clientState` comparison.
    pub client_state: Check,
    /// The batch's tokens as they bear on this item.
    pub validation_tokens: TokenVerdict,
    /// What became of `encryptedContent`.
    pub decryption: DecryptVerdict,
    /// The decrypted interaction's id (or `resourceData.id` when not decrypted).
    pub interaction_id: Option<String>,
    /// The interaction's `createdDateTime`.
    pub created_at: Option<DateTime<Utc>>,
    /// `received_at − createdDateTime`.
    pub latency_ms: Option<i64>,
    /// The interaction was already in the store.
    pub duplicate: bool,
    /// The interaction entered the feed.
    pub accepted: bool,
    /// Why it did not.
    pub rejected: Option<RejectReason>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn reason_names_match_their_serde_form() {
        for reason in [
            RejectReason::ClientStateMismatch,
            RejectReason::TokensNull,
            RejectReason::TokensAbsent,
            RejectReason::TokensInvalid,
            RejectReason::DecryptFailed,
            RejectReason::MalformedNotification,
            RejectReason::UnknownSubscription,
        ] {
            assert_eq!(
                serde_json::to_value(reason).unwrap(),
                serde_json::Value::from(reason.name())
            );
        }
    }
}
