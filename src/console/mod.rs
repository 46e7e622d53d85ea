//! The collector handle: everything a view (the TUI, the CLI twins, the control socket's
//! clients) can know of and ask of a running collector, as plain requests over channels.
//!
//! A view holds a [`CollectorHandle`]; whoever serves it (the embedded backend in this
//! process, or a socket client talking to `pilotwatch serve`) answers [`Request`]s and
//! forwards the collector's [`Update`]s. The handle is transport-agnostic on purpose: the
//! TUI never knows which it talks to, and the control socket carries exactly these types.
//!
//! The handle also carries the state of its link ([`LinkState`], a `watch`): an embedded
//! backend is always connected; a socket client goes disconnected when the collector does and
//! connected again when it is back, and views resynchronise (fetch a fresh snapshot) on every
//! change to a connected state.
//!
//! Beside the handle live the judgements every view shares, so the TUI and the twins never
//! restate them: [`badge`] (a severity's symbol and word), [`format`] (countdowns and
//! timestamps) and [`marks`] (what a subscription's figures look like: OK, WARN or CRIT); and
//! the [`audit`] recorder, so a command is recorded the same way wherever it was typed.
//!
//! Depends on the collector's update, the store's record types and its audit trail; never on
//! the receiver, the Graph client or the terminal.

pub mod audit;
pub mod badge;
pub mod command;
pub mod embedded;
pub mod format;
pub mod marks;
pub mod query;
pub mod snapshot;

use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::time::Instant;

pub use command::{Command, CommandOutcome, ExportFormat, ProfileDraft};
pub use query::{
    ActivityRow, ActivityView, FeedCursor, FeedFilter, FeedPage, FeedQuery, LatencyPoint,
    LatencyQuery, LatencyView, LatencyWindow,
};
pub use snapshot::{Connection, ProfileSnapshot, SimulationInfo, Snapshot, SubscriptionRow};

use crate::collector::update::Update;

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsoleError {
    /// Whoever served the handle has gone (collector stopped, socket closed).
    #[error("the collector is not answering (it stopped or the connection closed)")]
    Disconnected,
    /// The collector refused the request (read-only access, unknown profile, bad arguments).
    #[error("refused: {0}")]
    Refused(String),
    /// The collector tried and failed (a store read, a file write).
    #[error("failed: {0}")]
    Failed(String),
}

/// One request and where its answer goes.
#[derive(Debug)]
pub enum Request {
    /// The whole current state.
    Snapshot(oneshot::Sender<Result<Snapshot, ConsoleError>>),
    /// One page of the interaction feed.
    Feed(FeedQuery, oneshot::Sender<Result<FeedPage, ConsoleError>>),
    /// Users × apps: counts and last activity.
    Activity(
        FeedFilter,
        oneshot::Sender<Result<ActivityView, ConsoleError>>,
    ),
    /// Latency over a window.
    Latency(
        LatencyQuery,
        oneshot::Sender<Result<LatencyView, ConsoleError>>,
    ),
    /// Do something; the outcome says what happened.
    Command(
        Command,
        oneshot::Sender<Result<CommandOutcome, ConsoleError>>,
    ),
}

/// How many requests may wait for the backend before senders wait too.
const REQUEST_BUFFER: usize = 64;

/// Whether a handle reaches its collector right now.
///
/// Every change of the link's `watch` to [`LinkState::Connected`] (a reconnection, or the same
/// state published again because the collector dropped updates for this client) means the
/// updates a view applied have a gap: it must fetch a fresh snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Requests are answered and updates flow.
    Connected(Connection),
    /// The collector went away; requests fail with [`ConsoleError::Disconnected`] until the
    /// backend reaches it again.
    Disconnected {
        /// How the collector was reached before it went away.
        last: Connection,
        /// When it went away (monotonic, this process).
        since: Instant,
        /// How long until the next attempt to reach it.
        retry_in: Duration,
        /// Why the last attempt failed although something is at the socket (a refusal, another
        /// protocol version after an upgrade, no permission, no answer to the hello), in words
        /// for a status bar; `None` while nothing listens there at all.
        reason: Option<String>,
    },
}

impl LinkState {
    /// How the collector is (or was last) reached.
    pub fn connection(&self) -> &Connection {
        match self {
            Self::Connected(connection)
            | Self::Disconnected {
                last: connection, ..
            } => connection,
        }
    }

    /// Whether requests are answered now.
    pub fn is_connected(&self) -> bool {
        matches!(self, Self::Connected(_))
    }
}

/// A view's grip on a collector: ask with the async methods, watch with [`Self::updates`] and
/// [`Self::link`]. Cheap to clone; every clone talks to the same backend.
#[derive(Debug, Clone)]
pub struct CollectorHandle {
    requests: mpsc::Sender<Request>,
    updates: broadcast::Sender<Update>,
    link: watch::Receiver<LinkState>,
}

impl CollectorHandle {
    /// A handle whose link never changes (an embedded backend) and the receiving end its
    /// backend serves. `updates` is the collector's broadcast sender (views subscribe to it);
    /// `connection` says how views reach it.
    pub fn new(
        updates: broadcast::Sender<Update>,
        connection: Connection,
    ) -> (Self, mpsc::Receiver<Request>) {
        // The sender goes at once: the state is final, and a view's `changed()` ends at once.
        let (_, link) = watch::channel(LinkState::Connected(connection));
        Self::with_link(updates, link)
    }

    /// A handle whose backend reports its link through `link` (a socket client), and the
    /// receiving end that backend serves.
    pub fn with_link(
        updates: broadcast::Sender<Update>,
        link: watch::Receiver<LinkState>,
    ) -> (Self, mpsc::Receiver<Request>) {
        let (requests, served) = mpsc::channel(REQUEST_BUFFER);
        let handle = Self {
            requests,
            updates,
            link,
        };
        (handle, served)
    }

    /// How this handle reaches (or last reached) its collector, for the status bar.
    pub fn connection(&self) -> Connection {
        self.link.borrow().connection().clone()
    }

    /// The link's state now and its changes from here on.
    pub fn link(&self) -> watch::Receiver<LinkState> {
        let mut link = self.link.clone();
        link.mark_unchanged();
        link
    }

    /// A new subscription to the collector's updates, from now on. A lagging receiver loses
    /// the oldest; it then asks for a fresh snapshot.
    pub fn updates(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }

    /// The whole current state.
    pub async fn snapshot(&self) -> Result<Snapshot, ConsoleError> {
        self.ask(Request::Snapshot).await
    }

    /// One page of the feed.
    pub async fn feed(&self, query: FeedQuery) -> Result<FeedPage, ConsoleError> {
        self.ask(|reply| Request::Feed(query, reply)).await
    }

    /// Users × apps under `filter`.
    pub async fn activity(&self, filter: FeedFilter) -> Result<ActivityView, ConsoleError> {
        self.ask(|reply| Request::Activity(filter, reply)).await
    }

    /// Latency over a window.
    pub async fn latency(&self, query: LatencyQuery) -> Result<LatencyView, ConsoleError> {
        self.ask(|reply| Request::Latency(query, reply)).await
    }

    /// Runs `command`; the outcome says what happened.
    pub async fn command(&self, command: Command) -> Result<CommandOutcome, ConsoleError> {
        self.ask(|reply| Request::Command(command, reply)).await
    }

    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<Result<T, ConsoleError>>) -> Request,
    ) -> Result<T, ConsoleError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(request(reply))
            .await
            .map_err(|_| ConsoleError::Disconnected)?;
        answer.await.map_err(|_| ConsoleError::Disconnected)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_request_reaches_the_backend_and_its_answer_comes_back() {
        let (updates, _) = broadcast::channel(4);
        let (handle, mut served) = CollectorHandle::new(updates, Connection::Embedded);
        let backend = tokio::spawn(async move {
            if let Some(Request::Command(Command::TestCredentials { profile }, reply)) =
                served.recv().await
            {
                let _ = reply.send(Ok(CommandOutcome::done(format!("tested {profile}"))));
            }
        });
        let outcome = handle
            .command(Command::TestCredentials {
                profile: "contoso".into(),
            })
            .await;
        assert_eq!(outcome, Ok(CommandOutcome::done("tested contoso")));
        backend.await.ok();
    }

    #[tokio::test]
    async fn a_vanished_backend_reads_as_disconnected_not_a_hang() {
        let (updates, _) = broadcast::channel(4);
        let (handle, served) = CollectorHandle::new(updates, Connection::Embedded);
        drop(served);
        assert_eq!(handle.snapshot().await, Err(ConsoleError::Disconnected));
    }

    #[tokio::test]
    async fn an_embedded_link_is_connected_for_good() {
        let (updates, _) = broadcast::channel(4);
        let (handle, _served) = CollectorHandle::new(updates, Connection::Embedded);
        let mut link = handle.link();
        assert_eq!(*link.borrow(), LinkState::Connected(Connection::Embedded));
        // No backend will ever change it: waiting for a change ends at once.
        assert!(link.changed().await.is_err());
        assert_eq!(handle.connection(), Connection::Embedded);
    }
}
