//! Plain text of a [`Diagnosis`] for `pilotwatch check --verbose` and the logs: the verdict and
//! headline, the ladder (one line per rung), then one block per finding — `[CRIT] code — title`,
//! since when, the evidence, the cause and the numbered fix.
//!
//! No colours and no wrapping (terminals wrap); control characters stripped, since evidence
//! quotes the network. Pure: depends on the diagnosis types, the severity tags of the
//! credential report's renderer, and `terminal_text`.

use std::fmt::{self, Write as _};

use super::{Diagnosis, Finding, RungState};
use crate::clock::stamp;
use crate::creds::tag;
use crate::severity::Severity;
use crate::terminal_text::printable_lines;

/// The diagnosis as text, ending with a newline.
pub fn render(diagnosis: &Diagnosis) -> String {
    let mut text = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_diagnosis(&mut text, diagnosis);
    printable_lines(&text).into_owned()
}

/// One finding as text, as [`render`] prints it.
pub fn render_finding(finding: &Finding) -> String {
    let mut text = String::new();
    // Writing to a `String` cannot fail.
    let _ = write_finding(&mut text, finding);
    printable_lines(&text).into_owned()
}

fn write_diagnosis(out: &mut String, diagnosis: &Diagnosis) -> fmt::Result {
    writeln!(
        out,
        "profile {}: {} at {}",
        diagnosis.profile,
        diagnosis.severity.label(),
        stamp(diagnosis.at)
    )?;
    match &diagnosis.headline {
        Some(headline) => writeln!(out, "headline: {}", headline.title)?,
        None => writeln!(out, "headline: nothing needs attention")?,
    }
    writeln!(out)?;
    writeln!(out, "empty-dashboard ladder:")?;
    for (rung, state) in &diagnosis.ladder.rungs {
        let (mark, note) = match state {
            RungState::Ok => (tag(Severity::Ok), String::new()),
            RungState::Info { code } => (tag(Severity::Info), format!(" ({})", code.as_str())),
            RungState::Warning { code } => {
                (tag(Severity::Warning), format!(" ({})", code.as_str()))
            }
            RungState::Broken { code } => {
                (tag(Severity::Critical), format!(" ({})", code.as_str()))
            }
            RungState::Unknown { reason } => (tag(Severity::Unknown), format!(" ({reason})")),
        };
        let first = if diagnosis.ladder.first_broken == Some(*rung) {
            "  <- first broken rung"
        } else {
            ""
        };
        writeln!(out, "  {mark} {}{note}{first}", rung.title())?;
    }
    for finding in &diagnosis.findings {
        writeln!(out)?;
        write_finding(out, finding)?;
    }
    Ok(())
}

fn write_finding(out: &mut String, finding: &Finding) -> fmt::Result {
    writeln!(
        out,
        "{} {} — {}",
        tag(finding.severity),
        finding.code.as_str(),
        finding.title
    )?;
    if let Some(since) = finding.since {
        writeln!(out, "       Since: {}", stamp(since))?;
    }
    for line in &finding.evidence {
        writeln!(out, "       {line}")?;
    }
    writeln!(out, "       Cause: {}", finding.cause)?;
    if !finding.fix.is_empty() {
        writeln!(out, "       Fix:")?;
        for (number, step) in finding.fix.iter().enumerate() {
            writeln!(out, "         {}. {step}", number + 1)?;
        }
    }
    Ok(())
}
