//! Scenarios: TOML files that say what the simulated tenant gets wrong. Every scenario shipped
//! with pilotwatch is embedded in the binary (`src/sim/scenarios/*.toml`); a path to a file of
//! the same shape works too. Unknown keys are errors, so a typo never silently means "healthy".
//!
//! Depends on `graph::model::well_known` only.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::graph::model::well_known::{
    APPLICATION_READ_ROLE, INTERACTION_EXPORT_ROLE, ORGANIZATION_READ_ROLE, USER_READ_ROLE,
};

/// The embedded scenarios, `(name, TOML text)`.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("healthy", include_str!("scenarios/healthy.toml")),
    (
        "app-role-assignment-required",
        include_str!("scenarios/app-role-assignment-required.toml"),
    ),
    (
        "invalid-client-id",
        include_str!("scenarios/invalid-client-id.toml"),
    ),
    (
        "secret-id-pasted",
        include_str!("scenarios/secret-id-pasted.toml"),
    ),
    (
        "secret-expired",
        include_str!("scenarios/secret-expired.toml"),
    ),
    (
        "secret-expiring",
        include_str!("scenarios/secret-expiring.toml"),
    ),
    (
        "missing-admin-consent",
        include_str!("scenarios/missing-admin-consent.toml"),
    ),
    (
        "wrong-permissions",
        include_str!("scenarios/wrong-permissions.toml"),
    ),
    ("unlicensed", include_str!("scenarios/unlicensed.toml")),
    (
        "endpoint-unreachable",
        include_str!("scenarios/endpoint-unreachable.toml"),
    ),
    (
        "slow-endpoint",
        include_str!("scenarios/slow-endpoint.toml"),
    ),
    (
        "latency-degraded",
        include_str!("scenarios/latency-degraded.toml"),
    ),
    ("throttled", include_str!("scenarios/throttled.toml")),
    (
        "subscription-removed",
        include_str!("scenarios/subscription-removed.toml"),
    ),
    ("cert-rotated", include_str!("scenarios/cert-rotated.toml")),
    ("clock-skew", include_str!("scenarios/clock-skew.toml")),
    ("graph-outage", include_str!("scenarios/graph-outage.toml")),
];

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Neither an embedded name nor a readable file.
    #[error("unknown scenario {name:?}; built-in scenarios are: {known}")]
    Unknown {
        /// What was asked for.
        name: String,
        /// The embedded names, comma-separated.
        known: String,
    },
    /// The file could not be read.
    #[error("cannot read scenario file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown keys.
    #[error("scenario {origin} is not valid: {message}")]
    Invalid {
        /// File or embedded name.
        origin: String,
        /// The parser's explanation, with line and column.
        message: String,
    },
}

/// One scenario. Every section has healthy defaults, so a file states only what it breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, e.g. `secret-expired`.
    pub name: String,
    /// What this simulates, in one line.
    pub summary: String,
    /// What an operator should see and why (free text).
    #[serde(default)]
    pub description: String,
    /// The app registration and the credentials an operator was given.
    #[serde(default)]
    pub credentials: Credentials,
    /// Application permissions with admin consent.
    #[serde(default)]
    pub consent: Consent,
    /// Service principal and licences.
    #[serde(default)]
    pub directory: Directory,
    /// The synthetic Copilot usage.
    #[serde(default)]
    pub activity: Activity,
    /// How notifications reach the subscriber.
    #[serde(default)]
    pub delivery: Delivery,
    /// Faults on the Graph side.
    #[serde(default)]
    pub graph: GraphFaults,
    /// Lifecycle events.
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// Clock faults.
    #[serde(default)]
    pub time: TimeFaults,
}

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
    /// Extra network delay before a share of deliveries reaches the subscriber (real time).
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
    /// Send `reauthorizationRequired` at the documented cadence before expiry.
    pub reauthorization_required: bool,
    /// Remove every subscription this long (simulated) after it is created or after scenario
    /// activation, sending `subscriptionRemoved` and then `missed`.
    #[serde(with = "humantime_serde")]
    pub remove_subscriptions_after: Option<Duration>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            reauthorization_required: true,
            remove_subscriptions_after: None,
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

impl Scenario {
    /// Loads an embedded scenario by name, or a file when `name_or_path` names one.
    pub fn load(name_or_path: &str) -> Result<Self, ScenarioError> {
        if let Some((name, text)) = EMBEDDED.iter().find(|(name, _)| *name == name_or_path) {
            return Self::parse(text, name);
        }
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|ext| ext == "toml") || path.exists() {
            let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
                path: path.display().to_string(),
                source,
            })?;
            return Self::parse(&text, &path.display().to_string());
        }
        Err(ScenarioError::Unknown {
            name: name_or_path.to_owned(),
            known: EMBEDDED
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// Parses and checks a scenario's TOML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            origin: origin.to_owned(),
            message,
        };
        let scenario: Self = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        scenario.check().map_err(invalid)?;
        Ok(scenario)
    }

    fn check(&self) -> Result<(), String> {
        let fractions = [
            ("delivery.tail_fraction", self.delivery.tail_fraction),
            (
                "delivery.injected_delay_fraction",
                self.delivery.injected_delay_fraction,
            ),
        ];
        for (key, value) in fractions {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{key} must be between 0 and 1, got {value}"));
            }
        }
        if !(self.delivery.latency_sigma.is_finite() && self.delivery.latency_sigma >= 0.0) {
            return Err("delivery.latency_sigma must be zero or positive".to_owned());
        }
        if self.delivery.max_batch == 0 || self.delivery.max_batch > 1000 {
            return Err("delivery.max_batch must be between 1 and 1000".to_owned());
        }
        let rate = self.graph.export_requests_per_second;
        if !(rate.is_finite() && rate > 0.0) {
            return Err("graph.export_requests_per_second must be positive".to_owned());
        }
        let pairs = self.activity.pairs_per_hour;
        if !(pairs.is_finite() && (0.0..=100_000.0).contains(&pairs)) {
            return Err("activity.pairs_per_hour must be between 0 and 100000".to_owned());
        }
        if self.activity.history_days > 30 {
            return Err("activity.history_days must be at most 30".to_owned());
        }
        self.check_time_ranges()
    }

    /// Bounds that keep every date computed from the scenario far inside what the clock can
    /// represent, so no scenario, however odd, can make time arithmetic overflow.
    fn check_time_ranges(&self) -> Result<(), String> {
        const DAY: u64 = 86_400;
        if self.time.skew_seconds.unsigned_abs() > DAY {
            return Err("time.skew_seconds must be within one day (±86400)".to_owned());
        }
        if self.credentials.secret_expires_in_days.unsigned_abs() > 36_500 {
            return Err("credentials.secret_expires_in_days must be within ±36500".to_owned());
        }
        if self.graph.export_requests_per_second < 0.001 {
            return Err("graph.export_requests_per_second must be at least 0.001".to_owned());
        }
        let mut spans = vec![
            (
                "delivery.latency_median",
                Some(self.delivery.latency_median),
                7 * DAY,
            ),
            ("delivery.tail_max", Some(self.delivery.tail_max), 7 * DAY),
            (
                "delivery.injected_delay",
                Some(self.delivery.injected_delay),
                60,
            ),
            (
                "lifecycle.remove_subscriptions_after",
                self.lifecycle.remove_subscriptions_after,
                365 * DAY,
            ),
        ];
        if let Some(outage) = &self.graph.outage {
            spans.push((
                "graph.outage.starts_after",
                Some(outage.starts_after),
                365 * DAY,
            ));
            spans.push(("graph.outage.lasts", Some(outage.lasts), 365 * DAY));
        }
        for (key, span, max_secs) in spans {
            if span.is_some_and(|span| span.as_secs() > max_secs) {
                return Err(format!("{key} must be at most {max_secs} seconds"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_scenario_parses_and_is_named_after_its_file() {
        for (name, text) in EMBEDDED {
            let scenario = Scenario::parse(text, name).unwrap();
            assert_eq!(&scenario.name, name);
            assert!(!scenario.summary.is_empty(), "{name} has no summary");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_clear_errors() {
        let typo = "name = \"x\"\nsummary = \"y\"\n[delivery]\nvalidation_token = \"null\"\n";
        let message = Scenario::parse(typo, "typo.toml").unwrap_err().to_string();
        assert!(message.contains("validation_token"), "{message}");
        let bad = "name = \"x\"\nsummary = \"y\"\n[delivery]\ntail_fraction = 2.0\n";
        let message = Scenario::parse(bad, "bad.toml").unwrap_err().to_string();
        assert!(message.contains("tail_fraction"), "{message}");
        for (key, bad) in [
            (
                "skew_seconds",
                "[time]\nskew_seconds = 9223372036854775807\n",
            ),
            (
                "secret_expires_in_days",
                "[credentials]\nsecret_expires_in_days = -9223372036854775807\n",
            ),
            (
                "export_requests_per_second",
                "[graph]\nexport_requests_per_second = 1e-30\n",
            ),
            (
                "lasts",
                "[graph.outage]\nstarts_after = \"1m\"\nlasts = \"100000days\"\n",
            ),
        ] {
            let text = format!("name = \"x\"\nsummary = \"y\"\n{bad}");
            let message = Scenario::parse(&text, "huge.toml").unwrap_err().to_string();
            assert!(message.contains(key), "{key}: {message}");
        }
        let message = Scenario::load("no-such-scenario").unwrap_err().to_string();
        assert!(message.contains("healthy"), "{message}");
    }
}
