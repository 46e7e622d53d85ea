//! The header: which profile and tenant, the overall badge with the headline finding, how the
//! collector is reached, and in the demo the simulated clock and the scenario. Two lines; pure.
//! Depends on the app's read accessors, the theme and ratatui.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::badge;
use crate::console::Connection;
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::app::{App, Link};
use crate::tui::theme::Theme;

/// How the connection reads in the header.
pub fn connection_label(connection: &Connection, readonly: bool) -> String {
    let mode = match connection {
        Connection::Embedded => "embedded".to_owned(),
        Connection::Attached { pid, read_write } => format!(
            "attached to pid {pid} ({})",
            if *read_write {
                "read-write"
            } else {
                "read-only"
            }
        ),
    };
    match connection {
        Connection::Embedded if readonly => format!("{mode} (read-only)"),
        _ => mode,
    }
}

/// Draws the header into `area` (two lines).
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let mut first = vec![Span::styled(" pilotwatch ", theme.title)];
    match app.profile() {
        Some(profile) => {
            let count = app.snapshot().map_or(0, |s| s.profiles.len());
            first.push(Span::styled(
                printable_line(&profile.name).into_owned(),
                theme.title,
            ));
            first.push(Span::styled(
                format!(" · tenant {}", printable_line(&profile.tenant)),
                theme.header,
            ));
            if count > 1 {
                first.push(Span::styled(
                    format!(" · profile {}/{count}", app.profile + 1),
                    theme.muted,
                ));
            }
        }
        None => first.push(Span::styled("no profile yet", theme.muted)),
    }
    first.push(Span::styled(
        format!(" · {}", connection_label(&app.connection, app.readonly)),
        theme.header,
    ));
    if let Some(snapshot) = app.snapshot() {
        first.push(Span::styled(
            format!(" · {} stored", snapshot.interactions_stored),
            theme.muted,
        ));
    }

    let mut second = vec![Span::raw(" ")];
    match app.link() {
        Link::NotAnswering(_) => {
            second.push(badge::badge(theme, Severity::Unknown));
            second.push(Span::styled(
                " collector not answering: showing the last state",
                theme.notice,
            ));
        }
        Link::Connecting => second.push(Span::styled("connecting to the collector…", theme.muted)),
        Link::Live => match app.profile().and_then(|p| p.verdict.as_ref()) {
            Some(verdict) => {
                let diagnosis = &verdict.diagnosis;
                second.push(badge::badge(theme, diagnosis.severity));
                let headline = match (&diagnosis.headline, diagnosis.severity) {
                    (Some(finding), _) => printable_line(&finding.title).into_owned(),
                    (None, Severity::Ok | Severity::Info) => "all good".to_owned(),
                    // Nothing wrong was seen, but a part could not be judged (yet).
                    (None, _) => "no problem seen; some parts not checked yet".to_owned(),
                };
                second.push(Span::styled(format!(" {headline}"), theme.text));
            }
            None => second.push(Span::styled(
                "no diagnosis yet (the first round runs seconds after start)",
                theme.muted,
            )),
        },
    }
    if let Some(simulation) = app.snapshot().and_then(|s| s.simulation.as_ref()) {
        second.push(Span::styled(
            format!(
                "  · demo {} ×{} · scenario {}",
                now.format("%H:%M:%S"),
                simulation.speed,
                printable_line(&simulation.scenario)
            ),
            theme.info,
        ));
    }
    let lines = vec![Line::from(first), Line::from(second)];
    frame.render_widget(Paragraph::new(lines).style(theme.header), area);
}
