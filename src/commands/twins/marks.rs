//! One subscription's figures as the twins print them, each with a severity word so a problem
//! reads in a ticket or a mono terminal exactly as on the Subscriptions tab: the expiry
//! countdown against diagnosis's expiry lines, the share of notifications with
//! `validationTokens`, and our acknowledgement p95 against Graph's 2.9 s slow and 10 s retry
//! lines (graph-facts §3.5). The findings are the verdict; these are a first glance.
//!
//! The lines are the TUI's (its cells are private to the tab, so the rules are restated here
//! over the same thresholds). Pure; depends on the subscription row, the thresholds, the badge
//! words and the shared time formats.

use chrono::{DateTime, Utc};

use crate::console::SubscriptionRow;
use crate::diagnose::thresholds::{
    GRAPH_RETRY_TIMEOUT_SECONDS, GRAPH_SLOW_ACK_SECONDS, SUBSCRIPTION_EXPIRY_CRITICAL_HOURS,
    SUBSCRIPTION_EXPIRY_WARNING_HOURS,
};
use crate::graph::model::well_known::TENANT_WIDE_RESOURCE;
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::format::relative;
use crate::tui::view::badge::symbol_and_word;

/// `✖ CRIT`: the symbol and word of a severity, never colour alone.
pub fn badge(severity: Severity) -> String {
    let (symbol, word) = symbol_and_word(severity);
    format!("{symbol} {word}")
}

/// Critical when expired or within diagnosis's critical line, a warning within its warning line.
pub fn expiry(row: &SubscriptionRow, now: DateTime<Utc>) -> Severity {
    let left = row.expires_at - now;
    if row.expires_at <= now || left.num_hours() < SUBSCRIPTION_EXPIRY_CRITICAL_HOURS {
        Severity::Critical
    } else if left.num_hours() < SUBSCRIPTION_EXPIRY_WARNING_HOURS {
        Severity::Warning
    } else {
        Severity::Ok
    }
}

/// `in 2d 02h`, or `EXPIRED 2h 00m ago`.
pub fn countdown(row: &SubscriptionRow, now: DateTime<Utc>) -> String {
    if row.expires_at <= now {
        format!("EXPIRED {}", relative(row.expires_at, now))
    } else {
        relative(row.expires_at, now)
    }
}

/// All carried tokens: OK; none: critical (nothing passes); some: a warning. `None` when no
/// notification arrived, which on a quiet tenant is no problem.
pub fn tokens(row: &SubscriptionRow) -> Option<Severity> {
    row.tokens_present_share.map(|share| {
        if share >= 1.0 {
            Severity::Ok
        } else if share <= 0.0 {
            Severity::Critical
        } else {
            Severity::Warning
        }
    })
}

/// `100%`, or `—` when nothing arrived.
pub fn tokens_text(row: &SubscriptionRow) -> String {
    row.tokens_present_share.map_or_else(
        || "—".to_owned(),
        |share| format!("{:.0}%", (share * 100.0).clamp(0.0, 100.0)),
    )
}

/// Slow past 2.9 s, counting towards dropped notifications past 10 s; `None` when nothing
/// was acknowledged.
pub fn ack(row: &SubscriptionRow) -> Option<Severity> {
    row.ack_p95_seconds.map(|p95| {
        if p95 > GRAPH_RETRY_TIMEOUT_SECONDS {
            Severity::Critical
        } else if p95 > GRAPH_SLOW_ACK_SECONDS {
            Severity::Warning
        } else {
            Severity::Ok
        }
    })
}

/// `0.04 s`, or `—`.
pub fn ack_text(row: &SubscriptionRow) -> String {
    row.ack_p95_seconds
        .map_or_else(|| "—".to_owned(), |p95| format!("{p95:.2} s"))
}

/// The worst of a row's marks.
pub fn row_severity(row: &SubscriptionRow, now: DateTime<Utc>) -> Severity {
    Severity::worst(
        [Some(expiry(row, now)), tokens(row), ack(row)]
            .into_iter()
            .flatten(),
    )
}

/// `tenant-wide`, `user 5b2c…`, or the path itself.
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

/// When `at` was, or `—`.
pub fn when(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    at.map_or_else(|| "—".to_owned(), |at| relative(at, now))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeDelta;

    use super::*;

    fn row(expires_in: TimeDelta, now: DateTime<Utc>) -> SubscriptionRow {
        SubscriptionRow {
            id: "sub-1".into(),
            resource: TENANT_WIDE_RESOURCE.into(),
            expires_at: now + expires_in,
            created_at: now - TimeDelta::hours(1),
            last_renewed_at: None,
            next_renewal_at: None,
            lifecycle_url: None,
            rich: true,
            certificate_id: None,
            certificate_expires_at: None,
            last_lifecycle: None,
            last_handshake_at: None,
            received: 10,
            tokens_present_share: Some(1.0),
            decrypt_failures: 0,
            client_state_mismatches: 0,
            ack_p95_seconds: Some(0.05),
        }
    }

    #[test]
    fn expiry_follows_diagnosis_lines() {
        let now: DateTime<Utc> = "2026-11-22T12:00:00Z".parse().unwrap();
        assert_eq!(expiry(&row(TimeDelta::days(2), now), now), Severity::Ok);
        assert_eq!(
            expiry(&row(TimeDelta::hours(5), now), now),
            Severity::Warning
        );
        assert_eq!(
            expiry(&row(TimeDelta::minutes(30), now), now),
            Severity::Critical
        );
        let gone = row(TimeDelta::hours(-2), now);
        assert_eq!(expiry(&gone, now), Severity::Critical);
        assert_eq!(countdown(&gone, now), "EXPIRED 2h 00m ago");
    }

    #[test]
    fn delivery_marks_follow_graphs_lines() {
        let now: DateTime<Utc> = "2026-11-22T12:00:00Z".parse().unwrap();
        let mut quiet = row(TimeDelta::days(2), now);
        quiet.tokens_present_share = None;
        quiet.ack_p95_seconds = None;
        assert_eq!(
            row_severity(&quiet, now),
            Severity::Ok,
            "quiet is not a problem"
        );
        assert_eq!(tokens_text(&quiet), "—");
        let mut nulls = row(TimeDelta::days(2), now);
        nulls.tokens_present_share = Some(0.0);
        assert_eq!(row_severity(&nulls, now), Severity::Critical);
        let mut slow = row(TimeDelta::days(2), now);
        slow.ack_p95_seconds = Some(3.5);
        assert_eq!(row_severity(&slow, now), Severity::Warning);
        assert_eq!(ack_text(&slow), "3.50 s");
        assert_eq!(badge(Severity::Critical), "✖ CRIT");
        assert_eq!(short_resource(TENANT_WIDE_RESOURCE), "tenant-wide");
    }
}
