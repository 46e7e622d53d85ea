//! When the processor may try an inbox entry again. Two reasons, counted apart:
//!
//! - A transient failure (the identity platform's keys unreachable, a storage error):
//!   exponential backoff per entry, from [`FIRST_DELAY`] doubling to [`MAX_DELAY`], without
//!   end, so one failing entry never holds up the others and is not hammered either.
//! - Items naming a subscription the registry does not hold (yet): the keeper registers a new
//!   subscription only once Graph has answered its creation, and Graph may push the first
//!   notification before that write is committed. Such an entry is held back a bounded number
//!   of times ([`Grace::holds`], waits doubling from [`Grace::first_wait`]) and then rejected
//!   as unknown. The bound counts holds, not clock readings, so it is the same real time
//!   whatever speed the injected clock runs at.
//!
//! Depends on std only: times are `std::time::Instant` (monotonic), passed in by the caller.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Wait after the first failure.
pub(crate) const FIRST_DELAY: Duration = Duration::from_secs(1);

/// Longest wait between attempts.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(5 * 60);

/// How long an entry naming an unknown subscription waits for the registry before it is
/// rejected as unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Grace {
    /// Times the entry is held back (0: rejected at once).
    pub(crate) holds: u32,
    /// Wait after the first hold; each further hold waits twice as long as the one before.
    pub(crate) first_wait: Duration,
}

/// What to do with an entry whose items name a subscription the registry does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnUnknown {
    /// Hold it back: the registry write may still be on its way.
    Hold,
    /// Its grace is spent: judge it, rejecting those items as unknown.
    Reject,
}

#[derive(Debug, Clone, Copy)]
struct Attempts {
    failures: u32,
    unknown_holds: u32,
    due: Instant,
}

/// Entries held back, by inbox id.
#[derive(Debug)]
pub(crate) struct RetrySchedule {
    grace: Grace,
    held: HashMap<u64, Attempts>,
}

impl RetrySchedule {
    /// An empty schedule whose entries naming unknown subscriptions get `grace`.
    pub(crate) fn new(grace: Grace) -> Self {
        Self {
            grace,
            held: HashMap::new(),
        }
    }

    /// True while entry `id` must not be tried again.
    pub(crate) fn holds(&self, id: u64, now: Instant) -> bool {
        self.held
            .get(&id)
            .is_some_and(|attempts| attempts.due > now)
    }

    /// Entry `id` failed again at `now`; returns how long it is held back.
    pub(crate) fn failed(&mut self, id: u64, now: Instant) -> Duration {
        let attempts = self.attempts(id, now);
        let delay = doubled(FIRST_DELAY, attempts.failures);
        attempts.failures = attempts.failures.saturating_add(1);
        attempts.due = now + delay;
        delay
    }

    /// What to do with entry `id` if its items name an unknown subscription.
    pub(crate) fn on_unknown(&self, id: u64) -> OnUnknown {
        let holds = self
            .held
            .get(&id)
            .map_or(0, |attempts| attempts.unknown_holds);
        if holds < self.grace.holds {
            OnUnknown::Hold
        } else {
            OnUnknown::Reject
        }
    }

    /// Entry `id` named an unknown subscription at `now` and was held back (its
    /// [`Self::on_unknown`] said [`OnUnknown::Hold`]); returns how long it waits, and how many
    /// holds it has had.
    pub(crate) fn unknown(&mut self, id: u64, now: Instant) -> (Duration, u32) {
        let first_wait = self.grace.first_wait;
        let attempts = self.attempts(id, now);
        let delay = doubled(first_wait, attempts.unknown_holds);
        attempts.unknown_holds = attempts.unknown_holds.saturating_add(1);
        attempts.due = now + delay;
        (delay, attempts.unknown_holds)
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

    fn attempts(&mut self, id: u64, now: Instant) -> &mut Attempts {
        self.held.entry(id).or_insert(Attempts {
            failures: 0,
            unknown_holds: 0,
            due: now,
        })
    }
}

/// `first` doubled `times` times, at most [`MAX_DELAY`].
fn doubled(first: Duration, times: u32) -> Duration {
    first
        .saturating_mul(2u32.saturating_pow(times.min(16)))
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const GRACE: Grace = Grace {
        holds: 3,
        first_wait: Duration::from_millis(250),
    };

    #[test]
    fn backoff_doubles_to_a_ceiling_per_entry() {
        let now = Instant::now();
        let mut schedule = RetrySchedule::new(GRACE);
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

    #[test]
    fn an_unknown_subscription_is_waited_for_a_bounded_number_of_holds() {
        let now = Instant::now();
        let mut schedule = RetrySchedule::new(GRACE);
        let mut waits = Vec::new();
        while schedule.on_unknown(7) == OnUnknown::Hold {
            let (wait, holds) = schedule.unknown(7, now);
            assert!(schedule.holds(7, now));
            assert!(!schedule.holds(7, now + wait));
            waits.push((wait, holds));
            assert!(waits.len() <= 3, "the grace is bounded");
        }
        let ms = Duration::from_millis;
        assert_eq!(waits, [(ms(250), 1), (ms(500), 2), (ms(1000), 3)]);
        assert_eq!(schedule.on_unknown(7), OnUnknown::Reject);
        assert_eq!(schedule.on_unknown(8), OnUnknown::Hold, "counted per entry");
    }

    #[test]
    fn failures_and_unknown_holds_are_counted_apart() {
        let now = Instant::now();
        let mut schedule = RetrySchedule::new(GRACE);
        schedule.unknown(1, now);
        // A storage failure neither spends nor resets the grace, and starts its own backoff.
        assert_eq!(schedule.failed(1, now), FIRST_DELAY);
        assert_eq!(schedule.unknown(1, now), (Duration::from_millis(500), 2));
        assert_eq!(schedule.failed(1, now), FIRST_DELAY * 2);
        schedule.succeeded(1);
        assert_eq!(schedule.on_unknown(1), OnUnknown::Hold);
    }

    #[test]
    fn no_grace_rejects_at_once() {
        let schedule = RetrySchedule::new(Grace {
            holds: 0,
            first_wait: Duration::from_secs(1),
        });
        assert_eq!(schedule.on_unknown(1), OnUnknown::Reject);
    }
}
