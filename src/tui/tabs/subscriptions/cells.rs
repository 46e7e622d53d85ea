//! What one subscription's values look like on screen, shared by the table and the details:
//! the expiry gauge against Graph's 3-day cap, the resource in short, and each delivery
//! figure with a severity mark, so a problem reads the same in mono as in colour.
//!
//! The marks are a first glance, drawn from the lines Microsoft documents (the 3-day cap, the
//! 2.9 s slow and 10 s retry lines) and diagnosis's own expiry lines; the findings below the
//! table are the verdict. Pure; depends on the subscription row, the thresholds, the badge and
//! the shared formats.

use chrono::{DateTime, Utc};
use ratatui::text::Span;

use crate::console::SubscriptionRow;
use crate::diagnose::thresholds::{
    GRAPH_RETRY_TIMEOUT_SECONDS, GRAPH_SLOW_ACK_SECONDS, SUBSCRIPTION_EXPIRY_CRITICAL_HOURS,
    SUBSCRIPTION_EXPIRY_WARNING_HOURS,
};
use crate::graph::model::well_known::{MAX_SUBSCRIPTION_MINUTES, TENANT_WIDE_RESOURCE};
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::format::relative;
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

/// The resource in a few words: `tenant-wide`, `user 5b2c3d4e…`, or the path itself.
pub fn short_resource(resource: &str) -> String {
    let trimmed = resource.trim_start_matches('/');
    if trimmed == TENANT_WIDE_RESOURCE.trim_start_matches('/') {
        return "tenant-wide".to_owned();
    }
    if let Some(rest) = trimmed.strip_prefix("copilot/users/")
        && let Some((user, _)) = rest.split_once('/')
    {
        return format!("user {}", printable_line(user));
    }
    printable_line(resource).into_owned()
}

/// How close the subscription is to Graph deleting it: critical when expired or within
/// diagnosis's critical line, a warning within its warning line.
pub fn expiry_severity(row: &SubscriptionRow, now: DateTime<Utc>) -> Severity {
    let left = row.expires_at - now;
    if left.num_hours() < SUBSCRIPTION_EXPIRY_CRITICAL_HOURS || row.expires_at <= now {
        Severity::Critical
    } else if left.num_hours() < SUBSCRIPTION_EXPIRY_WARNING_HOURS {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

/// Share of the 3-day cap (4,320 minutes, graph-facts §2) still left, 0.0–1.0.
pub fn remaining_share(row: &SubscriptionRow, now: DateTime<Utc>) -> f64 {
    let left = (row.expires_at - now).num_minutes();
    // Both are minute counts far below 2^52: exact as f64.
    #[allow(clippy::cast_precision_loss)]
    let share = left as f64 / MAX_SUBSCRIPTION_MINUTES as f64;
    share.clamp(0.0, 1.0)
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

/// The countdown beside the gauge: `in 2d 02h` or `EXPIRED 2h 00m ago`.
pub fn countdown(row: &SubscriptionRow, now: DateTime<Utc>) -> String {
    if row.expires_at <= now {
        format!("EXPIRED {}", relative(row.expires_at, now))
    } else {
        relative(row.expires_at, now)
    }
}

/// A severity's symbol alone, in its style (for narrow cells).
pub fn mark(theme: &Theme, severity: Severity) -> Span<'static> {
    let (symbol, _) = badge::symbol_and_word(severity);
    Span::styled(symbol, badge::style(theme, severity))
}

/// Share of notifications that carried `validationTokens`: all is well, none means nothing
/// passes, some is a warning; `Unknown` when none arrived.
pub fn tokens_severity(row: &SubscriptionRow) -> Severity {
    match row.tokens_present_share {
        None => Severity::Unknown,
        Some(share) if share >= 1.0 => Severity::Ok,
        Some(share) if share <= 0.0 => Severity::Critical,
        Some(_) => Severity::Warning,
    }
}

/// `100%`, `0%`, or `—` when nothing arrived.
pub fn tokens_text(row: &SubscriptionRow) -> String {
    row.tokens_present_share.map_or_else(
        || "—".to_owned(),
        |share| format!("{:.0}%", (share * 100.0).clamp(0.0, 100.0)),
    )
}

/// A failure count out of `received`: none is fine, all is critical, some is a warning.
pub fn failures_severity(failures: u64, received: u64) -> Severity {
    match failures {
        0 => Severity::Ok,
        n if n >= received => Severity::Critical,
        _ => Severity::Warning,
    }
}

/// Our 95th-percentile acknowledgement against Graph's lines: slow past 2.9 s, counting
/// towards dropped notifications past 10 s (graph-facts §3.5).
pub fn ack_severity(row: &SubscriptionRow) -> Severity {
    match row.ack_p95_seconds {
        None => Severity::Unknown,
        Some(p95) if p95 > GRAPH_RETRY_TIMEOUT_SECONDS => Severity::Critical,
        Some(p95) if p95 > GRAPH_SLOW_ACK_SECONDS => Severity::Warning,
        Some(_) => Severity::Ok,
    }
}

/// `0.04 s`, or `—` when nothing was acknowledged.
pub fn ack_text(row: &SubscriptionRow) -> String {
    row.ack_p95_seconds
        .map_or_else(|| "—".to_owned(), |p95| format!("{p95:.2} s"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeDelta;

    use super::*;

    fn row(expires_in: TimeDelta, now: DateTime<Utc>) -> SubscriptionRow {
        SubscriptionRow {
            id: "s".into(),
            resource: TENANT_WIDE_RESOURCE.into(),
            expires_at: now + expires_in,
            created_at: now,
            last_renewed_at: None,
            next_renewal_at: None,
            lifecycle_url: None,
            rich: true,
            certificate_id: None,
            certificate_expires_at: None,
            last_lifecycle: None,
            last_handshake_at: None,
            received: 10,
            tokens_present_share: Some(0.5),
            decrypt_failures: 0,
            client_state_mismatches: 10,
            ack_p95_seconds: Some(3.2),
        }
    }

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
        assert_eq!(countdown(&gone, now), "EXPIRED 2h 00m ago");
        assert_eq!(expiry_severity(&gone, now), Severity::Critical);
        assert_eq!(
            expiry_severity(&row(TimeDelta::hours(6), now), now),
            Severity::Warning
        );
        assert_eq!(expiry_severity(&half, now), Severity::Ok);
    }

    #[test]
    fn delivery_marks_follow_graphs_lines() {
        let now: DateTime<Utc> = "2026-09-22T08:00:00Z".parse().unwrap();
        let mut r = row(TimeDelta::hours(30), now);
        assert_eq!(tokens_severity(&r), Severity::Warning);
        assert_eq!(tokens_text(&r), "50%");
        assert_eq!(ack_severity(&r), Severity::Warning);
        assert_eq!(
            failures_severity(r.client_state_mismatches, r.received),
            Severity::Critical
        );
        assert_eq!(failures_severity(0, r.received), Severity::Ok);
        r.tokens_present_share = None;
        r.ack_p95_seconds = Some(0.04);
        assert_eq!(
            (tokens_severity(&r), tokens_text(&r)),
            (Severity::Unknown, "—".into())
        );
        assert_eq!(
            (ack_severity(&r), ack_text(&r)),
            (Severity::Ok, "0.04 s".into())
        );
    }

    #[test]
    fn resources_shorten_and_cells_fit() {
        assert_eq!(short_resource(TENANT_WIDE_RESOURCE), "tenant-wide");
        assert_eq!(
            short_resource("/copilot/users/5b2c/interactionHistory/getAllEnterpriseInteractions"),
            "user 5b2c"
        );
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("ab", 4), "ab  ");
    }
}
