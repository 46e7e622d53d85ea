//! The collector's status endpoints: a small HTTP listener (loopback by default) answering
//! `GET /metrics` with the Prometheus text exposition of the current verdicts and
//! `GET /diagnosis.json` with the verdicts themselves, which is what `pilotwatch check` reads
//! when a collector runs. Every other path is 404. The verdicts come from a
//! [`VerdictSource`] that answers from memory; nothing in them is secret (facts hold no
//! `clientState`, token or secret value), so the bodies are safe to expose to a scraper.
//!
//! [`announcement`] is the `DATA_DIR/collector.json` file through which `check` finds the
//! listener.
//!
//! Depends on `diagnose` (types and the exposition), the clock and axum; knows nothing of the
//! collector's internals, so it can be served from a fake source in tests.

pub mod announcement;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::clock::SharedClock;
use crate::diagnose::{VerdictSource, prometheus};

/// The listen address when none is configured: Prometheus' exporter port range, loopback only.
pub const DEFAULT_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);

/// The path `check` reads verdicts from.
pub const DIAGNOSIS_PATH: &str = "/diagnosis.json";

/// The path Prometheus scrapes.
pub const METRICS_PATH: &str = "/metrics";

/// Why the status listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum StatusError {
    /// The address could not be bound.
    #[error("cannot listen for status requests on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why not.
        source: std::io::Error,
    },
}

/// A running status listener.
#[derive(Debug)]
pub struct StatusServer {
    /// The address it listens on (the real port when port 0 was asked for).
    pub local_addr: SocketAddr,
    task: JoinHandle<()>,
}

impl StatusServer {
    /// Waits until the listener has stopped (after its shutdown token was cancelled and the
    /// requests in flight were answered).
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the status listener ended abnormally");
        }
    }
}

#[derive(Clone)]
struct Shared {
    source: Arc<dyn VerdictSource>,
    clock: SharedClock,
}

/// Binds `bind` and serves the status endpoints from `source` until `shutdown` is cancelled.
pub async fn serve(
    bind: SocketAddr,
    source: Arc<dyn VerdictSource>,
    clock: SharedClock,
    shutdown: CancellationToken,
) -> Result<StatusServer, StatusError> {
    let bind_error = |source| StatusError::Bind { addr: bind, source };
    let listener = TcpListener::bind(bind).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    if !local_addr.ip().is_loopback() {
        tracing::warn!(%local_addr, "the status endpoints listen beyond this machine");
    }
    let router = router(Shared { source, clock });
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the status listener failed");
        }
    });
    tracing::info!(%local_addr, "status endpoints listening (/metrics, /diagnosis.json)");
    Ok(StatusServer { local_addr, task })
}

fn router(shared: Shared) -> Router {
    Router::new()
        .route(METRICS_PATH, get(metrics))
        .route(DIAGNOSIS_PATH, get(diagnosis))
        .fallback(not_found)
        .with_state(shared)
}

async fn metrics(State(shared): State<Shared>) -> Response {
    let verdicts = shared.source.verdicts();
    let text = prometheus::exposition(&verdicts, shared.clock.now());
    ([(header::CONTENT_TYPE, prometheus::CONTENT_TYPE)], text).into_response()
}

async fn diagnosis(State(shared): State<Shared>) -> Response {
    axum::Json(shared.source.verdicts()).into_response()
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "not found: pilotwatch serves /metrics and /diagnosis.json\n",
    )
        .into_response()
}
