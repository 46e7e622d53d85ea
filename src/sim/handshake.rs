//! The notification-URL validation handshake (graph-facts §3.3): before a subscription is
//! created (and, in this simulator, before its notificationUrl is changed), "Graph" POSTs
//! `{url}?validationToken={percent-encoded opaque token}` with `Content-Type: text/plain;
//! charset=utf-8` and requires, within 10 seconds, `200 OK`, a `text/plain` answer and a body
//! that is exactly the decoded token. An encoded echo, another status or content type, or no
//! answer fails. Every attempt is recorded in the delivery ledger as ground truth.
//!
//! Depends on the simulator's state (HTTP client, clock, seeded randomness, scenario, ledger);
//! never on the routes that call it.

use std::time::{Duration, Instant};

use axum::http::header;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::Rng as _;
use url::Url;

use super::ledger::{DeliveryAttempt, DeliveryKind, DeliveryOutcome};
use super::state::SimState;

/// How long the endpoint has to answer (graph-facts §3.3).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest answer body read; a correct one is a few dozen bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Everything but RFC 3986 "unreserved" characters is percent-encoded in the token.
const TOKEN_ENCODING: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why an endpoint failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The URL cannot be requested at all.
    #[error("the URL cannot be used: {0}")]
    BadUrl(String),
    /// No answer: refused, TLS failure, timeout.
    #[error("no answer: {0}")]
    Unreachable(String),
    /// An answer other than `200 OK`.
    #[error("answered HTTP {0}; the validation request needs 200 OK")]
    Status(u16),
    /// `200 OK`, but not `text/plain`.
    #[error("answered 200 with Content-Type '{0}'; the validation request needs text/plain")]
    ContentType(String),
    /// `200 OK` and `text/plain`, but not the decoded token.
    #[error("answered 200 but the body is not the decoded validationToken{}", if *.encoded { " (it is still URL-encoded)" } else { "" })]
    Body {
        /// The body was the token still percent-encoded.
        encoded: bool,
    },
}

/// The opaque token: human-readable text with characters that need encoding, as Graph sends
/// it (graph-facts §3.3 item 5; the format may change, receivers must not parse it).
pub fn validation_token(request_id: &uuid::Uuid) -> String {
    format!(
        "Validation: Testing client application reachability for subscription Request-Id: {request_id}"
    )
}

/// `url` with `validationToken=<token>` appended (with `&` when it already has a query); the
/// fragment, never sent over HTTP, is dropped.
pub fn validation_url(url: &str, token: &str) -> Result<Url, HandshakeError> {
    let mut target = Url::parse(url).map_err(|error| HandshakeError::BadUrl(error.to_string()))?;
    let encoded = utf8_percent_encode(token, TOKEN_ENCODING).to_string();
    let query = match target.query() {
        Some(existing) if !existing.is_empty() => {
            format!("{existing}&validationToken={encoded}")
        }
        _ => format!("validationToken={encoded}"),
    };
    target.set_query(Some(&query));
    target.set_fragment(None);
    Ok(target)
}

/// Validates `url` the way Graph does and records the attempt; `subscription_id` names the
/// subscription when it already exists (a PATCH of its notificationUrl).
pub async fn validate_endpoint(
    state: &SimState,
    url: &str,
    subscription_id: Option<&str>,
) -> Result<(), HandshakeError> {
    let request_id = uuid::Builder::from_random_bytes(state.rng().random()).into_uuid();
    let token = validation_token(&request_id);
    let at = state.now();
    let started = Instant::now();
    let result = if state.scenario().delivery.endpoint_reachable {
        match validation_url(url, &token) {
            Ok(target) => tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange(state, target, &token))
                .await
                .unwrap_or_else(|_| {
                    Err(HandshakeError::Unreachable(format!(
                        "no answer within {} seconds",
                        HANDSHAKE_TIMEOUT.as_secs()
                    )))
                }),
            Err(error) => Err(error),
        }
    } else {
        Err(HandshakeError::Unreachable(
            "connection refused (simulated)".to_owned(),
        ))
    };
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let outcome = match &result {
        Ok(()) => DeliveryOutcome::Delivered,
        Err(HandshakeError::Status(status)) => DeliveryOutcome::Rejected { status: *status },
        Err(error) => DeliveryOutcome::Failed {
            reason: error.to_string(),
        },
    };
    tracing::info!(
        target: "pilotwatch::sim::handshake",
        endpoint = %endpoint_for_log(url),
        elapsed_ms,
        outcome = ?outcome,
        "validation handshake"
    );
    state.deliveries().record(DeliveryAttempt {
        seq: 0,
        kind: DeliveryKind::Validation,
        url: url.to_owned(),
        at,
        attempt: 1,
        subscription_ids: subscription_id.map(str::to_owned).into_iter().collect(),
        interaction_ids: Vec::new(),
        elapsed_ms,
        outcome,
    });
    result
}

/// One POST and the checks on its answer.
async fn exchange(state: &SimState, target: Url, token: &str) -> Result<(), HandshakeError> {
    let mut response = state
        .http
        .post(target)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .timeout(HANDSHAKE_TIMEOUT)
        .send()
        .await
        .map_err(|error| HandshakeError::Unreachable(describe(&error)))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(HandshakeError::Status(status));
    }
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("text/plain") {
        let shown: String = content_type.chars().take(100).collect();
        return Err(HandshakeError::ContentType(shown));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| HandshakeError::Unreachable(describe(&error)))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return Err(HandshakeError::Body { encoded: false });
        }
    }
    if body == token.as_bytes() {
        return Ok(());
    }
    let encoded = utf8_percent_encode(token, TOKEN_ENCODING).to_string();
    let form_encoded = encoded.replace("%20", "+");
    let echoed_encoded = body == encoded.as_bytes() || body == form_encoded.as_bytes();
    Err(HandshakeError::Body {
        encoded: echoed_encoded,
    })
}

/// A transport error in a few words, with its causes (the URL, which carries the token, left
/// out).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Scheme, host and path only: a notification URL's query may carry a secret.
fn endpoint_for_log(url: &str) -> String {
    match Url::parse(url) {
        Ok(parsed) => format!(
            "{}://{}{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or(""),
            parsed.path()
        ),
        Err(_) => "<invalid url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_token_is_percent_encoded_and_appended_to_any_query() {
        let token = validation_token(&uuid::Uuid::nil());
        assert!(token.starts_with("Validation: Testing client application reachability"));
        let plain = validation_url("https://example.test/notify", &token).unwrap();
        assert_eq!(
            plain.as_str(),
            "https://example.test/notify?validationToken=Validation%3A%20Testing%20client%20application%20reachability%20for%20subscription%20Request-Id%3A%2000000000-0000-0000-0000-000000000000"
        );
        let with_query =
            validation_url("https://example.test/notify?code=abc#frag", &token).unwrap();
        let query = with_query.query().unwrap();
        assert!(
            query.starts_with("code=abc&validationToken=Validation%3A%20"),
            "{query}"
        );
        assert!(with_query.fragment().is_none());
        let decoded: Vec<(String, String)> = with_query.query_pairs().into_owned().collect();
        assert_eq!(decoded[1], ("validationToken".to_owned(), token));
    }

    #[test]
    fn log_form_drops_the_query() {
        assert_eq!(
            endpoint_for_log("https://h.test/n?code=secret"),
            "https://h.test/n"
        );
    }
}
