//! Diagnosis: from [`Facts`] about one profile and the moment `now`, the findings (each with
//! code, severity, evidence, cause and numbered fix) and the empty-dashboard [`Ladder`] whose
//! first broken rung is the headline. The TUI, `pilotwatch check`, `--json` and `/metrics`
//! all show this one verdict.
//!
//! Pure (DESIGN: "`diagnose` is pure"): facts and `now` in, a [`Diagnosis`] out. No I/O, no
//! clock, nothing that does either is imported; gathering facts is the collector's and
//! `check`'s business.

mod catalog;
pub mod facts;
mod finding;
#[cfg(test)]
mod finding_text_tests;
mod ladder;
pub mod nagios;
pub mod prometheus;
pub mod render;
#[cfg(test)]
mod test_facts;
#[cfg(test)]
mod tests;
pub mod thresholds;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use facts::Facts;
pub use finding::{Area, Finding, FindingCode};
pub use ladder::{Ladder, Rung, RungState, climb};

use crate::severity::Severity;

/// The verdict on one profile at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The profile.
    pub profile: String,
    /// The moment it was made.
    pub at: DateTime<Utc>,
    /// The most urgent severity among the findings (`Unknown` when a rung could not be judged
    /// and nothing worse was found; `Ok` when all is well).
    pub severity: Severity,
    /// What to look at first: the worst finding on the first broken rung, else the most urgent
    /// warning; `None` when nothing needs attention.
    pub headline: Option<Finding>,
    /// Every finding, most urgent first, then in ladder order.
    pub findings: Vec<Finding>,
    /// The ladder.
    pub ladder: Ladder,
}

/// One profile's verdict with the facts it was drawn from: what the collector publishes and
/// `check`, `/metrics` and the TUI read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileVerdict {
    /// What the verdict was drawn from.
    pub facts: Facts,
    /// The verdict.
    pub diagnosis: Diagnosis,
}

/// Where the current verdicts come from (a running collector); implemented by the collector,
/// read by its status endpoints. Answers from memory: no I/O behind it.
pub trait VerdictSource: Send + Sync {
    /// The latest verdict of every profile, in configuration order.
    fn verdicts(&self) -> Vec<ProfileVerdict>;
}

/// Diagnoses `facts` as of `now`.
pub fn diagnose(facts: &Facts, now: DateTime<Utc>) -> Diagnosis {
    let mut findings = catalog::findings(facts, now);
    findings.sort_by_key(|finding| {
        (
            std::cmp::Reverse(finding.severity),
            Rung::of(finding.code),
            finding.code,
        )
    });
    let ladder = climb(&findings, facts);
    let headline = headline(&findings, &ladder);
    let unknown = ladder
        .rungs
        .iter()
        .any(|(_, state)| matches!(state, RungState::Unknown { .. }));
    let severity = Severity::worst(
        findings
            .iter()
            .map(|finding| finding.severity)
            .chain(unknown.then_some(Severity::Unknown)),
    );
    Diagnosis {
        profile: facts.profile.clone(),
        at: now,
        severity,
        headline,
        findings,
        ladder,
    }
}

fn headline(findings: &[Finding], ladder: &Ladder) -> Option<Finding> {
    if let Some(rung) = ladder.first_broken {
        return findings
            .iter()
            .filter(|finding| Rung::of(finding.code) == Some(rung))
            .max_by_key(|finding| finding.severity)
            .cloned();
    }
    // Sorted most urgent first: the first warning or worse is the one to show.
    findings
        .iter()
        .find(|finding| finding.severity >= Severity::Warning)
        .cloned()
}
