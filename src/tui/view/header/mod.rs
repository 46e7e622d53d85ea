//! The header: which profile and tenant, how the collector is reached ("embedded", "attached
//! to pid N as read-write", or while the control socket is down "disconnected from pid N" — in
//! words, never by colour alone) and how much is stored; under it, [`status`]'s line. Two
//! lines; pure.
//!
//! The first line is fitted to the width by dropping or shortening its least important parts
//! first (the profile's position, the "tenant" label, the stored count, the tenant, the pid),
//! so what remains is whole and never ends in a dangling separator.
//!
//! Depends on the app's read accessors, the theme, the time formats and ratatui.

mod status;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::console::Connection;
use crate::terminal_text::printable_line;
use crate::tui::app::{App, Link};
use crate::tui::theme::Theme;

/// How the connection reads in the header.
pub fn connection_label(connection: &Connection, readonly: bool) -> String {
    let mode = match connection {
        Connection::Embedded => "embedded".to_owned(),
        Connection::Attached { pid, read_write } => format!(
            "attached to pid {pid} as {}",
            if *read_write && !readonly {
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

/// Separates the first line's parts.
const SEPARATOR: &str = " · ";

/// The first line's parts, each in its fullest form; [`Identity::spans`] renders them at a
/// level of reduction.
struct Identity {
    name: Option<String>,
    tenant: Option<String>,
    /// Which profile of how many, when there are several.
    position: Option<(usize, usize)>,
    connection: String,
    /// The connection without the collector's pid.
    short_connection: String,
    stored: Option<u64>,
}

/// How many reductions [`Identity::spans`] knows, after which only the name is cut.
const REDUCTIONS: usize = 5;

impl Identity {
    fn of(app: &App) -> Self {
        let profile = app.profile();
        let count = app.snapshot().map_or(0, |s| s.profiles.len());
        Self {
            name: profile.map(|p| printable_line(&p.name).into_owned()),
            tenant: profile.map(|p| printable_line(&p.tenant).into_owned()),
            position: (profile.is_some() && count > 1).then_some((app.profile + 1, count)),
            connection: match (app.link(), &app.connection) {
                (Link::Reconnecting { .. }, Connection::Attached { pid, .. }) => {
                    format!("disconnected from pid {pid}")
                }
                _ => connection_label(&app.connection, app.readonly),
            },
            short_connection: match app.link() {
                Link::Reconnecting { .. } => "disconnected".to_owned(),
                _ => short_connection_label(&app.connection, app.readonly),
            },
            stored: app.snapshot().map(|s| s.interactions_stored),
        }
    }

    /// The line after `level` reductions, least important first: the profile's position goes,
    /// the tenant loses its label, the stored count goes, the tenant goes, the pid goes.
    fn spans(&self, theme: &Theme, level: usize, name: Option<&str>) -> Vec<Span<'static>> {
        let mut parts: Vec<Span<'static>> = Vec::new();
        if let Some(tenant) = &self.tenant
            && level < 4
        {
            let text = if level < 2 {
                format!("tenant {tenant}")
            } else {
                tenant.clone()
            };
            parts.push(Span::styled(text, theme.header));
        }
        if let Some((index, count)) = self.position
            && level < 1
        {
            parts.push(Span::styled(
                format!("profile {index}/{count}"),
                theme.muted,
            ));
        }
        let connection = if level < 5 {
            &self.connection
        } else {
            &self.short_connection
        };
        parts.push(Span::styled(connection.clone(), theme.header));
        if let Some(stored) = self.stored
            && level < 3
        {
            parts.push(Span::styled(format!("{stored} stored"), theme.muted));
        }
        let mut spans = vec![Span::styled(" pilotwatch ", theme.title)];
        match name {
            Some(name) => spans.push(Span::styled(name.to_owned(), theme.title)),
            None => spans.push(Span::styled("no profile yet", theme.muted)),
        }
        for part in parts {
            spans.push(Span::styled(SEPARATOR, theme.header));
            spans.push(part);
        }
        spans
    }

    /// The fullest line that fits `width`; at the last reduction the name is cut to fit.
    fn fitted(&self, theme: &Theme, width: usize) -> Vec<Span<'static>> {
        let name = self.name.as_deref();
        for level in 0..=REDUCTIONS {
            let spans = self.spans(theme, level, name);
            if line_width(&spans) <= width {
                return spans;
            }
        }
        let Some(name) = name else {
            return self.spans(theme, REDUCTIONS, None);
        };
        let rest = line_width(&self.spans(theme, REDUCTIONS, Some("")));
        let cut = ellipsize(name, width.saturating_sub(rest).max(1));
        self.spans(theme, REDUCTIONS, Some(&cut))
    }
}

fn line_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// `text` cut to `width` characters, ending in `…` when cut.
pub(super) fn ellipsize(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The connection as [`connection_label`] says it, without the pid (for narrow headers).
fn short_connection_label(connection: &Connection, readonly: bool) -> String {
    match connection {
        Connection::Attached { read_write, .. } => format!(
            "attached as {}",
            if *read_write && !readonly {
                "read-write"
            } else {
                "read-only"
            }
        ),
        Connection::Embedded => connection_label(connection, readonly),
    }
}

/// Draws the header into `area` (two lines).
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let width = usize::from(area.width);
    let first = Identity::of(app).fitted(theme, width);
    let deaths = app.snapshot().map_or(&[][..], |s| s.dead_tasks.as_slice());
    let second = match status::dead_task_line(deaths, theme, now, width) {
        Some(line) => line,
        None => status::status_line(app, theme, now, width),
    };
    let lines = vec![Line::from(first), Line::from(second)];
    frame.render_widget(Paragraph::new(lines).style(theme.header), area);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn identity(connection: Connection) -> Identity {
        Identity {
            name: Some("contoso".into()),
            tenant: Some("contoso.onmicrosoft.com".into()),
            position: Some((1, 2)),
            connection: connection_label(&connection, false),
            short_connection: short_connection_label(&connection, false),
            stored: Some(1234),
        }
    }

    fn text(spans: &[Span<'_>]) -> String {
        spans.iter().map(|span| span.content.as_ref()).collect()
    }

    #[test]
    fn the_first_line_keeps_everything_when_there_is_room() {
        let line = text(&identity(Connection::Embedded).fitted(&Theme::plain(), 160));
        assert_eq!(
            line,
            " pilotwatch contoso · tenant contoso.onmicrosoft.com · profile 1/2 · embedded · 1234 stored"
        );
    }

    #[test]
    fn the_first_line_drops_its_least_important_parts_first_and_never_dangles() {
        let attached = Connection::Attached {
            pid: 4242,
            read_write: true,
        };
        for connection in [Connection::Embedded, attached] {
            let identity = identity(connection);
            let mut previous = usize::MAX;
            // The console draws nothing below 80 columns; 40 leaves the name room to be cut.
            for width in (40..=120).rev() {
                let line = text(&identity.fitted(&Theme::plain(), width));
                let used = line.chars().count();
                assert!(used <= width, "{width}: {line:?}");
                assert!(used <= previous, "{width}: wider than at a wider width");
                previous = used;
                assert!(!line.trim_end().ends_with('·'), "{width}: {line:?}");
                assert!(line.starts_with(" pilotwatch "), "{width}: {line:?}");
                assert!(!line.contains("·  ·"), "{width}: {line:?}");
            }
        }
        let at_80 = text(&identity(Connection::Embedded).fitted(&Theme::plain(), 80));
        assert_eq!(
            at_80,
            " pilotwatch contoso · tenant contoso.onmicrosoft.com · embedded · 1234 stored"
        );
    }

    #[test]
    fn a_long_profile_name_is_cut_last_with_an_ellipsis() {
        let mut identity = identity(Connection::Embedded);
        identity.name = Some("a-very-long-profile-name-that-goes-on".into());
        let line = text(&identity.fitted(&Theme::plain(), 40));
        assert_eq!(line.chars().count(), 40, "{line:?}");
        assert!(
            line.contains('…') && line.ends_with(" · embedded"),
            "{line:?}"
        );
    }
}
