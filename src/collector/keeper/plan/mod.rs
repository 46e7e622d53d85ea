//! The keeper's decisions as pure functions of times and records: what expiry to ask for, when
//! to renew, how to answer a `reauthorizationRequired`, how long to back off (also the
//! poller's retries) and to nap between looks at the clock, and where a gap backfill starts.
//! Whether a registered subscription still matches the configuration is `desired`'s, and is
//! re-exported here, so the keeper finds every decision under `plan`.
//!
//! Rules (graph-facts §2, §3.1, §3.2, §3.6): Copilot subscriptions live at most 4,320 minutes;
//! expiries under 45 minutes are raised to 45; a renewal PATCH also reauthorizes, and
//! reauthorize and PATCH must never be sent within 10 minutes of each other. The keeper's plan
//! never calls `/reauthorize`: a single PATCH answers a challenge; only an operator's order
//! does, and `spacing` keeps the two apart then. No I/O and no clock: `now` and randomness are
//! arguments.

mod desired;

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

pub use desired::{
    Desired, mismatch, only_certificate_differs, resource_key, same_resource, user_resource,
};

use crate::graph::model::well_known::{MAX_SUBSCRIPTION_MINUTES, MIN_SUBSCRIPTION_MINUTES};
use crate::store::records::SubscriptionRecord;

/// Shortest real pause of a collector loop: a manual clock converts every span to zero, and
/// this keeps the loop from spinning.
pub const MIN_NAP: StdDuration = StdDuration::from_millis(10);

/// Longest real pause of a collector loop: the clock may jump (the simulator's control API),
/// so it is re-read at least this often.
pub const MAX_NAP: StdDuration = StdDuration::from_secs(1);

/// How long a loop sleeps when the clock says `real` is left until it must act.
pub fn nap(real: StdDuration) -> StdDuration {
    real.clamp(MIN_NAP, MAX_NAP)
}

/// Kept off the 4,320-minute maximum so clock skew between pilotwatch and Graph (the
/// `clock-skew` scenario is 7 minutes) and request latency never make Graph refuse the expiry
/// as "beyond allowed max".
pub const EXPIRY_SAFETY_MARGIN: Duration = Duration::minutes(30);

/// A challenge this soon after a successful renewal is already answered: the renewal
/// reauthorized the subscription. Graph may have sent it before our PATCH landed.
pub const CHALLENGE_COALESCE: Duration = Duration::minutes(2);

/// How the keeper behaves; the defaults are Graph's documented limits.
#[derive(Debug, Clone, PartialEq)]
pub struct KeeperOptions {
    /// Lifetime asked for on create and renewal, clamped to 45 minutes … 4,320 minutes minus
    /// [`EXPIRY_SAFETY_MARGIN`].
    pub lifetime: Duration,
    /// Renewal happens at a uniformly random fraction of the lifetime in this range.
    pub renew_between: (f64, f64),
    /// First retry delay after a failure; it doubles per consecutive failure…
    pub retry_first: Duration,
    /// …up to this.
    pub retry_max: Duration,
    /// A gap backfill after a removal starts this long before the last notification, so items
    /// whose notifications were still in flight are covered.
    pub gap_overlap: Duration,
    /// How far back a `missed` event makes the poller look: Graph retries a delivery for up
    /// to four hours (§3.5), so anything lost was created within that window.
    pub missed_lookback: Duration,
    /// Per-user scope: the licensed-user list is read again after this long, so users who
    /// gained a licence get a subscription and users who lost it have theirs deleted.
    pub users_refresh_every: Duration,
    /// Real time between two subscription creations: with one subscription per user a
    /// start-up (or a certificate rotation) would otherwise spend the tenant's request budget,
    /// shared with the poller, on a burst of creations and their validation handshakes.
    pub create_spacing: StdDuration,
}

impl Default for KeeperOptions {
    fn default() -> Self {
        Self {
            lifetime: Duration::minutes(MAX_SUBSCRIPTION_MINUTES) - EXPIRY_SAFETY_MARGIN,
            renew_between: (0.50, 0.75),
            retry_first: Duration::seconds(30),
            retry_max: Duration::minutes(30),
            gap_overlap: Duration::minutes(15),
            missed_lookback: Duration::hours(4),
            users_refresh_every: Duration::hours(1),
            create_spacing: StdDuration::from_millis(200),
        }
    }
}

impl KeeperOptions {
    /// The lifetime actually requested: within Graph's bounds.
    pub fn effective_lifetime(&self) -> Duration {
        self.lifetime.clamp(
            Duration::minutes(MIN_SUBSCRIPTION_MINUTES),
            Duration::minutes(MAX_SUBSCRIPTION_MINUTES) - EXPIRY_SAFETY_MARGIN,
        )
    }

    /// The expiry to ask for at `now`.
    pub fn requested_expiry(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.effective_lifetime()
    }

    /// A random renewal fraction in `renew_between` (sanitised to 0.1 … 0.9, ordered).
    pub fn renewal_fraction<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let clean = |x: f64| {
            if x.is_finite() {
                x.clamp(0.1, 0.9)
            } else {
                0.5
            }
        };
        let (a, b) = (clean(self.renew_between.0), clean(self.renew_between.1));
        let (low, high) = if a <= b { (a, b) } else { (b, a) };
        if high > low {
            rng.random_range(low..=high)
        } else {
            low
        }
    }

    /// Delay before retry after `failures` consecutive failures (see [`backoff_delay`]).
    pub fn backoff<R: Rng + ?Sized>(&self, failures: u32, rng: &mut R) -> Duration {
        backoff_delay(self.retry_first, self.retry_max, failures, rng)
    }
}

/// Delay before retry after `failures` consecutive failures (1 for the first): the ceiling
/// doubles from `first` (at least a second) up to `max`, and the wait is uniform in the upper
/// half of it ("equal jitter": never a tight loop, yet loops that failed together spread).
pub fn backoff_delay<R: Rng + ?Sized>(
    first: Duration,
    max: Duration,
    failures: u32,
    rng: &mut R,
) -> Duration {
    let first = first.max(Duration::seconds(1));
    let doublings = failures.saturating_sub(1).min(20);
    let ceiling = first
        .checked_mul(1_i32 << doublings)
        .unwrap_or(max)
        .min(max.max(first));
    let half = ceiling.num_milliseconds() / 2;
    Duration::milliseconds(half + rng.random_range(0..=half.max(0)))
}

/// When the renewal of a subscription whose current lifetime began at `base` (creation or last
/// renewal) and ends at `expires_at` is due: `fraction` of the way through.
pub fn renewal_due(base: DateTime<Utc>, expires_at: DateTime<Utc>, fraction: f64) -> DateTime<Utc> {
    let lifetime = (expires_at - base).max(Duration::zero());
    let millis = (lifetime.num_milliseconds() as f64 * fraction.clamp(0.0, 1.0)) as i64;
    base + Duration::milliseconds(millis)
}

/// Where the current lifetime of `record` began.
pub fn lifetime_base(record: &SubscriptionRecord) -> DateTime<Utc> {
    record
        .last_renewed_at
        .map_or(record.created_at, |renewed| renewed.max(record.created_at))
}

/// The answer to a `reauthorizationRequired`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChallengeResponse {
    /// Renew with a PATCH: it extends the expiry and reauthorizes in one call (§3.2).
    Patch,
    /// Nothing to send; the reason is for the event log.
    Skip(String),
}

/// How to answer a challenge for `record` at `now`.
pub fn challenge_response(record: &SubscriptionRecord, now: DateTime<Utc>) -> ChallengeResponse {
    if let Some(until) = super::spacing::patch_blocked_until(record, now) {
        // An operator's `/reauthorize` already answered it, and a PATCH now would break the
        // 10-minute rule (§3.2).
        return ChallengeResponse::Skip(format!(
            "already reauthorized on the operator's request; no PATCH before {until}"
        ));
    }
    if let Some(renewed) = record.last_renewed_at
        && now - renewed < CHALLENGE_COALESCE
    {
        return ChallengeResponse::Skip(format!(
            "already reauthorized by the renewal {} s ago",
            (now - renewed).num_seconds().max(0)
        ));
    }
    ChallengeResponse::Patch
}

/// Where a gap backfill starts: `overlap` before the last notification, or `fallback` (e.g. the
/// lost subscription's creation) when none ever arrived; never after `now`.
pub fn gap_start(
    last_notification: Option<DateTime<Utc>>,
    fallback: DateTime<Utc>,
    overlap: Duration,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let start = match last_notification {
        Some(at) => at - overlap,
        None => fallback,
    };
    start.min(now)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;
    use crate::store::records::{ClientState, SubscriptionState};

    pub(super) fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// A tenant-wide subscription on `cert-1`, created three days before it expires.
    pub(super) fn record() -> SubscriptionRecord {
        SubscriptionRecord {
            id: "s-1".into(),
            profile: "p".into(),
            resource: "/copilot/interactionHistory/getAllEnterpriseInteractions".into(),
            expires_at: at("2026-11-25T08:00:00Z"),
            created_at: at("2026-11-22T08:00:00Z"),
            client_state: ClientState::new("x"),
            notification_url: "https://n.test/notify".into(),
            lifecycle_url: Some("https://n.test/lifecycle".into()),
            certificate_id: Some("cert-1".into()),
            state: SubscriptionState::Active,
            last_renewed_at: None,
            last_reauthorized_at: None,
        }
    }

    #[test]
    fn the_requested_lifetime_stays_within_graphs_bounds() {
        let now = at("2026-11-22T08:00:00Z");
        let default = KeeperOptions::default();
        assert_eq!(
            default.requested_expiry(now) - now,
            Duration::minutes(4_320 - 30)
        );
        let short = KeeperOptions {
            lifetime: Duration::minutes(5),
            ..KeeperOptions::default()
        };
        assert_eq!(short.effective_lifetime(), Duration::minutes(45));
        let long = KeeperOptions {
            lifetime: Duration::days(30),
            ..KeeperOptions::default()
        };
        assert_eq!(long.effective_lifetime(), Duration::minutes(4_290));
    }

    #[test]
    fn renewal_falls_between_half_and_three_quarters_of_the_lifetime() {
        let options = KeeperOptions::default();
        let mut rng = StdRng::seed_from_u64(7);
        let base = at("2026-11-22T08:00:00Z");
        let expiry = base + Duration::hours(72);
        let mut seen = Vec::new();
        for _ in 0..200 {
            let fraction = options.renewal_fraction(&mut rng);
            let due = renewal_due(base, expiry, fraction);
            assert!(due >= base + Duration::hours(36) && due <= base + Duration::hours(54));
            seen.push(due);
        }
        seen.sort();
        seen.dedup();
        assert!(seen.len() > 150, "the point is jittered");
    }

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let options = KeeperOptions::default();
        let mut rng = StdRng::seed_from_u64(1);
        for failures in 1..40 {
            let wait = options.backoff(failures, &mut rng);
            let ceiling = (Duration::seconds(30) * 2_i32.pow(failures.min(20) - 1))
                .min(Duration::minutes(30));
            assert!(wait >= ceiling / 2 && wait <= ceiling, "{failures}: {wait}");
        }
        assert!(options.backoff(0, &mut rng) >= Duration::seconds(15));
    }

    #[test]
    fn challenges_are_answered_with_one_patch_unless_already_answered() {
        let now = at("2026-11-23T08:00:00Z");
        let mut subscription = record();
        assert_eq!(
            challenge_response(&subscription, now),
            ChallengeResponse::Patch
        );
        subscription.last_renewed_at = Some(now - Duration::seconds(30));
        assert!(matches!(
            challenge_response(&subscription, now),
            ChallengeResponse::Skip(_)
        ));
        subscription.last_renewed_at = Some(now - CHALLENGE_COALESCE - Duration::seconds(1));
        assert_eq!(
            challenge_response(&subscription, now),
            ChallengeResponse::Patch
        );
        subscription.last_reauthorized_at = Some(now - Duration::minutes(9));
        assert!(matches!(
            challenge_response(&subscription, now),
            ChallengeResponse::Skip(_)
        ));
    }

    #[test]
    fn naps_are_bounded_both_ways() {
        assert_eq!(nap(StdDuration::ZERO), MIN_NAP);
        assert_eq!(
            nap(StdDuration::from_millis(300)),
            StdDuration::from_millis(300)
        );
        assert_eq!(nap(StdDuration::from_secs(3600)), MAX_NAP);
    }

    #[test]
    fn gaps_start_before_the_last_notification() {
        let now = at("2026-11-22T12:00:00Z");
        let created = at("2026-11-22T08:00:00Z");
        let overlap = Duration::minutes(15);
        assert_eq!(
            gap_start(Some(at("2026-11-22T11:00:00Z")), created, overlap, now),
            at("2026-11-22T10:45:00Z")
        );
        assert_eq!(gap_start(None, created, overlap, now), created);
        assert_eq!(
            gap_start(None, now + Duration::hours(1), overlap, now),
            now,
            "never in the future"
        );
    }
}
