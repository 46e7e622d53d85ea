//! A fake verdict source and hand-built verdicts for the status-endpoint and `check` tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Utc};
use pilotwatch::diagnose::facts::{FactSource, Facts};
use pilotwatch::diagnose::{Area, Diagnosis, Finding, FindingCode, Ladder, ProfileVerdict};
use pilotwatch::severity::Severity;

/// Answers with fixed verdicts.
#[derive(Debug)]
pub struct FakeSource(pub Vec<ProfileVerdict>);

impl pilotwatch::diagnose::VerdictSource for FakeSource {
    fn verdicts(&self) -> Vec<ProfileVerdict> {
        self.0.clone()
    }
}

pub fn at() -> DateTime<Utc> {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

/// A verdict with one finding of `code` at `severity`, as a collector would publish it.
pub fn verdict(profile: &str, code: FindingCode, severity: Severity) -> ProfileVerdict {
    assert_ne!(code.area(), Area::Graph);
    let finding = Finding {
        code,
        severity,
        title: format!("{} for the test", code.as_str()),
        evidence: vec!["seen by the fake collector".to_owned()],
        since: Some(at()),
        cause: "a test".to_owned(),
        fix: vec!["nothing".to_owned()],
    };
    ProfileVerdict {
        facts: Facts {
            profile: profile.to_owned(),
            client_id: None,
            thresholds: Default::default(),
            source: FactSource::Collector {
                pid: 4242,
                since: at(),
            },
            credentials: None,
            subscriptions: None,
            delivery: None,
            export: None,
            graph: None,
            store: None,
            dead_tasks: Vec::new(),
        },
        diagnosis: Diagnosis {
            profile: profile.to_owned(),
            at: at(),
            severity,
            headline: (severity >= Severity::Warning).then(|| finding.clone()),
            findings: vec![finding],
            ladder: Ladder {
                rungs: Vec::new(),
                first_broken: None,
            },
        },
    }
}

/// A warning verdict about an expiring secret.
pub fn verdict_with_expiring_secret(profile: &str) -> ProfileVerdict {
    verdict(profile, FindingCode::SecretExpiring, Severity::Warning)
}
