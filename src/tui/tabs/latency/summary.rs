//! The latency tab's words and numbers: delivery percentiles against Microsoft's documented
//! average (10 s) and maximum (60 min), our acknowledgement time against Graph's 2.9 s slow
//! line, the split between Graph's side (created → received) and ours (received → stored),
//! the per-app breakdown, and the empty and error states. Every line Microsoft draws comes
//! from `diagnose::thresholds`, never re-typed here.
//!
//! Pure; depends on the console's latency view, the theme's badges and ratatui's text types.

use ratatui::text::{Line, Span};

use super::scale::{count, duration};
use crate::console::{LatencyPoint, LatencyView, LatencyWindow};
use crate::diagnose::thresholds::{
    GRAPH_SLOW_ACK_SECONDS, LATENCY_AVERAGE_SECONDS, LATENCY_MAXIMUM_SECONDS,
};
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::theme::Theme;
use crate::tui::view::badge;
use crate::tui::view::wrap::hanging;

/// Width of the row labels ("Delivery", "Our ack").
pub(super) const LABEL: usize = 10;

/// How the window is said in prose: "15 min", "1 h", "24 h".
pub fn window_label(window: LatencyWindow) -> &'static str {
    match window {
        LatencyWindow::FifteenMinutes => "15 min",
        LatencyWindow::Hour => "1 h",
        LatencyWindow::Day => "24 h",
    }
}

/// Delivery judged against Microsoft's documented lines: beyond the maximum is a Graph-side
/// incident; a median above the average is slower than Microsoft says is usual.
pub fn delivery_severity(overall: &LatencyPoint) -> Severity {
    if overall.max > LATENCY_MAXIMUM_SECONDS {
        Severity::Critical
    } else if overall.p50 > LATENCY_AVERAGE_SECONDS {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

/// Acknowledgements judged against Graph's slow line: Graph puts the endpoint in its "slow"
/// state when more than 10 % exceed it, so a p95 beyond it is close to that; a few slow ones
/// are worth knowing.
pub fn ack_severity(ack: &LatencyPoint) -> Severity {
    if ack.p95 > GRAPH_SLOW_ACK_SECONDS {
        Severity::Warning
    } else if ack.max > GRAPH_SLOW_ACK_SECONDS {
        Severity::Info
    } else {
        Severity::Ok
    }
}

/// `p50 2.1s  p95 6.8s  p99 7.9s  max 8.4s`.
fn percentiles(theme: &Theme, point: &LatencyPoint) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (name, value) in [
        ("p50", point.p50),
        ("p95", point.p95),
        ("p99", point.p99),
        ("max", point.max),
    ] {
        spans.push(Span::styled(format!(" {name} "), theme.muted));
        spans.push(Span::styled(duration(value), theme.text));
    }
    spans
}

pub(super) fn label(theme: &Theme, text: &str) -> Span<'static> {
    Span::styled(format!(" {text:<LABEL$}"), theme.title)
}

/// The three headline rows: delivery, our ack, and the split, each with its badge.
pub fn headline(theme: &Theme, view: &LatencyView, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(overall) = &view.overall {
        let mut spans = vec![
            label(theme, "Delivery"),
            badge::badge(theme, delivery_severity(overall)),
        ];
        spans.extend(percentiles(theme, overall));
        let extra = Span::styled(format!("  {} samples", count(overall.count)), theme.muted);
        lines.extend(fitted(spans, extra, width));
    }
    // With numbers, the ack line ends in its aside (Graph's slow line), which may move down.
    let ack = ack_line(theme, view);
    let extra = view.ack.is_some();
    let mut spans = ack.spans;
    match spans.pop().filter(|_| extra) {
        Some(last) => lines.extend(fitted(spans, last, width)),
        None => lines.push(Line::from(spans)),
    }
    lines.extend(split_lines(theme, view, width));
    lines
}

/// `spans` then `extra` on one line if they fit in `width`, else `extra` on its own line under
/// the numbers (the figures come first; the aside can wait a line).
fn fitted(spans: Vec<Span<'static>>, extra: Span<'static>, width: usize) -> Vec<Line<'static>> {
    let used: usize = spans.iter().map(Span::width).sum();
    if used + extra.width() <= width {
        let mut spans = spans;
        spans.push(extra);
        vec![Line::from(spans)]
    } else {
        let content = extra.content.trim_start().to_owned();
        vec![
            Line::from(spans),
            Line::from(vec![
                Span::raw(" ".repeat(LABEL + 1)),
                Span::styled(content, extra.style),
            ]),
        ]
    }
}

/// Our acknowledgement time against Graph's slow line, with its badge.
pub fn ack_line(theme: &Theme, view: &LatencyView) -> Line<'static> {
    let Some(ack) = &view.ack else {
        return Line::from(vec![
            label(theme, "Our ack"),
            Span::styled("no notifications received in the window", theme.muted),
        ]);
    };
    let mut spans = vec![
        label(theme, "Our ack"),
        badge::badge(theme, ack_severity(ack)),
    ];
    spans.extend(percentiles(theme, ack));
    spans.push(Span::styled(
        format!("  Graph's slow line {}", duration(GRAPH_SLOW_ACK_SECONDS)),
        theme.muted,
    ));
    Line::from(spans)
}

/// Where the time goes at p95: Graph's side (created → received, which includes the network)
/// against ours (received → stored).
fn split_lines(theme: &Theme, view: &LatencyView, width: usize) -> Vec<Line<'static>> {
    let text = match (&view.overall, &view.ours) {
        (Some(graph), Some(ours)) => {
            format!(
                "at p95, Graph's side {} ({}) · ours {}",
                duration(graph.p95),
                share(graph.p95, ours.p95),
                duration(ours.p95),
            )
        }
        (Some(_), None) => "Graph's side only: no notification records to time ours by".to_owned(),
        (None, _) => "no deliveries to split".to_owned(),
    };
    hanging(
        vec![label(theme, "Split")],
        &text,
        theme.text,
        width,
        LABEL + 1,
    )
}

/// Graph's share of the time at p95, never rounded up to a whole "100 %" while ours is
/// measurable: `99 %`, `>99 %`, `100 %`.
fn share(graph: f64, ours: f64) -> String {
    let total = graph + ours;
    if total <= 0.0 || ours <= 0.0 {
        return "100 %".to_owned();
    }
    let percent = graph / total * 100.0;
    if percent > 99.0 {
        ">99 %".to_owned()
    } else {
        format!("{percent:.0} %")
    }
}

/// The explanation under the headline in the wide layout: what each number measures and
/// which side of the split it is.
pub fn legend(theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for text in [
        format!(
            "Delivery: the interaction's createdDateTime → our receipt; Graph's side, network \
             included. Microsoft documents an average under {} and a maximum of {}; beyond \
             that it is a Graph-side incident, not ours.",
            duration(LATENCY_AVERAGE_SECONDS),
            duration(LATENCY_MAXIMUM_SECONDS),
        ),
        format!(
            "Our ack: receipt → our 2xx. Graph counts an ack slower than {} as slow; more \
             than 10 % slow in 10 minutes delays every notification by 10 minutes.",
            duration(GRAPH_SLOW_ACK_SECONDS),
        ),
        "Split: Graph's side is delivery (created → received); ours is receipt → stored and \
         flushed, before the ack."
            .to_owned(),
    ] {
        lines.extend(hanging(vec![Span::raw(" ")], &text, theme.muted, width, 1));
    }
    lines
}

/// Why a window can be empty, which is often normal.
pub fn empty_lines(
    theme: &Theme,
    window: LatencyWindow,
    profile: Option<&str>,
    width: usize,
) -> Vec<Line<'static>> {
    let whose = profile.map_or_else(
        || "any profile".to_owned(),
        |name| printable_line(name).into_owned(),
    );
    let mut lines = hanging(
        vec![
            Span::raw(" "),
            badge::badge(theme, Severity::Info),
            Span::raw(" "),
        ],
        &format!(
            "No notifications arrived for {whose} in the last {}.",
            window_label(window)
        ),
        theme.text,
        width,
        3,
    );
    lines.extend(hanging(
        vec![Span::raw("   ")],
        "That can be normal: Graph pushes a notification only when someone uses Copilot, so \
         nights, weekends and tenants with few licensed users are quiet. If people are using \
         Copilot now, the Subscriptions tab's diagnosis says where the path breaks; a longer \
         window (w) shows when notifications last arrived.",
        theme.muted,
        width,
        3,
    ));
    lines
}

/// Waiting for the first answer for this window.
pub fn loading_line(theme: &Theme, window: LatencyWindow) -> Line<'static> {
    Line::styled(
        format!(" loading latency for the last {}…", window_label(window)),
        theme.muted,
    )
}

/// The collector could not answer.
pub fn error_lines(theme: &Theme, error: &str, width: usize) -> Vec<Line<'static>> {
    hanging(
        vec![
            Span::raw(" "),
            badge::badge(theme, Severity::Critical),
            Span::styled(" collector error: ", theme.critical),
        ],
        &format!(
            "{} (asked again with the next snapshot, or press r)",
            printable_line(error)
        ),
        theme.text,
        width,
        3,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn point(p50: f64, p95: f64, max: f64) -> LatencyPoint {
        LatencyPoint {
            at: DateTime::<Utc>::UNIX_EPOCH,
            count: 10,
            p50,
            p95,
            p99: p95,
            max,
        }
    }

    #[test]
    fn delivery_is_judged_against_microsofts_documented_lines() {
        assert_eq!(delivery_severity(&point(2.0, 6.0, 8.0)), Severity::Ok);
        assert_eq!(
            delivery_severity(&point(12.0, 30.0, 50.0)),
            Severity::Warning
        );
        assert_eq!(
            delivery_severity(&point(2.0, 6.0, LATENCY_MAXIMUM_SECONDS + 1.0)),
            Severity::Critical
        );
    }

    #[test]
    fn acks_are_judged_against_graphs_slow_line() {
        assert_eq!(ack_severity(&point(0.01, 0.04, 0.2)), Severity::Ok);
        assert_eq!(ack_severity(&point(0.01, 0.04, 3.5)), Severity::Info);
        assert_eq!(ack_severity(&point(1.0, 3.0, 3.5)), Severity::Warning);
    }

    #[test]
    fn graphs_share_is_never_rounded_up_to_all_of_it() {
        assert_eq!(share(6.1, 0.015), ">99 %");
        assert_eq!(share(3.0, 1.0), "75 %");
        assert_eq!(share(3.0, 0.0), "100 %");
        assert_eq!(share(0.0, 0.0), "100 %");
    }
}
