//! Where a twin's [`CollectorHandle`] comes from: the running collector's control socket when
//! one answers, otherwise a collector started in this process for the configured profiles just
//! long enough to answer, then shut down ([`Keepalive::close`]).
//!
//! Reaching the socket is the control client's business; it comes in through [`Attach`], which
//! `main` passes, so this module never names a transport. A socket that answers but refuses
//! (a protocol version mismatch) is an error: the twin never opens the store behind a running
//! collector's back. Nor does it when the store's lock is held without a socket answering.
//!
//! Depends on the collector, the console's embedded backend and `config`; never on the TUI or
//! the control socket's internals.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use crate::clock::SharedClock;
use crate::collector::{Collector, CollectorError, CollectorOptions};
use crate::config::{Config, Paths};
use crate::console::embedded::{self, EmbeddedOptions};
use crate::console::{CollectorHandle, Connection, ConsoleError, Snapshot};
use crate::control::client;
use crate::store::StoreError;

use super::TwinError;

/// What [`Attach::attach`] found.
#[derive(Debug)]
pub enum Attached {
    /// A collector answered; the handle talks to it.
    Handle(CollectorHandle),
    /// Nothing listens (no socket file, connection refused): no collector runs.
    NotRunning,
    /// Something answered but will not serve this client; the reason, for the operator.
    Refused(String),
    /// Something is at the socket but never answered the hello properly (a hung or dying
    /// collector); what happened, for the operator.
    Silent(String),
}

/// A future [`Attach::attach`] returns.
pub type AttachFuture<'a> = Pin<Box<dyn Future<Output = Attached> + Send + 'a>>;

/// How a twin reaches a running collector (read-only: twins never change anything). `main`
/// passes the control client's attach; tests pass [`NoControlSocket`] or a handle of their own.
pub trait Attach: Send + Sync {
    /// Tries the running collector once.
    fn attach(&self) -> AttachFuture<'_>;
}

/// No control socket to try: every twin answers from a collector of its own. What `main`
/// passes until the control client is wired in.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoControlSocket;

impl Attach for NoControlSocket {
    fn attach(&self) -> AttachFuture<'_> {
        Box::pin(std::future::ready(Attached::NotRunning))
    }
}

/// The control socket, through the control client: `flag` (`--control-socket`) when given —
/// then a socket that does not answer is an error, not a reason to start a collector — else the
/// first of `candidates` that exists. Twins attach read-only: they never change anything.
#[derive(Debug, Clone)]
pub struct ControlSocket {
    /// `--control-socket`, if given.
    pub flag: Option<PathBuf>,
    /// Where to look otherwise ([`client::default_candidates`]).
    pub candidates: Vec<PathBuf>,
    /// Which twin asks (`status`, `subs`, `export`, `check`), as its hello says.
    pub kind: &'static str,
    /// How long the collector has to answer the hello ([`client::HANDSHAKE_TIMEOUT`] unless
    /// the twin has a deadline of its own).
    pub handshake: Duration,
}

impl Attach for ControlSocket {
    fn attach(&self) -> AttachFuture<'_> {
        Box::pin(async move {
            let options =
                client::AttachOptions::new(self.kind, true).with_handshake(self.handshake);
            match client::attach_running(self.flag.as_deref(), &self.candidates, options).await {
                Ok(Some(handle)) => Attached::Handle(handle),
                Ok(None) => Attached::NotRunning,
                Err(error) if error.is_absent() && self.flag.is_none() => Attached::NotRunning,
                Err(error) if error.is_silent() => Attached::Silent(error.to_string()),
                Err(error) => Attached::Refused(error.to_string()),
            }
        })
    }
}

/// Keeps a twin's collector alive while it asks; [`Self::close`] ends it cleanly.
#[derive(Debug)]
pub struct Keepalive {
    /// The collector this process started, when no running one answered.
    embedded: Option<Collector>,
}

impl Keepalive {
    /// Nothing to keep: the handle talks to a collector elsewhere.
    pub fn attached() -> Self {
        Self { embedded: None }
    }

    /// Keeps `collector` running until [`Self::close`].
    pub fn embedded(collector: Collector) -> Self {
        Self {
            embedded: Some(collector),
        }
    }

    /// Shuts down the collector this process started, if it did (its store is flushed and
    /// released, its receiver stops listening).
    pub async fn close(self) {
        if let Some(collector) = self.embedded {
            collector.shutdown().await;
        }
    }
}

/// A handle on the running collector, or on one started here for the profiles configured in
/// `paths` with its store in `data_dir`. The clock is the embedded collector's.
pub async fn collector_handle(
    paths: &Paths,
    data_dir: &Path,
    attach: &dyn Attach,
    clock: SharedClock,
) -> Result<(CollectorHandle, Keepalive), TwinError> {
    match attach.attach().await {
        Attached::Handle(handle) => return Ok((handle, Keepalive::attached())),
        Attached::Refused(reason) | Attached::Silent(reason) => {
            return Err(TwinError::AttachRefused(reason));
        }
        Attached::NotRunning => {}
    }
    let config = Config::load(&paths.config_file)?;
    if config.profiles.is_empty() {
        return Err(TwinError::NoProfiles(paths.config_file.clone()));
    }
    // Observe only: answering a question must not create a subscription that points at a
    // receiver about to stop.
    let options = CollectorOptions {
        observe_only: true,
        ..CollectorOptions::new(data_dir)
    };
    let collector = Collector::start(&config.profiles, clock.clone(), options)
        .await
        .map_err(|error| match error {
            CollectorError::Store(StoreError::Locked { pid, .. }) => TwinError::StoreHeld {
                pid,
                data_dir: data_dir.to_owned(),
            },
            other => TwinError::Collector(other),
        })?;
    let handle = embedded::serve(&collector, EmbeddedOptions::new(config.profiles, clock));
    Ok((handle, Keepalive::embedded(collector)))
}

/// How often a settling snapshot is asked for again.
const SETTLE_POLL: Duration = Duration::from_millis(200);

/// The snapshot once every profile has a verdict drawn with its credentials checked, or the
/// latest one when `patience` runs out first. A collector that has run a while answers at once;
/// one started for this command needs its first credential probe (seconds).
pub async fn settled_snapshot(
    handle: &CollectorHandle,
    patience: Duration,
) -> Result<Snapshot, ConsoleError> {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let snapshot = handle.snapshot().await?;
        let judged = snapshot.profiles.iter().all(|profile| {
            profile
                .verdict
                .as_ref()
                .is_some_and(|verdict| verdict.facts.credentials.is_some())
        });
        if judged || tokio::time::Instant::now() + SETTLE_POLL > deadline {
            return Ok(snapshot);
        }
        tokio::time::sleep(SETTLE_POLL).await;
    }
}

/// How the twin reached the collector, as its report says it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Reached {
    /// Attached to `pilotwatch serve` over its control socket.
    Attached {
        /// The collector's pid.
        pid: u32,
    },
    /// No collector runs: this command started one for a moment.
    NoCollector,
}

impl Reached {
    /// From the handle's connection: an embedded handle in a twin is always one it started
    /// itself, because a running collector would have been attached to.
    pub fn of(connection: &Connection) -> Self {
        match connection {
            Connection::Attached { pid, .. } => Self::Attached { pid: *pid },
            Connection::Embedded => Self::NoCollector,
        }
    }

    /// One line for the top of a report.
    pub fn describe(&self) -> String {
        match self {
            Self::Attached { pid } => format!("attached to pid {pid}"),
            Self::NoCollector => "no collector running: nothing renews the subscriptions or \
                                  receives notifications (start it: systemctl start pilotwatch, \
                                  or pilotwatch serve); these figures come from a collector \
                                  started for this command only"
                .to_owned(),
        }
    }
}
