//! Scenario tests: one per shape of trouble an operator meets, each built from the healthy
//! fixture profile (`test_facts`) with one thing broken. Shared helpers live here; the
//! scenarios are grouped by what breaks.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, Utc};

pub(super) use super::test_facts::*;
pub(super) use super::*;
use crate::creds::facts::{ServerClock, TokenFacts};
use crate::creds::report::{ExpirySource, TokenStatus};

mod expiry;
mod permissions;
mod sign_in;
mod tenant;

pub(super) fn get(report: &CredentialReport, id: CheckId) -> &Check {
    report.check(id).unwrap()
}

/// Everything a check says, for "does it mention …" assertions.
pub(super) fn text(check: &Check) -> String {
    let mut all = vec![check.summary.clone()];
    all.extend(check.evidence.iter().cloned());
    all.extend(check.cause.iter().cloned());
    all.extend(check.fix.iter().cloned());
    all.join("\n")
}

pub(super) fn with_roles(roles: Option<Vec<&str>>) -> CredentialFacts {
    let mut facts = healthy();
    let mut claims = claims();
    claims.roles = roles.map(|roles| roles.into_iter().map(str::to_owned).collect());
    facts.token = TokenFacts::Granted {
        claims: Some(claims),
        expires_at: now() + Duration::hours(1),
    };
    facts
}

pub(super) fn fixture_secret_end() -> DateTime<Utc> {
    application().password_credentials[0].end_date_time
}

pub(super) fn with_skew(seconds: i64) -> CredentialFacts {
    let mut facts = healthy();
    facts.server_date = Some(ServerClock {
        server: now() + Duration::seconds(seconds),
        local: now(),
    });
    facts
}

#[test]
fn healthy_profile_is_ok_everywhere() {
    let report = assess(&healthy());
    let states: Vec<_> = report.checks.iter().map(|c| (c.id, c.severity)).collect();
    let expected: Vec<_> = CheckId::ORDER
        .iter()
        .map(|id| (*id, Severity::Ok))
        .collect();
    assert_eq!(states, expected);
    assert_eq!(report.severity, Severity::Ok);
    assert_eq!(report.exit_code(), 0);
    assert!(
        report
            .checks
            .iter()
            .all(|c| c.fix.is_empty() && c.cause.is_none())
    );

    assert_eq!(report.token.status, TokenStatus::Granted);
    assert_eq!(report.roles.missing_required, Vec::<String>::new());
    assert_eq!(
        report.roles.missing_optional,
        ["Application.Read.All", "Organization.Read.All"]
    );
    assert_eq!(report.secret.expiry_source, ExpirySource::Graph);
    assert_eq!(report.secret.days_left, Some(69));
    assert_eq!(report.secret.hint.as_deref(), Some(FIXTURE_HINT));
    assert_eq!(
        report.secret.credential_key_id.as_deref(),
        Some("9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d")
    );
    assert_eq!(report.service_principal.assignment_required, Some(false));
    assert_eq!(report.licences.plans.len(), 6);
    assert_eq!(
        (
            report.licences.users_sampled,
            report.licences.users_licensed
        ),
        (2, 1)
    );
    assert_eq!(report.clock_skew.skew_seconds, Some(0));
    assert_eq!(
        get(&report, CheckId::UserLicences).summary,
        "1 of 2 sampled users hold Microsoft 365 Copilot"
    );
}
