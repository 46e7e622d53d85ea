//! One subscription's figures judged once for every view: how close it is to Graph deleting
//! it, what share of its notifications carried `validationTokens`, how many failed to decrypt
//! or carried the wrong `clientState`, and our acknowledgement p95 against Graph's lines; and
//! the text of each figure. The Subscriptions tab styles these (theme slots, the gauge) and the
//! CLI twins lay them out as text; neither restates a line.
//!
//! The marks are a first glance, drawn from the lines Microsoft documents (the 3-day cap,
//! graph-facts §2; the 2.9 s slow and 10 s retry lines, §3.5) and diagnosis's own expiry lines;
//! the findings are the verdict. Pure: `now` is an argument. Depends on the subscription row,
//! the thresholds and the shared formats; never on the terminal, a theme or any I/O.

use chrono::{DateTime, Utc};

use super::SubscriptionRow;
use super::format::relative;
use crate::diagnose::thresholds::{
    GRAPH_RETRY_TIMEOUT_SECONDS, GRAPH_SLOW_ACK_SECONDS, SUBSCRIPTION_EXPIRY_CRITICAL_HOURS,
    SUBSCRIPTION_EXPIRY_WARNING_HOURS,
};
use crate::graph::model::well_known::{MAX_SUBSCRIPTION_MINUTES, TENANT_WIDE_RESOURCE};
use crate::severity::Severity;
use crate::terminal_text::printable_line;

/// How close the subscription is to Graph deleting it: critical when expired or within
/// diagnosis's critical line, a warning within its warning line.
pub fn expiry_severity(row: &SubscriptionRow, now: DateTime<Utc>) -> Severity {
    let left = row.expires_at - now;
    if row.expires_at <= now || left.num_hours() < SUBSCRIPTION_EXPIRY_CRITICAL_HOURS {
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

/// Share of notifications that carried `validationTokens`: all is well, none means nothing
/// passes, some is a warning; `Unknown` when none arrived (on a quiet tenant, no problem).
pub fn tokens_severity(row: &SubscriptionRow) -> Severity {
    match row.tokens_present_share {
        None => Severity::Unknown,
        Some(share) if share >= 1.0 => Severity::Ok,
        Some(share) if share <= 0.0 => Severity::Critical,
        Some(_) => Severity::Warning,
    }
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
/// towards dropped notifications past 10 s (graph-facts §3.5); `Unknown` when nothing was
/// acknowledged.
pub fn ack_severity(row: &SubscriptionRow) -> Severity {
    match row.ack_p95_seconds {
        None => Severity::Unknown,
        Some(p95) if p95 > GRAPH_RETRY_TIMEOUT_SECONDS => Severity::Critical,
        Some(p95) if p95 > GRAPH_SLOW_ACK_SECONDS => Severity::Warning,
        Some(_) => Severity::Ok,
    }
}

/// The worst of a row's expiry, tokens and ack marks. A figure with nothing behind it
/// (`Unknown`: nothing arrived yet) does not count: a quiet subscription is not a problem.
pub fn row_severity(row: &SubscriptionRow, now: DateTime<Utc>) -> Severity {
    Severity::worst(
        [
            expiry_severity(row, now),
            tokens_severity(row),
            ack_severity(row),
        ]
        .into_iter()
        .filter(|severity| *severity != Severity::Unknown),
    )
}

/// The countdown: `in 2d 02h`, or `EXPIRED 2h 00m ago`.
pub fn countdown(row: &SubscriptionRow, now: DateTime<Utc>) -> String {
    if row.expires_at <= now {
        format!("EXPIRED {}", relative(row.expires_at, now))
    } else {
        relative(row.expires_at, now)
    }
}

/// `100%`, `0%`, or `—` when nothing arrived.
pub fn tokens_text(row: &SubscriptionRow) -> String {
    row.tokens_present_share.map_or_else(
        || "—".to_owned(),
        |share| format!("{:.0}%", (share * 100.0).clamp(0.0, 100.0)),
    )
}

/// `0.04 s`, or `—` when nothing was acknowledged.
pub fn ack_text(row: &SubscriptionRow) -> String {
    row.ack_p95_seconds
        .map_or_else(|| "—".to_owned(), |p95| format!("{p95:.2} s"))
}

/// The resource in a few words: `tenant-wide`, `user 5b2c3d4e…`, or the path itself (made
/// printable: it came from Graph or the store, and lands on a terminal).
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

/// When `at` was (or will be), or `—`.
pub fn when(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    at.map_or_else(|| "—".to_owned(), |at| relative(at, now))
}

/// A healthy tenant-wide row (ten notifications, all with tokens, acknowledged in 0.05 s)
/// expiring `expires_in` after `now`: the starting point of the views' unit tests.
#[cfg(test)]
pub(crate) fn sample_row(expires_in: chrono::TimeDelta, now: DateTime<Utc>) -> SubscriptionRow {
    SubscriptionRow {
        id: "sub-1".into(),
        resource: TENANT_WIDE_RESOURCE.into(),
        expires_at: now + expires_in,
        created_at: now - chrono::TimeDelta::hours(1),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeDelta;

    use super::*;

    fn row(expires_in: TimeDelta, now: DateTime<Utc>) -> SubscriptionRow {
        sample_row(expires_in, now)
    }

    fn now() -> DateTime<Utc> {
        "2026-11-22T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn expiry_follows_diagnosis_lines_and_the_three_day_cap() {
        let now = now();
        let half = row(TimeDelta::minutes(MAX_SUBSCRIPTION_MINUTES / 2), now);
        assert_eq!(expiry_severity(&half, now), Severity::Ok);
        assert!((remaining_share(&half, now) - 0.5).abs() < 1e-9);
        assert_eq!(
            expiry_severity(&row(TimeDelta::hours(5), now), now),
            Severity::Warning
        );
        assert_eq!(
            expiry_severity(&row(TimeDelta::minutes(30), now), now),
            Severity::Critical
        );
        let gone = row(TimeDelta::hours(-2), now);
        assert_eq!(expiry_severity(&gone, now), Severity::Critical);
        assert_eq!(remaining_share(&gone, now), 0.0);
        assert_eq!(countdown(&gone, now), "EXPIRED 2h 00m ago");
        assert_eq!(countdown(&half, now), "in 1d 12h");
    }

    #[test]
    fn delivery_marks_follow_graphs_lines() {
        let now = now();
        let mut r = row(TimeDelta::hours(30), now);
        r.tokens_present_share = Some(0.5);
        r.ack_p95_seconds = Some(3.2);
        assert_eq!(
            (tokens_severity(&r), tokens_text(&r)),
            (Severity::Warning, "50%".into())
        );
        assert_eq!(
            (ack_severity(&r), ack_text(&r)),
            (Severity::Warning, "3.20 s".into())
        );
        r.ack_p95_seconds = Some(10.5);
        assert_eq!(ack_severity(&r), Severity::Critical);
        assert_eq!(failures_severity(10, r.received), Severity::Critical);
        assert_eq!(failures_severity(3, r.received), Severity::Warning);
        assert_eq!(failures_severity(0, r.received), Severity::Ok);
        r.tokens_present_share = None;
        r.ack_p95_seconds = None;
        assert_eq!(
            (tokens_severity(&r), tokens_text(&r)),
            (Severity::Unknown, "—".into())
        );
        assert_eq!(
            (ack_severity(&r), ack_text(&r)),
            (Severity::Unknown, "—".into())
        );
    }

    #[test]
    fn a_row_is_as_bad_as_its_worst_known_mark() {
        let now = now();
        let mut quiet = row(TimeDelta::days(2), now);
        quiet.tokens_present_share = None;
        quiet.ack_p95_seconds = None;
        assert_eq!(
            row_severity(&quiet, now),
            Severity::Ok,
            "quiet is no problem"
        );
        let mut nulls = row(TimeDelta::days(2), now);
        nulls.tokens_present_share = Some(0.0);
        assert_eq!(row_severity(&nulls, now), Severity::Critical);
        let mut slow = row(TimeDelta::days(2), now);
        slow.ack_p95_seconds = Some(3.5);
        assert_eq!(row_severity(&slow, now), Severity::Warning);
        assert_eq!(
            row_severity(&row(TimeDelta::hours(-1), now), now),
            Severity::Critical
        );
    }

    #[test]
    fn resources_shorten_and_moments_read_or_dash() {
        assert_eq!(short_resource(TENANT_WIDE_RESOURCE), "tenant-wide");
        assert_eq!(
            short_resource("/copilot/users/5b2c/interactionHistory/getAllEnterpriseInteractions"),
            "user 5b2c"
        );
        assert_eq!(short_resource("/weird\u{1b}[2J"), "/weird[2J");
        let now = now();
        assert_eq!(when(None, now), "—");
        assert_eq!(when(Some(now - TimeDelta::minutes(5)), now), "5m ago");
    }
}
