//! Request budgets of the simulated Graph: sliding-window counters keyed by caller.
//!
//! Budgets are counted in real (monotonic) time, not simulated time: "30 requests per second"
//! is about how fast a client really calls, whatever `--speed` the simulation runs at.
//!
//! Depends on nothing else in the crate.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most `limit` requests per `window` for each key.
#[derive(Debug)]
pub struct WindowLimiter {
    limit: usize,
    window: Duration,
    hits: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl WindowLimiter {
    /// A limiter allowing `limit` requests per `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// A limiter allowing `per_second` requests per second (fractions allowed: 0.5 is one
    /// request every two seconds).
    pub fn per_second(per_second: f64) -> Self {
        // Scenarios are checked to at least 0.001; the floor keeps the window representable
        // whatever a caller passes.
        let per_second = if per_second.is_finite() && per_second > 0.0 {
            per_second.max(0.001)
        } else {
            1.0
        };
        let limit = per_second.ceil().max(1.0);
        Self::new(limit as usize, Duration::from_secs_f64(limit / per_second))
    }

    /// Counts a request for `key` at `now`; `Err(retry_after)` when over budget (the request is
    /// then not counted, as Graph does not count rejected calls toward the window).
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut hits = self.hits.lock().unwrap_or_else(PoisonError::into_inner);
        let queue = hits.entry(key.to_owned()).or_default();
        while queue
            .front()
            .is_some_and(|first| now.duration_since(*first) >= self.window)
        {
            queue.pop_front();
        }
        if queue.len() >= self.limit {
            let oldest = queue.front().copied().unwrap_or(now);
            return Err(self.window.saturating_sub(now.duration_since(oldest)));
        }
        queue.push_back(now);
        Ok(())
    }
}

/// Whole seconds for a `Retry-After` header: never zero, rounded up.
pub fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_budget_then_refuses_until_the_window_moves() {
        let limiter = WindowLimiter::new(3, Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check("a", start).is_ok());
        }
        let wait = limiter.check("a", start).unwrap_err();
        assert_eq!(retry_after_secs(wait), 1);
        assert!(limiter.check("b", start).is_ok(), "keys are independent");
        assert!(
            limiter
                .check("a", start + Duration::from_millis(1001))
                .is_ok()
        );
    }

    #[test]
    fn fractional_rates_stretch_the_window() {
        let limiter = WindowLimiter::per_second(0.5);
        let start = Instant::now();
        assert!(limiter.check("a", start).is_ok());
        let wait = limiter
            .check("a", start + Duration::from_secs(1))
            .unwrap_err();
        assert_eq!(retry_after_secs(wait), 1);
        assert!(limiter.check("a", start + Duration::from_secs(2)).is_ok());
    }
}
