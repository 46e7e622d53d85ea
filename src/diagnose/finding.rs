//! A finding: one thing pilotwatch observed that an operator should know, written so they can
//! act on it — a stable [`FindingCode`], a severity, a one-line title, the evidence (what was
//! observed, how many, since when), the cause in plain words and the fix as numbered steps
//! (DESIGN rule 4). The same values reach the TUI, `check`, `--json` and `/metrics`.
//!
//! Codes are part of pilotwatch's interface — scripts match on them, `/metrics` labels carry
//! them, the findings history keys on them — so a code's spelling never changes; new findings
//! get new codes.
//!
//! Depends on `severity` only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::severity::Severity;

/// The part of the pipeline a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    /// The app registration, its secret, permissions and licences.
    Credentials,
    /// The Graph change subscription.
    Subscriptions,
    /// Notifications reaching the receiver and entering the feed.
    Delivery,
    /// Microsoft Graph itself.
    Graph,
    /// pilotwatch's own store and collector.
    Store,
}

impl Area {
    /// The kebab-case name, as in JSON and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Area::Credentials => "credentials",
            Area::Subscriptions => "subscriptions",
            Area::Delivery => "delivery",
            Area::Graph => "graph",
            Area::Store => "store",
        }
    }
}

macro_rules! finding_codes {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, $area:ident; )*) => {
        /// Stable identifier of a finding: kebab-case in JSON, metrics and the findings history.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        pub enum FindingCode {
            $( $(#[$doc])* #[serde(rename = $code)] $variant, )*
        }

        impl FindingCode {
            /// Every code, in catalog order.
            pub const ALL: &'static [FindingCode] = &[ $( FindingCode::$variant, )* ];

            /// The code as scripts see it.
            pub fn as_str(self) -> &'static str {
                match self { $( FindingCode::$variant => $code, )* }
            }

            /// The part of the pipeline it is about.
            pub fn area(self) -> Area {
                match self { $( FindingCode::$variant => Area::$area, )* }
            }

            /// The code with this spelling.
            pub fn parse(code: &str) -> Option<FindingCode> {
                match code { $( $code => Some(FindingCode::$variant), )* _ => None }
            }
        }
    };
}

finding_codes! {
    /// The tenant id or domain is unknown to the identity platform, or malformed.
    TenantUnknown => "tenant-unknown", Credentials;
    /// No application with this client id exists in the tenant.
    ClientIdUnknown => "client-id-unknown", Credentials;
    /// The configured secret is a Secret ID (a GUID), not the secret's Value.
    SecretIdPasted => "secret-id-pasted", Credentials;
    /// The identity platform refuses the secret.
    SecretWrong => "secret-wrong", Credentials;
    /// The secret could not be loaded from its source.
    SecretUnreadable => "secret-unreadable", Credentials;
    /// The secret has expired.
    SecretExpired => "secret-expired", Credentials;
    /// The secret expires within a threshold (30, 14, 7 or 1 days).
    SecretExpiring => "secret-expiring", Credentials;
    /// The application or its service principal is disabled.
    AppDisabled => "app-disabled", Credentials;
    /// No application permission is consented: the token carries no roles.
    AdminConsentMissing => "admin-consent-missing", Credentials;
    /// The Copilot-connectors permissions were granted instead of `AiEnterpriseInteraction.Read.All`.
    WrongPermissionSet => "wrong-permission-set", Credentials;
    /// Delegated permissions where application permissions are needed.
    DelegatedPermissions => "delegated-permissions", Credentials;
    /// A required application permission is missing.
    PermissionMissing => "permission-missing", Credentials;
    /// `User.Read.All` is missing: users show as ids, not names.
    UserReadMissing => "user-read-missing", Credentials;
    /// The tenant lacks the Copilot service plans a tenant-wide subscription needs.
    TenantLicenceMissing => "tenant-licence-missing", Credentials;
    /// Users hold no Microsoft 365 Copilot licence.
    UserLicenceMissing => "user-licence-missing", Credentials;
    /// The local clock is off: token requests and JWT checks will fail.
    ClockSkew => "clock-skew", Credentials;
    /// The identity platform refuses the token request for another reason.
    TokenRefused => "token-refused", Credentials;
    /// The identity platform cannot be reached or answers nonsense.
    IdentityUnreachable => "identity-unreachable", Credentials;

    /// No subscription exists for the Copilot resource.
    SubscriptionMissing => "subscription-missing", Subscriptions;
    /// Creating the subscription fails at Graph's validation handshake.
    HandshakeFailing => "handshake-failing", Subscriptions;
    /// The subscription expires soon and has not been renewed.
    SubscriptionExpiring => "subscription-expiring", Subscriptions;
    /// The subscription has expired.
    SubscriptionExpired => "subscription-expired", Subscriptions;
    /// Graph removed the subscription (`subscriptionRemoved`).
    SubscriptionRemoved => "subscription-removed", Subscriptions;
    /// Reauthorizing or renewing the subscription fails.
    ReauthorizationFailing => "reauthorization-failing", Subscriptions;
    /// The subscription has no lifecycle notification URL (cannot be added later).
    LifecycleUrlMissing => "lifecycle-url-missing", Subscriptions;
    /// Another process of the same app already holds the tenant-wide subscription.
    SubscriptionQuota => "subscription-quota", Subscriptions;

    /// No notifications while the export API shows new interactions.
    PushPathBroken => "push-path-broken", Delivery;
    /// Notifications arrive with `validationTokens: null`.
    ValidationTokensNull => "validation-tokens-null", Delivery;
    /// Validation tokens fail a check.
    ValidationTokensInvalid => "validation-tokens-invalid", Delivery;
    /// Notifications carry a `clientState` that is not ours.
    ClientStateMismatch => "client-state-mismatch", Delivery;
    /// Rich content does not decrypt.
    DecryptionFailing => "decryption-failing", Delivery;
    /// The endpoint acknowledges too slowly for Graph.
    EndpointSlow => "endpoint-slow", Delivery;
    /// Notifications arrive late.
    LatencyHigh => "latency-high", Delivery;
    /// Notifications arrive later than Microsoft's documented maximum: a Graph-side incident.
    LatencyBeyondMaximum => "latency-beyond-maximum", Delivery;
    /// Nobody used Copilot lately: the export API shows no new interactions either.
    NoRecentActivity => "no-recent-activity", Delivery;

    /// Graph throttles our requests (429).
    GraphThrottling => "graph-throttling", Graph;
    /// Graph fails our requests (5xx).
    GraphOutage => "graph-outage", Graph;

    /// Retention is discarding interactions sooner than configured.
    RetentionPressure => "retention-pressure", Store;
    /// Another collector holds the store.
    StoreLocked => "store-locked", Store;
    /// The store was corrupt and moved aside; a fresh one was started.
    StoreMovedAside => "store-moved-aside", Store;
    /// No collector is running to gather delivery facts.
    CollectorUnreachable => "collector-unreachable", Store;
    /// One of the collector's tasks died: part of its job is no longer done.
    CollectorTaskDied => "collector-task-died", Store;
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// What it is.
    pub code: FindingCode,
    /// How bad.
    pub severity: Severity,
    /// One line, for lists and status lines.
    pub title: String,
    /// What was observed, one fact per line.
    pub evidence: Vec<String>,
    /// Since when the condition has held, when known.
    pub since: Option<DateTime<Utc>>,
    /// Why, in plain words.
    pub cause: String,
    /// What to do, in order.
    pub fix: Vec<String>,
}

impl Finding {
    /// The part of the pipeline it is about.
    pub fn area(&self) -> Area {
        self.code.area()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_kebab_case_and_round_trip() {
        let mut seen = HashSet::new();
        for &code in FindingCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} appears twice");
            assert!(
                text.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{text} is not kebab-case"
            );
            assert_eq!(FindingCode::parse(text), Some(code));
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::from(text)
            );
        }
        assert_eq!(FindingCode::parse("no-such-code"), None);
    }

    #[test]
    fn every_area_has_findings() {
        for area in [
            Area::Credentials,
            Area::Subscriptions,
            Area::Delivery,
            Area::Graph,
            Area::Store,
        ] {
            assert!(
                FindingCode::ALL.iter().any(|code| code.area() == area),
                "{area:?}"
            );
        }
    }
}
