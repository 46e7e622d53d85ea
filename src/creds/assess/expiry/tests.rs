//! The secret-expiry rules, pinned: warning thresholds crossed at exactly N days (in any order,
//! zeros allowed), countdowns rounded down, and configured dates ending at the day's last second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

const DEFAULT: [u32; 4] = [30, 14, 7, 1];

#[test]
fn thresholds_are_crossed_at_exactly_n_days() {
    let day = Duration::days(1);
    let second = Duration::seconds(1);
    let cases = [
        (day * 31, Stage::Fine),
        (day * 30 + second, Stage::Fine),
        (day * 30, Stage::Warning(30)),
        (day * 14 + second, Stage::Warning(30)),
        (day * 14, Stage::Warning(14)),
        (day * 7 + second, Stage::Warning(14)),
        (day * 7, Stage::Warning(7)),
        (day * 6, Stage::Warning(7)),
        (day + second, Stage::Warning(7)),
        (day, Stage::Critical(1)),
        (second, Stage::Critical(1)),
        (Duration::zero(), Stage::Expired),
        (-day, Stage::Expired),
    ];
    for (remaining, expected) in cases {
        assert_eq!(stage(remaining, &DEFAULT), expected, "{remaining}");
    }
}

#[test]
fn thresholds_in_any_order_with_zeros_still_work() {
    let day = Duration::days(1);
    assert_eq!(stage(day * 5, &[1, 0, 30, 7, 14, 7]), Stage::Warning(7));
    assert_eq!(stage(day * 5, &[]), Stage::Fine);
    assert_eq!(stage(day * 5, &[10]), Stage::Critical(10));
    assert_eq!(stage(-day, &[]), Stage::Expired);
}

#[test]
fn countdowns_round_down_to_days_hours_or_minutes() {
    let span = |d: i64, h: i64, m: i64| {
        Duration::days(d) + Duration::hours(h) + Duration::minutes(m) + Duration::seconds(7)
    };
    assert_eq!(countdown(span(69, 16, 0)), "69 days");
    assert_eq!(countdown(span(6, 23, 59)), "6 days");
    assert_eq!(countdown(span(1, 23, 59)), "1day 23h");
    assert_eq!(countdown(span(0, 5, 12)), "5h");
    assert_eq!(countdown(span(0, 0, 42)), "42m");
    assert_eq!(countdown(Duration::seconds(9)), "9s");
    assert_eq!(countdown(-span(3, 4, 0)), "3 days");
}

#[test]
fn configured_dates_end_at_the_last_second_of_the_day() {
    let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    assert_eq!(
        end_of_day(date).unwrap().to_rfc3339(),
        "2026-12-01T23:59:59+00:00"
    );
}
