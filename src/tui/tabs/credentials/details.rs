//! One line of detail per credential part (token, permissions, secret, service principal,
//! licences, clock skew), from the credential report and "now": what the part's check summary
//! does not already say. `None` when there is nothing more to say (a part not read).
//! Pure; depends on the credential report and the shared formats only.

use chrono::{DateTime, Utc};

use crate::creds::{Availability, CredentialReport, TokenStatus};
use crate::tui::format::{minute, relative};

pub(super) fn token_detail(report: &CredentialReport, now: DateTime<Utc>) -> Option<String> {
    let token = &report.token;
    match token.status {
        TokenStatus::Granted => token
            .expires_at
            .map(|at| format!("expires {}", relative(at, now))),
        // The ids a support case asks for.
        TokenStatus::Refused | TokenStatus::UnexpectedAnswer => {
            let ids: Vec<String> = [
                ("trace", &token.trace_id),
                ("correlation", &token.correlation_id),
            ]
            .into_iter()
            .filter_map(|(name, id)| id.as_ref().map(|id| format!("{name} {id}")))
            .collect();
            (!ids.is_empty()).then(|| ids.join(" · "))
        }
        TokenStatus::Unreachable | TokenStatus::InvalidAuthority => {
            Some(format!("authority {}", token.authority))
        }
        TokenStatus::NotTried => None,
    }
}

pub(super) fn roles_detail(report: &CredentialReport) -> Option<String> {
    let roles = &report.roles;
    if !roles.checked {
        return None;
    }
    let mark = |role: &String, missing: &[String]| {
        format!(
            "{role} {}",
            if missing.contains(role) {
                "✖ missing"
            } else {
                "✔"
            }
        )
    };
    let mut marked: Vec<String> = roles
        .required
        .iter()
        .map(|r| mark(r, &roles.missing_required))
        .collect();
    marked.extend(
        roles
            .recommended
            .iter()
            .map(|r| format!("{} (recommended)", mark(r, &roles.missing_recommended))),
    );
    Some(marked.join(" · "))
}

pub(super) fn secret_detail(report: &CredentialReport, now: DateTime<Utc>) -> String {
    let secret = &report.secret;
    let hint = secret
        .hint
        .as_deref()
        .map(|hint| format!("{hint}… "))
        .unwrap_or_default();
    let expiry = match secret.expires_at {
        Some(at) if at <= now => format!("EXPIRED {} ({})", relative(at, now), minute(at)),
        Some(at) => format!("expires {} ({})", relative(at, now), minute(at)),
        None => "expiry unknown: set secret_expires in the profile".to_owned(),
    };
    let threshold = match secret.threshold_crossed_days {
        Some(days) if !secret.expired => format!(" · inside the {days}-day warning"),
        _ => String::new(),
    };
    format!("{hint}{expiry}{threshold} · warns at 30/14/7/1 days")
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

pub(super) fn principal_detail(report: &CredentialReport) -> Option<String> {
    let principal = &report.service_principal;
    (principal.availability == Availability::Read).then(|| {
        format!(
            "assignment required: {} · enabled: {}",
            yes_no(principal.assignment_required),
            yes_no(principal.account_enabled)
        )
    })
}

pub(super) fn tenant_licences_detail(report: &CredentialReport) -> Option<String> {
    let licences = &report.licences;
    if licences.tenant != Availability::Read {
        return None;
    }
    let provisioned = licences
        .plans
        .iter()
        .filter(|plan| plan.provisioning_status.as_deref() == Some("Success"))
        .count();
    let seats = licences
        .copilot_seats_assigned
        .map(|seats| format!(" · {seats} Copilot seats assigned"))
        .unwrap_or_default();
    Some(format!(
        "{provisioned}/{} plans provisioned{seats}",
        licences.plans.len()
    ))
}

pub(super) fn user_licences_detail(report: &CredentialReport) -> Option<String> {
    let licences = &report.licences;
    (licences.users == Availability::Read).then(|| {
        format!(
            "{}/{} sampled users licensed",
            licences.users_licensed, licences.users_sampled
        )
    })
}

pub(super) fn skew_detail(report: &CredentialReport) -> Option<String> {
    report
        .clock_skew
        .skew_seconds
        .map(|skew| format!("server − local: {skew:+} s"))
}
