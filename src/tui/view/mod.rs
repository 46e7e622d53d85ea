//! Drawing: `render(frame, &App, &Theme, now)` lays out the frame — header, tab bar, body,
//! status line, key hints — and draws the overlays (help, audit trail) on top. Below 80×24 it draws only a notice
//! saying so; at 80×24 the tabs use their compact layout.
//!
//! Pure: reads the app, never changes it; "now" is an argument (the collector's clock). Depends
//! on the app's read accessors, the tabs, the theme and ratatui; never on the terminal.

pub mod audit;
pub mod badge;
pub mod finding;
mod footer;
pub mod header;
mod help;
pub mod wrap;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};

use super::app::{App, Link, Overlay};
use super::tabs::TabId;
use super::theme::Theme;

/// The smallest terminal the UI is laid out for.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draws the whole screen.
pub fn render(frame: &mut Frame<'_>, app: &App, theme: &Theme, now: DateTime<Utc>) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        render_too_small(frame, area, theme);
        return;
    }
    let [header, tabs, body, status, hints] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(frame, header, app, theme, now);
    render_tab_bar(frame, tabs, app.tab(), theme);
    if app.snapshot().is_some() {
        let context = app.tab_context(theme, now);
        app.tabs.render(app.tab(), frame, body, &context);
    } else if *app.link() == Link::Connecting {
        frame.render_widget(
            Paragraph::new(Line::styled(
                " Waiting for the collector's first answer…",
                theme.muted,
            )),
            body,
        );
    }
    if let Link::NotAnswering(why) = app.link() {
        render_not_answering(frame, body, why, theme);
    }
    footer::render_status(frame, status, app, theme);
    footer::render_hints(frame, hints, app, theme);
    match app.overlay {
        Overlay::Help { .. } => help::render(frame, body, &app.overlay, theme),
        Overlay::Audit { scroll } => {
            audit::render(frame, body, app.audit_trail(), scroll, theme, now)
        }
        Overlay::None => {}
    }
}

fn render_tab_bar(frame: &mut Frame<'_>, area: Rect, active: TabId, theme: &Theme) {
    let titles = TabId::ALL.iter().map(|tab| {
        let style = if *tab == active {
            theme.tab_active
        } else {
            theme.tab_inactive
        };
        Line::from(Span::styled(
            format!("{} {}", tab.number(), tab.title()),
            style,
        ))
    });
    let selected = TabId::ALL.iter().position(|tab| *tab == active);
    let tabs = Tabs::new(titles)
        .select(selected)
        .style(theme.tab_inactive)
        .highlight_style(theme.tab_active)
        .divider(Span::styled("│", theme.border));
    frame.render_widget(tabs, area);
}

fn render_too_small(frame: &mut Frame<'_>, area: Rect, theme: &Theme) {
    let text = format!(
        "terminal too small (need {}×{}, have {}×{})",
        MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
    );
    let lines = vec![
        Line::styled(text, theme.notice),
        Line::styled("enlarge the window, or press q to quit", theme.muted),
    ];
    let [middle] = Layout::vertical([Constraint::Length(2)])
        .flex(Flex::Center)
        .areas(area);
    frame.render_widget(
        Paragraph::new(lines).centered().wrap(Wrap { trim: true }),
        middle,
    );
}

fn render_not_answering(frame: &mut Frame<'_>, area: Rect, why: &str, theme: &Theme) {
    let width = area.width.saturating_sub(8).min(70);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::vertical([Constraint::Length(6)])
        .flex(Flex::Center)
        .areas(popup);
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.critical)
        .title(Span::styled(" collector not answering ", theme.notice));
    let lines = vec![
        Line::styled(format!("? UNKN {why}."), theme.text),
        Line::styled("The screen shows the last state received.", theme.muted),
        Line::styled("r retry · q quit", theme.key_hint),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        popup,
    );
}
