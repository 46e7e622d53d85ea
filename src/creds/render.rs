//! Plain text of a [`CredentialReport`] for `pilotwatch creds test`: a header line with the
//! overall state, then one block per check — `[CRIT] title — summary`, the evidence, the cause
//! and the numbered fix.
//!
//! No colours (the CLI prints to pipes and honours `NO_COLOR`) and no wrapping (terminals wrap).
//! Everything printed comes from the report, which never holds a secret. Pure: depends only on
//! the report types and [`Severity`].

use std::fmt::{self, Write as _};

use crate::creds::report::{Check, CredentialReport};
use crate::severity::Severity;

/// The report as text, ending with a newline.
pub fn render(report: &CredentialReport) -> String {
    let mut text = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_report(&mut text, report);
    text
}

/// A fixed-width tag per severity, so block titles line up.
pub fn tag(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "[ OK ]",
        Severity::Warning => "[WARN]",
        Severity::Critical => "[CRIT]",
        Severity::Unknown => "[UNKN]",
    }
}

fn write_report(out: &mut String, report: &CredentialReport) -> fmt::Result {
    writeln!(
        out,
        "profile {} (tenant {}, client {}): {}",
        report.profile,
        report.tenant,
        report.client_id,
        report.severity.label()
    )?;
    writeln!(out, "checked at {}", report.checked_at.to_rfc3339())?;
    for check in &report.checks {
        writeln!(out)?;
        write_check(out, check)?;
    }
    Ok(())
}

fn write_check(out: &mut String, check: &Check) -> fmt::Result {
    writeln!(
        out,
        "{} {} — {}",
        tag(check.severity),
        check.title,
        check.summary
    )?;
    for line in &check.evidence {
        writeln!(out, "       {line}")?;
    }
    if let Some(cause) = &check.cause {
        writeln!(out, "       Cause: {cause}")?;
    }
    if !check.fix.is_empty() {
        writeln!(out, "       Fix:")?;
        for (number, step) in check.fix.iter().enumerate() {
            writeln!(out, "         {}. {step}", number + 1)?;
        }
    }
    Ok(())
}
