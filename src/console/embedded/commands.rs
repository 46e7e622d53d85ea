//! The commands a view sends: each answered by its own module (export, scenario, profiles) or
//! here (the credential probe). Subscription actions (renew, reauthorize, recreate, backfill)
//! are the collector's to perform: they go to its order desk and are answered by [`answer`].
//!
//! Depends on the credential probe and the backend's parts.

use std::sync::Arc;

use super::{Backend, export, profiles, scenario};
use crate::collector::{ActionReport, CollectorCommandError};
use crate::console::{Command, CommandOutcome, ConsoleError};
use crate::creds::probe::{ProbeOptions, probe};
use crate::creds::{CredentialReport, assess};
use crate::graph::http::{EXPORT_REQUESTS_PER_SECOND, RateBudgets};
use crate::severity::Severity;

/// Runs `command`.
pub(super) async fn run(
    backend: Arc<Backend>,
    command: Command,
) -> Result<CommandOutcome, ConsoleError> {
    match command {
        Command::TestCredentials { profile } => test_credentials(backend, &profile).await,
        Command::SwitchScenario { name } => scenario::switch(backend, name).await,
        Command::Export {
            filter,
            format,
            path,
        } => export::run(backend, filter, format, path).await,
        Command::ValidateProfile { draft } => profiles::validate(backend, draft).await,
        Command::SaveProfile { draft, force } => profiles::save(backend, draft, force).await,
        Command::RemoveProfile { profile } => profiles::remove(backend, profile).await,
        Command::Renew {
            profile,
            subscription,
        } => answer(backend.orders.renew(&profile, &subscription).await),
        Command::Reauthorize {
            profile,
            subscription,
        } => answer(backend.orders.reauthorize(&profile, &subscription).await),
        Command::Recreate {
            profile,
            subscription,
        } => answer(backend.orders.recreate(&profile, &subscription).await),
        Command::Backfill { profile, from, to } => {
            answer(backend.orders.backfill(&profile, from, to).await)
        }
    }
}

/// What came of one of the collector's own actions (renew, reauthorize, recreate, backfill):
/// a refusal (bad input, or a moment Graph forbids) changed nothing and is `Refused`; an
/// attempt that failed is a failed outcome naming Graph's answer.
fn answer(
    result: Result<ActionReport, CollectorCommandError>,
) -> Result<CommandOutcome, ConsoleError> {
    match result {
        Ok(report) => Ok(CommandOutcome::done(report.to_string())),
        Err(error) if error.is_refusal() => Err(ConsoleError::Refused(error.to_string())),
        Err(error) => Ok(CommandOutcome::failed(error.to_string())),
    }
}

/// Probes `profile`'s credentials as the collector's periodic probe does, and answers with the
/// report's verdict and its most urgent check.
async fn test_credentials(
    backend: Arc<Backend>,
    profile: &str,
) -> Result<CommandOutcome, ConsoleError> {
    let profile = backend.profile(profile)?.clone();
    // A budget of its own: the collector's is not shared outside it. One probe is a handful
    // of requests, far below the tenant's limit.
    let budget = RateBudgets::new(EXPORT_REQUESTS_PER_SECOND).for_tenant(&profile.tenant);
    let facts = probe(
        &profile,
        backend.options.clock.clone(),
        budget,
        &ProbeOptions::default(),
    )
    .await;
    let report = assess(&facts);
    let line = summary(&report);
    Ok(if report.severity <= Severity::Info {
        CommandOutcome::done(line)
    } else {
        CommandOutcome::failed(line)
    })
}

/// `profile NAME: SEVERITY` and, when something is wrong, the worst check's title and summary.
pub fn summary(report: &CredentialReport) -> String {
    let head = format!(
        "profile {}: credentials {}",
        report.profile,
        report.severity.label()
    );
    let worst = report
        .checks
        .iter()
        .filter(|check| check.severity > Severity::Info)
        .max_by_key(|check| check.severity);
    match worst {
        Some(check) => format!("{head} — {}: {}", check.title, check.summary),
        None => format!("{head} — every check passed"),
    }
}
