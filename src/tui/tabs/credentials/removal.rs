//! Draws the question `d` asks before a profile is removed: which profile, what goes with it
//! (its configuration entry, and the secret file pilotwatch stored for it), when the running
//! collector notices, and that only `y` removes it.
//!
//! Pure; depends on the theme, the wrapping helper and ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::terminal_text::printable_line;
use crate::tui::theme::Theme;
use crate::tui::view::wrap::hanging;

/// The removal question, over the tab.
pub(super) fn render(frame: &mut Frame<'_>, area: Rect, name: &str, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(72);
    // One column of padding inside the right border keeps wrapped text off it.
    let inner = usize::from(width.saturating_sub(3));
    let mut lines = vec![Line::default()];
    lines.extend(hanging(
        vec![Span::raw(" ")],
        &format!(
            "Remove profile {} and its secret file? It leaves the configuration; a secret \
             file pilotwatch stored for it is deleted. The running collector stops using it \
             at its next start.",
            printable_line(name)
        ),
        theme.text,
        inner,
        1,
    ));
    lines.push(Line::default());
    lines.push(Line::styled(
        " y removes it · n, Esc or any other key keeps it",
        theme.key_hint,
    ));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border_focused)
                .title(Span::styled(" Remove profile ", theme.title)),
        ),
        popup,
    );
}
