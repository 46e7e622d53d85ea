//! The Microsoft Graph simulator: identity platform, Graph endpoints, a notification pusher with
//! real JWTs and real encryption, and scenario files for every failure.
//!
//! The simulator is "just another Graph": the rest of pilotwatch reaches it only through
//! configuration (authority URL, Graph root URL, CA file), never through a code path of its own.
//! It shares only `graph::model` (and `clock`) with the rest of the crate; nothing outside `sim`
//! and the CLI wiring may import it.

pub mod activity;
pub mod auth;
pub mod control;
pub mod directory;
pub mod export;
pub mod handshake;
pub mod http_error;
pub mod ledger;
pub mod lifecycle;
pub mod login;
pub mod odata;
pub mod outbound;
pub mod pusher;
pub mod registry;
pub mod scenario;
pub mod server;
pub mod signing_keys;
pub mod state;
pub mod subscriptions;
pub mod tenant;
pub mod throttle;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::clock::{Clock, InvalidSpeed, ScaledClock};
use scenario::Scenario;
use signing_keys::{KeyError, SigningKeys};
use state::SimState;
use tls::{SimTls, TlsError};

/// How the signing keys rotate (simulated time): a new key daily, old ones published two days.
const KEY_ROTATION: Duration = Duration::hours(24);
const KEY_RETENTION: Duration = Duration::hours(48);

/// How to run a simulator.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Plain HTTP listen address (`None`: no HTTP listener).
    pub listen: Option<SocketAddr>,
    /// HTTPS listen address (`None`: no HTTPS listener).
    pub https_listen: Option<SocketAddr>,
    /// The scenario to start with.
    pub scenario: Scenario,
    /// Simulated time runs this many times faster than real time.
    pub speed: f64,
    /// Seed for the tenant and all randomness.
    pub seed: u64,
    /// Extra CA certificates (PEM file) trusted for `https://` notification URLs.
    pub receiver_ca: Option<PathBuf>,
    /// Simulated time at start (default: the real time now).
    pub start_time: Option<DateTime<Utc>>,
}

impl SimOptions {
    /// Loopback HTTP on an ephemeral port, no HTTPS, real-time speed: what tests want.
    pub fn loopback(scenario: Scenario) -> Self {
        Self {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            https_listen: None,
            scenario,
            speed: 1.0,
            seed: 1,
            receiver_ca: None,
            start_time: None,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// `--speed` out of range.
    #[error(transparent)]
    Speed(#[from] InvalidSpeed),
    /// Signing keys could not be made.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The HTTPS identity could not be made.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `--receiver-ca` could not be read or holds no certificate.
    #[error("cannot use receiver CA file {path}: {reason}")]
    ReceiverCa {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// Neither listener was requested.
    #[error("nothing to serve: give --listen, --https-listen or both")]
    NoListener,
    /// The outbound HTTP client could not be built.
    #[error("cannot build the simulator's HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}

/// A running simulator. Dropping it does not stop it; call [`RunningSim::stop`].
#[derive(Debug)]
pub struct RunningSim {
    /// Bound HTTP address.
    pub http_addr: Option<SocketAddr>,
    /// Bound HTTPS address.
    pub https_addr: Option<SocketAddr>,
    /// PEM of the CA behind the HTTPS listener.
    pub ca_pem: String,
    /// Shared state (tests read ground truth through it or through `/_sim/`).
    pub state: Arc<SimState>,
    tasks: JoinSet<()>,
}

impl RunningSim {
    /// `http://addr` of the HTTP listener, else `https://localhost:port`.
    pub fn base_url(&self) -> String {
        match (self.http_addr, self.https_addr) {
            (Some(addr), _) => format!("http://{addr}"),
            (None, Some(addr)) => format!("https://localhost:{}", addr.port()),
            (None, None) => String::new(),
        }
    }

    /// The `--tenant-out` document: listeners, tenant, app registration, users, and the
    /// credentials an operator's configuration would hold under the active scenario.
    pub fn tenant_out(&self) -> serde_json::Value {
        let mut document = self.state.tenant_document();
        if let Some(fields) = document.as_object_mut() {
            let listen = self.http_addr.map(|addr| addr.to_string());
            let https_listen = self.https_addr.map(|addr| addr.to_string());
            fields.insert("listen".to_owned(), json!(listen));
            fields.insert("https_listen".to_owned(), json!(https_listen));
            fields.insert("authority".to_owned(), json!(self.base_url()));
            fields.insert(
                "graph_root".to_owned(),
                json!(format!("{}/v1.0", self.base_url())),
            );
        }
        document
    }

    /// Stops every listener and background task and waits for them.
    pub async fn stop(mut self) {
        self.state.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts a simulator: binds its listeners, then serves and simulates in background tasks.
pub async fn start(options: SimOptions) -> Result<RunningSim, SimError> {
    if options.listen.is_none() && options.https_listen.is_none() {
        return Err(SimError::NoListener);
    }
    let origin = options
        .start_time
        .unwrap_or_else(|| crate::clock::SystemClock.now());
    let clock = Arc::new(ScaledClock::new(origin, options.speed)?);
    let keys = SigningKeys::new(clock.now(), KEY_ROTATION, KEY_RETENTION)?;
    let http = outbound_client(options.receiver_ca.as_deref())?;
    let (state, outbox) = SimState::new(clock, options.seed, options.scenario, keys, http);
    let router = server::router(state.clone());
    let mut tasks = JoinSet::new();

    let http_addr = match options.listen {
        Some(addr) => {
            let listener = bind(addr).await?;
            let bound = listener
                .local_addr()
                .map_err(|source| SimError::Bind { addr, source })?;
            tasks.spawn(server::serve_http(
                listener,
                router.clone(),
                state.shutdown.clone(),
            ));
            Some(bound)
        }
        None => None,
    };
    let tls = SimTls::generate(options.https_listen.map(|addr| addr.ip()))?;
    let https_addr = match options.https_listen {
        Some(addr) => {
            let listener = bind(addr).await?;
            let bound = listener
                .local_addr()
                .map_err(|source| SimError::Bind { addr, source })?;
            let config = tls.server_config.clone();
            tasks.spawn(server::serve_https(
                listener,
                router,
                config,
                state.shutdown.clone(),
            ));
            Some(bound)
        }
        None => None,
    };
    activity::seed_history(&state);
    tasks.spawn(activity::run(state.clone()));
    tasks.spawn(pusher::run(state.clone(), outbox));
    tasks.spawn(lifecycle::run(state.clone()));
    tasks.spawn(rotate_signing_keys(state.clone()));
    Ok(RunningSim {
        http_addr,
        https_addr,
        ca_pem: tls.ca_pem,
        state,
        tasks,
    })
}

/// Keeps a successor signing key published ahead of its activation, in simulated time. Keys
/// are generated on a blocking thread so that neither async workers nor token checks wait.
async fn rotate_signing_keys(state: Arc<SimState>) {
    /// Real-time cap on each wait, so clock jumps take effect promptly.
    const TICK: std::time::Duration = std::time::Duration::from_millis(250);
    loop {
        let now = state.now();
        let wait = state
            .keys
            .next_rotation()
            .map_or(TICK, |due| state.clock.real_duration(due - now).min(TICK));
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        let worker = state.clone();
        let rotated =
            tokio::task::spawn_blocking(move || worker.keys.prepare_next(worker.now())).await;
        match rotated {
            Ok(Ok(true)) => {
                tracing::debug!(kids = ?state.keys.kids(), "next signing key published")
            }
            Ok(Ok(false)) => {}
            Ok(Err(error)) => tracing::error!(%error, "signing key rotation failed"),
            Err(error) => tracing::error!(%error, "signing key rotation task failed"),
        }
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, SimError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| SimError::Bind { addr, source })
}

fn outbound_client(receiver_ca: Option<&std::path::Path>) -> Result<reqwest::Client, SimError> {
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(std::time::Duration::from_secs(10))
        .user_agent("pilotwatch-graph-simulator");
    if let Some(path) = receiver_ca {
        let ca_error = |reason: String| SimError::ReceiverCa {
            path: path.display().to_string(),
            reason,
        };
        let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
        let certificates =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| ca_error(e.to_string()))?;
        if certificates.is_empty() {
            return Err(ca_error("no PEM certificate in the file".to_owned()));
        }
        builder = builder.tls_certs_merge(certificates);
    }
    Ok(builder.build()?)
}
