//! The collector handle: everything a view (the TUI, the CLI twins, and in time the control
//! socket) can know of and ask of a running collector, as plain requests over channels.
//!
//! A view holds a [`CollectorHandle`]; whoever serves it (the embedded backend in this
//! process, or a socket client talking to `pilotwatch serve`) answers [`Request`]s and
//! forwards the collector's [`Update`]s. The handle is transport-agnostic on purpose: the
//! TUI never knows which it talks to, and the control socket carries exactly these types.
//!
//! Depends on the collector's update and the store's record types only; never on the
//! receiver, the Graph client or the terminal.

pub mod command;
pub mod embedded;
pub mod query;
pub mod snapshot;

use tokio::sync::{broadcast, mpsc, oneshot};

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

/// A view's grip on a collector: ask with the async methods, watch with [`Self::updates`].
/// Cheap to clone; every clone talks to the same backend.
#[derive(Debug, Clone)]
pub struct CollectorHandle {
    requests: mpsc::Sender<Request>,
    updates: broadcast::Sender<Update>,
    connection: Connection,
}

impl CollectorHandle {
    /// A handle and the receiving end its backend serves. `updates` is the collector's
    /// broadcast sender (views subscribe to it); `connection` says how views reach it.
    pub fn new(
        updates: broadcast::Sender<Update>,
        connection: Connection,
    ) -> (Self, mpsc::Receiver<Request>) {
        let (requests, served) = mpsc::channel(REQUEST_BUFFER);
        let handle = Self {
            requests,
            updates,
            connection,
        };
        (handle, served)
    }

    /// How this handle reaches its collector (shown in the status bar).
    pub fn connection(&self) -> &Connection {
        &self.connection
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
}
