//! Time as every other module sees it: the [`Clock`] trait and its three implementations, and
//! [`stamp`], the one way a moment is written for operators.
//!
//! Logic never reads the wall clock itself; it is handed a `Clock`. [`SystemClock`] is real
//! time, [`ManualClock`] only moves when a test says so, and [`ScaledClock`] runs N times faster
//! than real time from a chosen origin (the simulator's `--speed`), optionally offset (the
//! `clock-skew` scenario) or jumped forward (the simulator's control API).
//!
//! This module depends on nothing else in the crate.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// A source of "now", plus the conversion from this clock's durations to real ones.
pub trait Clock: Send + Sync + Debug {
    /// The current time on this clock.
    fn now(&self) -> DateTime<Utc>;

    /// How long to wait in real time for `span` to pass on this clock.
    ///
    /// Negative spans map to zero. A manual clock answers zero: whoever drives it advances it.
    fn real_duration(&self, span: Duration) -> StdDuration;
}

/// Shared handle to a clock.
pub type SharedClock = Arc<dyn Clock>;

/// Real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn real_duration(&self, span: Duration) -> StdDuration {
        span.to_std().unwrap_or(StdDuration::ZERO)
    }
}

/// A clock that moves only when told to. For tests.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// Moves the clock forward (or back, for a negative span).
    pub fn advance(&self, span: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now += span;
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn real_duration(&self, _span: Duration) -> StdDuration {
        StdDuration::ZERO
    }
}

/// Time that runs `speed` times faster than real time.
///
/// `now = origin + offset + (real elapsed since start) × speed`. The offset can be changed while
/// running: the simulator uses it for clock skew and to jump ahead.
#[derive(Debug)]
pub struct ScaledClock {
    origin: DateTime<Utc>,
    started: Instant,
    speed: f64,
    offset: Mutex<Duration>,
}

/// Why a [`ScaledClock`] could not be built.
#[derive(Debug, thiserror::Error)]
#[error("clock speed must be a finite number between 0.001 and 1000000, got {0}")]
pub struct InvalidSpeed(pub f64);

impl ScaledClock {
    /// Smallest and largest accepted speed factors.
    pub const SPEED_RANGE: std::ops::RangeInclusive<f64> = 0.001..=1_000_000.0;

    /// A clock that reads `origin` now and runs `speed` times faster than real time.
    pub fn new(origin: DateTime<Utc>, speed: f64) -> Result<Self, InvalidSpeed> {
        if !speed.is_finite() || !Self::SPEED_RANGE.contains(&speed) {
            return Err(InvalidSpeed(speed));
        }
        Ok(Self {
            origin,
            started: Instant::now(),
            speed,
            offset: Mutex::new(Duration::zero()),
        })
    }

    /// The speed factor.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Jumps the clock by `span` (positive: into the future).
    pub fn jump(&self, span: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        *offset += span;
    }

    fn scaled_elapsed(&self) -> Duration {
        let real = self.started.elapsed().as_secs_f64() * self.speed;
        // Saturate rather than overflow: a year of accelerated time is far beyond any test.
        let micros = (real * 1_000_000.0).min(i64::MAX as f64) as i64;
        Duration::microseconds(micros)
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = *self.offset.lock().unwrap_or_else(PoisonError::into_inner);
        self.origin + offset + self.scaled_elapsed()
    }

    fn real_duration(&self, span: Duration) -> StdDuration {
        let secs = span.num_microseconds().unwrap_or(i64::MAX) as f64 / 1_000_000.0 / self.speed;
        if secs.is_finite() && secs > 0.0 {
            StdDuration::from_secs_f64(secs.min(1.0e9))
        } else {
            StdDuration::ZERO
        }
    }
}

/// A moment as operators read it, in reports, messages and events: RFC 3339 in UTC to the
/// second (`2026-11-22T07:16:32Z`); the sub-second digits the clocks carry are noise there.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_stamp_is_rfc3339_utc_to_the_second() {
        assert_eq!(
            stamp(at("2026-11-25T18:05:41.884979Z")),
            "2026-11-25T18:05:41Z"
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(at("2026-11-22T08:00:00Z"));
        assert_eq!(clock.now(), at("2026-11-22T08:00:00Z"));
        clock.advance(Duration::minutes(90));
        assert_eq!(clock.now(), at("2026-11-22T09:30:00Z"));
        assert_eq!(clock.real_duration(Duration::hours(1)), StdDuration::ZERO);
    }

    #[test]
    fn scaled_clock_converts_durations_by_speed() {
        let clock = ScaledClock::new(at("2026-11-22T08:00:00Z"), 60.0).unwrap();
        assert_eq!(
            clock.real_duration(Duration::minutes(1)),
            StdDuration::from_secs(1)
        );
        assert_eq!(
            clock.real_duration(Duration::seconds(-5)),
            StdDuration::ZERO
        );
        let before = clock.now();
        clock.jump(Duration::days(3));
        assert!(clock.now() - before >= Duration::days(3));
    }

    #[test]
    fn scaled_clock_rejects_nonsense_speeds() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1.0e7] {
            assert!(ScaledClock::new(Utc::now(), bad).is_err(), "{bad} accepted");
        }
    }
}
