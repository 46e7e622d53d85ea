//! Tab 3, Latency: how late notifications arrive over the last 15 min, 1 h or 24 h (`w` or
//! `]` next, `[` previous) — p50/p95/p99/max against Microsoft's documented average (10 s) and
//! maximum (60 min), a chart of the percentiles over the window on a log axis, the
//! distribution, the breakdown by Copilot app, our own acknowledgement time against Graph's
//! 2.9 s slow line, and the split between Graph's side of the delay and ours.
//!
//! The numbers are not in the snapshot: the tab asks the collector with a
//! [`Query::Latency`] when shown, after every snapshot and when the window changes, and keeps
//! only answers to the question it is asking now (another window or profile is dropped).
//! Until the first answer it says "loading…"; a window without samples says why that may be
//! normal; a collector error is shown as such, over the last good numbers if there are any.
//!
//! Compact (stacked) below 120 columns; chart and distribution | numbers and apps from 120.
//! Pure; depends on the console's latency types, the diagnosis thresholds, the theme and
//! ratatui.

mod apps;
mod chart;
pub mod scale;
mod summary;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::{Answer, Query, TabContext, TabReply};
use crate::console::{LatencyQuery, LatencyView, LatencyWindow};
use crate::terminal_text::printable_line;
use crate::tui::action::Action;
use crate::tui::format::minute;

/// From this width the chart and the numbers sit side by side.
const WIDE: u16 = 120;

/// Rows of the distribution's bars (with its title and labels).
const HISTOGRAM_ROWS: u16 = 5;

/// Rows of the distribution in the wide layout.
const HISTOGRAM_ROWS_WIDE: u16 = 10;

/// The tab's own state: the window shown and the collector's latest answers for it.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// The window shown.
    pub window: LatencyWindow,
    /// The latest numbers, with the question they answer.
    view: Option<(LatencyQuery, LatencyView)>,
    /// The latest refusal, with the question it answers; cleared by the next good answer.
    error: Option<(LatencyQuery, String)>,
}

impl Default for State {
    /// The last hour: the window the diagnosis judges delivery over.
    fn default() -> Self {
        Self {
            window: LatencyWindow::Hour,
            view: None,
            error: None,
        }
    }
}

/// The next window, longer first, wrapping round.
pub fn next_window(window: LatencyWindow) -> LatencyWindow {
    match window {
        LatencyWindow::FifteenMinutes => LatencyWindow::Hour,
        LatencyWindow::Hour => LatencyWindow::Day,
        LatencyWindow::Day => LatencyWindow::FifteenMinutes,
    }
}

/// The previous window, wrapping round.
pub fn previous_window(window: LatencyWindow) -> LatencyWindow {
    next_window(next_window(window))
}

impl State {
    /// The question the tab is asking now: its window, for the profile shown.
    pub fn query(&self, context: &TabContext<'_>) -> LatencyQuery {
        LatencyQuery {
            window: self.window,
            profile: context.profile.map(|profile| profile.name.clone()),
        }
    }

    /// Reacts to `action`: changing the window asks for its numbers.
    pub fn handle(&mut self, action: Action, context: &TabContext<'_>) -> TabReply {
        self.window = match action {
            Action::NextWindow => next_window(self.window),
            Action::PreviousWindow => previous_window(self.window),
            _ => return TabReply::Ignored,
        };
        TabReply::Query(Query::Latency(self.query(context)))
    }

    /// Shown, or a fresh snapshot: ask again.
    pub fn wanted(&self, context: &TabContext<'_>) -> Option<Query> {
        Some(Query::Latency(self.query(context)))
    }

    /// Keeps an answer to the question asked now; drops any other. Returns whether anything
    /// drawn changed.
    pub fn answer(&mut self, answer: Answer, context: &TabContext<'_>) -> bool {
        let Answer::Latency(query, result) = answer else {
            return false;
        };
        if query != self.query(context) {
            return false;
        }
        match result {
            Ok(view) => {
                let changed = self.error.is_some()
                    || self.view.as_ref().is_none_or(|(_, shown)| *shown != view);
                self.view = Some((query, view));
                self.error = None;
                changed
            }
            Err(error) => {
                self.error = Some((query, error.to_string()));
                true
            }
        }
    }

    /// The numbers and error for the question asked now, if any.
    fn current(&self, context: &TabContext<'_>) -> (Option<&LatencyView>, Option<&str>) {
        let query = self.query(context);
        let view = self
            .view
            .as_ref()
            .filter(|(asked, _)| *asked == query)
            .map(|(_, view)| view);
        let error = self
            .error
            .as_ref()
            .filter(|(asked, _)| *asked == query)
            .map(|(_, error)| error.as_str());
        (view, error)
    }
}

/// Draws the tab into `area`.
pub fn render(frame: &mut Frame<'_>, area: Rect, state: &State, context: &TabContext<'_>) {
    let theme = context.theme;
    let width = usize::from(area.width);
    let (view, error) = state.current(context);
    let Some(view) = view.filter(|view| view.overall.is_some()) else {
        let mut lines = Vec::new();
        match (view, error) {
            (_, Some(error)) => lines.extend(summary::error_lines(theme, error, width)),
            (Some(view), None) => {
                let profile = context.profile.map(|profile| profile.name.as_str());
                lines.extend(summary::empty_lines(theme, view.window, profile, width));
                // Acks can still have been timed: notifications without a usable latency.
                if view.ack.is_some() {
                    lines.push(Line::default());
                    lines.push(summary::ack_line(theme, view));
                }
            }
            (None, None) => lines.push(summary::loading_line(theme, state.window)),
        }
        frame.render_widget(
            Paragraph::new(lines).block(chart::chart_block(theme, state.window)),
            area,
        );
        return;
    };
    let stale = error.map(|error| {
        let mut lines = summary::error_lines(theme, error, width);
        lines.truncate(1);
        lines
    });
    if area.width >= WIDE {
        render_wide(frame, area, view, stale, context);
    } else {
        render_compact(frame, area, view, stale, context);
    }
}

/// Stacked: headline, chart, distribution, apps on one line.
fn render_compact(
    frame: &mut Frame<'_>,
    area: Rect,
    view: &LatencyView,
    stale: Option<Vec<Line<'static>>>,
    context: &TabContext<'_>,
) {
    let theme = context.theme;
    let width = usize::from(area.width);
    let mut top = stale.unwrap_or_default();
    top.extend(summary::headline(theme, view, width));
    let [headline, chart_area, histogram, apps] = Layout::vertical([
        Constraint::Length(u16::try_from(top.len()).unwrap_or(u16::MAX)),
        Constraint::Min(6),
        Constraint::Length(HISTOGRAM_ROWS),
        Constraint::Length(1),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(top), headline);
    let [title, plot] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(chart_area);
    // The tab's name says what the chart is; the columns go to the legend.
    let mut spans = chart::selector(theme, "Latency", view.window);
    spans.extend(chart::legend(theme, view, true));
    frame.render_widget(Paragraph::new(Line::from(spans)), title);
    chart::render_chart(frame, plot, view, theme);
    chart::render_histogram(frame, histogram, view, theme);
    frame.render_widget(Paragraph::new(apps::by_app_line(theme, view, width)), apps);
}

/// Chart and distribution on the left; numbers, what they mean, and apps on the right.
fn render_wide(
    frame: &mut Frame<'_>,
    area: Rect,
    view: &LatencyView,
    stale: Option<Vec<Line<'static>>>,
    context: &TabContext<'_>,
) {
    let theme = context.theme;
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(area);
    let [chart_area, histogram] =
        Layout::vertical([Constraint::Min(8), Constraint::Length(HISTOGRAM_ROWS_WIDE)]).areas(left);
    render_chart_pane(frame, chart_area, view, context);
    chart::render_histogram(frame, histogram, view, theme);

    let width = usize::from(right.width.saturating_sub(1));
    let mut lines = stale.unwrap_or_default();
    lines.extend(summary::headline(theme, view, width));
    lines.push(Line::default());
    lines.extend(summary::legend(theme, width));
    lines.push(Line::styled(
        format!(
            " until {}{}",
            minute(view.until),
            context
                .profile
                .map(|profile| format!(" · profile {}", printable_line(&profile.name)))
                .unwrap_or_default()
        ),
        theme.muted,
    ));
    let numbers_rows = u16::try_from(lines.len() + 1).unwrap_or(u16::MAX);
    let [numbers, apps] =
        Layout::vertical([Constraint::Length(numbers_rows), Constraint::Min(3)]).areas(right);
    let block = |title: &'static str| {
        Block::default()
            .borders(Borders::TOP | Borders::LEFT)
            .border_style(theme.border)
            .title(Span::styled(title, theme.title))
    };
    frame.render_widget(Paragraph::new(lines).block(block(" Numbers ")), numbers);
    frame.render_widget(
        Paragraph::new(apps::by_app_table(
            theme,
            view,
            usize::from(apps.height.saturating_sub(1)),
        ))
        .block(block(
            " By app (every profile: interactions do not know theirs) ",
        )),
        apps,
    );
}

/// The chart in its titled block (the wide layout), the legend on its first line.
fn render_chart_pane(
    frame: &mut Frame<'_>,
    area: Rect,
    view: &LatencyView,
    context: &TabContext<'_>,
) {
    let theme = context.theme;
    let block = chart::chart_block(theme, view.window);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [legend, plot] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(chart::legend(theme, view, false))),
        legend,
    );
    chart::render_chart(frame, plot, view, theme);
}

#[cfg(test)]
mod tests;
