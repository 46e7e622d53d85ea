//! The `?` overlay: every binding of the keymap table (key, where it applies, what it does),
//! filterable with `/`. Generated from the table, so it cannot go stale. Pure; depends on the
//! keymap, the theme and ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::app::Overlay;
use crate::tui::keymap;
use crate::tui::theme::Theme;

/// Draws the help overlay centred in `area`.
pub fn render(frame: &mut Frame<'_>, area: Rect, overlay: &Overlay, theme: &Theme) {
    let Overlay::Help {
        filter,
        editing,
        scroll,
    } = overlay
    else {
        return;
    };
    let width = area.width.saturating_sub(4).min(72);
    let height = area.height.saturating_sub(2);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(ratatui::layout::Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(ratatui::layout::Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_focused)
        .title(Span::styled(" Keys ", theme.title));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [filter_area, list_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);

    let label = if *editing { "filter: " } else { "/ filter: " };
    let filter_line = Line::from(vec![
        Span::styled(label, theme.key_hint),
        Span::styled(filter.value().to_owned(), theme.text),
    ]);
    frame.render_widget(Paragraph::new(filter_line), filter_area);
    if *editing {
        let offset =
            u16::try_from(label.chars().count() + filter.visual_cursor()).unwrap_or(u16::MAX);
        frame.set_cursor_position(Position::new(
            filter_area
                .x
                .saturating_add(offset)
                .min(filter_area.right().saturating_sub(1)),
            filter_area.y,
        ));
    }

    let lines: Vec<Line<'_>> = keymap::help_lines(filter.value())
        .into_iter()
        .skip(*scroll)
        .map(|line| {
            Line::from(vec![
                Span::styled(format!(" {:<10}", line.key), theme.key_hint),
                Span::styled(format!("{:<14}", line.context), theme.muted),
                Span::styled(line.help, theme.text),
            ])
        })
        .collect();
    let lines = if lines.is_empty() {
        vec![Line::styled(" no key matches the filter", theme.muted)]
    } else {
        lines
    };
    frame.render_widget(Paragraph::new(lines), list_area);
}
