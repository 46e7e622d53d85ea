//! The simulator's HTTP side: the route tree (identity, Graph `/v1.0` and `/beta`, `/_sim`
//! control), the middleware every request passes (ids, simulated `Date`, logging without
//! secrets, body limit, Graph outage), and the HTTP and HTTPS listeners that serve it.
//!
//! Identity and Graph routes are served on every listener; [`BaseUrl`] lets discovery documents
//! and `@odata.nextLink` point back at the listener a request came in on.
//!
//! Depends on the simulator's route modules and state.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::http_error::RequestMeta;
use super::state::SimState;
use super::{control, directory, export, login, subscriptions};
use crate::clock::Clock as _;

/// Largest request body any simulated endpoint reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest a request may take before the server gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which listener a request arrived on.
#[derive(Debug, Clone, Copy)]
pub struct ListenerInfo {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The bound address.
    pub local: SocketAddr,
}

/// `scheme://host[:port]` of the listener the request came in on, as the client addressed it.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl<S: Send + Sync> FromRequestParts<S> for BaseUrl {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let listener = parts.extensions.get::<ListenerInfo>().copied();
        let scheme = listener.map_or("http", |info| info.scheme);
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .filter(|host| is_plain_authority(host))
            .map(str::to_owned)
            .or_else(|| listener.map(|info| info.local.to_string()))
            .unwrap_or_else(|| "localhost".to_owned());
        Ok(Self(format!("{scheme}://{host}")))
    }
}

/// A Host header is echoed into documents only when it is a bare `host[:port]`.
fn is_plain_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// The whole route tree, bound to `state`.
pub fn router(state: Arc<SimState>) -> Router {
    let graph = || {
        Router::new()
            .merge(subscriptions::routes())
            .merge(export::routes())
            .merge(directory::routes())
            .fallback(graph_unknown_segment)
            .layer(middleware::from_fn_with_state(state.clone(), graph_outage))
    };
    Router::new()
        .merge(login::routes())
        .nest("/v1.0", graph())
        .nest("/beta", graph())
        .nest("/_sim", control::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Inside `stamp_request`, so a timed-out answer carries the request's ids and headers.
        .layer(middleware::from_fn_with_state(
            REQUEST_TIMEOUT,
            answer_in_time,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), stamp_request))
        .with_state(state)
}

/// Gives every request its ids and simulated arrival time, stamps Graph's response headers and
/// the simulated `Date`, and logs the request line (never headers or bodies: they hold secrets).
async fn stamp_request(
    State(state): State<Arc<SimState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let client_request_id = request
        .headers()
        .get("client-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| request_id.clone(), str::to_owned);
    let received = state.now();
    let meta = RequestMeta {
        request_id,
        client_request_id,
        received,
    };
    request.extensions_mut().insert(meta.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = std::time::Instant::now();
    let mut response = next.run(request).await;
    tracing::debug!(
        target: "pilotwatch::sim::http",
        %method, %path, status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    let headers = response.headers_mut();
    let date = received.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    for (name, value) in [
        ("request-id", meta.request_id.clone()),
        ("client-request-id", meta.client_request_id.clone()),
        ("date", date),
        (
            "x-ms-ags-diagnostic",
            r#"{"ServerInfo":{"DataCenter":"Simulated","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"PILOTWATCH-SIM"}}"#
                .to_owned(),
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// Gives up on a request that takes longer than `limit` (real time) with Graph's `504 timeout`
/// error document, rather than an empty body a client cannot tell from a proxy's.
async fn answer_in_time(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let meta = request
        .extensions()
        .get::<RequestMeta>()
        .cloned()
        .unwrap_or_else(RequestMeta::detached);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(
                target: "pilotwatch::sim::http",
                limit_secs = limit.as_secs_f64(),
                "request timed out"
            );
            meta.error(
                StatusCode::GATEWAY_TIMEOUT,
                "timeout",
                "The operation timed out.",
            )
            .into_response()
        }
    }
}

/// What an outage's `Retry-After` asks for, in simulated time.
const OUTAGE_RETRY_AFTER_SIM_SECS: i64 = 30;

/// `Retry-After` is in real seconds (a client sleeps on its own clock), so at `--speed` the
/// simulated 30 s shrink; never below 1 s, the header's smallest value.
fn outage_retry_after(state: &SimState) -> u64 {
    let real = state
        .clock
        .real_duration(chrono::Duration::seconds(OUTAGE_RETRY_AFTER_SIM_SECS));
    super::throttle::retry_after_secs(real)
}

/// During a scenario's outage window every Graph call answers 503 with `Retry-After`.
async fn graph_outage(
    State(state): State<Arc<SimState>>,
    request: Request,
    next: Next,
) -> Response {
    if state.in_outage(state.now()) {
        let meta = request.extensions().get::<RequestMeta>().cloned();
        if let Some(meta) = meta {
            return meta
                .error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "serviceNotAvailable",
                    "The service is temporarily unavailable. Please retry after the period in the Retry-After header.",
                )
                .retry_after(outage_retry_after(&state))
                .into_response();
        }
    }
    next.run(request).await
}

async fn graph_unknown_segment(meta: RequestMeta, OriginalUri(uri): OriginalUri) -> Response {
    let segment = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect::<String>();
    meta.error(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        format!("Resource not found for the segment '{segment}'."),
    )
    .into_response()
}

async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not Found").into_response()
}

async fn method_not_allowed(meta: RequestMeta, method: Method) -> Response {
    meta.error(
        StatusCode::METHOD_NOT_ALLOWED,
        "BadRequest",
        format!("The HTTP method '{method}' is not supported for this resource."),
    )
    .into_response()
}

/// Serves `router` over plain HTTP until `shutdown` is cancelled.
pub async fn serve_http(listener: TcpListener, router: Router, shutdown: CancellationToken) {
    let Ok(local) = listener.local_addr() else {
        return;
    };
    let router = router.layer(axum::Extension(ListenerInfo {
        scheme: "http",
        local,
    }));
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(error) = served {
        tracing::error!(%error, "simulator HTTP listener stopped");
    }
}

/// Serves `router` over HTTPS until `shutdown` is cancelled. Each connection's handshake runs
/// in its own task, so a slow or silent client never holds up others.
pub async fn serve_https(
    listener: TcpListener,
    router: Router,
    tls: Arc<rustls::ServerConfig>,
    shutdown: CancellationToken,
) {
    let Ok(local) = listener.local_addr() else {
        return;
    };
    let router = router.layer(axum::Extension(ListenerInfo {
        scheme: "https",
        local,
    }));
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let (stream, _peer) = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    tracing::warn!(%error, "simulator HTTPS accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
            let Ok(Ok(tls_stream)) = handshake.await else {
                return;
            };
            let builder = auto::Builder::new(TokioExecutor::new());
            let connection = builder.serve_connection(TokioIo::new(tls_stream), service);
            tokio::select! {
                () = shutdown.cancelled() => {}
                _ = connection => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::routing::get;
    use tower::ServiceExt as _;

    async fn slow() -> &'static str {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "too late"
    }

    async fn quick() -> &'static str {
        "in time"
    }

    fn timed(limit: Duration) -> Router {
        Router::new()
            .route("/slow", get(slow))
            .route("/quick", get(quick))
            .layer(middleware::from_fn_with_state(limit, answer_in_time))
    }

    #[tokio::test]
    async fn a_timed_out_request_gets_graphs_timeout_error() {
        let meta = RequestMeta {
            request_id: "req-1".to_owned(),
            client_request_id: "client-1".to_owned(),
            received: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        };
        let mut request = Request::builder().uri("/slow").body(Body::empty()).unwrap();
        request.extensions_mut().insert(meta);
        let started = std::time::Instant::now();
        let response = timed(Duration::from_millis(50))
            .oneshot(request)
            .await
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(response.status(), StatusCode::GATEWAY_TIMEOUT);
        let body = to_bytes(response.into_body(), MAX_BODY_BYTES)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "timeout", "{body}");
        assert_eq!(body["error"]["innerError"]["request-id"], "req-1", "{body}");
        assert_eq!(
            body["error"]["innerError"]["client-request-id"], "client-1",
            "{body}"
        );
    }

    #[tokio::test]
    async fn a_quick_request_is_untouched() {
        let request = Request::builder()
            .uri("/quick")
            .body(Body::empty())
            .unwrap();
        let response = timed(Duration::from_secs(5))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = to_bytes(response.into_body(), MAX_BODY_BYTES)
            .await
            .unwrap();
        assert_eq!(&body[..], b"in time");
    }
}
