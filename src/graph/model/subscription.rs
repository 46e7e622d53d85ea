//! The `subscription` resource and the bodies of its create and update calls (graph-facts §3.1).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A change-notification subscription as Graph returns it.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// `@odata.context` on single-entity answers.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_context: Option<String>,
    /// Graph's id.
    pub id: String,
    /// The watched resource path.
    pub resource: String,
    /// The app that created it.
    #[serde(default)]
    pub application_id: Option<String>,
    /// Comma-separated `created`, `updated`, `deleted`.
    pub change_type: String,
    /// Echoed on every notification; `null` in list answers.
    #[serde(default)]
    pub client_state: Option<String>,
    /// Where notifications go.
    pub notification_url: String,
    /// Universal Print only (`null` in Copilot answers, but present).
    #[serde(default)]
    pub notification_query_options: Option<String>,
    /// Where lifecycle events go.
    #[serde(default)]
    pub lifecycle_notification_url: Option<String>,
    /// When Graph deletes it unless renewed.
    pub expiration_date_time: DateTime<Utc>,
    /// Service principal object id for app-only creation.
    #[serde(default)]
    pub creator_id: Option<String>,
    /// Rich notifications.
    #[serde(default)]
    pub include_resource_data: Option<bool>,
    /// `v1_0` … `v1_3`.
    #[serde(default)]
    pub latest_supported_tls_version: Option<String>,
    /// Base64 DER of the uploaded certificate.
    #[serde(default)]
    pub encryption_certificate: Option<String>,
    /// The app's name for that certificate.
    #[serde(default)]
    pub encryption_certificate_id: Option<String>,
    /// App id the service may use to mint the validation token.
    #[serde(default)]
    pub notification_url_app_id: Option<String>,
    /// `application/json` in v1.0 examples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_content_type: Option<String>,
}

/// Body of `POST /subscriptions`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionCreate {
    /// Comma-separated `created`, `updated`, `deleted`.
    pub change_type: String,
    /// HTTPS endpoint that receives notifications.
    pub notification_url: String,
    /// HTTPS endpoint for lifecycle events; required beyond one hour of lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifecycle_notification_url: Option<String>,
    /// Resource path, e.g. `/copilot/interactionHistory/getAllEnterpriseInteractions`.
    pub resource: String,
    /// Rich notifications (needs a certificate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_resource_data: Option<bool>,
    /// Base64 DER X.509 certificate with an RSA 2048–4096 key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_certificate: Option<String>,
    /// The app's id for that certificate (≤128 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_certificate_id: Option<String>,
    /// Requested expiry.
    pub expiration_date_time: DateTime<Utc>,
    /// Secret echoed on each notification (≤128 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_state: Option<String>,
    /// `v1_0` … `v1_3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_supported_tls_version: Option<String>,
    /// App id for validation tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_url_app_id: Option<String>,
}

/// Body of `PATCH /subscriptions/{id}`: at least one field must be present.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPatch {
    /// New expiry (renewal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_date_time: Option<DateTime<Utc>>,
    /// New notification URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_url: Option<String>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::redacted_debug::fmt_redacted(f, "Subscription", self)
    }
}

impl std::fmt::Debug for SubscriptionCreate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        super::redacted_debug::fmt_redacted(f, "SubscriptionCreate", self)
    }
}
