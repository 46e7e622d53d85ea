//! How long a client waits between attempts to reach a collector that went away: 250 ms
//! doubling to 5 s, each delay jittered down by up to a fifth so that many clients dropped at
//! once (a collector restart) do not all knock at the same instant.
//!
//! Pure apart from the random jitter; depends on `rand` only.

use std::time::Duration;

use rand::Rng as _;

/// The first delay.
pub const FIRST: Duration = Duration::from_millis(250);

/// The longest delay.
pub const LONGEST: Duration = Duration::from_secs(5);

/// The share of a delay the jitter may take off.
const JITTER: f64 = 0.2;

/// Successive delays between attempts.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { next: FIRST }
    }
}

impl Backoff {
    /// Delays from [`FIRST`] on.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next delay, jittered.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.next;
        self.next = (self.next * 2).min(LONGEST);
        let keep = 1.0 - rand::rng().random_range(0.0..JITTER);
        nominal.mul_f64(keep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_to_the_ceiling_and_jitter_only_shortens_them() {
        let mut backoff = Backoff::new();
        let nominal = [250, 500, 1000, 2000, 4000, 5000, 5000, 5000];
        for millis in nominal {
            let nominal = Duration::from_millis(millis);
            let delay = backoff.next_delay();
            assert!(delay <= nominal, "{delay:?} > {nominal:?}");
            assert!(
                delay >= nominal.mul_f64(1.0 - JITTER),
                "{delay:?} too short"
            );
        }
    }
}
