//! One delivery attempt: the HTTP POST of a notification body and what Graph makes of the
//! answer (graph-facts §3.5).
//!
//! Graph keeps each request open for at most [`REQUEST_TIMEOUT`] (the documented timeout of
//! retried deliveries). On the first attempt only a 2xx within [`FIRST_ATTEMPT_DEADLINE`] counts
//! as delivered: a later 2xx is recorded `Slow` and the batch is retried, which is what a
//! receiver that acknowledges late sees (a duplicate). On retries a 2xx within the timeout is
//! delivered. Any response over 2,900 ms, and any missing answer, counts as slow against the
//! endpoint's host; connection failures are not responses and count neither way.
//!
//! The scenario's network faults are applied here: an unreachable endpoint fails without
//! connecting, and an injected delay is slept (real time) before sending and counted in the
//! elapsed time. Depends on the ledger's outcome type only; the caller records the attempt.

use std::time::{Duration, Instant};

use axum::body::Bytes;
use reqwest::header::CONTENT_TYPE;

use super::endpoint_health::SLOW_RESPONSE_MS;
use crate::sim::ledger::DeliveryOutcome;

/// Longest Graph waits for an answer on any attempt.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A first attempt is delivered only when acknowledged within this.
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
    /// Real time to wait before sending (counted in the elapsed time).
    pub injected_delay: Duration,
}

/// What the endpoint did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP status came back.
    Status(u16),
    /// Nothing within [`REQUEST_TIMEOUT`].
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
    /// Whether this counts as a slow response for the host; `None` when it is no response.
    pub slow: Option<bool>,
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
    if !conditions.injected_delay.is_zero() {
        tokio::time::sleep(conditions.injected_delay).await;
    }
    let answer = if conditions.reachable {
        let remaining = REQUEST_TIMEOUT.saturating_sub(started.elapsed());
        if remaining.is_zero() {
            Answer::TimedOut
        } else {
            send(http, url, body, remaining).await
        }
    } else {
        Answer::Unreachable(UNREACHABLE_REASON.to_owned())
    };
    let elapsed = started.elapsed();
    Attempted {
        slow: counts_as_slow(&answer, elapsed),
        outcome: classify(&answer, elapsed, attempt),
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

/// The error and its causes, without the URL (it may carry the subscriber's query string).
fn describe(error: &reqwest::Error) -> String {
    let mut text = String::from(if error.is_connect() {
        "cannot connect"
    } else if error.is_builder() {
        "invalid notification URL"
    } else {
        "request failed"
    });
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Graph's classification of an answer after `elapsed` on attempt `attempt`.
pub fn classify(answer: &Answer, elapsed: Duration, attempt: u32) -> DeliveryOutcome {
    match answer {
        Answer::Status(status) if (200..300).contains(status) => {
            if attempt <= 1 && elapsed > FIRST_ATTEMPT_DEADLINE {
                DeliveryOutcome::Slow
            } else {
                DeliveryOutcome::Delivered
            }
        }
        Answer::Status(status) => DeliveryOutcome::Rejected { status: *status },
        Answer::TimedOut => DeliveryOutcome::Failed {
            reason: format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
        },
        Answer::Unreachable(reason) => DeliveryOutcome::Failed {
            reason: reason.clone(),
        },
    }
}

/// Whether an answer counts as slow for the host (`None`: not a response at all).
pub fn counts_as_slow(answer: &Answer, elapsed: Duration) -> Option<bool> {
    match answer {
        Answer::Status(_) => Some(elapsed > Duration::from_millis(SLOW_RESPONSE_MS)),
        Answer::TimedOut => Some(true),
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
        assert_eq!(classify(&ok, ms(100), 1), DeliveryOutcome::Delivered);
        assert_eq!(classify(&ok, ms(2_950), 1), DeliveryOutcome::Delivered);
        assert_eq!(classify(&ok, ms(3_500), 1), DeliveryOutcome::Slow);
        assert_eq!(
            classify(&ok, ms(3_500), 2),
            DeliveryOutcome::Delivered,
            "retries have 10 s"
        );
        assert_eq!(
            classify(&Answer::Status(500), ms(5), 1),
            DeliveryOutcome::Rejected { status: 500 }
        );
        assert_eq!(
            classify(&Answer::Status(302), ms(5), 1),
            DeliveryOutcome::Rejected { status: 302 }
        );
        assert!(matches!(
            classify(&Answer::TimedOut, ms(10_000), 1),
            DeliveryOutcome::Failed { .. }
        ));
        assert!(is_final(&DeliveryOutcome::Delivered));
        assert!(!is_final(&DeliveryOutcome::Slow));
        assert!(!is_final(&DeliveryOutcome::Rejected { status: 503 }));
    }

    #[test]
    fn slowness_is_about_response_time_not_connection_failures() {
        assert_eq!(counts_as_slow(&Answer::Status(200), ms(2_900)), Some(false));
        assert_eq!(counts_as_slow(&Answer::Status(500), ms(2_901)), Some(true));
        assert_eq!(counts_as_slow(&Answer::TimedOut, ms(10_000)), Some(true));
        assert_eq!(
            counts_as_slow(&Answer::Unreachable("refused".into()), ms(1)),
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
        assert_eq!(attempted.slow, None);
    }
}
