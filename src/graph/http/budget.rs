//! The request budget shared by every caller of one tenant (graph-facts §1.6, §8).
//!
//! Graph's export API allows [`EXPORT_REQUESTS_PER_SECOND`] requests per second per app per
//! tenant over a short window, *and* about 83 % of that sustained over a longer one; immediate
//! retries count too. [`RateBudget`] paces every attempt with GCRA (the "generic cell rate
//! algorithm", a virtual-scheduling token bucket) split from the limit `L` as:
//!
//! - sustained rate `r = ⌊5L/6⌋` (83 %, at least 1): one request every `T = 1 s / r`;
//! - burst `b = L − r` (at least 1): requests that may go back to back after a quiet spell.
//!
//! Any window of length `W` then holds at most `b + ⌈W/T⌉ − 1` requests, so a 1-second window
//! at most `b + r − 1 = L − 1`: one request of headroom for network jitter bunching arrivals at
//! Graph. For `L = 30`: 25/s sustained (one every 40 ms), bursts of 5, at most 29 in any second.
//!
//! Each caller *reserves* the next slot under a short lock and then sleeps until it, so waiters
//! are served in arrival order without a thundering herd. Pacing uses `tokio::time` (monotonic
//! real time), not the injected clock: a budget is about how fast we really call. A dropped
//! `acquire` still spends its slot, which only errs on the slow side.
//!
//! Depends on nothing else in the crate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// Graph's documented limit for the export API: requests per second per app per tenant.
pub const EXPORT_REQUESTS_PER_SECOND: u32 = 30;

/// A shared pacing budget: clones draw from the same one.
#[derive(Debug, Clone)]
pub struct RateBudget {
    inner: Arc<Gcra>,
}

#[derive(Debug)]
struct Gcra {
    limit: u32,
    sustained: u32,
    burst: u32,
    /// `T`: the spacing of sustained requests.
    interval: Duration,
    /// `(b − 1)·T`: how far ahead of schedule a request may go.
    tolerance: Duration,
    /// The theoretical arrival time of the next request; `None` before the first.
    next_due: Mutex<Option<Instant>>,
}

impl RateBudget {
    /// A budget for a limit of `limit` requests per second (0 is taken as 1), paced as the
    /// module documentation explains.
    pub fn per_second(limit: u32) -> Self {
        let limit = limit.max(1);
        let sustained = (limit.saturating_mul(5) / 6).max(1);
        let burst = limit.saturating_sub(sustained).max(1);
        let interval = Duration::from_secs(1) / sustained;
        Self {
            inner: Arc::new(Gcra {
                limit,
                sustained,
                burst,
                interval,
                tolerance: interval * (burst - 1),
                next_due: Mutex::new(None),
            }),
        }
    }

    /// The limit this budget keeps under, per second.
    pub fn limit(&self) -> u32 {
        self.inner.limit
    }

    /// Requests per second sustained under load.
    pub fn sustained_per_second(&self) -> u32 {
        self.inner.sustained
    }

    /// Requests that may go back to back after a quiet spell.
    pub fn burst(&self) -> u32 {
        self.inner.burst
    }

    /// Waits until this caller may send one request, and spends that slot.
    pub async fn acquire(&self) {
        let slot = self.reserve(Instant::now());
        tokio::time::sleep_until(slot).await;
    }

    /// Books the earliest slot at or after `now` and returns it.
    fn reserve(&self, now: Instant) -> Instant {
        let gcra = &self.inner;
        let mut next_due = gcra.next_due.lock().unwrap_or_else(PoisonError::into_inner);
        let due = next_due.unwrap_or(now);
        let earliest = due.checked_sub(gcra.tolerance).unwrap_or(now);
        let slot = earliest.max(now);
        *next_due = Some(due.max(slot) + gcra.interval);
        slot
    }
}

/// One [`RateBudget`] per tenant, so every client of a tenant (several profiles, the poller
/// and the diagnosis running at once) draws from the same budget.
///
/// Graph counts per app *and* tenant; sharing per tenant is the conservative reading (two apps
/// in one tenant pace each other). Tenants are keyed case-insensitively as configured: the
/// same tenant named once by GUID and once by domain gets two budgets.
#[derive(Debug, Clone)]
pub struct RateBudgets {
    limit: u32,
    budgets: Arc<Mutex<HashMap<String, RateBudget>>>,
}

impl Default for RateBudgets {
    /// Budgets for the export API's limit.
    fn default() -> Self {
        Self::new(EXPORT_REQUESTS_PER_SECOND)
    }
}

impl RateBudgets {
    /// A registry whose budgets keep under `limit` requests per second each.
    pub fn new(limit: u32) -> Self {
        Self {
            limit,
            budgets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The budget of `tenant`, created on first use.
    pub fn for_tenant(&self, tenant: &str) -> RateBudget {
        self.budgets
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(tenant.trim().to_ascii_lowercase())
            .or_insert_with(|| RateBudget::per_second(self.limit))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most slots any half-open window `[t, t + window)` holds.
    fn busiest_window(slots: &[Instant], window: Duration) -> usize {
        slots
            .iter()
            .map(|start| {
                slots
                    .iter()
                    .filter(|s| **s >= *start && **s < *start + window)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    #[test]
    fn thirty_per_second_is_25_sustained_with_bursts_of_5() {
        let budget = RateBudget::per_second(30);
        assert_eq!(budget.sustained_per_second(), 25);
        assert_eq!(budget.burst(), 5);
        assert_eq!(budget.inner.interval, Duration::from_millis(40));
    }

    #[test]
    fn a_flood_never_exceeds_the_limit_in_any_second_and_sustains_83_percent() {
        let budget = RateBudget::per_second(30);
        let start = Instant::now();
        let slots: Vec<Instant> = (0..300).map(|_| budget.reserve(start)).collect();
        assert_eq!(busiest_window(&slots, Duration::from_secs(1)), 29);
        // The burst goes at once, then one every 40 ms.
        assert!(slots.iter().take(5).all(|s| *s == start));
        assert_eq!(slots[5] - start, Duration::from_millis(40));
        let span = slots[299] - slots[0];
        assert_eq!(span, Duration::from_millis(40) * 295);
        let sustained = 295.0 / span.as_secs_f64();
        assert!((sustained - 25.0).abs() < 0.01, "{sustained}");
    }

    #[test]
    fn small_and_degenerate_limits_still_hold() {
        for limit in [0, 1, 2, 3, 7, 100] {
            let budget = RateBudget::per_second(limit);
            let start = Instant::now();
            let slots: Vec<Instant> = (0..60).map(|_| budget.reserve(start)).collect();
            let busiest = busiest_window(&slots, Duration::from_secs(1));
            assert!(
                busiest <= limit.max(1) as usize,
                "limit {limit}: {busiest} in a second"
            );
        }
    }

    #[test]
    fn a_quiet_spell_refills_the_burst_but_not_beyond() {
        let budget = RateBudget::per_second(30);
        let start = Instant::now();
        for _ in 0..20 {
            budget.reserve(start);
        }
        let later = start + Duration::from_secs(10);
        let slots: Vec<Instant> = (0..7).map(|_| budget.reserve(later)).collect();
        assert!(slots[..5].iter().all(|s| *s == later));
        assert_eq!(slots[5], later + Duration::from_millis(40));
        assert_eq!(slots[6], later + Duration::from_millis(80));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_acquirers_are_paced_in_real_time() {
        let budget = RateBudget::per_second(30);
        let start = Instant::now();
        let tasks: Vec<_> = (0..60)
            .map(|_| {
                let budget = budget.clone();
                tokio::spawn(async move {
                    budget.acquire().await;
                    Instant::now()
                })
            })
            .collect();
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.unwrap());
        }
        done.sort();
        assert!(busiest_window(&done, Duration::from_secs(1)) <= 29);
        // 55 requests after the burst, 40 ms apart.
        assert_eq!(done[59] - start, Duration::from_millis(40) * 55);
    }

    #[test]
    fn tenants_share_one_budget_per_tenant() {
        let budgets = RateBudgets::default();
        let a = budgets.for_tenant("Contoso.onmicrosoft.com");
        let a_again = budgets.for_tenant("contoso.onmicrosoft.com");
        let b = budgets.for_tenant("fabrikam.onmicrosoft.com");
        assert!(Arc::ptr_eq(&a.inner, &a_again.inner));
        assert!(!Arc::ptr_eq(&a.inner, &b.inner));
        assert_eq!(a.limit(), EXPORT_REQUESTS_PER_SECOND);
    }
}
