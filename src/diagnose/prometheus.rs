//! The Prometheus text exposition (format 0.0.4, `text/plain; version=0.0.4`) of the current
//! verdicts, built afresh from a snapshot on every scrape: the findings by code and severity,
//! notification latency and our acknowledgement time, notification counts by outcome, seconds
//! to each subscription's expiry, the secret's days left, and `pilotwatch_up`.
//!
//! Hand-written rather than through the `prometheus-client` crate: that crate speaks only
//! OpenMetrics (`# EOF`, `_total` suffixes, no summaries), and its registries are built for
//! long-lived instruments, not for a snapshot rendered per scrape. The format's rules kept here:
//! every family's samples together under one `# HELP` and `# TYPE`; label values escape `\`,
//! `"` and newline; help text escapes `\` and newline; non-finite values are `NaN`, `+Inf`,
//! `-Inf`.
//!
//! Delivery figures cover the collector's lookback window, not the process's life, so they are
//! gauges: a summary's `_count` must be a counter that only grows, and a window's does not.
//!
//! Pure: depends on the diagnosis and facts types only; no clock (`now` comes in), no I/O.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::ProfileVerdict;
use super::facts::Spread;
use crate::severity::Severity;
use crate::store::records::RejectReason;

/// The `Content-Type` of [`exposition`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition of `verdicts` as of `now`, ending with a newline.
pub fn exposition(verdicts: &[ProfileVerdict], now: DateTime<Utc>) -> String {
    let mut out = Exposition::default();
    out.family(
        "pilotwatch_up",
        "Whether the pilotwatch collector answers (always 1 when it does).",
        Kind::Gauge,
    );
    out.sample("pilotwatch_up", &[], 1.0);

    out.family(
        "pilotwatch_finding",
        "A current finding of the diagnosis (1 while it holds).",
        Kind::Gauge,
    );
    for verdict in verdicts {
        let profile = verdict.diagnosis.profile.as_str();
        for finding in &verdict.diagnosis.findings {
            out.sample(
                "pilotwatch_finding",
                &[
                    ("profile", profile),
                    ("code", finding.code.as_str()),
                    ("severity", severity_label(finding.severity)),
                    ("area", finding.area().as_str()),
                ],
                1.0,
            );
        }
    }

    out.family(
        "pilotwatch_findings",
        "Current findings of the diagnosis by severity.",
        Kind::Gauge,
    );
    for verdict in verdicts {
        let profile = verdict.diagnosis.profile.as_str();
        for severity in Severity::ALL {
            let count = verdict
                .diagnosis
                .findings
                .iter()
                .filter(|finding| finding.severity == severity)
                .count();
            out.sample(
                "pilotwatch_findings",
                &[("profile", profile), ("severity", severity_label(severity))],
                count as f64,
            );
        }
    }

    spreads(
        &mut out,
        verdicts,
        "pilotwatch_notification_latency_seconds",
        "Notification latency (received minus the interaction's createdDateTime) over the \
         collector's lookback window",
        |verdict| verdict.facts.delivery.as_ref().and_then(|d| d.latency),
    );
    spreads(
        &mut out,
        verdicts,
        "pilotwatch_ack_seconds",
        "Time the receiver took to acknowledge Graph's notification posts over the collector's \
         lookback window",
        |verdict| verdict.facts.delivery.as_ref().and_then(|d| d.ack),
    );

    out.family(
        "pilotwatch_notifications",
        "Notification items over the collector's lookback window by outcome (received, \
         accepted into the feed, rejected_<reason>).",
        Kind::Gauge,
    );
    for verdict in verdicts {
        let Some(delivery) = &verdict.facts.delivery else {
            continue;
        };
        let profile = verdict.diagnosis.profile.as_str();
        let name = "pilotwatch_notifications";
        out.sample(
            name,
            &[("profile", profile), ("outcome", "received")],
            delivery.received as f64,
        );
        out.sample(
            name,
            &[("profile", profile), ("outcome", "accepted")],
            delivery.accepted as f64,
        );
        for reason in RejectReason::ALL {
            let outcome = format!("rejected_{}", reason.as_str().replace('-', "_"));
            let count = delivery.rejected.get(&reason).copied().unwrap_or(0);
            out.sample(
                name,
                &[("profile", profile), ("outcome", &outcome)],
                count as f64,
            );
        }
    }

    out.family(
        "pilotwatch_subscription_expiry_seconds",
        "Seconds until each live subscription expires (negative once it has).",
        Kind::Gauge,
    );
    for verdict in verdicts {
        let Some(subscriptions) = &verdict.facts.subscriptions else {
            continue;
        };
        let profile = verdict.diagnosis.profile.as_str();
        for subscription in &subscriptions.active {
            out.sample(
                "pilotwatch_subscription_expiry_seconds",
                &[("profile", profile), ("subscription", &subscription.id)],
                (subscription.expires_at - now).num_seconds() as f64,
            );
        }
    }

    out.family(
        "pilotwatch_secret_days_left",
        "Whole days until the profile's client secret expires (negative once it has).",
        Kind::Gauge,
    );
    for verdict in verdicts {
        let days_left = verdict
            .facts
            .credentials
            .as_ref()
            .and_then(|report| report.secret.days_left);
        if let Some(days) = days_left {
            out.sample(
                "pilotwatch_secret_days_left",
                &[("profile", verdict.diagnosis.profile.as_str())],
                days as f64,
            );
        }
    }
    out.text
}

/// `NAME{profile,quantile}`, `NAME_max` and `NAME_count` for every profile with a spread.
fn spreads(
    out: &mut Exposition,
    verdicts: &[ProfileVerdict],
    name: &str,
    help: &str,
    spread: impl Fn(&ProfileVerdict) -> Option<Spread>,
) {
    let with_spread: Vec<(&str, Spread)> = verdicts
        .iter()
        .filter_map(|v| spread(v).map(|s| (v.diagnosis.profile.as_str(), s)))
        .collect();
    out.family(name, &format!("{help}, by quantile."), Kind::Gauge);
    for (profile, spread) in &with_spread {
        for (quantile, value) in [
            ("0.5", spread.p50),
            ("0.95", spread.p95),
            ("0.99", spread.p99),
        ] {
            out.sample(name, &[("profile", profile), ("quantile", quantile)], value);
        }
    }
    let max = format!("{name}_max");
    out.family(&max, &format!("{help}: the largest."), Kind::Gauge);
    for (profile, spread) in &with_spread {
        out.sample(&max, &[("profile", profile)], spread.max);
    }
    let count = format!("{name}_count");
    out.family(&count, &format!("{help}: the samples."), Kind::Gauge);
    for (profile, spread) in &with_spread {
        out.sample(&count, &[("profile", profile)], spread.count as f64);
    }
}

/// The lowercase word, as in JSON.
fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "ok",
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
        Severity::Unknown => "unknown",
    }
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Gauge,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
        }
    }
}

/// The text being written.
#[derive(Debug, Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        // Writing to a `String` cannot fail.
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (index, (label, value)) in labels.iter().enumerate() {
                if index > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label_value(value));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {}", number(value));
    }
}

/// Label values escape backslash, double quote and line feed.
fn escape_label_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Help text escapes backslash and line feed.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as the format spells it.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value == f64::INFINITY {
        "+Inf".to_owned()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
