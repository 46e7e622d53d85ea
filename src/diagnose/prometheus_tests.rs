//! The exposition parsed back line by line, as a scraper would: every sample belongs to the
//! family declared above it, label values unescape to what went in, zeros are present.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};

use super::*;
use crate::diagnose::test_facts::{Build, SUBSCRIPTION_ID, now};
use crate::diagnose::{ProfileVerdict, diagnose};

/// One parsed sample.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// Parses the 0.0.4 text format strictly enough to catch what a scraper would refuse: a sample
/// outside its family, a family declared twice, bad escapes, unparsable values.
fn parse(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "the exposition ends with a newline");
    let mut samples = Vec::new();
    let mut declared = HashSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, _) = rest.split_once(' ').unwrap();
            assert!(declared.insert(name.to_owned()), "{name} declared twice");
            current = Some(name.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(Some(name), current.as_deref(), "TYPE without HELP");
            assert_eq!(kind, "gauge");
            continue;
        }
        assert!(!line.starts_with('#'), "unexpected comment {line}");
        let (name, rest) = match line.find(['{', ' ']) {
            Some(at) => line.split_at(at),
            None => panic!("no value on {line}"),
        };
        assert_eq!(Some(name), current.as_deref(), "{line} outside its family");
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        );
        let (labels, value) = if let Some(body) = rest.strip_prefix('{') {
            parse_labels(body)
        } else {
            (BTreeMap::new(), rest)
        };
        let value = value.strip_prefix(' ').unwrap();
        let value = match value {
            "NaN" => f64::NAN,
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other.parse().unwrap(),
        };
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

/// `a="x",b="y"} value` → the labels and ` value`.
fn parse_labels(body: &str) -> (BTreeMap<String, String>, &str) {
    let mut labels = BTreeMap::new();
    let mut chars = body.char_indices().peekable();
    loop {
        let start = chars.peek().unwrap().0;
        let mut name_end = start;
        for (at, c) in chars.by_ref() {
            if c == '=' {
                name_end = at;
                break;
            }
        }
        let name = body[start..name_end].to_owned();
        assert_eq!(chars.next().map(|(_, c)| c), Some('"'));
        let mut value = String::new();
        loop {
            match chars.next().unwrap().1 {
                '\\' => match chars.next().unwrap().1 {
                    '\\' => value.push('\\'),
                    '"' => value.push('"'),
                    'n' => value.push('\n'),
                    other => panic!("bad escape \\{other}"),
                },
                '"' => break,
                '\n' => panic!("raw newline in a label value"),
                other => value.push(other),
            }
        }
        assert!(labels.insert(name, value).is_none(), "label repeated");
        match chars.next().unwrap() {
            (_, ',') => continue,
            (at, '}') => return (labels, &body[at + 1..]),
            (_, other) => panic!("unexpected {other}"),
        }
    }
}

fn verdict(facts: crate::diagnose::Facts) -> ProfileVerdict {
    let diagnosis = diagnose(&facts, now());
    ProfileVerdict { facts, diagnosis }
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(samples, name, labels);
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

#[test]
fn a_healthy_profile_exposes_every_family_with_zeros() {
    let text = exposition(&[verdict(Build::healthy().done())], now());
    let samples = parse(&text);
    assert_eq!(value(&samples, "pilotwatch_up", &[]), 1.0);
    for severity in ["ok", "info", "warning", "critical", "unknown"] {
        let labels = [("profile", "contoso"), ("severity", severity)];
        assert_eq!(value(&samples, "pilotwatch_findings", &labels), 0.0);
    }
    assert!(find(&samples, "pilotwatch_finding", &[]).is_empty());
    let labels = [("profile", "contoso"), ("outcome", "rejected_tokens_null")];
    assert_eq!(value(&samples, "pilotwatch_notifications", &labels), 0.0);
    assert_eq!(
        find(
            &samples,
            "pilotwatch_notifications",
            &[("profile", "contoso")]
        )
        .len(),
        2 + RejectReason::ALL.len()
    );
    let expiry = value(
        &samples,
        "pilotwatch_subscription_expiry_seconds",
        &[("profile", "contoso"), ("subscription", SUBSCRIPTION_ID)],
    );
    assert_eq!(expiry, 50.0 * 3600.0);
    for quantile in ["0.5", "0.95", "0.99"] {
        let labels = [("profile", "contoso"), ("quantile", quantile)];
        assert!(value(&samples, "pilotwatch_notification_latency_seconds", &labels) > 0.0);
        assert!(value(&samples, "pilotwatch_ack_seconds", &labels) > 0.0);
    }
    let profile = [("profile", "contoso")];
    assert_eq!(
        value(
            &samples,
            "pilotwatch_notification_latency_seconds_count",
            &profile
        ),
        40.0
    );
    assert!(value(&samples, "pilotwatch_ack_seconds_max", &profile) > 0.0);
    assert!(value(&samples, "pilotwatch_secret_days_left", &profile).is_finite());
}

#[test]
fn findings_are_exposed_by_code_severity_and_area_and_counted() {
    let facts = Build::healthy().null_tokens(40).done();
    let verdict = verdict(facts);
    let expected: Vec<_> = verdict
        .diagnosis
        .findings
        .iter()
        .map(|f| f.code.as_str())
        .collect();
    assert!(expected.contains(&"validation-tokens-null"), "{expected:?}");
    let samples = parse(&exposition(std::slice::from_ref(&verdict), now()));
    let labels = [
        ("profile", "contoso"),
        ("code", "validation-tokens-null"),
        ("severity", "critical"),
        ("area", "delivery"),
    ];
    assert_eq!(value(&samples, "pilotwatch_finding", &labels), 1.0);
    assert_eq!(
        find(&samples, "pilotwatch_finding", &[]).len(),
        expected.len()
    );
    let critical = verdict
        .diagnosis
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    let labels = [("profile", "contoso"), ("severity", "critical")];
    assert_eq!(
        value(&samples, "pilotwatch_findings", &labels),
        critical as f64
    );
    let labels = [("profile", "contoso"), ("outcome", "rejected_tokens_null")];
    assert_eq!(value(&samples, "pilotwatch_notifications", &labels), 40.0);
}

#[test]
fn facts_not_gathered_are_absent_not_zero() {
    let facts = Build::healthy()
        .without(|f| {
            f.delivery = None;
            f.subscriptions = None;
            f.credentials = None;
        })
        .done();
    let samples = parse(&exposition(&[verdict(facts)], now()));
    for name in [
        "pilotwatch_notifications",
        "pilotwatch_notification_latency_seconds",
        "pilotwatch_ack_seconds_count",
        "pilotwatch_subscription_expiry_seconds",
        "pilotwatch_secret_days_left",
    ] {
        assert!(find(&samples, name, &[]).is_empty(), "{name}");
    }
    // Counts of findings are always there: zero is an answer.
    assert_eq!(find(&samples, "pilotwatch_findings", &[]).len(), 5);
}

#[test]
fn label_values_are_escaped_and_round_trip() {
    let awkward = "a\\b \"quoted\"\nnext";
    let mut facts = Build::healthy().done();
    facts.profile = awkward.to_owned();
    if let Some(subscriptions) = facts.subscriptions.as_mut() {
        subscriptions.active[0].id = "id\"}\n".to_owned();
    }
    let text = exposition(&[verdict(facts)], now());
    assert!(
        text.contains(r#"profile="a\\b \"quoted\"\nnext""#),
        "{text}"
    );
    let samples = parse(&text);
    let found = value(
        &samples,
        "pilotwatch_subscription_expiry_seconds",
        &[("profile", awkward), ("subscription", "id\"}\n")],
    );
    assert_eq!(found, 50.0 * 3600.0);
}

#[test]
fn help_text_and_numbers_follow_the_format() {
    assert_eq!(escape_help("a\\b\nc"), "a\\\\b\\nc");
    assert_eq!(escape_label_value("\"\\\n"), "\\\"\\\\\\n");
    assert_eq!(number(f64::NAN), "NaN");
    assert_eq!(number(f64::INFINITY), "+Inf");
    assert_eq!(number(f64::NEG_INFINITY), "-Inf");
    assert_eq!(number(3.0), "3");
    assert_eq!(number(-0.25), "-0.25");
}

#[test]
fn no_profile_is_only_up() {
    let samples = parse(&exposition(&[], now()));
    assert_eq!(samples.len(), 1);
    assert_eq!(samples[0].name, "pilotwatch_up");
}
