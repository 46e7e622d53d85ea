//! `pilotwatch creds test [NAME] [--json]`: probes one profile (or every profile, concurrently,
//! each tenant's calls sharing one request budget), judges the facts, and prints the credential
//! report as text or JSON. The exit code is the worst report's, Nagios style: 0 OK, 1 WARNING,
//! 2 CRITICAL, 3 UNKNOWN (also when there is nothing to test or the configuration is unusable).
//!
//! JSON: one report object when NAME is given, an array of reports otherwise (like `kubectl get
//! KIND NAME` versus `kubectl get KIND`), so a script asking about one profile gets one object.
//!
//! Depends on `config`, `creds` (probe, assess, render) and `graph::http` for the budgets.

use std::io::Write;

use crate::config::{Config, Profile};
use crate::creds::probe::{ProbeOptions, probe};
use crate::creds::{CredentialReport, assess, render};
use crate::graph::http::{EXPORT_REQUESTS_PER_SECOND, RateBudgets};
use crate::severity::Severity;

use super::{CredsContext, CredsError};

/// Runs the test and returns the process exit code. Errors (no usable configuration, unknown
/// profile, nothing configured) are [`CredsError::Untestable`], which exits 3.
pub async fn run(
    name: Option<&str>,
    json: bool,
    context: &CredsContext,
    out: &mut dyn Write,
) -> Result<u8, CredsError> {
    let profiles = selected_profiles(name, context).map_err(CredsError::untestable)?;
    let reports = test_profiles(&profiles, context, &ProbeOptions::default()).await;
    if json {
        match (name, reports.as_slice()) {
            (Some(_), [report]) => serde_json::to_writer_pretty(&mut *out, report)?,
            _ => serde_json::to_writer_pretty(&mut *out, &reports)?,
        }
        writeln!(out)?;
    } else {
        for (index, report) in reports.iter().enumerate() {
            if index > 0 {
                writeln!(out)?;
            }
            write!(out, "{}", render(report))?;
        }
    }
    out.flush()?;
    Ok(Severity::worst(reports.iter().map(|r| r.severity)).exit_code())
}

/// The profile called `name`, or all of them; an error when there is none to test.
fn selected_profiles(
    name: Option<&str>,
    context: &CredsContext,
) -> Result<Vec<Profile>, CredsError> {
    let config = Config::load(&context.paths.config_file)?;
    match name {
        Some(name) => match config.profiles.iter().find(|p| p.name == name) {
            Some(profile) => Ok(vec![profile.clone()]),
            None => Err(CredsError::UnknownProfile {
                name: name.to_owned(),
                known: config.profiles.iter().map(|p| p.name.clone()).collect(),
            }),
        },
        None if config.profiles.is_empty() => Err(CredsError::NoProfiles {
            config_file: context.paths.config_file.clone(),
        }),
        None => Ok(config.profiles),
    }
}

/// Probes every profile at once and assesses each, in the configuration's order.
pub async fn test_profiles(
    profiles: &[Profile],
    context: &CredsContext,
    options: &ProbeOptions,
) -> Vec<CredentialReport> {
    let budgets = RateBudgets::new(EXPORT_REQUESTS_PER_SECOND);
    let probes = profiles.iter().map(|profile| {
        probe(
            profile,
            context.clock.clone(),
            budgets.for_tenant(&profile.tenant),
            options,
        )
    });
    futures_util::future::join_all(probes)
        .await
        .iter()
        .map(assess)
        .collect()
}
