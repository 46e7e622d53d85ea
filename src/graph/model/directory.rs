//! Directory objects read for diagnosis: the service principal, the application's secrets,
//! tenant licences and users' plans (graph-facts §7).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /servicePrincipals(appId='…')`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePrincipal {
    /// `@odata.context`.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_context: Option<String>,
    /// Object id.
    pub id: String,
    /// Client id.
    pub app_id: String,
    /// Name in Enterprise applications.
    pub display_name: String,
    /// "Assignment required": when true, Graph cannot mint validation tokens unless the Change
    /// Tracking app holds a role.
    pub app_role_assignment_required: bool,
    /// False when the enterprise app is disabled.
    pub account_enabled: bool,
}

/// `GET /applications(appId='…')`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `@odata.context`.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_context: Option<String>,
    /// Object id.
    pub id: String,
    /// Client id.
    pub app_id: String,
    /// Name in App registrations.
    pub display_name: String,
    /// Client secrets (values never returned).
    #[serde(default)]
    pub password_credentials: Vec<PasswordCredential>,
    /// Certificates.
    #[serde(default)]
    pub key_credentials: Vec<serde_json::Value>,
}

/// `passwordCredential`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordCredential {
    /// Do not use.
    #[serde(default)]
    pub custom_key_identifier: Option<String>,
    /// The secret's description.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Expiry.
    pub end_date_time: DateTime<Utc>,
    /// First three characters of the value.
    #[serde(default)]
    pub hint: Option<String>,
    /// The "Secret ID" shown in the portal.
    pub key_id: String,
    /// Only on creation.
    #[serde(default)]
    pub secret_text: Option<String>,
    /// Start of validity.
    #[serde(default)]
    pub start_date_time: Option<DateTime<Utc>>,
}

/// `subscribedSku`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedSku {
    /// SKU id.
    pub sku_id: String,
    /// e.g. `Microsoft_365_Copilot`.
    pub sku_part_number: String,
    /// `User` or `Company`.
    #[serde(default)]
    pub applies_to: Option<String>,
    /// `Enabled`, `Warning`, …
    #[serde(default)]
    pub capability_status: Option<String>,
    /// Seats in use.
    #[serde(default)]
    pub consumed_units: Option<u64>,
    /// Seats bought.
    #[serde(default)]
    pub prepaid_units: Option<PrepaidUnits>,
    /// The plans in the SKU.
    #[serde(default)]
    pub service_plans: Vec<ServicePlanInfo>,
}

/// `licenseUnitsDetail`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepaidUnits {
    /// Active seats.
    pub enabled: u64,
    /// Suspended seats.
    pub suspended: u64,
    /// Seats in warning.
    pub warning: u64,
}

/// `servicePlanInfo`. Match on `service_plan_id`; names other than the Chat plan are
/// placeholders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServicePlanInfo {
    /// Plan id.
    pub service_plan_id: String,
    /// Plan name.
    #[serde(default)]
    pub service_plan_name: Option<String>,
    /// `Success`, `Disabled`, `Error`, `PendingInput`, …
    pub provisioning_status: String,
    /// `User` or `Company`.
    #[serde(default)]
    pub applies_to: Option<String>,
}

/// `user` with the fields pilotwatch selects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// `@odata.context` on single-entity answers.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_context: Option<String>,
    /// Object id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Sign-in name.
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// Plans, when selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_plans: Option<Vec<AssignedPlan>>,
}

/// `assignedPlan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedPlan {
    /// When it was assigned.
    #[serde(default)]
    pub assigned_date_time: Option<DateTime<Utc>>,
    /// `Enabled`, `Warning`, `Suspended`, `LockedOut`, `Deleted`.
    pub capability_status: String,
    /// Service name.
    #[serde(default)]
    pub service: Option<String>,
    /// Plan id.
    pub service_plan_id: String,
}
