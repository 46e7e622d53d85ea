//! The lines diagnosis draws, each from Microsoft's documentation (graph-facts) or, where
//! Microsoft says nothing, chosen here and named so the choice is visible. Two of the chosen
//! lines are the operator's to move per profile ([`ProfileThresholds`], from the profile's
//! `[thresholds]`); Microsoft's documented lines stay constants, since the findings cite them.
//!
//! Depends on serde only (the per-profile values travel with the facts); no I/O.

use serde::{Deserialize, Serialize};

/// Graph counts an acknowledgement slower than this as slow (graph-facts §3.5, 2023 text).
pub const GRAPH_SLOW_ACK_SECONDS: f64 = 2.9;

/// More than this share of slow acknowledgements in 10 minutes puts the endpoint in Graph's
/// "slow" state: new notifications are delayed 10 minutes (graph-facts §3.5).
pub const SLOW_STATE_SHARE: f64 = 0.10;

/// More than this share beyond the 10 s retry timeout in 10 minutes puts the endpoint in
/// Graph's "drop" state: notifications are dropped for 10 minutes (graph-facts §3.5).
pub const DROP_STATE_SHARE: f64 = 0.15;

/// Microsoft's documented average delivery latency for Copilot interactions (graph-facts §2).
pub const LATENCY_AVERAGE_SECONDS: f64 = 10.0;

/// Microsoft's documented maximum delivery latency (graph-facts §2): beyond it, the delay is a
/// Graph-side incident, not ours.
pub const LATENCY_MAXIMUM_SECONDS: f64 = 60.0 * 60.0;

/// The window delivery facts are gathered over.
pub const DELIVERY_WINDOW_MINUTES: u32 = 60;

/// Silence this long while the export API shows new interactions means the push path is broken
/// (chosen: well past the 10 s average and a reconciliation period).
pub const PUSH_SILENCE_MINUTES: i64 = 15;

/// How long a started keeper may take over its first `POST /subscriptions` before no
/// subscription is alarming again (chosen: Graph's 10 s handshake, a token and a retry or two).
pub const FIRST_CREATE_GRACE_MINUTES: i64 = 2;

/// A subscription expiring within this many hours without a successful renewal is a warning
/// (chosen: the keeper renews at 50–75 % of a 3-day lifetime, so this is far past due)...
pub const SUBSCRIPTION_EXPIRY_WARNING_HOURS: i64 = 12;

/// ...and within this many, critical.
pub const SUBSCRIPTION_EXPIRY_CRITICAL_HOURS: i64 = 1;

/// Share of requests answered 429 in the window at which throttling is reported (chosen)...
pub const THROTTLED_SHARE: f64 = 0.05;

/// ...given at least this many of them: a start-up burst of a few 429s, absorbed by waiting as
/// Retry-After asks, is the client working as designed, not throttling to report (chosen).
pub const THROTTLED_MINIMUM: u64 = 5;

/// Share of requests answered 5xx (or timing out) at which an outage is reported (chosen)...
pub const FAILED_SHARE: f64 = 0.20;

/// ...given at least this many of them, so one blip is not an outage (chosen).
pub const FAILED_MINIMUM: u64 = 3;

/// Interactions held at or beyond this share of the count limit, while the oldest is younger
/// than the age limit, means the count limit is discarding history early (chosen).
pub const RETENTION_PRESSURE_SHARE: f64 = 0.95;

/// Graph retries a notification it could not deliver for up to this many hours (graph-facts
/// §3.5): reauthorizing within it recovers notifications held back by an expired access token.
pub const GRAPH_RETRY_HOURS: i64 = 4;

/// Graph requires a lifecycle notification URL on a Copilot subscription whose expiry is more
/// than this many minutes away (graph-facts §2).
pub const LIFECYCLE_URL_REQUIRED_BEYOND_MINUTES: i64 = 60;

/// Renewals or reauthorizations failing this many times in a row are critical; fewer are a
/// warning, since the keeper retries (chosen).
pub const KEEPER_FAILURES_CRITICAL: u32 = 3;

/// Graph's request timeout for retried deliveries (graph-facts §3.5): an acknowledgement
/// slower than this counts towards the "drop" state.
pub const GRAPH_RETRY_TIMEOUT_SECONDS: f64 = 10.0;

/// Where one profile's diagnosis warns, as its configuration says (`[thresholds]`
/// `notification_silence_minutes` and `latency_p95_seconds`). Microsoft's documented lines
/// ([`LATENCY_AVERAGE_SECONDS`], [`LATENCY_MAXIMUM_SECONDS`]) stay constants for the wording;
/// these are where *we* warn. The defaults are the lines diagnosis drew before they could be
/// configured, so facts without them (older `--json` output) judge as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileThresholds {
    /// Minutes of notification silence, while the export API shows new interactions, after
    /// which the push path is reported broken.
    pub notification_silence_minutes: u32,
    /// Seconds of 95th-percentile notification latency above which notifications are reported
    /// late.
    pub latency_p95_seconds: u32,
}

impl ProfileThresholds {
    /// The silence line as a duration.
    pub fn silence(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.notification_silence_minutes))
    }

    /// The latency line in seconds, as latency spreads are measured.
    pub fn latency_p95(&self) -> f64 {
        f64::from(self.latency_p95_seconds)
    }
}

impl Default for ProfileThresholds {
    fn default() -> Self {
        Self {
            notification_silence_minutes: PUSH_SILENCE_MINUTES_DEFAULT,
            latency_p95_seconds: LATENCY_P95_SECONDS_DEFAULT,
        }
    }
}

/// The default silence line: [`PUSH_SILENCE_MINUTES`] (a small positive constant).
const PUSH_SILENCE_MINUTES_DEFAULT: u32 = PUSH_SILENCE_MINUTES as u32;

/// The default latency line: Microsoft's documented average, [`LATENCY_AVERAGE_SECONDS`].
const LATENCY_P95_SECONDS_DEFAULT: u32 = LATENCY_AVERAGE_SECONDS as u32;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_defaults_are_the_lines_drawn_before_they_were_configurable() {
        let defaults = ProfileThresholds::default();
        assert_eq!(
            defaults.silence(),
            chrono::Duration::minutes(PUSH_SILENCE_MINUTES)
        );
        assert_eq!(defaults.latency_p95(), LATENCY_AVERAGE_SECONDS);
        let missing: ProfileThresholds = serde_json::from_str("{}").unwrap();
        assert_eq!(missing, defaults);
        let partial: ProfileThresholds =
            serde_json::from_str(r#"{"latency_p95_seconds": 45}"#).unwrap();
        assert_eq!(
            (partial.notification_silence_minutes, partial.latency_p95()),
            (15, 45.0)
        );
    }
}
