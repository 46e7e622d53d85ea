//! The control socket's server: what `pilotwatch serve` exposes so that views and CLI twins
//! attach to the one collector. A transport adapter over a [`CollectorHandle`]: it accepts
//! connections on a Unix socket (see [`super::socket`] for where and with which modes), bounds
//! how many clients are connected, and hands each to its session (see [`super::session`]).
//! Stopping tells every client "the collector is stopping", waits briefly for them, and
//! removes the socket file.
//!
//! Depends on the console handle, the store's audit trail and the clock; never on the
//! collector's internals, the TUI or the Graph client.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{UnixListener, UnixStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::access::AccessPolicy;
use super::codec::write_frame;
use super::command::Desk;
use super::error::ControlError;
use super::protocol::ServerFrame;
use super::session::{self, Limits, Shared};
use super::socket;
use crate::clock::SharedClock;
use crate::console::CollectorHandle;
use crate::store::AuditTrail;

/// How long stopping waits for clients to take their bye.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// A control server, configured and not yet listening.
#[derive(Debug, Clone)]
pub struct ControlServer {
    path: PathBuf,
    handle: CollectorHandle,
    policy: AccessPolicy,
    audit: AuditTrail,
    clock: SharedClock,
    limits: Limits,
}

impl ControlServer {
    /// A server for `handle` on `path`: writes allowed by `policy`, commands recorded in
    /// `audit` with times from `clock`, the default [`Limits`].
    pub fn new(
        path: impl Into<PathBuf>,
        handle: CollectorHandle,
        policy: AccessPolicy,
        audit: AuditTrail,
        clock: SharedClock,
    ) -> Self {
        Self {
            path: path.into(),
            handle,
            policy,
            audit,
            clock,
            limits: Limits::default(),
        }
    }

    /// Other bounds (tests use small ones).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Prepares the directory, clears a stale socket (or refuses when a collector answers on
    /// it), listens, and serves clients until [`RunningControl::stop`]. Call from within a
    /// Tokio runtime.
    pub async fn start(self) -> Result<RunningControl, ControlError> {
        let gid = self.policy.group.as_ref().map(|group| group.gid);
        socket::prepare_directory(&self.path, gid)?;
        socket::clear_stale(&self.path).await?;
        let listener = socket::bind(&self.path, gid)?;
        let stop = CancellationToken::new();
        let tracker = TaskTracker::new();
        let shared = Arc::new(Shared {
            desk: Desk {
                handle: self.handle,
                audit: self.audit,
                clock: self.clock,
            },
            policy: self.policy,
            limits: self.limits,
            stop: stop.clone(),
        });
        tracing::info!(socket = %self.path.display(), "control socket listening");
        let accept = tokio::spawn(accept(listener, shared, tracker.clone()));
        Ok(RunningControl {
            path: self.path,
            stop,
            tracker,
            accept: Some(accept),
        })
    }
}

/// A listening control server. Stop it with [`Self::stop`]; dropping it stops accepting and
/// closes every client without waiting.
#[derive(Debug)]
pub struct RunningControl {
    path: PathBuf,
    stop: CancellationToken,
    tracker: TaskTracker,
    accept: Option<JoinHandle<()>>,
}

impl RunningControl {
    /// Where the socket is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stops accepting, says bye to every client (waiting at most a few seconds for them) and
    /// removes the socket file.
    pub async fn stop(mut self) {
        self.stop.cancel();
        if let Some(accept) = self.accept.take() {
            drop(accept.await);
        }
        self.tracker.close();
        if tokio::time::timeout(STOP_GRACE, self.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("control clients did not close in time; leaving them");
        }
        remove_socket(&self.path);
    }
}

impl Drop for RunningControl {
    fn drop(&mut self) {
        self.stop.cancel();
        if self.accept.is_some() {
            remove_socket(&self.path);
        }
    }
}

fn remove_socket(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => tracing::debug!(socket = %path.display(), "control socket removed"),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            tracing::warn!(%error, socket = %path.display(), "cannot remove the control socket");
        }
    }
}

/// Accepts clients until the server stops; one beyond the limit is told so and closed.
async fn accept(listener: UnixListener, shared: Arc<Shared>, tracker: TaskTracker) {
    let seats = Arc::new(Semaphore::new(shared.limits.max_clients));
    loop {
        let accepted = tokio::select! {
            () = shared.stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // EMFILE and friends: the listener itself is fine; wait rather than spin.
                tracing::warn!(%error, "cannot accept a control client");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        match Arc::clone(&seats).try_acquire_owned() {
            Ok(seat) => {
                let shared = Arc::clone(&shared);
                tracker.spawn(async move {
                    session::run(stream, shared).await;
                    drop(seat);
                });
            }
            Err(_) => {
                let limit = shared.limits.max_clients;
                tracker.spawn(turn_away(stream, limit));
            }
        }
    }
}

/// Tells a client beyond the limit why it cannot stay.
async fn turn_away(mut stream: UnixStream, limit: usize) {
    tracing::warn!(limit, "too many control clients: turning one away");
    let bye = ServerFrame::Bye {
        reason: format!("too many clients: the collector serves at most {limit} at once"),
    };
    drop(tokio::time::timeout(Duration::from_secs(1), write_frame(&mut stream, &bye)).await);
}
