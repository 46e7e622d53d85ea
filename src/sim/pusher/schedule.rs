//! When notifications go out: the delay Graph adds between an interaction and its notification
//! (graph-facts §2: average under 10 s, maximum 60 minutes, shaped by the scenario's
//! `[delivery]`), the due-time queue the pusher sleeps on, how due items are cut into POSTs,
//! and the retry schedule for failed deliveries (graph-facts §3.5: exponential backoff for up to
//! four hours).
//!
//! Pure logic over simulated time: no I/O, no clock reads (`now` is always an argument), and no
//! dependency on the simulator's state beyond the scenario's `Delivery` settings.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand_distr::{Distribution, LogNormal};

use crate::sim::scenario::Delivery;

/// When something is due, everything due up to this much later (simulated) goes out with it,
/// so items due at about the same time share a POST.
pub const BATCH_WINDOW: Duration = Duration::milliseconds(250);

/// How long Graph keeps retrying a failed delivery, from its first attempt.
pub const RETRY_WINDOW: Duration = Duration::hours(4);

/// Wait after the first failed attempt; it doubles after each further failure.
pub const FIRST_RETRY_DELAY: Duration = Duration::minutes(1);

/// The backoff stops doubling here, so a receiver that comes back is found within the hour.
pub const LONGEST_RETRY_DELAY: Duration = Duration::hours(1);

/// Samples the delay between an interaction and its notification.
///
/// A `tail_fraction` share is drawn uniformly between the median and `tail_max` (the rare
/// "up to 60 minutes" deliveries); the rest is log-normal around `latency_median` with
/// `latency_sigma`, capped at `tail_max` so no delivery is later than the scenario's maximum.
/// `latency_sigma = 0` gives exactly the median.
pub fn sample_delay<R: Rng + ?Sized>(rng: &mut R, delivery: &Delivery) -> Duration {
    let median = delivery.latency_median.as_secs_f64();
    let longest = delivery.tail_max.as_secs_f64().max(median);
    let in_tail = delivery.tail_fraction > 0.0 && rng.random::<f64>() < delivery.tail_fraction;
    let seconds = if in_tail {
        if longest > median {
            rng.random_range(median..=longest)
        } else {
            longest
        }
    } else if median <= 0.0 || delivery.latency_sigma <= 0.0 {
        median
    } else {
        LogNormal::new(median.ln(), delivery.latency_sigma)
            .map(|body| body.sample(rng))
            .unwrap_or(median)
    };
    seconds_to_duration(seconds.clamp(0.0, longest))
}

fn seconds_to_duration(seconds: f64) -> Duration {
    if seconds.is_finite() && seconds > 0.0 {
        // Scenario maxima are hours; saturate far beyond them rather than overflow.
        Duration::microseconds((seconds * 1_000_000.0).min(1.0e15) as i64)
    } else {
        Duration::zero()
    }
}

/// Wait before the retry that follows failed attempt number `failed_attempt` (1 = the first
/// try): 1, 2, 4, 8, … minutes, at most [`LONGEST_RETRY_DELAY`].
pub fn retry_delay(failed_attempt: u32) -> Duration {
    let doublings = failed_attempt.saturating_sub(1).min(16);
    let delay = FIRST_RETRY_DELAY * (1_i32 << doublings);
    delay.min(LONGEST_RETRY_DELAY)
}

/// When to retry after attempt `failed_attempt` failed at `failed_at`, or `None` once that
/// would fall outside the [`RETRY_WINDOW`] that began with the first attempt.
pub fn next_retry(
    first_attempt_at: DateTime<Utc>,
    failed_at: DateTime<Utc>,
    failed_attempt: u32,
) -> Option<DateTime<Utc>> {
    let due = failed_at + retry_delay(failed_attempt);
    (due <= first_attempt_at + RETRY_WINDOW).then_some(due)
}

/// Work ordered by due time (ties in insertion order).
#[derive(Debug)]
pub struct DueQueue<T> {
    items: BTreeMap<(DateTime<Utc>, u64), T>,
    next_seq: u64,
}

impl<T> Default for DueQueue<T> {
    fn default() -> Self {
        Self {
            items: BTreeMap::new(),
            next_seq: 0,
        }
    }
}

impl<T> DueQueue<T> {
    /// Adds `item`, due at `due`.
    pub fn push(&mut self, due: DateTime<Utc>, item: T) {
        self.next_seq = self.next_seq.wrapping_add(1);
        self.items.insert((due, self.next_seq), item);
    }

    /// The earliest due time, if anything waits.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.items.keys().next().map(|(due, _)| *due)
    }

    /// Removes and returns everything due at or before `until`, earliest first.
    pub fn pop_due(&mut self, until: DateTime<Utc>) -> Vec<T> {
        let later = self.items.split_off(&(until, u64::MAX));
        std::mem::replace(&mut self.items, later)
            .into_values()
            .collect()
    }
}

/// Groups items by destination (in key order, items in their given order) and cuts each group
/// into POSTs of at most `max_batch` items.
pub fn batches<K: Ord + Clone, T>(
    items: impl IntoIterator<Item = (K, T)>,
    max_batch: usize,
) -> Vec<(K, Vec<T>)> {
    let mut groups: BTreeMap<K, Vec<T>> = BTreeMap::new();
    for (key, item) in items {
        groups.entry(key).or_default().push(item);
    }
    let size = max_batch.max(1);
    let mut out = Vec::new();
    for (key, group) in groups {
        let mut rest = group.into_iter().peekable();
        while rest.peek().is_some() {
            out.push((key.clone(), rest.by_ref().take(size).collect()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use std::time::Duration as StdDuration;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn samples(delivery: &Delivery, n: usize) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(7);
        let mut out: Vec<f64> = (0..n)
            .map(|_| sample_delay(&mut rng, delivery).as_seconds_f64())
            .collect();
        out.sort_by(f64::total_cmp);
        out
    }

    #[test]
    fn healthy_latency_has_the_configured_median_a_small_mean_and_a_bounded_tail() {
        let delivery = Delivery::default();
        let sorted = samples(&delivery, 20_000);
        let median = sorted[sorted.len() / 2];
        assert!((2.6..=3.4).contains(&median), "median {median}");
        let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
        assert!(
            mean < 10.0,
            "Graph documents an average under 10 s, got {mean}"
        );
        let longest = *sorted.last().unwrap();
        assert!(longest <= 3600.0, "tail beyond 60 minutes: {longest}");
        let tail = sorted.iter().filter(|s| **s > 120.0).count();
        assert!(
            (5..=40).contains(&tail),
            "about 0.1 % should be in the long tail, got {tail} of 20000"
        );
    }

    #[test]
    fn zero_sigma_and_no_tail_give_exactly_the_median() {
        let delivery = Delivery {
            latency_median: StdDuration::from_millis(20),
            latency_sigma: 0.0,
            tail_fraction: 0.0,
            ..Delivery::default()
        };
        let sorted = samples(&delivery, 100);
        assert!(
            sorted.iter().all(|s| (*s - 0.02).abs() < 1e-9),
            "{sorted:?}"
        );
    }

    #[test]
    fn a_tail_only_distribution_stays_between_median_and_tail_max() {
        let delivery = Delivery {
            latency_median: StdDuration::from_secs(45),
            latency_sigma: 1.2,
            tail_fraction: 1.0,
            tail_max: StdDuration::from_secs(90 * 60),
            ..Delivery::default()
        };
        let sorted = samples(&delivery, 2_000);
        assert!(sorted[0] >= 45.0 && *sorted.last().unwrap() <= 5400.0);
        assert!(
            sorted[sorted.len() / 2] > 1000.0,
            "uniform, so the middle is far out"
        );
    }

    #[test]
    fn retries_back_off_exponentially_and_stop_after_four_hours() {
        assert_eq!(retry_delay(1), Duration::minutes(1));
        assert_eq!(retry_delay(2), Duration::minutes(2));
        assert_eq!(retry_delay(4), Duration::minutes(8));
        assert_eq!(retry_delay(10), LONGEST_RETRY_DELAY);
        assert_eq!(retry_delay(u32::MAX), LONGEST_RETRY_DELAY);

        let first = at("2026-11-22T08:00:00Z");
        let mut failed_at = first;
        let mut attempts = 1;
        while let Some(due) = next_retry(first, failed_at, attempts) {
            assert!(due > failed_at);
            failed_at = due;
            attempts += 1;
        }
        assert!(failed_at <= first + RETRY_WINDOW);
        assert!(failed_at + retry_delay(attempts) > first + RETRY_WINDOW);
        assert_eq!(attempts, 9, "1, 2, 4 … 32 min, then hourly, within 4 h");
    }

    #[test]
    fn the_queue_pops_what_is_due_in_order_and_keeps_the_rest() {
        let mut queue = DueQueue::default();
        let t0 = at("2026-11-22T08:00:00Z");
        queue.push(t0 + Duration::seconds(5), "late");
        queue.push(t0, "first");
        queue.push(t0, "second");
        queue.push(t0 + Duration::seconds(1), "third");
        assert_eq!(queue.next_due(), Some(t0));
        assert_eq!(
            queue.pop_due(t0 + Duration::seconds(1)),
            ["first", "second", "third"]
        );
        assert_eq!(queue.next_due(), Some(t0 + Duration::seconds(5)));
        assert!(queue.pop_due(t0 + Duration::seconds(4)).is_empty());
        assert_eq!(queue.pop_due(t0 + Duration::seconds(5)), ["late"]);
        assert_eq!(queue.next_due(), None);
    }

    #[test]
    fn batches_group_by_destination_and_respect_the_size_limit() {
        let items = [
            ("https://b", 1),
            ("https://a", 2),
            ("https://b", 3),
            ("https://b", 4),
            ("https://a", 5),
        ];
        assert_eq!(
            batches(items, 2),
            vec![
                ("https://a", vec![2, 5]),
                ("https://b", vec![1, 3]),
                ("https://b", vec![4]),
            ]
        );
        assert_eq!(
            batches(items, 0).len(),
            5,
            "a zero limit still sends one per POST"
        );
        assert!(batches(Vec::<(&str, u8)>::new(), 10).is_empty());
    }
}
