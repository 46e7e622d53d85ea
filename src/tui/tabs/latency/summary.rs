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
const LABEL: usize = 10;

/// The prefix every Copilot `appClass` shares; the rest names the app.
const APP_CLASS_PREFIX: &str = "IPM.SkypeTeams.Message.Copilot.";

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

fn label(theme: &Theme, text: &str) -> Span<'static> {
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

/// A Copilot `appClass` by the app's name: `Teams`, `BizChat`; anything else as it is.
pub fn app_name(app_class: &str) -> String {
    let name = app_class
        .strip_prefix(APP_CLASS_PREFIX)
        .filter(|rest| !rest.is_empty())
        .unwrap_or(app_class);
    printable_line(name).into_owned()
}

/// The per-app table for the wide layout: app, samples, p50, p95, max.
pub fn by_app_table(theme: &Theme, view: &LatencyView, rows: usize) -> Vec<Line<'static>> {
    let mut lines = vec![Line::styled(
        format!(
            " {:<14}{:>9}{:>9}{:>9}{:>9}",
            "app", "samples", "p50", "p95", "max"
        ),
        theme.muted,
    )];
    if view.by_app.is_empty() {
        lines.push(Line::styled(
            " no interactions created in the window",
            theme.muted,
        ));
        return lines;
    }
    let shown = rows.saturating_sub(2).max(1);
    for (app, point) in view.by_app.iter().take(shown) {
        let style = badge::style(theme, delivery_severity(point));
        lines.push(Line::from(vec![
            Span::styled(format!(" {:<14}", clip(&app_name(app), 13)), theme.text),
            Span::styled(format!("{:>9}", count(point.count)), theme.text),
            Span::styled(format!("{:>9}", duration(point.p50)), theme.text),
            Span::styled(format!("{:>9}", duration(point.p95)), theme.text),
            Span::styled(format!("{:>9}", duration(point.max)), style),
            Span::styled(beyond_mark(point), style),
        ]));
    }
    if view.by_app.len() > shown {
        lines.push(Line::styled(
            format!(" … {} more apps", view.by_app.len() - shown),
            theme.muted,
        ));
    }
    lines
}

/// One line for the compact layout: `By app  Teams 1,204 p95 6.8s · Word 300 p95 5s · …`.
pub fn by_app_line(theme: &Theme, view: &LatencyView, width: usize) -> Line<'static> {
    let mut spans = vec![label(theme, "By app")];
    let mut used = LABEL + 1;
    if view.by_app.is_empty() {
        spans.push(Span::styled(
            "no interactions created in the window",
            theme.muted,
        ));
        return Line::from(spans);
    }
    for (index, (app, point)) in view.by_app.iter().enumerate() {
        let text = format!(
            "{}{} {} p95 {}{}",
            if index == 0 { "" } else { " · " },
            app_name(app),
            count(point.count),
            duration(point.p95),
            beyond_mark(point),
        );
        let more = format!(" · +{}", view.by_app.len() - index);
        let width_of = |s: &str| s.chars().count();
        let room_for_more = index + 1 < view.by_app.len();
        let needed = width_of(&text) + if room_for_more { width_of(&more) } else { 0 };
        if used + needed > width && index > 0 {
            spans.push(Span::styled(more, theme.muted));
            break;
        }
        used += width_of(&text);
        spans.push(Span::styled(text, theme.text));
    }
    Line::from(spans)
}

/// ` ✖` after an app whose slowest delivery passed Microsoft's maximum, so the table says it
/// without colour.
fn beyond_mark(point: &LatencyPoint) -> String {
    if point.max > LATENCY_MAXIMUM_SECONDS {
        let (symbol, _) = badge::symbol_and_word(Severity::Critical);
        format!(" {symbol}")
    } else {
        String::new()
    }
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        let mut clipped: String = text.chars().take(width.saturating_sub(1)).collect();
        clipped.push('…');
        clipped
    }
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

    #[test]
    fn apps_are_named_without_the_shared_prefix() {
        assert_eq!(app_name("IPM.SkypeTeams.Message.Copilot.Teams"), "Teams");
        assert_eq!(
            app_name("IPM.SkypeTeams.Message.Copilot."),
            "IPM.SkypeTeams.Message.Copilot."
        );
        assert_eq!(
            app_name("Custom\u{1b}[31m"),
            printable_line("Custom\u{1b}[31m")
        );
        assert_eq!(clip("BizChatExtended", 8), "BizChat…");
    }
}
