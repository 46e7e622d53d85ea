//! The sections of a scenario file (`[credentials]`, `[consent]`, `[directory]`, `[activity]`,
//! `[delivery]`, `[graph]`, `[lifecycle]`, `[time]`) and their healthy defaults. Loading and
//! checking a whole scenario is `scenario`'s job; this file only says what each key means.
//!
//! Depends on `graph::model::well_known` only.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::graph::model::well_known::{
    APPLICATION_READ_ROLE, INTERACTION_EXPORT_ROLE, ORGANIZATION_READ_ROLE, USER_READ_ROLE,
};

/// Which client id an operator's configuration holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfiguredClientId {
    /// The registered app's id.
    #[default]
    Registered,
    /// An id the tenant does not know (AADSTS700016).
    Unknown,
}

/// Which secret an operator's configuration holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfiguredSecret {
    /// The secret's value.
    #[default]
    Value,
    /// The "Secret ID" (`keyId`) instead of the value (AADSTS7000215).
    KeyId,
    /// Something else entirely (AADSTS7000215).
    Wrong,
}

/// `[credentials]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Credentials {
    /// What the operator's configuration holds as client id.
    pub configured_client_id: ConfiguredClientId,
    /// What the operator's configuration holds as secret.
    pub configured_secret: ConfiguredSecret,
    /// Days until the secret expires; zero or negative means it has expired.
    pub secret_expires_in_days: i64,
    /// False when the application is disabled (AADSTS7000112).
    pub app_enabled: bool,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            configured_client_id: ConfiguredClientId::Registered,
            configured_secret: ConfiguredSecret::Value,
            secret_expires_in_days: 180,
            app_enabled: true,
        }
    }
}

/// `[consent]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Consent {
    /// Application permissions an admin consented; they become the token's `roles`.
    pub roles: Vec<String>,
}

impl Default for Consent {
    fn default() -> Self {
        let roles = [
            INTERACTION_EXPORT_ROLE,
            USER_READ_ROLE,
            APPLICATION_READ_ROLE,
            ORGANIZATION_READ_ROLE,
        ];
        Self {
            roles: roles.iter().map(|role| (*role).to_owned()).collect(),
        }
    }
}

/// `[directory]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Directory {
    /// "Assignment required" on the enterprise app: Graph then cannot mint validation tokens.
    pub app_role_assignment_required: bool,
    /// False: the tenant has no Copilot SKU and no user has a Copilot plan.
    pub copilot_licences: bool,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            app_role_assignment_required: false,
            copilot_licences: true,
        }
    }
}

/// `[activity]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Activity {
    /// Prompt/response pairs per simulated hour across the tenant, at the daytime peak.
    pub pairs_per_hour: f64,
    /// Quieter nights and weekends.
    pub day_night: bool,
    /// Days of history generated before the simulator starts, so backfills find something.
    pub history_days: u32,
}

impl Default for Activity {
    fn default() -> Self {
        Self {
            pairs_per_hour: 240.0,
            day_night: true,
            history_days: 2,
        }
    }
}

/// What `validationTokens` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenMode {
    /// Real JWTs: Graph could mint them.
    #[default]
    Signed,
    /// `"validationTokens": null`, the documented shape when assignment is required.
    Null,
    /// `"validationTokens": [null]`, the other shape the docs' wording allows.
    NullEntry,
}

/// Which certificate encrypted content is computed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncryptFor {
    /// The certificate the subscriber uploaded.
    #[default]
    Uploaded,
    /// A certificate the subscriber does not hold (rotated away): decryption must fail and
    /// name the id and thumbprint that were asked for.
    UnknownCertificate,
}

/// `[delivery]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Delivery {
    /// Shape of `validationTokens` on rich notifications.
    pub validation_tokens: TokenMode,
    /// Which certificate the content is encrypted for.
    pub encrypt_for: EncryptFor,
    /// Median delay between an interaction and its notification.
    #[serde(with = "humantime_serde")]
    pub latency_median: Duration,
    /// Spread of the log-normal delay distribution.
    pub latency_sigma: f64,
    /// Share of notifications that fall in the long tail.
    pub tail_fraction: f64,
    /// Longest delay in the tail.
    #[serde(with = "humantime_serde")]
    pub tail_max: Duration,
    /// False: the notification URL cannot be reached from "Graph" (handshakes and deliveries
    /// fail with a connection error).
    pub endpoint_reachable: bool,
    /// Extra network delay before a share of deliveries reaches the subscriber (real time, at
    /// most [`MAX_INJECTED_DELAY`]). An attempt waits at most its timeout (3 s first, 10 s on
    /// retries), so over 3 s makes first attempts slow (Graph's delay state) and over 10 s
    /// exceeds the retry timeout (Graph's drop state).
    #[serde(with = "humantime_serde")]
    pub injected_delay: Duration,
    /// Share of deliveries that get `injected_delay`.
    pub injected_delay_fraction: f64,
    /// Most items in one POST.
    pub max_batch: usize,
}

impl Default for Delivery {
    fn default() -> Self {
        Self {
            validation_tokens: TokenMode::Signed,
            encrypt_for: EncryptFor::Uploaded,
            latency_median: Duration::from_secs(3),
            latency_sigma: 0.8,
            tail_fraction: 0.001,
            tail_max: Duration::from_secs(60 * 60),
            endpoint_reachable: true,
            injected_delay: Duration::ZERO,
            injected_delay_fraction: 0.0,
            max_batch: 10,
        }
    }
}

/// A window in which Graph answers 503 and delivers nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// Simulated time from scenario activation to the start of the outage.
    #[serde(with = "humantime_serde")]
    pub starts_after: Duration,
    /// Simulated length of the outage.
    #[serde(with = "humantime_serde")]
    pub lasts: Duration,
}

/// `[graph]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GraphFaults {
    /// Export API budget per app per tenant, requests per second (Graph: 30).
    pub export_requests_per_second: f64,
    /// A Graph outage window, if any.
    pub outage: Option<Outage>,
}

impl Default for GraphFaults {
    fn default() -> Self {
        Self {
            export_requests_per_second: 30.0,
            outage: None,
        }
    }
}

/// `[lifecycle]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lifecycle {
    /// Send `reauthorizationRequired` challenges: at the documented cadence before expiry,
    /// before Graph's hourly endpoint token lapses, and at once when the export permission
    /// loses admin consent. Holding notifications of unauthorized subscriptions happens either
    /// way (it is Graph's rule, not a fault).
    pub reauthorization_required: bool,
    /// Remove every subscription this long (simulated) after it is created or after scenario
    /// activation, whichever is later, sending `subscriptionRemoved`.
    #[serde(with = "humantime_serde")]
    pub remove_subscriptions_after: Option<Duration>,
    /// Send `missed` once to every live subscription this long (simulated) after it is
    /// created or after scenario activation, whichever is later.
    #[serde(with = "humantime_serde")]
    pub missed_after: Option<Duration>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            reauthorization_required: true,
            remove_subscriptions_after: None,
            missed_after: None,
        }
    }
}

/// `[time]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeFaults {
    /// Seconds the simulated Graph's clock runs ahead (negative: behind) of the caller's.
    pub skew_seconds: i64,
}
