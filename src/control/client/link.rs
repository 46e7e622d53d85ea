//! The attached handle's backend over time: pump the connection while it lasts ([`session`]);
//! when it ends, publish the link as disconnected, answer every request at once with
//! [`ConsoleError::Disconnected`](crate::console::ConsoleError::Disconnected) (the last data
//! stays on the view's screen; nothing hangs), and dial again after each [`Backoff`] delay —
//! counting the wait down on the link a second at a time, so a status bar can say "retrying
//! in 3s" truthfully — until the collector welcomes us back, then publish it connected. Ends
//! when every handle is dropped.
//!
//! A collector that answers but refuses (a new version after an upgrade, no permission) or
//! does not answer the hello is tried again like an absent one — an operator may fix it without
//! restarting the view — and the reason is published on the link, so the view says why it is
//! not back rather than only that it is not.
//!
//! Depends on the session, the backoff and the handshake in [`super`]; never on a view.

use std::path::PathBuf;
use std::time::Duration;

use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

use super::session::{self, Ended};
use super::{AttachOptions, Backoff, connect};
use crate::collector::update::Update;
use crate::console::{Connection, LinkState, Request};
use crate::control::codec::FrameReader;

/// The backend's ends of the handle, and how to reach the collector again.
pub struct Backend {
    /// The socket.
    pub path: PathBuf,
    /// How to say hello again.
    pub options: AttachOptions,
    /// The handle's requests.
    pub requests: mpsc::Receiver<Request>,
    /// The handle's updates.
    pub updates: broadcast::Sender<Update>,
    /// The handle's link.
    pub link: watch::Sender<LinkState>,
}

/// The granularity of the countdown published while waiting to retry.
const COUNTDOWN_STEP: Duration = Duration::from_secs(1);

/// Serves the handle until every clone of it is dropped, starting on a welcomed connection.
pub async fn run(
    mut backend: Backend,
    mut reader: FrameReader<OwnedReadHalf>,
    mut writer: OwnedWriteHalf,
) {
    loop {
        let ended = session::run(
            &mut backend.requests,
            &backend.updates,
            &backend.link,
            reader,
            writer,
        )
        .await;
        match ended {
            Ended::HandlesGone => return,
            Ended::Lost(why) => {
                tracing::warn!(path = %backend.path.display(), %why, "lost the collector; reconnecting");
            }
        }
        match reconnect(&mut backend).await {
            Some((next_reader, next_writer)) => {
                reader = next_reader;
                writer = next_writer;
            }
            None => return,
        }
    }
}

/// Dials with backoff until welcomed (`Some`) or every handle is dropped (`None`).
async fn reconnect(backend: &mut Backend) -> Option<(FrameReader<OwnedReadHalf>, OwnedWriteHalf)> {
    let last = backend.link.borrow().connection().clone();
    let since = Instant::now();
    let mut backoff = Backoff::new();
    let mut reason = None;
    loop {
        let retry_at = Instant::now() + backoff.next_delay();
        let down = Down {
            last: &last,
            since,
            reason: reason.as_deref(),
        };
        if !wait(backend, &down, retry_at).await {
            return None;
        }
        match connect(&backend.path, &backend.options).await {
            Ok((connection, reader, writer)) => {
                backend.link.send_replace(LinkState::Connected(connection));
                return Some((reader, writer));
            }
            Err(error) => {
                reason = error.reason();
                if reason.is_some() {
                    tracing::warn!(%error, "something is at the socket but did not take us");
                } else {
                    tracing::debug!(%error, "the collector is not back yet");
                }
            }
        }
    }
}

/// What the link says while the collector is away.
struct Down<'a> {
    last: &'a Connection,
    since: Instant,
    reason: Option<&'a str>,
}

/// Until `retry_at`, answers every request with "disconnected" and publishes the countdown;
/// `false` when every handle was dropped meanwhile.
async fn wait(backend: &mut Backend, down: &Down<'_>, retry_at: Instant) -> bool {
    loop {
        let now = Instant::now();
        if now >= retry_at {
            return true;
        }
        let retry_in = retry_at - now;
        backend.link.send_replace(LinkState::Disconnected {
            last: down.last.clone(),
            since: down.since,
            retry_in,
            reason: down.reason.map(str::to_owned),
        });
        let tick = (now + COUNTDOWN_STEP).min(retry_at);
        let sleep = tokio::time::sleep_until(tick);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => break,
                request = backend.requests.recv() => match request {
                    Some(request) => session::refuse_disconnected(request),
                    None => return false,
                },
            }
        }
    }
}
