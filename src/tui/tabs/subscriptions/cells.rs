//! What one subscription's values look like on screen, shared by the table and the details:
//! the expiry gauge against Graph's 3-day cap, each mark's symbol in its theme slot, and cells
//! cut to their column. The judgements themselves (what is OK, WARN or CRIT, and each figure's
//! text) are [`crate::console::marks`], shared with the CLI twins; this file owns only how they
//! are styled and fitted.
//!
//! Pure; depends on the subscription row, the shared marks, the badge and the theme.

use chrono::{DateTime, Utc};
use ratatui::text::Span;

use crate::console::SubscriptionRow;
use crate::console::marks::remaining_share;
use crate::severity::Severity;
use crate::tui::theme::Theme;
use crate::tui::view::badge;

/// Graph's acknowledgement deadline as the operator knows it (graph-facts §3.5: 3 s; a
/// response over 2.9 s counts as slow).
pub const ACK_DEADLINE_LABEL: &str = "3 s";

/// `text` cut or padded to exactly `width` characters (cut text ends with `…`).
pub fn fit(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text:<width$}")
    } else if width == 0 {
        String::new()
    } else {
        let mut cut: String = text.chars().take(width - 1).collect();
        cut.push('…');
        cut
    }
}

/// The gauge: `width` cells, filled for the share of the cap left.
pub fn gauge(
    theme: &Theme,
    row: &SubscriptionRow,
    now: DateTime<Utc>,
    width: usize,
) -> Vec<Span<'static>> {
    // `width` is a few dozen cells: the products stay exact.
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let filled = ((remaining_share(row, now) * width as f64).round() as usize).min(width);
    vec![
        Span::styled("█".repeat(filled), theme.gauge),
        Span::styled("░".repeat(width - filled), theme.muted),
    ]
}

/// A severity's symbol alone, in its style (for narrow cells).
pub fn mark(theme: &Theme, severity: Severity) -> Span<'static> {
    let (symbol, _) = badge::symbol_and_word(severity);
    Span::styled(symbol, badge::style(theme, severity))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeDelta;

    use super::*;
    use crate::console::marks::sample_row as row;
    use crate::graph::model::well_known::MAX_SUBSCRIPTION_MINUTES;

    #[test]
    fn the_gauge_measures_against_the_three_day_cap() {
        let now: DateTime<Utc> = "2026-09-22T08:00:00Z".parse().unwrap();
        let theme = Theme::plain();
        let cells = |r: &SubscriptionRow| -> String {
            gauge(&theme, r, now, 10)
                .iter()
                .map(|s| s.content.to_string())
                .collect()
        };
        let full = row(TimeDelta::minutes(MAX_SUBSCRIPTION_MINUTES), now);
        assert_eq!(cells(&full), "██████████");
        let half = row(TimeDelta::minutes(MAX_SUBSCRIPTION_MINUTES / 2), now);
        assert_eq!(cells(&half), "█████░░░░░");
        let gone = row(TimeDelta::hours(-2), now);
        assert_eq!(cells(&gone), "░░░░░░░░░░");
    }

    #[test]
    fn marks_are_symbols_and_cells_fit() {
        let theme = Theme::plain();
        assert_eq!(mark(&theme, Severity::Warning).content, "▲");
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("ab", 4), "ab  ");
        assert_eq!(fit("ab", 0), "");
    }
}
