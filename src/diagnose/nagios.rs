//! The Nagios plugin form of diagnoses (`pilotwatch check`): one status line —
//! `PILOTWATCH CRITICAL - contoso: <headline> | perfdata` — and the exit code of the worst
//! profile (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN).
//!
//! Perfdata follows the plugin guidelines (`'label'=value[UOM];[warn];[crit];[min];[max]`), an
//! unknown value is `U`, and with several profiles each label is prefixed by the profile name.
//! Values come from the facts, thresholds from `thresholds` and the credential report's expiry
//! thresholds, so monitoring and the findings agree.
//!
//! Pure: depends on the diagnosis, the facts and `terminal_text`.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::Diagnosis;
use super::facts::Facts;
use super::thresholds::{
    LATENCY_AVERAGE_SECONDS, LATENCY_MAXIMUM_SECONDS, SUBSCRIPTION_EXPIRY_CRITICAL_HOURS,
    SUBSCRIPTION_EXPIRY_WARNING_HOURS,
};
use crate::severity::Severity;
use crate::store::records::RejectReason;
use crate::terminal_text::printable_line;

/// Secret expiry warning and critical lines, in days (the credential report's first and last
/// thresholds).
const SECRET_DAYS_WARNING: i64 = 30;
const SECRET_DAYS_CRITICAL: i64 = 7;

/// One profile's verdict with the facts it was drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'a> {
    /// The verdict.
    pub diagnosis: &'a Diagnosis,
    /// What it was drawn from.
    pub facts: &'a Facts,
}

/// The plugin output (one line, no newline) and exit code for `checked`, as of `now`.
pub fn status_line(checked: &[Checked<'_>], now: DateTime<Utc>) -> (String, u8) {
    if checked.is_empty() {
        let unknown = Severity::Unknown;
        let line = format!(
            "PILOTWATCH {} - no profile is configured",
            unknown.nagios_label()
        );
        return (line, unknown.exit_code());
    }
    let severity = Severity::worst(checked.iter().map(|c| c.diagnosis.severity));
    let mut line = format!("PILOTWATCH {} - ", severity.nagios_label());
    let summaries: Vec<String> = worst_first(checked)
        .iter()
        .map(|c| summary(c.diagnosis))
        .collect();
    line.push_str(&summaries.join("; "));
    let prefixed = checked.len() > 1;
    let perfdata: Vec<String> = checked
        .iter()
        .flat_map(|c| perfdata(c, now, prefixed))
        .collect();
    if !perfdata.is_empty() {
        line.push_str(" | ");
        line.push_str(&perfdata.join(" "));
    }
    (printable_line(&line).into_owned(), severity.exit_code())
}

fn worst_first<'a>(checked: &[Checked<'a>]) -> Vec<Checked<'a>> {
    let mut sorted = checked.to_vec();
    sorted.sort_by_key(|c| std::cmp::Reverse(c.diagnosis.severity));
    sorted
}

/// `contoso: <headline>` — or what could not be judged, or that all is well. `|` would start
/// the perfdata, so it never appears in the text.
fn summary(diagnosis: &Diagnosis) -> String {
    let text = match (&diagnosis.headline, diagnosis.severity) {
        (Some(headline), _) => {
            let more = diagnosis
                .findings
                .iter()
                .filter(|f| f.severity >= Severity::Warning && f.code != headline.code)
                .count();
            match more {
                0 => format!("{} [{}]", headline.title, headline.code.as_str()),
                n => format!(
                    "{} [{}] (+{n} more)",
                    headline.title,
                    headline.code.as_str()
                ),
            }
        }
        (None, Severity::Unknown) => {
            let unknown: Vec<&str> = diagnosis
                .ladder
                .rungs
                .iter()
                .filter(|(_, state)| matches!(state, super::RungState::Unknown { .. }))
                .map(|(rung, _)| rung.title())
                .collect();
            format!("could not judge: {}", unknown.join(", "))
        }
        (None, _) => "all checks pass".to_owned(),
    };
    format!("{}: {}", diagnosis.profile, text.replace('|', "/"))
}

fn perfdata(checked: &Checked<'_>, now: DateTime<Utc>, prefixed: bool) -> Vec<String> {
    let facts = checked.facts;
    let label = |name: &str| {
        if prefixed {
            format!(
                "'{}_{name}'",
                checked.diagnosis.profile.replace(['\'', '='], "_")
            )
        } else {
            name.to_owned()
        }
    };
    let minutes_to_expiry = facts.subscriptions.as_ref().and_then(|subs| {
        subs.active
            .iter()
            .map(|s| (s.expires_at - now).num_minutes())
            .min()
    });
    let secret_days_left = facts
        .credentials
        .as_ref()
        .and_then(|report| report.secret.days_left);
    let delivery = facts.delivery.as_ref();
    let p95_latency = delivery.and_then(|d| d.latency).map(|spread| spread.p95);
    let received = delivery.map(|d| d.received);
    let null_ratio = delivery.and_then(|d| {
        let null = d
            .rejected
            .get(&RejectReason::TokensNull)
            .copied()
            .unwrap_or(0);
        (d.received > 0).then(|| null as f64 / d.received as f64)
    });
    let mut data = vec![
        metric(
            &label("minutes_to_expiry"),
            minutes_to_expiry.map(|m| m.to_string()),
            // `N:` alerts below N: time running out.
            &format!(
                "{}:;{}:;0",
                SUBSCRIPTION_EXPIRY_WARNING_HOURS * 60,
                SUBSCRIPTION_EXPIRY_CRITICAL_HOURS * 60
            ),
        ),
        metric(
            &label("secret_days_left"),
            secret_days_left.map(|d| d.to_string()),
            &format!("{SECRET_DAYS_WARNING}:;{SECRET_DAYS_CRITICAL}:;"),
        ),
        metric(
            &label("p95_latency_s"),
            p95_latency.map(|s| format!("{s:.1}")),
            &format!("{LATENCY_AVERAGE_SECONDS};{LATENCY_MAXIMUM_SECONDS};0"),
        ),
        metric(
            &label("notifications_1h"),
            received.map(|n| n.to_string()),
            ";;0",
        ),
        metric(
            &label("null_tokens_ratio"),
            null_ratio.map(|r| format!("{r:.3}")),
            ";;0;1",
        ),
    ];
    let findings = checked
        .diagnosis
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warning)
        .count();
    data.push(metric(
        &label("findings"),
        Some(findings.to_string()),
        ";;0",
    ));
    data
}

/// `label=value;rest`, with `U` for an unknown value.
fn metric(label: &str, value: Option<String>, rest: &str) -> String {
    let mut text = String::new();
    let _ = write!(text, "{label}={};{rest}", value.as_deref().unwrap_or("U"));
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::creds::assess;
    use crate::creds::test_facts::{
        self, TOKEN_ERROR_7000222, healthy, refused, rejection_fixture,
    };
    use crate::diagnose::diagnose;
    use crate::diagnose::facts::FactSource;

    fn facts(profile: &str, credentials: Option<crate::creds::CredentialReport>) -> Facts {
        Facts {
            profile: profile.to_owned(),
            client_id: None,
            thresholds: Default::default(),
            source: FactSource::Direct,
            credentials,
            subscriptions: None,
            delivery: None,
            export: None,
            graph: None,
            store: None,
            dead_tasks: Vec::new(),
        }
    }

    /// The status line of one profile's facts, diagnosed at `now`.
    fn line_for(facts: &Facts, now: DateTime<Utc>) -> (String, u8) {
        let diagnosis = diagnose(facts, now);
        status_line(
            &[Checked {
                diagnosis: &diagnosis,
                facts,
            }],
            now,
        )
    }

    #[test]
    fn an_expired_secret_is_critical_with_its_code_and_perfdata() {
        let now = test_facts::now();
        let report = assess(&refused(
            healthy(),
            rejection_fixture(TOKEN_ERROR_7000222, 401),
        ));
        let facts = facts("contoso", Some(report));
        let (line, code) = line_for(&facts, now);
        assert_eq!(code, 2, "{line}");
        assert!(
            line.starts_with("PILOTWATCH CRITICAL - contoso: "),
            "{line}"
        );
        assert!(line.contains("[secret-expired]"), "{line}");
        let (_, perf) = line.split_once(" | ").unwrap();
        assert!(perf.contains("minutes_to_expiry=U;720:;60:;0"), "{perf}");
        assert!(perf.contains("notifications_1h=U;;;0"), "{perf}");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn nothing_gathered_is_unknown_and_says_what_could_not_be_judged() {
        let now = test_facts::now();
        let facts = facts("contoso", None);
        let (line, code) = line_for(&facts, now);
        assert_eq!(code, 3, "{line}");
        assert!(
            line.contains("could not judge: collector reachable, token"),
            "{line}"
        );
    }

    #[test]
    fn several_profiles_prefix_labels_and_lead_with_the_worst() {
        let now = test_facts::now();
        let good = facts("fabrikam", Some(assess(&healthy())));
        let bad = facts(
            "contoso",
            Some(assess(&refused(
                healthy(),
                rejection_fixture(TOKEN_ERROR_7000222, 401),
            ))),
        );
        let (good_d, bad_d) = (diagnose(&good, now), diagnose(&bad, now));
        let (line, code) = status_line(
            &[
                Checked {
                    diagnosis: &good_d,
                    facts: &good,
                },
                Checked {
                    diagnosis: &bad_d,
                    facts: &bad,
                },
            ],
            now,
        );
        assert_eq!(code, 2);
        let (text, perf) = line.split_once(" | ").unwrap();
        assert!(
            text.find("contoso:").unwrap() < text.find("fabrikam:").unwrap(),
            "{text}"
        );
        assert!(perf.contains("'fabrikam_secret_days_left'="), "{perf}");
        assert!(perf.contains("'contoso_findings'="), "{perf}");
    }

    #[test]
    fn no_profile_is_unknown() {
        let (line, code) = status_line(&[], test_facts::now());
        assert_eq!(
            (line.as_str(), code),
            ("PILOTWATCH UNKNOWN - no profile is configured", 3)
        );
    }
}
