//! One delivery attempt: the HTTP POST of a notification body and what Graph makes of the
//! answer (graph-facts §3.5).
//!
//! A first attempt waits at most [`FIRST_ATTEMPT_DEADLINE`] (3 s): no 2xx within it means not
//! delivered, retried. Retries wait at most [`REQUEST_TIMEOUT`] (10 s). Each answer also
//! becomes a health [`Sample`] for the endpoint's host: *slow* when it took over 2,900 ms or
//! missed its attempt's timeout, *beyond the retry timeout* when no answer could have come
//! within 10 s. Connection failures are not responses and give no sample.
//!
//! The scenario's network faults are applied here: an unreachable endpoint fails without
//! connecting, and an injected delay holds the POST (real time) before it is sent. The pusher
//! is never stalled by it: the attempt sleeps at most its own timeout and, when the delay
//! reaches the timeout, is a timeout without anything being sent. A delay beyond the retry
//! timeout is known to exceed it even on a first attempt that stopped waiting after 3 s,
//! which is how a scenario reaches Graph's drop state without 10-second waits. Depends on the
//! ledger's outcome type only; the caller records the attempt.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use reqwest::header::CONTENT_TYPE;

use super::endpoint_health::{SLOW_RESPONSE_MS, Sample};
use crate::sim::ledger::DeliveryOutcome;
use crate::sim::outbound::describe;

/// Longest Graph waits for an answer on a retried delivery.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest Graph waits for an answer on a first attempt: only a 2xx within this delivers.
pub const FIRST_ATTEMPT_DEADLINE: Duration = Duration::from_secs(3);

/// `Content-Type` of notification POSTs.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// The failure reason when the scenario makes the endpoint unreachable.
pub const UNREACHABLE_REASON: &str = "connection refused (simulated)";

/// Network conditions for one attempt, decided by the caller from the scenario.
#[derive(Debug, Clone, Copy)]
pub struct Conditions {
    /// False: fail without connecting.
    pub reachable: bool,
    /// Real time the network holds the POST before the receiver gets it.
    pub injected_delay: Duration,
}

/// What the endpoint did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP status came back within the attempt's timeout.
    Status(u16),
    /// Nothing within the attempt's timeout.
    TimedOut,
    /// The request never got an answer (refused, TLS, reset…).
    Unreachable(String),
}

/// One finished attempt.
#[derive(Debug, Clone)]
pub struct Attempted {
    /// How Graph classifies it.
    pub outcome: DeliveryOutcome,
    /// Real time from start (before any injected delay) to the answer or failure.
    pub elapsed: Duration,
    /// What it says about the host; `None` when it is no response at all.
    pub sample: Option<Sample>,
}

/// How long Graph waits on attempt number `attempt` (1 = first).
pub fn timeout_for(attempt: u32) -> Duration {
    if attempt <= 1 {
        FIRST_ATTEMPT_DEADLINE
    } else {
        REQUEST_TIMEOUT
    }
}

/// POSTs `body` to `url` as attempt number `attempt` (1 = first).
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    body: Bytes,
    attempt: u32,
    conditions: Conditions,
) -> Attempted {
    let started = Instant::now();
    let timeout = timeout_for(attempt);
    let answer = if !conditions.reachable {
        Answer::Unreachable(UNREACHABLE_REASON.to_owned())
    } else if conditions.injected_delay >= timeout {
        // The POST would reach the receiver only after Graph stopped waiting.
        tokio::time::sleep(timeout).await;
        Answer::TimedOut
    } else {
        tokio::time::sleep(conditions.injected_delay).await;
        let remaining = timeout.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            Answer::TimedOut
        } else {
            send(http, url, body, remaining).await
        }
    };
    let elapsed = started.elapsed();
    Attempted {
        sample: sample(&answer, elapsed, attempt, conditions.injected_delay),
        outcome: classify(&answer, attempt),
        elapsed,
    }
}

async fn send(http: &reqwest::Client, url: &str, body: Bytes, timeout: Duration) -> Answer {
    let request = http
        .post(url)
        .header(CONTENT_TYPE, JSON_CONTENT_TYPE)
        .timeout(timeout)
        .body(body);
    match request.send().await {
        Ok(response) => Answer::Status(response.status().as_u16()),
        Err(error) if error.is_timeout() => Answer::TimedOut,
        Err(error) => Answer::Unreachable(describe(&error)),
    }
}

/// Graph's classification of an answer on attempt `attempt`.
pub fn classify(answer: &Answer, attempt: u32) -> DeliveryOutcome {
    match answer {
        Answer::Status(status) if (200..300).contains(status) => DeliveryOutcome::Delivered,
        Answer::Status(status) => DeliveryOutcome::Rejected { status: *status },
        Answer::TimedOut => DeliveryOutcome::Failed {
            reason: format!(
                "no answer within {} s (attempt {attempt})",
                timeout_for(attempt).as_secs()
            ),
        },
        Answer::Unreachable(reason) => DeliveryOutcome::Failed {
            reason: reason.clone(),
        },
    }
}

/// What an answer after `elapsed` on attempt `attempt`, with `injected_delay` in the network,
/// says about the host (`None`: not a response at all).
pub fn sample(
    answer: &Answer,
    elapsed: Duration,
    attempt: u32,
    injected_delay: Duration,
) -> Option<Sample> {
    let known_beyond = injected_delay > REQUEST_TIMEOUT;
    match answer {
        Answer::Status(_) => Some(Sample {
            slow: elapsed > Duration::from_millis(SLOW_RESPONSE_MS),
            beyond_retry_timeout: known_beyond,
        }),
        Answer::TimedOut => Some(Sample {
            slow: true,
            beyond_retry_timeout: known_beyond || timeout_for(attempt) >= REQUEST_TIMEOUT,
        }),
        Answer::Unreachable(_) => None,
    }
}

/// True when Graph is done with the batch (no retry needed).
pub fn is_final(outcome: &DeliveryOutcome) -> bool {
    matches!(
        outcome,
        DeliveryOutcome::Delivered | DeliveryOutcome::Dropped { .. }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn answers_are_classified_as_graph_documents() {
        let ok = Answer::Status(202);
        assert_eq!(classify(&ok, 1), DeliveryOutcome::Delivered);
        assert_eq!(classify(&ok, 2), DeliveryOutcome::Delivered);
        assert_eq!(
            classify(&Answer::Status(500), 1),
            DeliveryOutcome::Rejected { status: 500 }
        );
        assert_eq!(
            classify(&Answer::Status(302), 1),
            DeliveryOutcome::Rejected { status: 302 }
        );
        let DeliveryOutcome::Failed { reason } = classify(&Answer::TimedOut, 1) else {
            panic!("a timeout is a failure");
        };
        assert!(reason.contains("3 s"), "{reason}");
        let DeliveryOutcome::Failed { reason } = classify(&Answer::TimedOut, 2) else {
            panic!("a timeout is a failure");
        };
        assert!(reason.contains("10 s"), "{reason}");
        assert!(is_final(&DeliveryOutcome::Delivered));
        assert!(!is_final(&DeliveryOutcome::Slow));
        assert!(!is_final(&DeliveryOutcome::Rejected { status: 503 }));
        assert_eq!(timeout_for(1), ms(3_000));
        assert_eq!(timeout_for(2), ms(10_000));
    }

    #[test]
    fn slowness_and_the_retry_timeout_are_separate_flags() {
        let none = Duration::ZERO;
        let ok = Answer::Status(200);
        let fast = Sample {
            slow: false,
            beyond_retry_timeout: false,
        };
        let slow = Sample {
            slow: true,
            beyond_retry_timeout: false,
        };
        let beyond = Sample {
            slow: true,
            beyond_retry_timeout: true,
        };
        assert_eq!(sample(&ok, ms(2_900), 1, none), Some(fast));
        assert_eq!(sample(&Answer::Status(500), ms(2_901), 2, none), Some(slow));
        assert_eq!(
            sample(&Answer::TimedOut, ms(3_000), 1, ms(3_500)),
            Some(slow),
            "a first attempt missing its 3 s is slow, not beyond 10 s"
        );
        assert_eq!(
            sample(&Answer::TimedOut, ms(10_000), 2, none),
            Some(beyond),
            "a retry missing its 10 s exceeds the retry timeout"
        );
        assert_eq!(
            sample(&Answer::TimedOut, ms(3_000), 1, ms(12_000)),
            Some(beyond),
            "a network delay beyond 10 s exceeds it whatever the attempt"
        );
        assert_eq!(
            sample(&Answer::Unreachable("refused".into()), ms(1), 2, none),
            None
        );
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_fails_without_connecting() {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let conditions = Conditions {
            reachable: false,
            injected_delay: Duration::ZERO,
        };
        // Port 9 on a documentation address: would hang or fail if a connection were tried.
        let attempted = post(&http, "https://192.0.2.1:9/n", Bytes::new(), 1, conditions).await;
        assert_eq!(
            attempted.outcome,
            DeliveryOutcome::Failed {
                reason: UNREACHABLE_REASON.to_owned()
            }
        );
        assert!(attempted.elapsed < ms(100));
        assert_eq!(attempted.sample, None);
    }

    #[tokio::test(start_paused = true)]
    async fn an_injected_delay_never_outlasts_the_attempts_timeout() {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let conditions = Conditions {
            reachable: true,
            injected_delay: Duration::from_secs(60),
        };
        let started = tokio::time::Instant::now();
        // Nothing is sent: the documentation address would hang if it were.
        let attempted = post(&http, "https://192.0.2.1:9/n", Bytes::new(), 1, conditions).await;
        assert_eq!(started.elapsed(), FIRST_ATTEMPT_DEADLINE);
        assert!(matches!(attempted.outcome, DeliveryOutcome::Failed { .. }));
        assert_eq!(
            attempted.sample,
            Some(Sample {
                slow: true,
                beyond_retry_timeout: true
            })
        );
        let started = tokio::time::Instant::now();
        post(&http, "https://192.0.2.1:9/n", Bytes::new(), 2, conditions).await;
        assert_eq!(started.elapsed(), REQUEST_TIMEOUT);
    }
}
