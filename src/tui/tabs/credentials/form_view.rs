//! Draws the profile form over the Credentials tab: one line per field (the focused one
//! marked, the secret as `•` only, whatever was typed), each refused field's reason under it,
//! then where the form stands — validating, the exact failure with "Ctrl-s save anyway", the
//! collector's refusal, saving — and the keys that apply.
//!
//! Pure; depends on the form, the theme and ratatui. The secret's characters are never read
//! here: only how many there are and where the cursor is.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::form::{Field, Form, Phase};
use crate::terminal_text::printable_line;
use crate::tui::theme::Theme;
use crate::tui::view::wrap::hanging;

/// Columns before a field's text: marker, label, gap.
const LABEL_WIDTH: usize = 17;

/// Widest the form is drawn.
const MAX_WIDTH: u16 = 84;

/// The mask shown for each typed character of the secret.
const MASK: char = '•';

/// Draws `form` over `area` (the tab's body).
pub fn render(frame: &mut Frame<'_>, area: Rect, form: &Form, theme: &Theme) {
    let width = area.width.saturating_sub(4).min(MAX_WIDTH);
    // One column of padding inside the right border keeps wrapped text off it.
    let inner_width = usize::from(width.saturating_sub(3));
    let (lines, cursor_row) = lines(form, theme, inner_width);
    let wanted = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let height = wanted.min(area.height);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let title = match &form.editing {
        Some(name) => format!(" Edit profile {name} "),
        None => " New profile ".to_owned(),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border_focused)
        .title(Span::styled(title, theme.title));
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    frame.render_widget(Paragraph::new(lines), inner);
    if let Some((row, column)) = cursor_row {
        let x = inner
            .x
            .saturating_add(u16::try_from(column).unwrap_or(u16::MAX));
        let y = inner
            .y
            .saturating_add(u16::try_from(row).unwrap_or(u16::MAX));
        if y < inner.bottom() {
            frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), y));
        }
    }
}

/// The form's lines, and where the cursor goes (row, column) when a field takes keys.
fn lines(form: &Form, theme: &Theme, width: usize) -> (Vec<Line<'static>>, Option<(usize, usize)>) {
    let text_width = width.saturating_sub(LABEL_WIDTH + 1).max(1);
    let mut lines = vec![Line::default()];
    let mut cursor = None;
    for field in Field::ALL {
        let focused = form.focus == field;
        let marker = if focused { "›" } else { " " };
        let label_style = if focused { theme.title } else { theme.muted };
        let (shown, at, placeholder) = field_text(form, field, text_width);
        let mut spans = vec![
            Span::styled(format!(" {marker} "), theme.key_hint),
            Span::styled(
                format!("{:<w$}", field.label(), w = LABEL_WIDTH - 3),
                label_style,
            ),
        ];
        if shown.is_empty() {
            spans.push(Span::styled(placeholder, theme.muted));
        } else {
            spans.push(Span::styled(shown, theme.text));
        }
        if focused && !form.busy() && !(field == Field::Name && form.editing.is_some()) {
            cursor = Some((lines.len(), LABEL_WIDTH + at));
        }
        lines.push(Line::from(spans));
        if let Some(why) = form.error(field) {
            lines.extend(hanging(
                vec![Span::styled(
                    format!("{}✖ ", " ".repeat(LABEL_WIDTH)),
                    theme.critical,
                )],
                why,
                theme.critical,
                width,
                LABEL_WIDTH + 2,
            ));
        }
    }
    lines.push(Line::default());
    lines.extend(status_lines(form, theme, width));
    (lines, cursor)
}

/// What a field shows in `width` columns (scrolled to keep the cursor in view), the cursor's
/// column in it, and the placeholder for an empty field.
fn field_text(form: &Form, field: Field, width: usize) -> (String, usize, &'static str) {
    let placeholder = match (field, &form.editing) {
        (Field::Name, Some(_)) => "",
        (Field::Name, None) => "letters, digits, _ and -",
        (Field::Tenant, _) => "tenant id GUID or contoso.onmicrosoft.com",
        (Field::ClientId, _) => "application (client) id GUID",
        (Field::Secret, Some(_)) => "empty keeps the saved secret",
        (Field::Secret, None) => "the client secret's value (hidden)",
    };
    match form.text(field) {
        Some(input) => {
            let scroll = input.visual_scroll(width);
            let mut shown: String = input.value().chars().skip(scroll).take(width).collect();
            if field == Field::Name && form.editing.is_some() {
                shown.push_str("  (fixed: add a new profile to rename)");
            }
            (
                printable_line(&shown).into_owned(),
                input.visual_cursor().saturating_sub(scroll),
                placeholder,
            )
        }
        None => {
            let secret = form.secret();
            let typed = secret.chars();
            let cursor = secret.cursor();
            // The mask scrolls like text would, so the cursor stays visible.
            let scroll = cursor.saturating_sub(width.saturating_sub(1));
            let shown = MASK
                .to_string()
                .repeat(typed.saturating_sub(scroll).min(width));
            (shown, cursor - scroll.min(cursor), placeholder)
        }
    }
}

/// Where the form stands, and the keys that apply.
fn status_lines(form: &Form, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let keys = |text: &str| Line::styled(format!(" {text}"), theme.key_hint);
    let said = |label: &str, style, message: &str| {
        hanging(
            vec![Span::styled(format!(" {label} "), style)],
            &printable_line(message),
            theme.text,
            width,
            label.chars().count() + 2,
        )
    };
    let mut lines = Vec::new();
    match &form.phase {
        Phase::Editing => {
            lines.push(keys(
                "Tab/↑↓ move · Enter on the secret validates, then saves · Esc cancels",
            ));
        }
        Phase::Validating(_) => {
            lines.push(Line::styled(
                " validating… (requesting a token with these credentials)",
                theme.info,
            ));
        }
        Phase::Saving { force, .. } => {
            let what = if *force {
                " saving anyway, unvalidated…"
            } else {
                " token issued: saving…"
            };
            lines.push(Line::styled(what, theme.info));
        }
        Phase::Failed { message, .. } => {
            lines.extend(said("✖ validation failed:", theme.critical, message));
            lines.push(Line::default());
            if form.can_save_anyway() {
                lines.push(keys(
                    "Ctrl-s save anyway (unvalidated) · edit and Enter to retry · Esc cancels",
                ));
            } else {
                lines.push(keys(
                    "the form changed: Enter on the secret validates again · Esc cancels",
                ));
            }
        }
        Phase::Refused(message) => {
            // The refusal names itself ("refused: …").
            lines.extend(said("✖", theme.critical, message));
            lines.push(Line::default());
            lines.push(keys("Esc closes the form · edit and Enter to retry"));
        }
    }
    lines
}
