//! The few ways findings write numbers and spans of time, so every finding says "12.5 %",
//! "2.95 s" and "1h 5m" the same way. Moments are written with [`crate::clock::stamp`].
//!
//! Pure; depends on nothing but `chrono`.

use chrono::{DateTime, Duration, Utc};

/// A span in its two largest units, e.g. `3d 2h`, `2h 15m`, `40m`, `40s`; `0s` for a
/// negative span.
pub(super) fn span(span: Duration) -> String {
    let total = span.num_seconds().max(0);
    let (days, hours, minutes, seconds) = (
        total / 86_400,
        total / 3_600 % 24,
        total / 60 % 60,
        total % 60,
    );
    match (days, hours, minutes) {
        (0, 0, 0) => format!("{seconds}s"),
        (0, 0, _) => format!("{minutes}m"),
        (0, _, 0) => format!("{hours}h"),
        (0, _, _) => format!("{hours}h {minutes}m"),
        (_, 0, _) => format!("{days}d"),
        _ => format!("{days}d {hours}h"),
    }
}

/// How long ago `at` was, as of `now`: `15m ago`.
pub(super) fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    format!("{} ago", span(now - at))
}

/// A share in percent with one decimal: `12.5 %`.
pub(super) fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// Seconds with two decimals below a minute, else as a span: `2.95 s`, `1h 5m`.
pub(super) fn seconds(value: f64) -> String {
    if value < 60.0 {
        format!("{value:.2} s")
    } else {
        // Float seconds to whole seconds: saturating, and latencies are far below i64::MAX.
        span(Duration::seconds(value as i64))
    }
}

/// `part` of `whole` as a share, 0 when `whole` is 0.
pub(super) fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// `1 notification`, `3 notifications`.
pub(super) fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_round_to_the_minute_past_one_minute() {
        assert_eq!(span(Duration::seconds(40)), "40s");
        assert_eq!(span(Duration::seconds(8_159)), "2h 15m");
        assert_eq!(span(Duration::seconds(-5)), "0s");
        assert_eq!(span(Duration::minutes(40)), "40m");
        assert_eq!(span(Duration::hours(3)), "3h");
        assert_eq!(span(Duration::days(3)), "3d");
        assert_eq!(span(Duration::hours(74)), "3d 2h");
        assert_eq!(seconds(2.954), "2.95 s");
        assert_eq!(seconds(3_900.0), "1h 5m");
        assert_eq!(percent(0.125), "12.5 %");
        assert_eq!(share(1, 0), 0.0);
        assert_eq!(count(1, "request"), "1 request");
        assert_eq!(count(2, "request"), "2 requests");
    }
}
