//! How busy the synthetic tenant is at a given moment: the share of the peak rate
//! (`scenario.activity.pairs_per_hour`) in force, shaped like an office's working week.
//!
//! Weekday working hours (09:00–17:00) run at the peak, with an hour-long dip to 80 % at lunch;
//! the peak ramps up from 07:00 and down until 19:00; nights run at 10 %; weekends at 20 %
//! during the day and 10 % at night. The tenant works in UTC: the simulator has no time zone of
//! its own, and a fixed zone keeps runs with the same seed and start time identical.
//!
//! A pure function of the time; depends on chrono only.

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};

/// Share of the peak rate at night.
pub const NIGHT_LEVEL: f64 = 0.10;

/// Share of the peak rate during weekend days.
pub const WEEKEND_LEVEL: f64 = 0.20;

/// Share of the peak rate during the lunch hour.
const LUNCH_LEVEL: f64 = 0.80;

/// The share (0–1] of the peak activity rate at `at`.
pub fn activity_level(at: DateTime<Utc>) -> f64 {
    let hour = f64::from(at.hour()) + f64::from(at.minute()) / 60.0;
    match at.weekday() {
        Weekday::Sat | Weekday::Sun => {
            if (8.0..20.0).contains(&hour) {
                WEEKEND_LEVEL
            } else {
                NIGHT_LEVEL
            }
        }
        _ => weekday_level(hour),
    }
}

fn weekday_level(hour: f64) -> f64 {
    let ramp = |from: f64, to: f64, progress: f64| from + (to - from) * progress;
    match hour {
        h if h < 7.0 => NIGHT_LEVEL,
        h if h < 9.0 => ramp(NIGHT_LEVEL, 1.0, (h - 7.0) / 2.0),
        h if (12.0..13.0).contains(&h) => LUNCH_LEVEL,
        h if h < 17.0 => 1.0,
        h if h < 19.0 => ramp(1.0, NIGHT_LEVEL, (h - 17.0) / 2.0),
        _ => NIGHT_LEVEL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn weekday_hours_peak_and_nights_are_quiet() {
        // 2026-11-25 is a Wednesday.
        assert_eq!(activity_level(at("2026-11-25T10:30:00Z")), 1.0);
        assert_eq!(activity_level(at("2026-11-25T16:59:00Z")), 1.0);
        assert_eq!(activity_level(at("2026-11-25T12:30:00Z")), LUNCH_LEVEL);
        assert_eq!(activity_level(at("2026-11-25T03:00:00Z")), NIGHT_LEVEL);
        assert_eq!(activity_level(at("2026-11-25T22:00:00Z")), NIGHT_LEVEL);
        let morning = activity_level(at("2026-11-25T08:00:00Z"));
        assert!((morning - 0.55).abs() < 1e-9, "{morning}");
    }

    #[test]
    fn weekends_run_at_a_fifth() {
        assert_eq!(activity_level(at("2026-11-28T11:00:00Z")), WEEKEND_LEVEL);
        assert_eq!(activity_level(at("2026-11-29T15:00:00Z")), WEEKEND_LEVEL);
        assert_eq!(activity_level(at("2026-11-29T02:00:00Z")), NIGHT_LEVEL);
    }

    #[test]
    fn ramps_are_monotonic_and_the_level_stays_in_range() {
        let mut previous = 0.0;
        for minute in (7 * 60)..(9 * 60) {
            let level = weekday_level(f64::from(minute) / 60.0);
            assert!(level >= previous, "ramp up dips at minute {minute}");
            previous = level;
        }
        previous = weekday_level(17.0);
        for minute in (17 * 60)..(19 * 60) {
            let level = weekday_level(f64::from(minute) / 60.0);
            assert!(level <= previous, "ramp down rises at minute {minute}");
            previous = level;
        }
        let start = at("2026-11-23T00:00:00Z");
        let mut sum = 0.0;
        for minute in 0..(7 * 24 * 60) {
            let level = activity_level(start + chrono::Duration::minutes(minute));
            assert!(level > 0.0 && level <= 1.0);
            sum += level;
        }
        let weekly_mean = sum / f64::from(7 * 24 * 60);
        assert!((0.3..0.45).contains(&weekly_mean), "{weekly_mean}");
    }
}
