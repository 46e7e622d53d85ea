//! Small text formats shared by every view (the TUI's tabs and the CLI twins): countdowns
//! ("in 3d 04h", "2h 10m ago") and timestamps, so a moment reads the same on screen and in a
//! ticket. Pure; depends on chrono only, never on the terminal.

use chrono::{DateTime, TimeDelta, Utc};

/// A span of time to the minute, largest units first: `3d 04h`, `2h 10m`, `45m`, `<1m`.
pub fn span(delta: TimeDelta) -> String {
    let minutes = delta.num_minutes().unsigned_abs();
    let (days, hours, minutes) = (minutes / (24 * 60), (minutes / 60) % 24, minutes % 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "<1m".to_owned(),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m:02}m"),
        (d, h, _) => format!("{d}d {h:02}h"),
    }
}

/// When `at` is as seen from `now`: `in 3d 04h`, `2h 10m ago`, or `just now` within a minute.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let delta = at - now;
    if delta.num_minutes() == 0 {
        "just now".to_owned()
    } else if delta > TimeDelta::zero() {
        format!("in {}", span(delta))
    } else {
        format!("{} ago", span(delta))
    }
}

/// A moment to the minute, UTC: `2026-11-22 07:16Z`.
pub fn minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%MZ").to_string()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn spans_use_the_two_largest_units() {
        assert_eq!(span(TimeDelta::seconds(20)), "<1m");
        assert_eq!(span(TimeDelta::minutes(45)), "45m");
        assert_eq!(span(TimeDelta::minutes(130)), "2h 10m");
        assert_eq!(span(TimeDelta::hours(76)), "3d 04h");
        assert_eq!(span(TimeDelta::hours(-76)), "3d 04h");
    }

    #[test]
    fn relative_says_which_side_of_now() {
        let now: DateTime<Utc> = "2026-11-22T12:00:00Z".parse().unwrap();
        assert_eq!(relative(now + TimeDelta::hours(2), now), "in 2h 00m");
        assert_eq!(relative(now - TimeDelta::days(3), now), "3d 00h ago");
        assert_eq!(relative(now + TimeDelta::seconds(20), now), "just now");
        assert_eq!(minute(now), "2026-11-22 12:00Z");
    }
}
