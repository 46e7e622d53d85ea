//! Drawing the feed: a status line (following or paused, where the selection is, what arrived,
//! the filter, an open search), the prompt when one is open, then the list, the detail pane
//! (beside the list from 120 columns, instead of it below) or the activity view. Empty states
//! say what is awaited. Pure; depends on the theme and ratatui.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table};

use super::{State, activity, cells, detail, filter};
use crate::store::records::InteractionRecord;
use crate::terminal_text::printable_line;
use crate::tui::tabs::TabContext;

/// From this width the detail pane sits beside the list and times show their date.
const WIDE: u16 = 120;

/// Draws the tab into `area`.
pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, context: &TabContext<'_>) {
    let theme = context.theme;
    let prompt_rows = if state.prompt.is_some() { 2 } else { 0 };
    let [status, prompt, body] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(prompt_rows),
        Constraint::Fill(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(status_line(state, context)), status);
    if let Some(open) = &state.prompt {
        render_prompt(frame, prompt, open, context);
    }
    let block = |title: String| {
        Block::default()
            .borders(Borders::TOP)
            .border_style(theme.border)
            .title(Span::styled(title, theme.title))
    };
    if let Some(shown) = &state.activity {
        activity::render(frame, body, shown, state.filter(), context);
        return;
    }
    let list = state.list(context);
    let selected = list.get(state.selected).copied();
    match selected.filter(|_| state.detail) {
        Some(record) if body.width >= WIDE => {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(body);
            render_list(frame, left, state, &list, context);
            let lines = detail::lines(record, context, usize::from(right.width));
            frame.render_widget(
                Paragraph::new(lines).block(block(" Interaction ".into())),
                right,
            );
        }
        Some(record) => {
            let lines = detail::lines(record, context, usize::from(body.width));
            let title = format!(
                " Interaction {} of the list · Esc back ",
                state.selected + 1
            );
            frame.render_widget(Paragraph::new(lines).block(block(title)), body);
        }
        None => render_list(frame, body, state, &list, context),
    }
}

/// `● following` or `‖ paused`, the position, arrivals, the filter and an open search.
fn status_line(state: &State, context: &TabContext<'_>) -> Line<'static> {
    let theme = context.theme;
    let stored = context.snapshot.map_or(0, |s| s.interactions_stored);
    let mut spans = if state.following {
        vec![Span::styled(" ● following", theme.ok)]
    } else {
        vec![Span::styled(" ‖ paused", theme.warning)]
    };
    let separator = || Span::styled(" · ", theme.muted);
    spans.push(separator());
    let filtered = !state.filter().is_empty();
    let row = state.window.dropped_above() + state.selected + 1;
    let of = if !filtered {
        format!("{} stored", count(stored))
    } else if state.window.exhausted() {
        let matching = state.window.dropped_above() + state.list(context).len();
        format!("{} matching", count(matching as u64))
    } else {
        format!("{}+ matching", count(state.list(context).len() as u64))
    };
    let position = if state.list(context).is_empty() {
        of
    } else {
        format!("{}/{of}", count(row as u64))
    };
    spans.push(Span::styled(position, theme.text));
    let arrived = state.arrived(context);
    if arrived > 0 {
        spans.push(separator());
        spans.push(Span::styled(
            format!("▲ {} new (f follows)", count(arrived as u64)),
            theme.info,
        ));
    }
    if filtered {
        spans.push(separator());
        spans.push(Span::styled(
            format!("/{}", printable_line(&filter::to_syntax(state.filter()))),
            theme.key_hint,
        ));
    }
    if state.window.searched() > 0 {
        spans.push(separator());
        spans.push(Span::styled(
            format!("searching… {} scanned", count(state.window.searched())),
            theme.info,
        ));
    }
    if let Some(error) = &state.error {
        spans.push(separator());
        spans.push(Span::styled(
            format!("✗ {}", printable_line(error)),
            theme.critical,
        ));
    }
    if let Some(why) = state.window.names_unavailable() {
        spans.push(separator());
        spans.push(Span::styled(
            format!("ⓘ {}", printable_line(why)),
            theme.muted,
        ));
    }
    Line::from(spans)
}

fn render_prompt(
    frame: &mut Frame<'_>,
    area: Rect,
    prompt: &super::Prompt,
    context: &TabContext<'_>,
) {
    let theme = context.theme;
    let [text, hint] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
    let label = prompt.label();
    let label_width = label.chars().count() + 1;
    let width = usize::from(text.width).saturating_sub(label_width + 1);
    let scroll = prompt.input.visual_scroll(width);
    let shown: String = prompt.input.value().chars().skip(scroll).collect();
    let line = Line::from(vec![
        Span::styled(format!(" {label}"), theme.key_hint),
        Span::styled(printable_line(&shown).into_owned(), theme.text),
    ]);
    frame.render_widget(Paragraph::new(line), text);
    let under = match &prompt.error {
        Some(error) => Line::styled(format!(" ✗ {}", printable_line(error)), theme.critical),
        None => Line::styled(format!(" {}", prompt.hint()), theme.muted),
    };
    frame.render_widget(Paragraph::new(under), hint);
    let offset = prompt.input.visual_cursor().saturating_sub(scroll) + label_width;
    let x = text
        .x
        .saturating_add(u16::try_from(offset).unwrap_or(u16::MAX));
    frame.set_cursor_position(Position::new(x.min(text.right().saturating_sub(1)), text.y));
}

/// Column widths: time, user, app, type, session (the rest), latency.
fn widths(wide: bool) -> [Constraint; 7] {
    let (time, user, app) = if wide { (14, 26, 16) } else { (8, 16, 10) };
    [
        Constraint::Length(1),
        Constraint::Length(time),
        Constraint::Length(user),
        Constraint::Length(app),
        Constraint::Length(8),
        Constraint::Fill(1),
        Constraint::Length(7),
    ]
}

fn render_list(
    frame: &mut Frame<'_>,
    area: Rect,
    state: &State,
    list: &[&InteractionRecord],
    context: &TabContext<'_>,
) {
    let theme = context.theme;
    if list.is_empty() {
        let notice = empty_notice(state, context);
        frame.render_widget(
            Paragraph::new(Line::styled(format!(" {notice}"), theme.muted)),
            area,
        );
        return;
    }
    let wide = area.width >= WIDE;
    let names = cells::known_names(list.iter().copied(), state.window.names());
    let session = usize::from(area.width).saturating_sub(FIXED_WIDTH + if wide { 26 } else { 0 });
    let height = usize::from(area.height.saturating_sub(1)).max(1);
    let top = visible_top(state.top, state.selected, height).min(list.len().saturating_sub(1));
    let rows = list
        .iter()
        .enumerate()
        .skip(top)
        .take(height)
        .map(|(index, record)| {
            let chosen = index == state.selected;
            let style = if chosen { theme.selection } else { theme.text };
            row(record, wide, chosen, &names, session).style(style)
        });
    let header =
        Row::new(["", "time", "user", "app", "type", "session", "latency"]).style(theme.header);
    frame.render_widget(
        Table::new(rows, widths(wide))
            .header(header)
            .column_spacing(1),
        area,
    );
}

/// The first row shown: the remembered one, moved just enough to show the selection.
fn visible_top(top: usize, selected: usize, height: usize) -> usize {
    if selected < top {
        selected
    } else if selected >= top + height {
        selected + 1 - height
    } else {
        top
    }
}

/// Columns but the session, with their gaps, at the compact widths (wide adds 26).
const FIXED_WIDTH: usize = 1 + 8 + 16 + 10 + 8 + 7 + 6;

fn row(
    record: &InteractionRecord,
    wide: bool,
    chosen: bool,
    names: &HashMap<&str, &str>,
    session: usize,
) -> Row<'static> {
    let time = if wide {
        record.created_at.format("%m-%d %H:%M:%S").to_string()
    } else {
        record.created_at.format("%H:%M:%S").to_string()
    };
    let marker = if chosen { "›" } else { " " };
    Row::new([
        marker.to_owned(),
        time,
        cells::fit(&cells::user(record, names), if wide { 26 } else { 16 }),
        cells::fit(&cells::app(record), if wide { 16 } else { 10 }),
        cells::kind(record),
        cells::fit(&cells::session(record), session),
        format!("{:>7}", cells::latency(record)),
    ])
}

/// Why the list is empty.
fn empty_notice(state: &State, context: &TabContext<'_>) -> String {
    let Some(snapshot) = context.snapshot else {
        return "waiting for the collector…".into();
    };
    if state.filter().is_empty() {
        if snapshot.interactions_stored == 0 {
            return "waiting for the first interaction (the collector stores each one as it arrives)"
                .into();
        }
        return "loading the newest interactions…".into();
    }
    let filter = filter::to_syntax(state.filter());
    if state.window.exhausted() {
        format!("nothing matches `{filter}` (/ to change it, blank for all)")
    } else if state.window.searched() > 0 {
        format!(
            "no match for `{filter}` yet: searching… {} scanned (j keeps looking)",
            count(state.window.searched())
        )
    } else {
        format!("looking for `{filter}`…")
    }
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_group_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn the_list_scrolls_just_enough() {
        assert_eq!(visible_top(0, 5, 10), 0);
        assert_eq!(visible_top(0, 12, 10), 3);
        assert_eq!(visible_top(8, 4, 10), 4);
    }
}
