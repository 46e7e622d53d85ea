//! The `secret-expiry` check: when the configured secret expires and which warning threshold it
//! has crossed. The date comes from the app registration's `passwordCredentials` matched by the
//! three-character `hint` (graph-facts §7; the earliest when several match), else from the
//! profile's `secret_expires` (end of that day, UTC), else it is unknown.
//!
//! Stages, from the profile's `secret_expiry_warning_days` (30, 14, 7, 1 by default): expired
//! or within the smallest threshold → critical; within the largest → warning naming the
//! smallest threshold crossed; otherwise ok. A threshold of N days is crossed when N days or
//! less remain. Pure; "now" is `facts.checked_at`.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::clock::stamp;
use crate::creds::facts::{CredentialFacts, Readable, TokenFacts};
use crate::creds::report::{Check, CheckId, ExpirySource};
use crate::graph::model::PasswordCredential;
use crate::graph::model::well_known::APPLICATION_READ_ROLE;
use crate::severity::Severity;

use super::{app_registration, check, not_checked_without_token};

/// What the expiry check learned, for the report's secret section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExpiryFindings {
    pub(super) expires_at: Option<DateTime<Utc>>,
    pub(super) source: ExpirySource,
    pub(super) days_left: Option<i64>,
    pub(super) threshold_crossed_days: Option<u32>,
    pub(super) expired: bool,
    pub(super) credential_name: Option<String>,
    pub(super) credential_key_id: Option<String>,
}

/// How close to expiry a secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// More time left than the largest threshold.
    Fine,
    /// Within this threshold (days), which is not the smallest.
    Warning(u32),
    /// Within the smallest threshold (days).
    Critical(u32),
    /// Already expired.
    Expired,
}

/// The stage for `remaining` time under `thresholds` (any order; zeros ignored).
pub(super) fn stage(remaining: Duration, thresholds: &[u32]) -> Stage {
    if remaining <= Duration::zero() {
        return Stage::Expired;
    }
    let mut days: Vec<u32> = thresholds.iter().copied().filter(|d| *d > 0).collect();
    days.sort_unstable();
    days.dedup();
    let crossed = days
        .iter()
        .copied()
        .find(|d| remaining <= Duration::days(i64::from(*d)));
    match (crossed, days.first()) {
        (None, _) => Stage::Fine,
        (Some(d), Some(smallest)) if d == *smallest => Stage::Critical(d),
        (Some(d), _) => Stage::Warning(d),
    }
}

/// A countdown for people, rounded down (so "6 days" never hides that it is under seven):
/// whole days from two days on, else humantime's whole hours, minutes or seconds. Days are
/// spelled out rather than left to humantime, whose months and years are averages that would
/// turn a whole number of days into "2months 8days 2h 52m 48s".
pub(super) fn countdown(span: Duration) -> String {
    const DAY: u64 = 86_400;
    let secs = span.num_seconds().unsigned_abs();
    if secs >= 2 * DAY {
        return format!("{} days", secs / DAY);
    }
    let unit = match secs {
        s if s >= 3_600 => 3_600,
        s if s >= 60 => 60,
        _ => 1,
    };
    humantime::format_duration(StdDuration::from_secs(secs - secs % unit)).to_string()
}

/// Where the expiry came from, and the matching app secret when Graph told.
struct Resolved<'a> {
    expires_at: Option<DateTime<Utc>>,
    source: ExpirySource,
    credential: Option<&'a PasswordCredential>,
    /// Graph listed the app's secrets and none has the configured secret's hint.
    unmatched_among: Option<usize>,
}

fn resolve(facts: &CredentialFacts) -> Resolved<'_> {
    let hint = facts
        .secret
        .loaded
        .as_ref()
        .ok()
        .map(|shape| shape.hint.as_str())
        .filter(|hint| !hint.is_empty());
    let mut unmatched_among = None;
    if let (Readable::Read(app), Some(hint)) = (&facts.application, hint) {
        // A granted token proves the secret in use is still valid, so an expired secret that
        // happens to share its hint cannot be it.
        let token_granted = matches!(facts.token, TokenFacts::Granted { .. });
        let earliest = app
            .password_credentials
            .iter()
            .filter(|credential| credential.hint.as_deref() == Some(hint))
            .filter(|credential| !token_granted || credential.end_date_time > facts.checked_at)
            .min_by_key(|credential| credential.end_date_time);
        match earliest {
            Some(credential) => {
                return Resolved {
                    expires_at: Some(credential.end_date_time),
                    source: ExpirySource::Graph,
                    credential: Some(credential),
                    unmatched_among: None,
                };
            }
            None => unmatched_among = Some(app.password_credentials.len()),
        }
    }
    match facts.configured_secret_expires.and_then(end_of_day) {
        Some(at) => Resolved {
            expires_at: Some(at),
            source: ExpirySource::Configured,
            credential: None,
            unmatched_among,
        },
        None => Resolved {
            expires_at: None,
            source: ExpirySource::Unknown,
            credential: None,
            unmatched_among,
        },
    }
}

/// The last second of `date`, UTC.
fn end_of_day(date: NaiveDate) -> Option<DateTime<Utc>> {
    date.and_hms_opt(23, 59, 59).map(|at| at.and_utc())
}

/// Judges the secret's expiry.
pub(super) fn assess(facts: &CredentialFacts) -> (Check, ExpiryFindings) {
    let resolved = resolve(facts);
    let now = facts.checked_at;
    let remaining = resolved.expires_at.map(|at| at - now);
    let stage = remaining.map_or(Stage::Fine, |r| stage(r, &facts.expiry_warning_days));
    let findings = ExpiryFindings {
        expires_at: resolved.expires_at,
        source: resolved.source,
        days_left: remaining.map(|r| r.num_seconds().div_euclid(86_400)),
        threshold_crossed_days: match stage {
            Stage::Warning(d) | Stage::Critical(d) => Some(d),
            Stage::Fine | Stage::Expired => None,
        },
        expired: stage == Stage::Expired,
        credential_name: resolved
            .credential
            .and_then(|credential| credential.display_name.clone()),
        credential_key_id: resolved
            .credential
            .map(|credential| credential.key_id.clone()),
    };

    let mut result = match (resolved.expires_at, remaining) {
        (Some(at), Some(remaining)) => dated(facts, at, remaining, stage),
        _ => undated(facts),
    };
    if let Some(line) = source_line(facts, &resolved) {
        result.evidence.insert(0, line);
    }
    if let Some(listed) = resolved.unmatched_among {
        flag_unmatched(facts, &mut result, listed);
    }
    (result, findings)
}

fn source_line(facts: &CredentialFacts, resolved: &Resolved<'_>) -> Option<String> {
    let line = match (resolved.source, resolved.credential) {
        (ExpirySource::Graph, Some(credential)) => format!(
            "from Graph: app secret {}(Secret ID {}) with hint `{}` ends {}",
            credential
                .display_name
                .as_deref()
                .map(|name| format!("\"{name}\" "))
                .unwrap_or_default(),
            credential.key_id,
            credential.hint.as_deref().unwrap_or_default(),
            stamp(credential.end_date_time)
        ),
        (ExpirySource::Configured, _) => format!(
            "from the profile: secret_expires = {} (end of that day, UTC)",
            facts
                .configured_secret_expires
                .map(|date| date.to_string())
                .unwrap_or_default()
        ),
        _ => match &facts.application {
            Readable::NotReadable { grant } => {
                format!("the app registration is not readable: grant {grant} (optional)")
            }
            Readable::Failed { reason } => {
                format!("the app registration could not be read: {reason}")
            }
            Readable::NotTried => "the app registration was not read: no token".to_owned(),
            // `flag_unmatched` says why no listed secret was chosen.
            Readable::Read(_) if resolved.unmatched_among.is_some() => return None,
            Readable::Read(_) => "the configured secret is too short to carry a hint, so it \
                                  cannot be matched to the app's secrets"
                .to_owned(),
        },
    };
    Some(line)
}

fn dated(facts: &CredentialFacts, at: DateTime<Utc>, remaining: Duration, stage: Stage) -> Check {
    let date = at.date_naive();
    let left = countdown(remaining);
    let (severity, summary) = match stage {
        Stage::Fine => (
            Severity::Ok,
            format!("the secret expires in {left} (on {date})"),
        ),
        Stage::Warning(days) => (
            Severity::Warning,
            format!("the secret expires in {left} (under the {days}-day threshold)"),
        ),
        Stage::Critical(days) => (
            Severity::Critical,
            format!("the secret expires in {left} (under the {days}-day threshold)"),
        ),
        Stage::Expired => (
            Severity::Critical,
            format!("the secret expired {left} ago (on {date})"),
        ),
    };
    let mut dated = check(CheckId::SecretExpiry, severity, summary);
    if stage != Stage::Fine {
        dated.cause = Some(
            "Client secrets have a fixed lifetime; once it ends the identity platform refuses \
             every token request (AADSTS7000222) and the export stops."
                .to_owned(),
        );
        dated.fix = renewal_steps(facts, date, stage == Stage::Expired);
    }
    dated
}

/// No date from Graph or the profile. Only a refusal for lack of permission is Ok (the
/// permission is optional); a failed or skipped read leaves the expiry Unknown.
fn undated(facts: &CredentialFacts) -> Check {
    let unknown = || {
        check(
            CheckId::SecretExpiry,
            Severity::Ok,
            format!(
                "secret expiry unknown: grant {APPLICATION_READ_ROLE} or set secret_expires in \
                 profile {}",
                facts.profile
            ),
        )
    };
    match &facts.application {
        Readable::NotTried => not_checked_without_token(CheckId::SecretExpiry),
        Readable::Failed { .. } => check(
            CheckId::SecretExpiry,
            Severity::Unknown,
            "not checked: the app registration could not be read",
        ),
        Readable::NotReadable { .. } => unknown(),
        // The app registration was read, yet no date matched (a secret too short for a hint):
        // the permission is there, only the profile can say.
        Readable::Read(_) => check(
            CheckId::SecretExpiry,
            Severity::Ok,
            format!(
                "secret expiry unknown: the configured secret cannot be matched to the app's \
                 secrets; set secret_expires in profile {}",
                facts.profile
            ),
        ),
    }
}

fn flag_unmatched(facts: &CredentialFacts, result: &mut Check, listed: usize) {
    let hint = facts
        .secret
        .loaded
        .as_ref()
        .map(|shape| shape.hint.clone())
        .unwrap_or_default();
    result.evidence.push(format!(
        "none of the app's {listed} listed secrets begins with `{hint}`"
    ));
    if result.severity >= Severity::Warning {
        return;
    }
    result.severity = Severity::Warning;
    result.summary =
        format!("the configured secret (beginning `{hint}`) is none of the app's listed secrets");
    result.cause = Some(
        "Graph lists each of the app's secrets with the first three characters of its value; \
         none matches, so the configured secret may belong to another app or have been removed, \
         and its expiry cannot be told."
            .to_owned(),
    );
    result.fix = vec![
        format!(
            "Open {} > Certificates & secrets and compare `{hint}` with the listed secrets.",
            app_registration(&facts.client_id)
        ),
        format!(
            "If it is not there, create a new secret and store it with `pilotwatch creds add {} \
             --replace`.",
            facts.profile
        ),
    ];
}

fn renewal_steps(facts: &CredentialFacts, date: NaiveDate, expired: bool) -> Vec<String> {
    let profile = &facts.profile;
    let mut steps = vec![
        format!(
            "{} open {} > Certificates & secrets > New client secret, and copy its \"Value\" at \
             once (it is shown only once).",
            if expired {
                "Now:".to_owned()
            } else {
                format!("Before {date}:")
            },
            app_registration(&facts.client_id)
        ),
        format!("Store it: `pilotwatch creds add {profile} --replace`."),
    ];
    if facts.configured_secret_expires.is_some() {
        steps.push(format!(
            "Set `secret_expires` in profile {profile} to the new secret's expiry date."
        ));
    }
    steps.push(format!(
        "Once `pilotwatch creds test {profile}` passes, delete the old secret in the portal."
    ));
    steps
}

#[cfg(test)]
mod tests;
