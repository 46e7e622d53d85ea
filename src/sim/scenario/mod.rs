//! Scenarios: TOML files that say what the simulated tenant gets wrong. Every scenario shipped
//! with pilotwatch is embedded in the binary (`src/sim/scenarios/*.toml`); a path to a file of
//! the same shape works too. Unknown keys are errors, so a typo never silently means "healthy".
//!
//! Depends on `graph::model::well_known` only.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::graph::model::well_known::INTERACTION_EXPORT_ROLE;

mod sections;

pub use sections::{
    Activity, ConfiguredClientId, ConfiguredSecret, Consent, Credentials, Delivery, Directory,
    EncryptFor, GraphFaults, Lifecycle, Outage, TimeFaults, TokenMode,
};

/// The embedded scenarios, `(name, TOML text)`.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("healthy", include_str!("../scenarios/healthy.toml")),
    (
        "app-role-assignment-required",
        include_str!("../scenarios/app-role-assignment-required.toml"),
    ),
    (
        "invalid-client-id",
        include_str!("../scenarios/invalid-client-id.toml"),
    ),
    (
        "secret-id-pasted",
        include_str!("../scenarios/secret-id-pasted.toml"),
    ),
    (
        "secret-expired",
        include_str!("../scenarios/secret-expired.toml"),
    ),
    (
        "secret-expiring",
        include_str!("../scenarios/secret-expiring.toml"),
    ),
    (
        "missing-admin-consent",
        include_str!("../scenarios/missing-admin-consent.toml"),
    ),
    (
        "wrong-permissions",
        include_str!("../scenarios/wrong-permissions.toml"),
    ),
    ("unlicensed", include_str!("../scenarios/unlicensed.toml")),
    (
        "endpoint-unreachable",
        include_str!("../scenarios/endpoint-unreachable.toml"),
    ),
    (
        "slow-endpoint",
        include_str!("../scenarios/slow-endpoint.toml"),
    ),
    (
        "latency-degraded",
        include_str!("../scenarios/latency-degraded.toml"),
    ),
    ("throttled", include_str!("../scenarios/throttled.toml")),
    (
        "subscription-removed",
        include_str!("../scenarios/subscription-removed.toml"),
    ),
    (
        "cert-rotated",
        include_str!("../scenarios/cert-rotated.toml"),
    ),
    ("clock-skew", include_str!("../scenarios/clock-skew.toml")),
    (
        "graph-outage",
        include_str!("../scenarios/graph-outage.toml"),
    ),
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

/// Longest `delivery.injected_delay` a scenario may ask for.
pub const MAX_INJECTED_DELAY: Duration = Duration::from_secs(60);

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

    /// True when an admin consented `AiEnterpriseInteraction.Read.All`: without it Graph
    /// cannot keep authorizing the tenant's Copilot subscriptions (graph-facts §3.6, "admin
    /// revoked permissions").
    pub fn consents_interaction_export(&self) -> bool {
        self.consent
            .roles
            .iter()
            .any(|role| role.eq_ignore_ascii_case(INTERACTION_EXPORT_ROLE))
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
        if self.delivery.injected_delay > MAX_INJECTED_DELAY {
            return Err(format!(
                "delivery.injected_delay must be at most {} s",
                MAX_INJECTED_DELAY.as_secs()
            ));
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
    fn subscription_removed_sends_missed_before_it_removes() {
        let scenario = Scenario::load("subscription-removed").unwrap();
        assert_eq!(
            scenario.lifecycle.missed_after,
            Some(Duration::from_secs(300))
        );
        assert_eq!(
            scenario.lifecycle.remove_subscriptions_after,
            Some(Duration::from_secs(600))
        );
        assert!(
            Scenario::load("healthy")
                .unwrap()
                .consents_interaction_export()
        );
        assert!(
            !Scenario::load("missing-admin-consent")
                .unwrap()
                .consents_interaction_export()
        );
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
        let long = "name = \"x\"\nsummary = \"y\"\n[delivery]\ninjected_delay = \"61s\"\n";
        let message = Scenario::parse(long, "long.toml").unwrap_err().to_string();
        assert!(message.contains("injected_delay"), "{message}");
        let message = Scenario::load("no-such-scenario").unwrap_err().to_string();
        assert!(message.contains("healthy"), "{message}");
    }
}
