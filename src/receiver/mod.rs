//! The notification receiver: the HTTP endpoints Graph posts change and lifecycle notifications
//! to, and the processing that judges them after they are safely stored.
//!
//! Two halves joined by the durable inbox (DESIGN rule 1): the HTTP side (`server`,
//! `listener`) answers the validation handshake and, for a notification, only persists the raw
//! body and commits before answering 202; the processor (`processor`, pure core in `judge`)
//! then checks `clientState`, the validation tokens (`validation`, `jwks`) and decrypts the
//! content (`decrypt`, `keys`), and writes what it concluded. Lifecycle events reach the keeper
//! as [`LifecycleSignal`]s; everything a processed batch produced is offered to whoever
//! subscribed with [`RunningReceiver::processed`] (the collector turns it into UI updates).
//!
//! Storage is reached only through the [`Ledger`] trait; what it stores are the store's record
//! types (`crate::store::records`, re-exported here). This module must not depend on the
//! store's engine, the collector (keeper, poller) or any UI; it never logs a secret (client
//! states, keys, tokens).

mod ack;
mod batch;
mod config;
mod decrypt;
mod judge;
mod judging;
mod jwks;
mod keys;
mod ledger;
mod listener;
mod processor;
mod retry;
mod round;
mod server;
mod validation;
mod verifier;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{ReceiverConfig, TlsFiles};
pub use decrypt::decrypt;
pub use judge::{BatchTokens, ItemJudgement, judge_client_state, judge_item, judge_tokens};
pub use jwks::{JwksCache, JwksError, keys_url};
pub use keys::{EncryptionKeys, KeyError};
pub use ledger::Ledger;
pub use listener::{DRAIN_LIMIT, TlsSetupError, tls_config};
pub use processor::ProcessedBatch;
pub use validation::{LEEWAY, ValidToken, validate};
pub use verifier::Verifier;

/// The record types the receiver writes through its [`Ledger`], from the store.
pub use crate::store::records::{
    CertificateRef, Check, DecryptFailure, DecryptVerdict, Endpoint, Event, InteractionRecord,
    NotificationRecord, RawBatch, RejectReason, TokenRejection, TokenVerdict,
};

use crate::clock::SharedClock;
use crate::graph::model::LifecycleEvent;
use ack::AckBook;
use processor::Processor;
use retry::Grace;
use server::Shared;

/// Processed batches buffered for each slow subscriber before it starts missing some.
const PROCESSED_CHANNEL: usize = 1024;

/// A lifecycle event for the keeper, sent once the event is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleSignal {
    /// The profile whose endpoint received it.
    pub profile: String,
    /// The subscription concerned.
    pub subscription_id: String,
    /// What Graph asks for or reports.
    pub event: LifecycleEvent,
}

/// The processor ended before shutdown (a bug): notifications are answered 503 from then on.
/// Published by [`RunningReceiver::processor_stopped`] for whoever supervises the receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorStopped {
    /// The panic's message when it panicked; `None` when it returned unexpectedly.
    pub panic: Option<String>,
}

/// The receiver could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The TLS files are unusable.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// A path is not an absolute URL path, or the concurrency limit is zero.
    #[error("invalid receiver configuration: {0}")]
    Config(String),
}

/// Starts receivers.
#[derive(Debug)]
pub struct Receiver;

impl Receiver {
    /// Binds `config.bind`, starts serving and starts the processor, which first drains what
    /// a previous run left in the inbox. Both stop when `shutdown` is cancelled: the listener
    /// after draining requests in flight, the processor once the inbox is empty
    /// (bounded by `DRAIN_LIMIT`; what is left waits, durable, for the next start).
    pub async fn start<L: Ledger>(
        config: ReceiverConfig,
        ledger: Arc<L>,
        verifier: Arc<Verifier>,
        lifecycle_tx: mpsc::Sender<LifecycleSignal>,
        clock: SharedClock,
        shutdown: CancellationToken,
    ) -> Result<RunningReceiver, ReceiverError> {
        check(&config)?;
        let tls = config.tls.as_ref().map(tls_config).transpose()?;
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| ReceiverError::Bind {
                    addr: config.bind,
                    source,
                })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ReceiverError::Bind {
                addr: config.bind,
                source,
            })?;
        let acks = Arc::new(AckBook::default());
        let processing = Arc::new(AtomicBool::new(true));
        let (processed, _) = broadcast::channel(PROCESSED_CHANNEL);
        let shared = Arc::new(Shared {
            ledger: Arc::clone(&ledger),
            profile: config.profile.clone(),
            clock: Arc::clone(&clock),
            permits: Arc::new(Semaphore::new(config.concurrency)),
            acks: Arc::clone(&acks),
            processing: Arc::clone(&processing),
            max_body_bytes: config.max_body_bytes,
            read_timeout: config.read_timeout,
        });
        let router = server::router(&config, shared);
        let server = tokio::spawn(listener::serve(
            listener,
            router,
            tls,
            config.read_timeout,
            shutdown.clone(),
        ));
        let processor = tokio::spawn(
            Processor {
                ledger,
                verifier,
                clock,
                lifecycle_tx,
                processed: processed.clone(),
                acks,
                shutdown: shutdown.clone(),
                grace: Grace {
                    holds: config.unknown_subscription_holds,
                    first_wait: config.unknown_subscription_first_wait,
                },
            }
            .run(),
        );
        let (stopped_tx, stopped) = watch::channel(None);
        let processor = tokio::spawn(supervise(
            processor,
            Arc::clone(&processing),
            stopped_tx,
            shutdown.clone(),
        ));
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        tracing::info!(target: "pilotwatch::receiver", profile = %config.profile, %local_addr, scheme, "receiver listening");
        Ok(RunningReceiver {
            local_addr,
            processed,
            processing,
            stopped,
            shutdown,
            server,
            processor,
        })
    }
}

/// Waits for the processor; if it ends before shutdown (a panic: a bug), the HTTP side is
/// told to answer 503 — acknowledging what nothing will process would hide the failure — the
/// failure is logged, and it is published on `stopped` so the collector's task board (and the
/// operator's screen) shows it.
async fn supervise(
    processor: JoinHandle<()>,
    processing: Arc<AtomicBool>,
    stopped: watch::Sender<Option<ProcessorStopped>>,
    shutdown: CancellationToken,
) {
    let ended = processor.await;
    if ended.is_ok() && shutdown.is_cancelled() {
        return;
    }
    processing.store(false, Ordering::Release);
    let panic = match ended {
        Err(error) if error.is_panic() => {
            let message = error.try_into_panic().map_or_else(
                |_| "no message".to_owned(),
                |panic| crate::store::panic_text(&panic),
            );
            tracing::error!(target: "pilotwatch::receiver", panic = %message, "the notification processor panicked; answering 503 to notifications (Graph retries) until the collector restarts");
            Some(message)
        }
        _ => {
            tracing::error!(target: "pilotwatch::receiver", "the notification processor stopped unexpectedly; answering 503 to notifications (Graph retries) until the collector restarts");
            None
        }
    };
    // Nobody watching is not an error: the 503s and the log still tell.
    let _ = stopped.send(Some(ProcessorStopped { panic }));
}

fn check(config: &ReceiverConfig) -> Result<(), ReceiverError> {
    for path in [&config.notification_path, &config.lifecycle_path] {
        let plain = path.starts_with('/')
            && !path.contains(['?', '#', '{', '}', '*'])
            && !path.chars().any(char::is_whitespace);
        if !plain {
            return Err(ReceiverError::Config(format!(
                "endpoint path {path:?} must start with '/' and hold no query, fragment, spaces or wildcards"
            )));
        }
    }
    if config.concurrency == 0 || config.max_body_bytes == 0 {
        return Err(ReceiverError::Config(
            "concurrency and max_body_bytes must be at least 1".to_owned(),
        ));
    }
    Ok(())
}

/// A started receiver.
#[derive(Debug)]
pub struct RunningReceiver {
    /// The address it listens on.
    pub local_addr: SocketAddr,
    processed: broadcast::Sender<ProcessedBatch>,
    processing: Arc<AtomicBool>,
    stopped: watch::Receiver<Option<ProcessorStopped>>,
    shutdown: CancellationToken,
    server: JoinHandle<()>,
    processor: JoinHandle<()>,
}

impl RunningReceiver {
    /// `http(s)://addr` plus `path`, for building notification URLs in tests and demos.
    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.local_addr)
    }

    /// What every batch processed from now on produced (its notification records and the
    /// interactions that entered the feed), for watchers such as the UI. Best effort: a
    /// subscriber that falls more than 1024 batches behind misses the oldest (`Lagged`), and
    /// batches processed before subscribing are not replayed — the store has them all.
    pub fn processed(&self) -> broadcast::Receiver<ProcessedBatch> {
        self.processed.subscribe()
    }

    /// False once the processor has died (a bug, logged): notifications are then answered
    /// 503 so that Graph keeps them until the collector is restarted.
    pub fn is_processing(&self) -> bool {
        self.processing.load(Ordering::Acquire)
    }

    /// Becomes `Some` if the processor dies before shutdown (then [`Self::is_processing`] is
    /// false); the channel closes when the receiver stops normally.
    pub fn processor_stopped(&self) -> watch::Receiver<Option<ProcessorStopped>> {
        self.stopped.clone()
    }

    /// Stops accepting, drains requests in flight and stops the processor.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        self.join().await;
    }

    /// Waits until both halves have stopped (after the shutdown token is cancelled).
    pub async fn join(self) {
        if let Err(error) = self.server.await {
            tracing::error!(target: "pilotwatch::receiver", %error, "the receiver's listener failed");
        }
        // The supervisor has logged any failure of the processor.
        let _ = self.processor.await;
    }
}
