//! The two bottom lines: the status line (the command line while typing, else the latest
//! message or command outcome) and the key hints, which fit the width by dropping the least
//! important first and never `? help` (see the keymap). Pure; depends on the app's read
//! accessors, the keymap, the theme and ratatui.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::badge;
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::app::App;
use crate::tui::keymap::{self, HINT_SEPARATOR};
use crate::tui::theme::Theme;

/// Draws the status line into `area` (one line), with the cursor when the command line is open.
pub fn render_status(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    if let Some(input) = &app.prompt {
        let width = usize::from(area.width.saturating_sub(1));
        let scroll = input.visual_scroll(width);
        let shown: String = input.value().chars().skip(scroll).collect();
        let line = Line::from(vec![
            Span::styled(":", theme.key_hint),
            Span::styled(shown, theme.text),
        ]);
        frame.render_widget(Paragraph::new(line), area);
        let offset = input.visual_cursor().saturating_sub(scroll);
        let x = area
            .x
            .saturating_add(1)
            .saturating_add(u16::try_from(offset).unwrap_or(u16::MAX));
        frame.set_cursor_position(Position::new(x.min(area.right().saturating_sub(1)), area.y));
        return;
    }
    let line = if let Some(message) = &app.message {
        Line::styled(format!(" {}", printable_line(message)), theme.info)
    } else if let Some(outcome) = app.outcomes().next() {
        let severity = if outcome.succeeded {
            Severity::Ok
        } else {
            Severity::Critical
        };
        Line::from(vec![
            Span::raw(" "),
            badge::badge(theme, severity),
            Span::styled(
                format!(" {}: {}", outcome.what, printable_line(&outcome.message)),
                theme.text,
            ),
        ])
    } else {
        Line::default()
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// Draws the key hints into `area` (one line).
pub fn render_hints(frame: &mut Frame<'_>, area: Rect, app: &App, theme: &Theme) {
    let width = usize::from(area.width.saturating_sub(1));
    let mut spans = vec![Span::raw(" ")];
    for (index, (key, word)) in keymap::footer_hints_for(app.key_context(), width, app.readonly)
        .into_iter()
        .enumerate()
    {
        if index > 0 {
            spans.push(Span::raw(HINT_SEPARATOR));
        }
        spans.push(Span::styled(key, theme.key_hint));
        spans.push(Span::styled(format!(" {word}"), theme.muted));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
