//! The `A` overlay: the collector's recent audit trail, newest first — when, who (user and
//! uid, from the socket's peer credentials), which command with which arguments, and how it
//! went, in words as well as colour. What an on-call engineer opens after an incident to see
//! who renewed, recreated or backfilled what while they were away.
//!
//! The records are the collector's (`Snapshot.recent_audit`, the store's audit records). Pure;
//! depends on the store's record type, the theme, the time formats and ratatui.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::terminal_text::printable_line;
use crate::tui::format;
use crate::tui::theme::Theme;

pub use crate::store::records::{AuditOutcome, AuditRecord};

/// Widest the overlay grows: past this, lines are easier to read than to follow.
const MAX_WIDTH: u16 = 150;

/// Draws the audit overlay centred in `area`, from line `scroll` of `records`.
pub fn render(
    frame: &mut Frame<'_>,
    area: Rect,
    records: &[AuditRecord],
    scroll: usize,
    theme: &Theme,
    now: DateTime<Utc>,
) {
    let width = area.width.saturating_sub(4).min(MAX_WIDTH);
    let height = area.height.saturating_sub(2);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_focused)
        .title(Span::styled(" Audit trail — newest first ", theme.title))
        .title_bottom(Span::styled(
            " A or Esc close · j/k scroll ",
            theme.key_hint,
        ));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    // Room for the arguments after the fixed columns (about 60) and a subscription id.
    let wide = inner.width >= 110;
    let lines: Vec<Line<'static>> = if records.is_empty() {
        vec![
            Line::styled(" No command recorded yet.", theme.muted),
            Line::styled(
                " Commands sent to the collector over its control socket (renew, recreate,",
                theme.muted,
            ),
            Line::styled(
                " backfill, …) appear here with who sent them, when, and how they went.",
                theme.muted,
            ),
        ]
    } else {
        records
            .iter()
            .skip(scroll)
            .flat_map(|record| row(record, theme, now, wide, usize::from(inner.width)))
            .collect()
    };
    frame.render_widget(Paragraph::new(lines), inner);
}

/// One record on two lines, each cut to `width`: when, who, what and how it went (and, wide,
/// the arguments), then the outcome's message indented beneath.
fn row(
    record: &AuditRecord,
    theme: &Theme,
    now: DateTime<Utc>,
    wide: bool,
    width: usize,
) -> [Line<'static>; 2] {
    let (mark, word, style) = match record.outcome {
        AuditOutcome::Succeeded => ("✔", "done", theme.ok),
        AuditOutcome::Failed => ("✖", "failed", theme.critical),
        AuditOutcome::Refused => ("⊘", "refused", theme.warning),
    };
    let who = printable_line(&format!("{} ({})", record.user, record.uid)).into_owned();
    let mut spans = vec![
        Span::styled(
            format!(" {} ", record.at.format("%m-%d %H:%M:%SZ")),
            theme.muted,
        ),
        Span::styled(
            format!("{:<9}", format::relative(record.at, now)),
            theme.muted,
        ),
        Span::styled(format!(" {who:<16} "), theme.text),
        Span::styled(
            format!("{:<12}", printable_line(&record.command)),
            theme.text,
        ),
        Span::styled(format!(" {mark} {word:<8}"), style),
    ];
    if wide {
        let used: usize = spans.iter().map(Span::width).sum();
        spans.push(Span::styled(
            cut(&arguments(&record.arguments), width.saturating_sub(used)),
            theme.muted,
        ));
    }
    let message = Line::from(vec![
        Span::raw("   "),
        Span::styled(
            cut(&printable_line(&record.message), width.saturating_sub(3)),
            theme.text,
        ),
    ]);
    [Line::from(spans), message]
}

/// The arguments other than the command's name, as `key=value` pairs.
fn arguments(value: &serde_json::Value) -> String {
    let Some(object) = value.as_object() else {
        return String::new();
    };
    object
        .iter()
        .filter(|(key, _)| key.as_str() != "command")
        .map(|(key, value)| match value {
            serde_json::Value::String(text) => format!("{key}={}", printable_line(text)),
            other => format!("{key}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` cut to `width` characters, ending in `…` when cut.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn arguments_leave_out_the_command_and_strip_control_characters() {
        let value = serde_json::json!({
            "command": "renew", "profile": "contoso", "subscription": "s\u{1b}[31m1"
        });
        assert_eq!(arguments(&value), "profile=contoso subscription=s[31m1");
        assert_eq!(arguments(&serde_json::json!("renew")), "");
    }

    #[test]
    fn a_row_says_how_it_went_in_words_and_fits_its_width() {
        let record = AuditRecord {
            at: "2026-03-01T09:57:00Z".parse().unwrap(),
            uid: 1001,
            user: "alice".into(),
            pid: Some(4242),
            client: "pilotwatch 0.1.0 tui".into(),
            command: "renew".into(),
            arguments: serde_json::json!({"command": "renew", "profile": "contoso"}),
            outcome: AuditOutcome::Refused,
            message: "read-only: you asked for read-only access ".repeat(4),
        };
        let now = "2026-03-01T10:00:00Z".parse().unwrap();
        let [first, second] = row(&record, &Theme::plain(), now, false, 76);
        let text: String = first.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.contains("⊘ refused"), "{text}");
        assert!(text.contains("alice (1001)"), "{text}");
        assert!(text.contains("3m ago"), "{text}");
        let text: String = second.spans.iter().map(|s| s.content.as_ref()).collect();
        assert!(text.starts_with("   read-only: you asked"), "{text}");
        assert_eq!(text.chars().count(), 76, "{text}");
        assert!(text.ends_with('…'), "{text}");
    }
}
