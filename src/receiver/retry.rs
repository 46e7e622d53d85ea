//! When the processor may try an inbox entry again after a transient failure (the identity
//! platform's keys unreachable, a storage error): exponential backoff per entry, from
//! [`FIRST_DELAY`] doubling to [`MAX_DELAY`], so one failing entry never holds up the others
//! and is not hammered either.
//!
//! Depends on std only: times are `std::time::Instant` (monotonic), passed in by the caller.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Wait after the first failure.
pub(crate) const FIRST_DELAY: Duration = Duration::from_secs(1);

/// Longest wait between attempts.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(5 * 60);

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    due: Instant,
}

/// Entries held back, by inbox id.
#[derive(Debug, Default)]
pub(crate) struct RetrySchedule {
    held: HashMap<u64, Attempts>,
}

impl RetrySchedule {
    /// True while entry `id` must not be tried again.
    pub(crate) fn holds(&self, id: u64, now: Instant) -> bool {
        self.held
            .get(&id)
            .is_some_and(|attempts| attempts.due > now)
    }

    /// Entry `id` failed again at `now`; returns how long it is held back.
    pub(crate) fn failed(&mut self, id: u64, now: Instant) -> Duration {
        let failures = self.held.get(&id).map_or(0, |attempts| attempts.failures);
        let delay = FIRST_DELAY
            .saturating_mul(2u32.saturating_pow(failures.min(16)))
            .min(MAX_DELAY);
        self.held.insert(
            id,
            Attempts {
                failures: failures.saturating_add(1),
                due: now + delay,
            },
        );
        delay
    }

    /// Entry `id` was processed.
    pub(crate) fn succeeded(&mut self, id: u64) {
        self.held.remove(&id);
    }

    /// Entries below `oldest` (the oldest still in the inbox; `None`: the inbox is empty) are
    /// gone: forget them.
    pub(crate) fn forget_before(&mut self, oldest: Option<u64>) {
        self.held
            .retain(|id, _| oldest.is_some_and(|oldest| *id >= oldest));
    }

    /// How long until the next held entry may be tried, if any is held.
    pub(crate) fn next_due(&self, now: Instant) -> Option<Duration> {
        self.held
            .values()
            .map(|attempts| attempts.due.saturating_duration_since(now))
            .min()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn backoff_doubles_to_a_ceiling_per_entry() {
        let now = Instant::now();
        let mut schedule = RetrySchedule::default();
        assert!(!schedule.holds(1, now));
        assert_eq!(schedule.failed(1, now), FIRST_DELAY);
        assert_eq!(schedule.failed(1, now), FIRST_DELAY * 2);
        assert_eq!(schedule.failed(1, now), FIRST_DELAY * 4);
        assert!(schedule.holds(1, now));
        assert!(!schedule.holds(2, now), "other entries are not held back");
        assert!(!schedule.holds(1, now + FIRST_DELAY * 4));
        for _ in 0..40 {
            schedule.failed(1, now);
        }
        assert_eq!(schedule.failed(1, now), MAX_DELAY);
        assert_eq!(schedule.next_due(now), Some(MAX_DELAY));
        schedule.succeeded(1);
        assert!(!schedule.holds(1, now));
        schedule.failed(3, now);
        schedule.failed(9, now);
        schedule.forget_before(Some(5));
        assert_eq!(schedule.held.len(), 1);
        schedule.forget_before(None);
        assert_eq!(schedule.next_due(now), None);
    }
}
