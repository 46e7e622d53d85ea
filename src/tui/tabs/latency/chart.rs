//! The latency tab's two pictures: the chart of p50/p95/p99 delivery latency over the window
//! on a log axis (see [`scale`](super::scale) for why), with Microsoft's documented average
//! (10 s) and maximum (60 min) as reference lines, and the distribution as vertical bars.
//!
//! Pure drawing; depends on the console's latency view, the diagnosis thresholds (the
//! reference lines), the theme and ratatui's `Chart` and `BarChart`.

use chrono::Duration;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Bar, BarChart, Block, Borders, Chart, Dataset, GraphType};

use super::scale::{LogAxis, duration, short_count};
use super::summary::window_label;
use crate::console::{LatencyPoint, LatencyView, LatencyWindow};
use crate::diagnose::thresholds::{LATENCY_AVERAGE_SECONDS, LATENCY_MAXIMUM_SECONDS};
use crate::severity::Severity;
use crate::tui::theme::Theme;
use crate::tui::view::badge;

/// ` Delivery latency  w 15 min [1 h] 24 h ` (after `title`): the window shown (bracketed, so it reads without
/// colour) among the three, and the key that changes it.
pub fn selector(theme: &Theme, title: &str, shown: LatencyWindow) -> Vec<Span<'static>> {
    let mut spans = vec![
        Span::styled(format!(" {title} "), theme.title),
        Span::styled(" w", theme.key_hint),
    ];
    for window in [
        LatencyWindow::FifteenMinutes,
        LatencyWindow::Hour,
        LatencyWindow::Day,
    ] {
        let label = window_label(window);
        spans.push(if window == shown {
            Span::styled(format!(" [{label}]"), theme.tab_active)
        } else {
            Span::styled(format!(" {label}"), theme.tab_inactive)
        });
    }
    spans.push(Span::raw(" "));
    spans
}

/// The chart's frame in the wide layout: its title is the window selector.
pub fn chart_block(theme: &Theme, shown: LatencyWindow) -> Block<'static> {
    Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Line::from(selector(theme, "Delivery latency", shown)))
}

/// Draws the series of `view` into `area` (inside its block).
pub fn render_chart(frame: &mut Frame<'_>, area: Rect, view: &LatencyView, theme: &Theme) {
    let window = view.window;
    let minutes = window.minutes() as f64;
    let from = view.until - Duration::minutes(window.minutes());
    let axis = LogAxis::fitting(largest(view));
    let x =
        |point: &LatencyPoint| ((point.at - from).num_seconds() as f64 / 60.0).clamp(0.0, minutes);
    let line = |pick: fn(&LatencyPoint) -> f64| -> Vec<(f64, f64)> {
        view.series
            .iter()
            .map(|point| (x(point), axis.y(pick(point))))
            .collect()
    };
    let p50 = line(|point| point.p50);
    let p95 = line(|point| point.p95);
    let p99 = line(|point| point.p99);
    let average = [
        (0.0, axis.y(LATENCY_AVERAGE_SECONDS)),
        (minutes, axis.y(LATENCY_AVERAGE_SECONDS)),
    ];
    let maximum = [
        (0.0, axis.y(LATENCY_MAXIMUM_SECONDS)),
        (minutes, axis.y(LATENCY_MAXIMUM_SECONDS)),
    ];
    // One stretch has no segment to draw: show it as points.
    let graph = if view.series.len() > 1 {
        GraphType::Line
    } else {
        GraphType::Scatter
    };
    // References first, so the data is drawn over them.
    let mut datasets = vec![
        Dataset::default()
            .data(&average)
            .marker(Marker::Dot)
            .graph_type(GraphType::Line)
            .style(theme.reference_line),
    ];
    if axis.shows(LATENCY_MAXIMUM_SECONDS) {
        datasets.push(
            Dataset::default()
                .data(&maximum)
                .marker(Marker::Dot)
                .graph_type(GraphType::Line)
                .style(theme.critical),
        );
    }
    datasets.push(percentile(&p50, graph, theme.chart_p50));
    datasets.push(percentile(&p95, graph, theme.chart_p95));
    datasets.push(percentile(&p99, graph, theme.chart_p99));
    let time = |at: chrono::DateTime<chrono::Utc>| {
        Span::styled(at.format("%H:%M").to_string(), theme.muted)
    };
    let middle = from + Duration::minutes(window.minutes() / 2);
    let chart = Chart::new(datasets)
        .legend_position(None)
        .x_axis(
            Axis::default()
                .bounds([0.0, minutes])
                .style(theme.border)
                .labels([time(from), time(middle), time(view.until)]),
        )
        .y_axis(
            Axis::default()
                .bounds(axis.bounds())
                .style(theme.border)
                .labels(
                    axis.labels(usize::from(area.height.saturating_sub(2)))
                        .into_iter()
                        .map(|label| Span::styled(label, theme.muted)),
                ),
        );
    frame.render_widget(chart, area);
}

/// One percentile's line.
fn percentile(data: &[(f64, f64)], graph: GraphType, style: Style) -> Dataset<'_> {
    Dataset::default()
        .data(data)
        .marker(Marker::Braille)
        .graph_type(graph)
        .style(style)
}

/// The chart's legend: which line is which, without relying on colour (the percentile lines
/// are ordered bottom to top, the references are dotted), and a note when the 60 min line is
/// above the axis. `compact` says it in fewer columns.
pub fn legend(theme: &Theme, view: &LatencyView, compact: bool) -> Vec<Span<'static>> {
    let axis = LogAxis::fitting(largest(view));
    let (gap, scale, average, maximum, above) = if compact {
        (" ", " log", "avg", "max", "max off top")
    } else {
        (
            "  ",
            "  (log scale)",
            "average",
            "maximum",
            "maximum: above the axis",
        )
    };
    let mut spans = vec![
        Span::styled(" ━ p50", theme.chart_p50),
        Span::styled(format!("{gap}━ p95"), theme.chart_p95),
        Span::styled(format!("{gap}━ p99"), theme.chart_p99),
        Span::styled(scale, theme.muted),
        Span::styled(
            format!("{gap}•• {} {average}", duration(LATENCY_AVERAGE_SECONDS)),
            theme.muted,
        ),
    ];
    if axis.shows(LATENCY_MAXIMUM_SECONDS) {
        spans.push(Span::styled(
            format!("{gap}•• {} {maximum}", duration(LATENCY_MAXIMUM_SECONDS)),
            theme.critical,
        ));
    } else {
        spans.push(Span::styled(
            format!("{gap}{} {above}", duration(LATENCY_MAXIMUM_SECONDS)),
            theme.muted,
        ));
    }
    spans
}

/// The largest value the chart plots: the axis is fitted to it.
fn largest(view: &LatencyView) -> f64 {
    view.series
        .iter()
        .map(|point| point.p99)
        .fold(view.overall.map_or(0.0, |overall| overall.p99), f64::max)
}

/// The distribution's bucket label: its upper bound, or `>1h` for the bucket past the last
/// bound (whose bound is the largest sample).
fn bucket_label(index: usize, bound: f64, buckets: &[(f64, u64)]) -> String {
    let past_last = index + 1 == buckets.len()
        && index > 0
        && buckets
            .get(index - 1)
            .is_some_and(|(previous, _)| *previous >= LATENCY_MAXIMUM_SECONDS);
    if past_last {
        format!(">{}", duration(LATENCY_MAXIMUM_SECONDS))
    } else {
        duration(bound)
    }
}

/// Draws the distribution into `area` (with its own titled block): one bar per bucket,
/// labelled with its upper bound, its count written on it; buckets past Microsoft's lines
/// take the warning and critical styles (the labels say the same without colour).
pub fn render_histogram(frame: &mut Frame<'_>, area: Rect, view: &LatencyView, theme: &Theme) {
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.border)
        .title(Span::styled(
            format!(
                " Distribution, last {} (bar: samples up to its bound) ",
                window_label(view.window)
            ),
            theme.title,
        ));
    let buckets = &view.histogram;
    let bars: Vec<Bar<'static>> = buckets
        .iter()
        .enumerate()
        .map(|(index, (bound, samples))| {
            let severity = if *bound > LATENCY_MAXIMUM_SECONDS {
                Severity::Critical
            } else if *bound > LATENCY_AVERAGE_SECONDS {
                Severity::Warning
            } else {
                Severity::Ok
            };
            let style = match severity {
                Severity::Ok => theme.chart_p50,
                other => badge::style(theme, other),
            };
            Bar::default()
                .value(*samples)
                .text_value(short_count(*samples))
                .label(Line::styled(
                    bucket_label(index, *bound, buckets),
                    theme.muted,
                ))
                .style(style)
                .value_style(theme.selection)
        })
        .collect();
    let inner = usize::from(area.width.saturating_sub(2));
    let count = bars.len().max(1);
    // Each bar as wide as fits with one column between, within 3..=8 columns.
    let width = (inner / count).saturating_sub(1).clamp(3, 8);
    let chart = BarChart::vertical(bars)
        .block(block)
        .bar_width(u16::try_from(width).unwrap_or(3))
        .bar_gap(1);
    frame.render_widget(chart, area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_past_the_last_bound_is_named_by_the_maximum_not_the_largest_sample() {
        let buckets = [(900.0, 1), (3600.0, 2), (7300.0, 3)];
        assert_eq!(bucket_label(0, 900.0, &buckets), "15m");
        assert_eq!(bucket_label(1, 3600.0, &buckets), "1h");
        assert_eq!(bucket_label(2, 7300.0, &buckets), ">1h");
        let short = [(0.5, 1), (1.0, 2)];
        assert_eq!(bucket_label(1, 1.0, &short), "1s");
    }
}
