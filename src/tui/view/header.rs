//! The header: which profile and tenant, the overall badge with the headline finding, how the
//! collector is reached ("embedded", "attached to pid N as read-write", or while the control
//! socket is down "disconnected from pid N" over "disconnected — retrying in Ns: showing the
//! last state" — in words, never by colour alone), and in the demo the simulated clock and the
//! scenario. Two lines; pure.
//!
//! The first line is fitted to the width by dropping or shortening its least important parts
//! first (the profile's position, the "tenant" label, the stored count, the tenant, the pid),
//! so what remains is whole and never ends in a dangling separator. A collector task that died
//! takes the second line over, as CRIT with what died, when and why and what to do: it means the
//! collector no longer does its job, whatever the last verdict says.
//!
//! Depends on the app's read accessors, the theme, the time formats and ratatui.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::badge;
use crate::collector::TaskDeath;
use crate::console::Connection;
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::app::{App, Link};
use crate::tui::format;
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
fn ellipsize(text: &str, width: usize) -> String {
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

/// What to do about a dead task, when the line has room for it.
const ADVICE: &str = " — restart pilotwatch; its log says more";

/// What to do about a dead task, in a narrow header.
const ADVICE_SHORT: &str = " — restart pilotwatch";

/// The wordings of a dead task's line, fullest first: (what died is called, the advice).
const DEAD_TASK_WORDINGS: [(&str, &str); 3] = [
    ("collector task ", ADVICE),
    ("collector task ", ADVICE_SHORT),
    ("task ", ADVICE_SHORT),
];

/// Fewest characters of the reason worth showing before the wording is shortened.
const REASON_MIN: usize = 16;

/// The second line when collector tasks died: the oldest (most likely the cause of the
/// others), how many more, why, and the advice — the fullest wording that leaves the reason
/// room within `width`, the reason cut to fit.
fn dead_task_line(
    deaths: &[TaskDeath],
    theme: &Theme,
    now: DateTime<Utc>,
    width: usize,
) -> Option<Vec<Span<'static>>> {
    let first = deaths.first()?;
    let badge = badge::badge(theme, Severity::Critical);
    let what = printable_line(&first.label()).into_owned();
    let when = format::relative(first.ended_at, now);
    let more = match deaths.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let reason = printable_line(&first.reason.to_string()).into_owned();
    let mut chosen = None;
    for (called, advice) in DEAD_TASK_WORDINGS {
        let head = format!(" {called}{what} died {when}: ");
        // One column of margin on the left, like the other lines.
        let fixed = 1 + badge.width() + head.chars().count() + more.chars().count();
        let room = width.saturating_sub(fixed + advice.chars().count());
        chosen = Some((head, advice, room));
        if room >= REASON_MIN {
            break;
        }
    }
    let (head, advice, room) = chosen?;
    Some(vec![
        Span::raw(" "),
        badge,
        Span::styled(head, theme.critical),
        Span::styled(ellipsize(&reason, room), theme.text),
        Span::styled(more, theme.text),
        Span::styled(advice, theme.critical),
    ])
}

/// Draws the header into `area` (two lines).
pub fn render(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let width = usize::from(area.width);
    let first = Identity::of(app).fitted(theme, width);
    let deaths = app.snapshot().map_or(&[][..], |s| s.dead_tasks.as_slice());
    let second = match dead_task_line(deaths, theme, now, width) {
        Some(line) => line,
        None => status_line(app, theme, now),
    };
    let lines = vec![Line::from(first), Line::from(second)];
    frame.render_widget(Paragraph::new(lines).style(theme.header), area);
}

/// The badge and headline (or the link's state), and the demo's clock and scenario.
fn status_line(app: &App, theme: &Theme, now: DateTime<Utc>) -> Vec<Span<'static>> {
    let mut second = vec![Span::raw(" ")];
    match app.link() {
        Link::NotAnswering(_) => {
            second.push(badge::badge(theme, Severity::Unknown));
            second.push(Span::styled(
                " collector not answering: showing the last state",
                theme.notice,
            ));
        }
        Link::Reconnecting {
            retry_in_secs,
            refused: None,
        } => {
            second.push(badge::badge(theme, Severity::Unknown));
            second.push(Span::styled(
                format!(" disconnected — retrying in {retry_in_secs}s: showing the last state"),
                theme.notice,
            ));
        }
        Link::Reconnecting {
            retry_in_secs,
            refused: Some(reason),
        } => {
            second.push(badge::badge(theme, Severity::Unknown));
            second.push(Span::styled(
                format!(
                    " disconnected — retrying in {retry_in_secs}s; the collector refused us: {}",
                    printable_line(reason)
                ),
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
    second
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::collector::EndReason;

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

    fn death(task: &str, message: &str) -> TaskDeath {
        TaskDeath {
            task: task.into(),
            profile: Some("contoso".into()),
            ended_at: "2026-03-01T09:57:00Z".parse().unwrap(),
            reason: EndReason::Panicked {
                message: message.into(),
            },
        }
    }

    #[test]
    fn a_dead_task_says_what_when_why_and_what_to_do_within_the_width() {
        let now: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let deaths = [death("poller", "index out of bounds"), death("keeper", "x")];
        let wide = text(&dead_task_line(&deaths, &Theme::plain(), now, 160).unwrap());
        assert_eq!(
            wide,
            " ✖ CRIT collector task poller (contoso) died 3m ago: panicked: index out of bounds \
             (+1 more) — restart pilotwatch; its log says more"
        );
        let long = [death("poller", &"a long panic message ".repeat(10))];
        let narrow = text(&dead_task_line(&long, &Theme::plain(), now, 80).unwrap());
        assert_eq!(narrow.chars().count(), 80, "{narrow:?}");
        assert!(
            narrow.starts_with(" ✖ CRIT task poller (contoso) died 3m ago: panicked: a"),
            "{narrow:?}"
        );
        assert!(narrow.contains('…'), "{narrow:?}");
        assert!(narrow.ends_with(" — restart pilotwatch"), "{narrow:?}");
        assert_eq!(dead_task_line(&[], &Theme::plain(), now, 80), None);
    }
}
