//! The findings catalog: one module per part of the pipeline, each a pure function from the
//! facts (and `now`) to findings. This module runs them all and merges findings that share a
//! code — two parts can see the same problem (the service principal's flag and the null tokens
//! themselves): the most severe wording stays, and the other's evidence is added to it.
//!
//! Depends on `facts` and `finding` only.

mod authenticity;
mod credentials;
mod delivery;
mod graph_side;
mod store;
mod subscriptions;
mod text;

use chrono::{DateTime, Utc};

use super::{Facts, Finding};

/// Every finding for `facts` as of `now`, one per code.
pub(super) fn findings(facts: &Facts, now: DateTime<Utc>) -> Vec<Finding> {
    let mut all = Vec::new();
    if let Some(report) = &facts.credentials {
        all.extend(credentials::findings(report));
    }
    if let Some(subscriptions) = &facts.subscriptions {
        let keeper_started = match facts.source {
            super::facts::FactSource::Collector { since, .. } => Some(since),
            _ => None,
        };
        all.extend(subscriptions::findings(subscriptions, keeper_started, now));
    }
    all.extend(delivery::findings(facts, now));
    all.extend(authenticity::findings(facts, now));
    if let Some(traffic) = &facts.graph {
        all.extend(graph_side::findings(traffic));
    }
    all.extend(store::findings(
        &facts.source,
        facts.store.as_ref(),
        &facts.dead_tasks,
        now,
    ));
    merge(all)
}

/// One finding per code: the most severe (the first of equals), with the evidence of the
/// others appended, without repeating a line.
fn merge(findings: Vec<Finding>) -> Vec<Finding> {
    let mut merged: Vec<Finding> = Vec::with_capacity(findings.len());
    for finding in findings {
        let Some(kept) = merged.iter_mut().find(|kept| kept.code == finding.code) else {
            merged.push(finding);
            continue;
        };
        let (mut stronger, weaker) = if finding.severity > kept.severity {
            (finding, std::mem::replace(kept, placeholder_of(kept)))
        } else {
            (std::mem::replace(kept, placeholder_of(kept)), finding)
        };
        for line in weaker.evidence {
            if !stronger.evidence.contains(&line) {
                stronger.evidence.push(line);
            }
        }
        stronger.since = match (stronger.since, weaker.since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        *kept = stronger;
    }
    merged
}

/// An empty finding of the same code, to move the kept one out of the list for a moment.
fn placeholder_of(finding: &Finding) -> Finding {
    Finding {
        code: finding.code,
        severity: finding.severity,
        title: String::new(),
        evidence: Vec::new(),
        since: None,
        cause: String::new(),
        fix: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::diagnose::FindingCode;
    use crate::severity::Severity;

    fn finding(code: FindingCode, severity: Severity, evidence: &[&str]) -> Finding {
        Finding {
            code,
            severity,
            title: format!("{severity:?}"),
            evidence: evidence.iter().map(|line| (*line).to_owned()).collect(),
            since: None,
            cause: String::new(),
            fix: Vec::new(),
        }
    }

    #[test]
    fn one_finding_per_code_the_most_severe_wording_with_all_evidence() {
        let merged = merge(vec![
            finding(
                FindingCode::ValidationTokensNull,
                Severity::Warning,
                &["assignment required", "shared"],
            ),
            finding(FindingCode::ClockSkew, Severity::Warning, &[]),
            finding(
                FindingCode::ValidationTokensNull,
                Severity::Critical,
                &["40 of 40 null", "shared"],
            ),
        ]);
        assert_eq!(merged.len(), 2);
        let null = &merged[0];
        assert_eq!(null.severity, Severity::Critical);
        assert_eq!(null.title, "Critical");
        assert_eq!(
            null.evidence,
            ["40 of 40 null", "shared", "assignment required"]
        );
        assert_eq!(merged[1].code, FindingCode::ClockSkew);
    }
}
