//! The HTTP side: the notification and lifecycle routes, the validation handshake on either,
//! and the acknowledgement path — persist the raw body, commit, then 202 (DESIGN rule 1). No
//! token check or decryption happens before the answer; the processor is woken after it.
//!
//! Hardening, in the order a request meets it: POST only (405); the handshake answered at once
//! (200 `text/plain`, the decoded token, never rendered: `nosniff` and a `default-src 'none'`
//! policy, control characters and oversized tokens refused with 400); a concurrency limit that
//! answers 503 with `Retry-After` when saturated rather than queueing past Graph's 3 s deadline;
//! `application/json` only (415); a body limit (413) and a body read timeout (408). Any storage
//! failure answers 503 so Graph retries (graph-facts §3.5), and so does every notification once
//! the processor has died (nothing would process it; see `mod.rs`). The header read timeout is the
//! listener's.
//!
//! While a body is being committed it is registered in flight in the `ack` book, so the
//! processor neither takes it early nor guesses when it was acknowledged.
//!
//! Depends on `ack`, `ledger`, `config` and the clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use futures_util::StreamExt as _;
use tokio::sync::Semaphore;

use super::ack::AckBook;
use super::config::ReceiverConfig;
use super::ledger::Ledger;
use crate::clock::SharedClock;
use crate::store::records::Endpoint;

/// Longest validation token echoed; Graph's are a few dozen characters.
const MAX_VALIDATION_TOKEN_LEN: usize = 4096;

/// What a saturated receiver asks Graph to wait, in seconds.
const RETRY_AFTER_SECS: &str = "1";

pub(crate) struct Shared<L: Ledger> {
    pub(crate) ledger: Arc<L>,
    pub(crate) profile: String,
    pub(crate) clock: SharedClock,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) acks: Arc<AckBook>,
    /// False once the processor has died: nothing would process what is stored.
    pub(crate) processing: Arc<AtomicBool>,
    pub(crate) max_body_bytes: usize,
    pub(crate) read_timeout: Duration,
}

/// The route tree for `config`.
pub(crate) fn router<L: Ledger>(config: &ReceiverConfig, shared: Arc<Shared<L>>) -> Router {
    let route = |endpoint: Endpoint| {
        let shared = Arc::clone(&shared);
        any(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Body| {
                receive(State(shared), endpoint, method, uri, headers, body)
            },
        )
    };
    let mut router = Router::new().route(&config.notification_path, route(Endpoint::Notification));
    if config.lifecycle_path != config.notification_path {
        router = router.route(&config.lifecycle_path, route(Endpoint::Lifecycle));
    }
    router.fallback(|| async { StatusCode::NOT_FOUND })
}

async fn receive<L: Ledger>(
    State(shared): State<Arc<Shared<L>>>,
    endpoint: Endpoint,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let received_at = shared.clock.now();
    let arrived = std::time::Instant::now();
    if method != Method::POST {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, HeaderValue::from_static("POST"))],
        )
            .into_response();
    }
    if let Some(token) = validation_token(uri.query()) {
        return handshake(&token);
    }
    if !shared.processing.load(Ordering::Acquire) {
        // Already logged when the processor died; Graph keeps retrying until a restart.
        return retry_later();
    }
    let Ok(_permit) = Arc::clone(&shared.permits).try_acquire_owned() else {
        tracing::warn!(target: "pilotwatch::receiver", "receiver saturated; answering 503 so Graph retries");
        return retry_later();
    };
    if !is_json(&headers) {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    let body = match read_body(body, &headers, shared.max_body_bytes, shared.read_timeout).await {
        Ok(body) => body,
        Err(status) => return status.into_response(),
    };
    let ledger = &shared.ledger;
    let stored = match shared
        .acks
        .store(|| ledger.put(&shared.profile, endpoint, received_at, &body))
    {
        Ok(in_flight) => ledger.commit().await.map(|()| in_flight),
        Err(error) => Err(error),
    };
    match stored {
        Ok(in_flight) => {
            in_flight.acked(shared.clock.now(), arrived.elapsed());
            StatusCode::ACCEPTED.into_response()
        }
        Err(error) => {
            tracing::error!(target: "pilotwatch::receiver", %error, "cannot store a notification; answering 503 so Graph retries");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// 503 with `Retry-After`: Graph retries the delivery.
fn retry_later() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECS),
        )],
    )
        .into_response()
}

/// The decoded `validationToken` query parameter, if the request is a handshake.
fn validation_token(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| name == "validationToken")
        .map(|(_, value)| value.into_owned())
}

/// 200 with the decoded token as plain text that no browser will render or sniff.
fn handshake(token: &str) -> Response {
    if token.len() > MAX_VALIDATION_TOKEN_LEN || token.chars().any(char::is_control) {
        return (StatusCode::BAD_REQUEST, "validationToken is not acceptable").into_response();
    }
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("default-src 'none'"),
            ),
        ],
        token.to_owned(),
    )
        .into_response()
}

/// `application/json`, with or without parameters, any case.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The whole body, or the status that refuses it: 413 past `limit` (declared or actual), 408
/// when it does not arrive within `timeout`, 400 when the connection breaks.
async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    timeout: Duration,
) -> Result<Vec<u8>, StatusCode> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let read = async {
        let mut stream = body.into_data_stream();
        let mut bytes = Vec::with_capacity(declared.map_or(0, |length| length as usize));
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|_| StatusCode::BAD_REQUEST)?;
            if bytes.len().saturating_add(chunk.len()) > limit {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(StatusCode::REQUEST_TIMEOUT))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn tokens_are_decoded_from_the_query() {
        assert_eq!(
            validation_token(Some(
                "source=graph&validationToken=Validation%3A%20a%2Bb%26c"
            )),
            Some("Validation: a+b&c".to_owned())
        );
        assert_eq!(validation_token(Some("source=graph")), None);
        assert_eq!(validation_token(None), None);
    }

    #[test]
    fn json_content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(is_json(&headers));
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(!is_json(&headers));
    }

    #[test]
    fn handshake_refuses_control_characters() {
        assert_eq!(handshake("ok token").status(), StatusCode::OK);
        assert_eq!(handshake("line\r\nbreak").status(), StatusCode::BAD_REQUEST);
    }
}
