//! The per-app breakdown of delivery latency: a table in the wide layout, one line in the
//! compact one. It covers every profile, since stored interactions do not know theirs; an app
//! whose slowest delivery passed Microsoft's 60 min maximum is marked with a symbol, not only
//! a colour.
//!
//! Pure; depends on the console's latency view, the diagnosis thresholds, the theme's badges
//! and ratatui's text types.

use ratatui::text::{Line, Span};

use super::scale::{count, duration};
use super::summary::{LABEL, delivery_severity, label};
use crate::console::{LatencyPoint, LatencyView};
use crate::diagnose::thresholds::LATENCY_MAXIMUM_SECONDS;
use crate::graph::model::well_known;
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::theme::Theme;
use crate::tui::view::badge;

/// A Copilot `appClass` by the app's name (`Teams`, `BizChat`; anything else as it is), fit
/// for the terminal.
pub fn app_name(app_class: &str) -> String {
    printable_line(well_known::app_name(app_class)).into_owned()
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

#[cfg(test)]
mod tests {
    use super::*;

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
