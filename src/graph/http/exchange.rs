//! One logical Graph request from first attempt to final answer: budget slot, token, send,
//! record the server `Date`, then succeed, refresh the token once after a 401, wait and retry
//! as [`RetryPolicy::decide`] says, or turn Graph's error answer into [`RequestError::Graph`].
//!
//! Error bodies are read with `graph::model::GraphError`; a body that is not one still yields
//! the status (and `error.code` when a JSON body has one), never a parse failure. Part of
//! `graph::http`; depends on `graph::auth` and `graph::model`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{ACCEPT, CONTENT_TYPE, DATE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use url::Url;

use super::error::TransportFailure;
use super::retry::{Decision, Outcome, RetryAfter, parse_http_date};
use super::traffic::AttemptEnd;
use super::transport::{MAX_GRAPH_BODY_BYTES, read_capped};
use super::{GraphClient, GraphResponse, RequestError, ResponseMeta, ServerDate};
use crate::graph::model::GraphError;

/// Header carrying the caller's id for a request; Graph echoes it.
const CLIENT_REQUEST_ID: &str = "client-request-id";
/// Asks Graph to echo `client-request-id`.
const RETURN_CLIENT_REQUEST_ID: &str = "return-client-request-id";
/// Graph's id for a request.
const REQUEST_ID: &str = "request-id";

/// A success answer, not yet decoded.
pub(super) struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    pub(super) meta: ResponseMeta,
}

impl Answer {
    /// The body as `T`; an empty body decodes as JSON `null` (204 No Content).
    pub(super) fn decode<T: DeserializeOwned>(self) -> Result<GraphResponse<T>, RequestError> {
        let text: &[u8] = if self.body.iter().all(u8::is_ascii_whitespace) {
            b"null"
        } else {
            &self.body
        };
        match serde_json::from_slice(text) {
            Ok(body) => Ok(GraphResponse {
                body,
                meta: self.meta,
            }),
            Err(error) => Err(RequestError::UnexpectedBody {
                status: self.status.as_u16(),
                request_id: self.meta.request_id,
                detail: error.to_string(),
            }),
        }
    }
}

/// What one attempt brought back.
struct Attempt {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    /// The body was longer than [`MAX_GRAPH_BODY_BYTES`] and was not read.
    oversized: bool,
    server_date: Option<DateTime<Utc>>,
}

impl GraphClient {
    /// Runs one logical request to its final answer.
    pub(super) async fn exchange(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, RequestError> {
        let inner = &self.inner;
        let client_request_id = uuid::Uuid::new_v4().to_string();
        let replay_safe = method != Method::POST;
        let mut attempts = 0_u32;
        let mut retries = 0_u32;
        let mut refreshed_after_401 = false;
        loop {
            attempts += 1;
            inner.budget.acquire().await;
            let token = match inner.tokens.token().await {
                Ok(token) => token,
                // The identity platform throttled or failed for a moment: the same backoff as
                // Graph's own transient failures, counted against the same attempts.
                Err(error) if error.is_transient() => {
                    retries += 1;
                    let outcome = Outcome::Transport { retryable: true };
                    match self.decide(outcome, retries, true) {
                        Decision::Retry(wait) => {
                            tracing::debug!(
                                target: "pilotwatch::graph::http",
                                %method, path = url.path(), attempt = attempts,
                                wait_ms = millis(wait), "token request failed, retrying"
                            );
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        Decision::Stop => return Err(error.into()),
                    }
                }
                Err(error) => return Err(error.into()),
            };
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .bearer_auth(token.secret().expose_secret())
                .header(ACCEPT, "application/json")
                .header(CLIENT_REQUEST_ID, &client_request_id)
                .header(RETURN_CLIENT_REQUEST_ID, "true");
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let attempt = match self.attempt(request).await {
                Ok(attempt) => attempt,
                Err(failure) => {
                    retries += 1;
                    let outcome = Outcome::Transport {
                        retryable: failure.retryable(replay_safe),
                    };
                    match self.decide(outcome, retries, replay_safe) {
                        Decision::Retry(wait) => {
                            tracing::debug!(
                                target: "pilotwatch::graph::http",
                                %method, path = url.path(), attempt = attempts,
                                timeout = failure.timeout, wait_ms = millis(wait),
                                "transport failure, retrying"
                            );
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        Decision::Stop => return Err(failure.into_error(attempts)),
                    }
                }
            };
            let request_id = header(&attempt.headers, REQUEST_ID);
            tracing::debug!(
                target: "pilotwatch::graph::http",
                %method, path = url.path(), attempt = attempts,
                status = attempt.status.as_u16(), request_id = request_id.as_deref().unwrap_or(""),
                "graph answer"
            );
            let meta = ResponseMeta {
                status: attempt.status.as_u16(),
                request_id,
                client_request_id: header(&attempt.headers, CLIENT_REQUEST_ID)
                    .unwrap_or_else(|| client_request_id.clone()),
                server_date: attempt.server_date,
                attempts,
            };
            if attempt.oversized {
                return Err(RequestError::UnexpectedBody {
                    status: meta.status,
                    request_id: meta.request_id,
                    detail: format!(
                        "the answer is larger than {} MiB and was not read",
                        MAX_GRAPH_BODY_BYTES / (1024 * 1024)
                    ),
                });
            }
            if attempt.status.is_success() {
                return Ok(Answer {
                    status: attempt.status,
                    body: attempt.body,
                    meta,
                });
            }
            if attempt.status == StatusCode::UNAUTHORIZED && !refreshed_after_401 {
                // The token may have been revoked or the clocks disagree on its expiry: one
                // fresh token, one more try. This attempt does not count against the policy.
                refreshed_after_401 = true;
                inner.tokens.invalidate_if_current(&token).await;
                continue;
            }
            let retry_after = header(&attempt.headers, RETRY_AFTER.as_str())
                .and_then(|value| RetryAfter::parse(&value))
                .and_then(|value| value.wait(attempt.server_date));
            retries += 1;
            let outcome = Outcome::Status {
                status: attempt.status.as_u16(),
                retry_after,
            };
            match self.decide(outcome, retries, replay_safe) {
                Decision::Retry(wait) => {
                    tracing::debug!(
                        target: "pilotwatch::graph::http",
                        %method, path = url.path(), attempt = attempts,
                        status = attempt.status.as_u16(), wait_ms = millis(wait),
                        "retrying after a Graph error"
                    );
                    tokio::time::sleep(wait).await;
                }
                Decision::Stop => {
                    if let Some(wait) = retry_after.filter(|w| *w > inner.policy.max_retry_after) {
                        tracing::debug!(
                            target: "pilotwatch::graph::http",
                            %method, path = url.path(), status = attempt.status.as_u16(),
                            retry_after_secs = wait.as_secs(),
                            "Retry-After beyond the policy's limit: not waiting"
                        );
                    }
                    return Err(graph_error(&attempt, meta));
                }
            }
        }
    }

    /// Sends once and reads the whole answer, recording its `Date`.
    async fn attempt(&self, request: reqwest::RequestBuilder) -> Result<Attempt, TransportFailure> {
        let now = || self.inner.clock.now();
        let response = request.send().await.map_err(|error| {
            self.inner.traffic.record(now(), &AttemptEnd::NoAnswer);
            TransportFailure::classify(&error)
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = header(&headers, REQUEST_ID);
        let end = AttemptEnd::Answered {
            status: status.as_u16(),
            request_id,
        };
        self.inner.traffic.record(now(), &end);
        let server_date = header(&headers, DATE.as_str()).and_then(|d| parse_http_date(&d));
        if let Some(server) = server_date {
            let local = self.inner.clock.now();
            *self
                .inner
                .last_server_date
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) =
                Some(ServerDate { server, local });
        }
        let body = read_capped(response, MAX_GRAPH_BODY_BYTES)
            .await
            .map_err(|e| TransportFailure::classify(&e))?;
        Ok(Attempt {
            status,
            headers,
            oversized: body.is_none(),
            body: body.unwrap_or_default(),
            server_date,
        })
    }

    /// The policy's decision for retry number `retry`, with this thread's RNG for jitter (kept
    /// out of any `await`).
    fn decide(&self, outcome: Outcome, retry: u32, replay_safe: bool) -> Decision {
        self.inner
            .policy
            .decide(outcome, retry, replay_safe, &mut rand::rng())
    }
}

/// The final error for a Graph error answer.
fn graph_error(attempt: &Attempt, meta: ResponseMeta) -> RequestError {
    let parsed = ErrorFields::parse(&attempt.body);
    RequestError::Graph {
        status: meta.status,
        code: parsed.code,
        message: parsed.message.unwrap_or_else(|| {
            attempt
                .status
                .canonical_reason()
                .unwrap_or("no error document")
                .to_owned()
        }),
        request_id: meta.request_id.or(parsed.request_id),
        client_request_id: meta.client_request_id,
        date: parsed
            .date
            .or_else(|| header(&attempt.headers, DATE.as_str())),
        attempts: meta.attempts,
    }
}

/// What an error body yields, however much of Graph's shape it has.
#[derive(Debug, Default, PartialEq)]
struct ErrorFields {
    code: String,
    message: Option<String>,
    request_id: Option<String>,
    date: Option<String>,
}

impl ErrorFields {
    fn parse(body: &[u8]) -> Self {
        if let Ok(document) = serde_json::from_slice::<GraphError>(body) {
            let error = document.error;
            let inner = error.inner_error;
            return Self {
                code: error.code,
                message: Some(error.message),
                request_id: inner.as_ref().map(|i| i.request_id.clone()),
                date: inner.map(|i| i.date),
            };
        }
        // Not quite Graph's document (a proxy's JSON, a missing field): keep what is there.
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Self::default();
        };
        let text = |pointer: &str| {
            value
                .pointer(pointer)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        Self {
            code: text("/error/code").unwrap_or_default(),
            message: text("/error/message"),
            request_id: text("/error/innerError/request-id"),
            date: text("/error/innerError/date"),
        }
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn millis(wait: Duration) -> u64 {
    u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_error_documents_are_parsed() {
        let body = br#"{"error":{"code":"TooManyRequests","message":"Slow down.","innerError":{"date":"2026-11-22T08:00:00","request-id":"r-1","client-request-id":"c-1"}}}"#;
        assert_eq!(
            ErrorFields::parse(body),
            ErrorFields {
                code: "TooManyRequests".to_owned(),
                message: Some("Slow down.".to_owned()),
                request_id: Some("r-1".to_owned()),
                date: Some("2026-11-22T08:00:00".to_owned()),
            }
        );
    }

    #[test]
    fn partial_and_foreign_error_bodies_keep_what_they_have() {
        let partial = ErrorFields::parse(br#"{"error":{"code":"accessDenied"}}"#);
        assert_eq!(partial.code, "accessDenied");
        assert_eq!(partial.message, None);
        for junk in [
            &b"<html>502 Bad Gateway</html>"[..],
            b"",
            b"[1,2]",
            b"{\"error\":7}",
        ] {
            assert_eq!(ErrorFields::parse(junk), ErrorFields::default());
        }
    }

    #[test]
    fn empty_success_bodies_decode_as_null() {
        let meta = ResponseMeta {
            status: 204,
            request_id: None,
            client_request_id: "c".to_owned(),
            server_date: None,
            attempts: 1,
        };
        let answer = |body: &'static [u8]| Answer {
            status: StatusCode::NO_CONTENT,
            body: body.to_vec(),
            meta: meta.clone(),
        };
        assert!(answer(b"").decode::<serde::de::IgnoredAny>().is_ok());
        assert!(
            answer(b" \n")
                .decode::<Option<u32>>()
                .unwrap()
                .body
                .is_none()
        );
        match answer(b"<html/>").decode::<serde_json::Value>() {
            Err(RequestError::UnexpectedBody { status, .. }) => assert_eq!(status, 204),
            other => panic!("expected an unexpected body, got {other:?}"),
        }
    }
}
