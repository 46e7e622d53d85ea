//! Change and lifecycle notifications as Graph POSTs them (graph-facts §3.4, §3.6, §4).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The body of a notification POST.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeNotificationCollection {
    /// The notifications; one POST may carry several subscriptions' items.
    pub value: Vec<ChangeNotification>,
    /// One JWT per app+tenant pair on rich notifications.
    #[serde(default, skip_serializing_if = "ValidationTokens::is_absent")]
    pub validation_tokens: ValidationTokens,
}

/// `validationTokens` has three shapes that mean different things to an operator: absent (basic
/// or lifecycle notifications), `null` or containing `null` (Graph could not mint a token: the
/// app's service principal requires assignment), and a list of JWTs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ValidationTokens {
    /// The field is not in the body.
    #[default]
    Absent,
    /// `"validationTokens": null`.
    Null,
    /// `"validationTokens": [...]`; an entry may itself be `null`.
    Tokens(Vec<Option<String>>),
}

impl ValidationTokens {
    /// True when the field is not in the body.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent)
    }

    /// True for `null` and for a list that holds a `null` or nothing at all.
    pub fn is_null_like(&self) -> bool {
        match self {
            Self::Absent => false,
            Self::Null => true,
            Self::Tokens(tokens) => tokens.is_empty() || tokens.iter().any(Option::is_none),
        }
    }
}

impl Serialize for ValidationTokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Absent | Self::Null => serializer.serialize_none(),
            Self::Tokens(tokens) => tokens.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ValidationTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Reached only when the field is present; a missing field takes `Default` (Absent).
        Ok(
            match Option::<Vec<Option<String>>>::deserialize(deserializer)? {
                None => Self::Null,
                Some(tokens) => Self::Tokens(tokens),
            },
        )
    }
}

/// One item of a notification POST: a change (`changeType`) or a lifecycle event
/// (`lifecycleEvent`), never both.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeNotification {
    /// Optional notification id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The subscription that produced it.
    pub subscription_id: String,
    /// That subscription's expiry.
    pub subscription_expiration_date_time: DateTime<Utc>,
    /// The tenant.
    pub tenant_id: String,
    /// The subscription's `clientState`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_state: Option<String>,
    /// `created`, `updated` or `deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_type: Option<String>,
    /// Set on lifecycle notifications only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_event: Option<LifecycleEvent>,
    /// e.g. `copilot/interactionHistory/interactions('…')`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Which item changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_data: Option<ResourceData>,
    /// The item itself, encrypted for the subscriber's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted_content: Option<EncryptedContent>,
}

/// `lifecycleEvent` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LifecycleEvent {
    /// Renew or reauthorize, or the flow pauses.
    ReauthorizationRequired,
    /// The subscription is gone: recreate and resync.
    SubscriptionRemoved,
    /// Notifications were lost: resync.
    Missed,
    /// A value this version does not know.
    #[serde(other)]
    Unknown,
}

/// `resourceData` of a change notification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceData {
    /// The item's id.
    pub id: String,
    /// `#Microsoft.Graph.aiInteraction`.
    #[serde(rename = "@odata.type")]
    pub odata_type: String,
    /// Relative resource path of the item.
    #[serde(rename = "@odata.id")]
    pub odata_id: String,
    /// Sometimes present.
    #[serde(
        rename = "@odata.etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_etag: Option<String>,
}

/// `encryptedContent` (graph-facts §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncryptedContent {
    /// Base64 AES-256-CBC ciphertext of the item JSON.
    pub data: String,
    /// Base64 HMAC-SHA256 of the ciphertext bytes under the symmetric key.
    pub data_signature: String,
    /// Base64 RSA-OAEP-SHA1 encryption of the symmetric key.
    pub data_key: String,
    /// The subscriber's id of the certificate used.
    pub encryption_certificate_id: String,
    /// Hex SHA-1 of that certificate's DER.
    pub encryption_certificate_thumbprint: String,
}

impl std::fmt::Debug for ChangeNotification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::redacted_debug::fmt_redacted(f, "ChangeNotification", self)
    }
}
