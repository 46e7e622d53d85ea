//! When to try a Graph request again, and how long to wait first (graph-facts §8).
//!
//! [`RetryPolicy::decide`] is the whole rule, as a pure function of what the last attempt met:
//! 429 and 503 honour `Retry-After` (every time, on repeated 429s too) and fall back to
//! exponential backoff with full jitter; 504, 500 and 502 back off, but only for requests that
//! are safe to replay; a `Retry-After` longer than the policy accepts is not waited out at all.
//! [`RetryAfter`] parses both header forms (delta-seconds and HTTP-date; a date is measured
//! against the answer's own `Date` header, never the local clock, so local clock skew cannot
//! stretch or cut the wait).
//!
//! Pure logic: no I/O, no clock, randomness passed in. Depends on nothing else in the crate.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::Rng;

/// How persistently a [`GraphClient`](super::GraphClient) retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per logical request, the first included (0 is taken as 1). The one extra
    /// attempt after a 401 with a refreshed token is not counted against it.
    pub max_attempts: u32,
    /// Backoff ceiling before the first retry; it doubles with every further retry.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
    /// Longest `Retry-After` waited out; a longer one fails the request at once with Graph's
    /// answer, so the caller can report it rather than hang.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// Five attempts, backoff from 500 ms capped at 30 s, `Retry-After` honoured up to 120 s.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// What the last attempt met, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Graph answered with this non-success status, and `Retry-After` resolved to this wait
    /// (`None`: absent, unparseable, or an HTTP-date without a `Date` to measure it against).
    Status {
        /// HTTP status.
        status: u16,
        /// The server-requested wait.
        retry_after: Option<Duration>,
    },
    /// The transport failed; `retryable` already accounts for whether replaying is safe.
    Transport {
        /// Whether another attempt can help.
        retryable: bool,
    },
}

/// What to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Give up and report the last answer.
    Stop,
}

impl RetryPolicy {
    /// Attempts allowed, never fewer than one.
    pub fn attempts_allowed(&self) -> u32 {
        self.max_attempts.max(1)
    }

    /// The backoff ceiling before retry number `retry` (1 for the first retry):
    /// `base_delay · 2^(retry-1)`, capped at `max_delay`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.base_delay
            .checked_mul(1_u32 << doublings)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }

    /// "Full jitter" backoff: uniform in `[0, ceiling]`, so that clients which failed together
    /// do not retry together.
    pub fn backoff<R: Rng + ?Sized>(&self, retry: u32, rng: &mut R) -> Duration {
        let ceiling = u64::try_from(self.backoff_ceiling(retry).as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rng.random_range(0..=ceiling))
    }

    /// Whether and how long to wait after attempt number `attempts_made` met `outcome`.
    ///
    /// `replay_safe` is false for requests that may have taken effect even though the answer
    /// was an error or never came (a POST meeting a 500, 502, 504 or a timeout): those are not
    /// repeated. 429 and 503 are retried for every method: Graph refused the work.
    pub fn decide<R: Rng + ?Sized>(
        &self,
        outcome: Outcome,
        attempts_made: u32,
        replay_safe: bool,
        rng: &mut R,
    ) -> Decision {
        if attempts_made >= self.attempts_allowed() {
            return Decision::Stop;
        }
        let backoff = Decision::Retry(self.backoff(attempts_made, rng));
        match outcome {
            Outcome::Transport { retryable: true } => backoff,
            Outcome::Transport { retryable: false } => Decision::Stop,
            Outcome::Status { status, .. } if !is_retryable_status(status, replay_safe) => {
                Decision::Stop
            }
            Outcome::Status {
                status: 429 | 503 | 504,
                retry_after: Some(wait),
            } if wait > self.max_retry_after => Decision::Stop,
            Outcome::Status {
                status: 429 | 503 | 504,
                retry_after: Some(wait),
            } => Decision::Retry(wait),
            Outcome::Status { .. } => backoff,
        }
    }
}

/// 429 and 503 always; 500, 502 and 504 only when replaying cannot do the work twice.
fn is_retryable_status(status: u16, replay_safe: bool) -> bool {
    match status {
        429 | 503 => true,
        500 | 502 | 504 => replay_safe,
        _ => false,
    }
}

/// A parsed `Retry-After` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryAfter {
    /// `Retry-After: 30`.
    Delay(Duration),
    /// `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`.
    At(DateTime<Utc>),
}

impl RetryAfter {
    /// Parses either form; `None` for anything else (negative or fractional seconds included).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            // Absurdly long numbers saturate; the policy's cap then refuses to wait them out.
            let secs = value.parse::<u64>().unwrap_or(u64::MAX);
            return Some(Self::Delay(Duration::from_secs(secs)));
        }
        parse_http_date(value).map(Self::At)
    }

    /// The wait this asks for. A date is measured against `server_now` (the answer's `Date`
    /// header); without one there is nothing trustworthy to measure against, so `None`. A date
    /// in the past means no wait.
    pub fn wait(&self, server_now: Option<DateTime<Utc>>) -> Option<Duration> {
        match self {
            Self::Delay(wait) => Some(*wait),
            Self::At(at) => {
                let now = server_now?;
                Some((*at - now).to_std().unwrap_or(Duration::ZERO))
            }
        }
    }
}

/// Parses an HTTP-date (RFC 9110 §5.6.7): the preferred IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) and the two obsolete forms recipients must accept
/// (`Sunday, 06-Nov-94 08:49:37 GMT` and asctime's `Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(date) = DateTime::parse_from_rfc2822(value) {
        return Some(date.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
    }

    fn status(status: u16, retry_after: Option<u64>) -> Outcome {
        Outcome::Status {
            status,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn backoff_ceiling_grows_then_caps() {
        let p = policy();
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(500));
        assert_eq!(p.backoff_ceiling(2), Duration::from_secs(1));
        assert_eq!(p.backoff_ceiling(4), Duration::from_secs(4));
        assert_eq!(p.backoff_ceiling(7), Duration::from_secs(30));
        assert_eq!(p.backoff_ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn backoff_is_jittered_within_its_ceiling() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(7);
        for retry in 1..=8 {
            let draws: Vec<Duration> = (0..200).map(|_| p.backoff(retry, &mut rng)).collect();
            let ceiling = p.backoff_ceiling(retry);
            assert!(draws.iter().all(|d| *d <= ceiling), "retry {retry}");
            let distinct: std::collections::BTreeSet<_> = draws.iter().collect();
            assert!(
                distinct.len() > 50,
                "retry {retry}: jitter spreads the waits"
            );
            // Full jitter: the mean sits near half the ceiling.
            let mean = draws.iter().sum::<Duration>() / 200;
            assert!(
                mean > ceiling / 3 && mean < ceiling * 2 / 3,
                "retry {retry}"
            );
        }
    }

    #[test]
    fn throttling_honours_retry_after_every_time() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(1);
        for attempt in 1..5 {
            assert_eq!(
                p.decide(status(429, Some(7)), attempt, false, &mut rng),
                Decision::Retry(Duration::from_secs(7))
            );
        }
        assert_eq!(
            p.decide(status(503, Some(0)), 1, true, &mut rng),
            Decision::Retry(Duration::ZERO)
        );
    }

    #[test]
    fn attempts_are_bounded() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            p.decide(status(429, Some(1)), 5, true, &mut rng),
            Decision::Stop
        );
        let once = RetryPolicy {
            max_attempts: 0,
            ..policy()
        };
        assert_eq!(once.attempts_allowed(), 1);
        assert_eq!(
            once.decide(status(429, Some(1)), 1, true, &mut rng),
            Decision::Stop
        );
    }

    #[test]
    fn a_retry_after_beyond_the_cap_is_not_waited() {
        let p = RetryPolicy {
            max_retry_after: Duration::from_secs(1),
            ..policy()
        };
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(
            p.decide(status(503, Some(30)), 1, true, &mut rng),
            Decision::Stop
        );
        assert_eq!(
            p.decide(status(503, Some(1)), 1, true, &mut rng),
            Decision::Retry(Duration::from_secs(1))
        );
    }

    #[test]
    fn without_retry_after_throttling_backs_off() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(3);
        match p.decide(status(429, None), 3, false, &mut rng) {
            Decision::Retry(wait) => assert!(wait <= p.backoff_ceiling(3)),
            Decision::Stop => panic!("429 without Retry-After must back off"),
        }
    }

    #[test]
    fn server_errors_retry_only_when_replay_is_safe_and_client_errors_never() {
        let p = policy();
        let mut rng = StdRng::seed_from_u64(1);
        for code in [500, 502, 504] {
            assert!(matches!(
                p.decide(status(code, None), 1, true, &mut rng),
                Decision::Retry(_)
            ));
            assert_eq!(
                p.decide(status(code, None), 1, false, &mut rng),
                Decision::Stop
            );
        }
        for code in [400, 401, 403, 404, 409, 501] {
            assert_eq!(
                p.decide(status(code, Some(1)), 1, true, &mut rng),
                Decision::Stop
            );
        }
        assert!(matches!(
            p.decide(Outcome::Transport { retryable: true }, 1, false, &mut rng),
            Decision::Retry(_)
        ));
        assert_eq!(
            p.decide(Outcome::Transport { retryable: false }, 1, true, &mut rng),
            Decision::Stop
        );
    }

    #[test]
    fn retry_after_parses_seconds_and_rejects_junk() {
        assert_eq!(
            RetryAfter::parse(" 120 "),
            Some(RetryAfter::Delay(Duration::from_secs(120)))
        );
        assert_eq!(
            RetryAfter::parse("99999999999999999999999"),
            Some(RetryAfter::Delay(Duration::from_secs(u64::MAX)))
        );
        for junk in ["", "-1", "1.5", "soon", "30s"] {
            assert_eq!(RetryAfter::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn retry_after_dates_are_measured_against_the_answers_date_header() {
        let at = RetryAfter::parse("Wed, 21 Oct 2026 07:28:30 GMT").unwrap();
        let server_now = parse_http_date("Wed, 21 Oct 2026 07:28:00 GMT");
        assert_eq!(at.wait(server_now), Some(Duration::from_secs(30)));
        // Already past by the server's clock: no wait.
        let later = parse_http_date("Wed, 21 Oct 2026 07:29:00 GMT");
        assert_eq!(at.wait(later), Some(Duration::ZERO));
        // No Date header: nothing trustworthy to measure against.
        assert_eq!(at.wait(None), None);
        assert_eq!(
            RetryAfter::Delay(Duration::from_secs(5)).wait(None),
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        let expected: DateTime<Utc> = "1994-11-06T08:49:37Z".parse().unwrap();
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(form), Some(expected), "{form}");
        }
        assert_eq!(parse_http_date("yesterday"), None);
    }
}
