//! The output of the credential report: [`CredentialReport`], one per profile, as the TUI's
//! Credentials tab, `pilotwatch creds test [--json]` and `pilotwatch check` show it.
//!
//! Two views of the same assessment: `checks`, a fixed-order list of plain-language findings
//! (severity, what was seen, why, numbered fix), and typed sections a UI can lay out (token,
//! roles, secret, service principal, licences, clock). Field names and kebab-case ids are a
//! stable JSON contract. Pure data: this module depends only on [`Severity`] and chrono, and it
//! never holds a secret — at most the secret's three-character hint.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::severity::Severity;

/// Everything pilotwatch could tell about one profile's credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialReport {
    /// The worst severity of all checks (see [`Severity`]'s ordering).
    pub severity: Severity,
    /// Profile name.
    pub profile: String,
    /// Tenant id or domain, as configured.
    pub tenant: String,
    /// Application (client) id, as configured.
    pub client_id: String,
    /// When the facts were gathered.
    pub checked_at: DateTime<Utc>,
    /// One entry per [`CheckId`], in [`CheckId::ORDER`].
    pub checks: Vec<Check>,
    /// The token request.
    pub token: TokenSection,
    /// Application permissions in the token.
    pub roles: RolesSection,
    /// The configured secret and its expiry.
    pub secret: SecretSection,
    /// The app's service principal in the tenant.
    pub service_principal: ServicePrincipalSection,
    /// Copilot licences, tenant-wide and for sampled users.
    pub licences: LicencesSection,
    /// The local clock against the server's.
    pub clock_skew: ClockSkewSection,
}

impl CredentialReport {
    /// The Nagios exit code of the overall severity.
    pub fn exit_code(&self) -> u8 {
        self.severity.exit_code()
    }

    /// The check with this id.
    pub fn check(&self, id: CheckId) -> Option<&Check> {
        self.checks.iter().find(|check| check.id == id)
    }
}

/// Stable identifier of a check, kebab-case in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    /// The secret loads and is shaped like a secret value.
    Secret,
    /// The identity platform issues a token.
    Token,
    /// The token carries the right application permissions.
    Roles,
    /// The secret is not about to expire.
    SecretExpiry,
    /// The service principal lets Graph mint validation tokens.
    ServicePrincipal,
    /// The tenant holds the six Copilot service plans.
    TenantLicences,
    /// Sampled users hold Microsoft 365 Copilot.
    UserLicences,
    /// The local clock agrees with the server's.
    ClockSkew,
}

impl CheckId {
    /// The order checks appear in: each one's fix tends to unblock the ones after it.
    pub const ORDER: [CheckId; 8] = [
        CheckId::Secret,
        CheckId::Token,
        CheckId::Roles,
        CheckId::SecretExpiry,
        CheckId::ServicePrincipal,
        CheckId::TenantLicences,
        CheckId::UserLicences,
        CheckId::ClockSkew,
    ];

    /// The kebab-case id, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Secret => "secret",
            CheckId::Token => "token",
            CheckId::Roles => "roles",
            CheckId::SecretExpiry => "secret-expiry",
            CheckId::ServicePrincipal => "service-principal",
            CheckId::TenantLicences => "tenant-licences",
            CheckId::UserLicences => "user-licences",
            CheckId::ClockSkew => "clock-skew",
        }
    }
}

/// One finding, written for the operator who has to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// Which check.
    pub id: CheckId,
    /// How bad.
    pub severity: Severity,
    /// Short name of what was checked.
    pub title: String,
    /// One plain sentence: the state.
    pub summary: String,
    /// What was observed, one fact per line.
    pub evidence: Vec<String>,
    /// Why it is in this state, when something is wrong.
    pub cause: Option<String>,
    /// Steps to fix it, in order; empty when there is nothing to fix.
    pub fix: Vec<String>,
}

/// Whether a directory read succeeded, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Availability {
    /// Read.
    Read,
    /// Graph refused (403); granting this permission would make it readable.
    NotReadable {
        /// The application permission to grant.
        grant: String,
    },
    /// The read failed for another reason.
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// Not attempted: there was no token.
    NotTried,
}

/// How the token request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStatus {
    /// A token was issued.
    Granted,
    /// The identity platform refused with an OAuth error.
    Refused,
    /// The token endpoint could not be reached.
    Unreachable,
    /// The endpoint answered with neither a token nor an OAuth error.
    UnexpectedAnswer,
    /// The configured authority URL cannot carry the token path.
    InvalidAuthority,
    /// Not attempted: the secret could not be loaded.
    NotTried,
}

/// The token request, for layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenSection {
    /// How it ended.
    pub status: TokenStatus,
    /// The login authority it was sent to.
    pub authority: String,
    /// HTTP status of a refusal or unexpected answer.
    pub http_status: Option<u16>,
    /// The OAuth `error` of a refusal, e.g. `invalid_client`.
    pub error: Option<String>,
    /// The AADSTS code of a refusal.
    pub aadsts_code: Option<u64>,
    /// For support tickets.
    pub trace_id: Option<String>,
    /// For support tickets.
    pub correlation_id: Option<String>,
    /// When the issued token expires.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Application permissions, granted against needed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolesSection {
    /// False when there was no decodable token to read the roles from.
    pub checked: bool,
    /// The `roles` claim, as issued.
    pub granted: Vec<String>,
    /// Needed for the export at all.
    pub required: Vec<String>,
    /// Needed to show user names and sample licences.
    pub recommended: Vec<String>,
    /// Deepen the diagnosis only.
    pub optional: Vec<String>,
    /// Required roles not granted.
    pub missing_required: Vec<String>,
    /// Recommended roles not granted.
    pub missing_recommended: Vec<String>,
    /// Optional roles not granted.
    pub missing_optional: Vec<String>,
    /// The token carries no `roles` claim at all: nothing is admin-consented.
    pub admin_consent_missing: bool,
    /// The Copilot connectors permissions were consented instead of the export permission.
    pub wrong_permission_set: bool,
    /// The token is delegated (user) rather than app-only.
    pub delegated: bool,
}

/// Where the secret's expiry date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpirySource {
    /// The app registration's `passwordCredentials`, matched by hint.
    Graph,
    /// The profile's `secret_expires` (end of that day, UTC).
    Configured,
    /// Neither was available.
    Unknown,
}

/// The configured secret, for layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretSection {
    /// Where it is read from.
    pub source: String,
    /// Why it could not be loaded; `None` when it loaded.
    pub load_error: Option<String>,
    /// Its first three characters, as the portal shows them; `None` when unknown or too short.
    pub hint: Option<String>,
    /// Shaped like a GUID, i.e. probably the portal's "Secret ID" rather than its value.
    pub looks_like_secret_id: bool,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Where `expires_at` came from.
    pub expiry_source: ExpirySource,
    /// Whole days until expiry, negative once expired.
    pub days_left: Option<i64>,
    /// The smallest warning threshold (in days) already crossed, if any.
    pub threshold_crossed_days: Option<u32>,
    /// Already expired.
    pub expired: bool,
    /// The matching app secret's description in the portal.
    pub credential_name: Option<String>,
    /// The matching app secret's "Secret ID" (not secret: an identifier).
    pub credential_key_id: Option<String>,
}

/// The app's service principal (Enterprise applications), for layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicePrincipalSection {
    /// Whether it could be read.
    pub availability: Availability,
    /// `appRoleAssignmentRequired`.
    pub assignment_required: Option<bool>,
    /// `accountEnabled`.
    pub account_enabled: Option<bool>,
    /// Its name in Enterprise applications.
    pub display_name: Option<String>,
}

/// One of the six Copilot service plans, across the tenant's subscribed SKUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStatus {
    /// The plan id (match on this).
    pub plan_id: String,
    /// Microsoft's display name for it.
    pub name: String,
    /// `provisioningStatus` (`Success` when any SKU provisions it); `None` when no SKU has it.
    pub provisioning_status: Option<String>,
    /// The SKU that status came from.
    pub sku_part_number: Option<String>,
}

/// One sampled user and their Copilot plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampledUser {
    /// Object id.
    pub id: String,
    /// Display name or sign-in name, when read.
    pub name: Option<String>,
    /// `capabilityStatus` of the Copilot Chat plan; `None` when not assigned.
    pub copilot_status: Option<String>,
}

/// Copilot licences, for layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicencesSection {
    /// Whether `subscribedSkus` could be read.
    pub tenant: Availability,
    /// The six plans a tenant-wide subscription needs (empty unless read).
    pub plans: Vec<PlanStatus>,
    /// Whether users could be read.
    pub users: Availability,
    /// How many users were sampled.
    pub users_sampled: usize,
    /// How many of them hold the Copilot Chat plan, enabled.
    pub users_licensed: usize,
    /// The sampled users.
    pub sampled: Vec<SampledUser>,
    /// Seats in use of the SKUs that carry the Copilot Chat plan (`consumedUnits`), when the
    /// tenant's SKUs were read: a sample of the first users says little in a pilot tenant, the
    /// seat count says whether anyone holds Copilot at all.
    pub copilot_seats_assigned: Option<u64>,
}

/// The local clock against a server's `Date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSkewSection {
    /// Server minus local, in seconds: positive when the local clock is behind.
    pub skew_seconds: Option<i64>,
    /// The server's `Date`.
    pub server: Option<DateTime<Utc>>,
    /// The local clock at that moment.
    pub local: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn check_ids_are_kebab_case_and_match_as_str() {
        for id in CheckId::ORDER {
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("\"{}\"", id.as_str()));
            let back: CheckId = serde_json::from_str(&json).unwrap();
            assert_eq!(back, id);
        }
        assert_eq!(CheckId::SecretExpiry.as_str(), "secret-expiry");
    }

    #[test]
    fn availability_is_tagged_by_state() {
        let json = serde_json::to_value(Availability::NotReadable {
            grant: "Organization.Read.All".into(),
        })
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"state": "not-readable", "grant": "Organization.Read.All"})
        );
    }
}
