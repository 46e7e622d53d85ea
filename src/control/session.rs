//! One client's connection, from hello to bye. The first frame must be a hello of this
//! protocol version within the hello timeout; the client is then welcomed with the access its
//! peer credentials earn, and from then on its requests are answered concurrently (at most
//! [`Limits::in_flight`] at once, so a slow feed page delays neither updates nor its other
//! requests) while the collector's updates are pushed as they happen.
//!
//! Everything the client is sent goes through one bounded queue to one writer task. A client
//! that stops reading fills it and is disconnected; the collector and other clients never
//! wait for it. Bad input (a malformed or oversized frame, an unknown command, a second hello,
//! a request before hello) gets a `Bye` naming the problem and the connection closes.
//!
//! Depends on the protocol, codec, access and command modules and the console handle.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::UnixStream;
use tokio::net::unix::OwnedWriteHalf;
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::access::{AccessPolicy, Peer, decide};
use super::codec::{FrameReader, write_frame};
use super::command::{Caller, Desk};
use super::protocol::{
    ClientFrame, FrameError, Hello, PROTOCOL_VERSION, ServerFrame, Welcome, WireAnswer,
    WireRequest, WireUpdate,
};
use crate::collector::update::Update;
use crate::terminal_text::printable_line;

/// Longest client description kept (it is the client's own words, shown in the audit trail).
const CLIENT_NAME_LIMIT: usize = 120;

/// How long a closing connection may take to deliver its last frames (the bye).
const DRAIN: Duration = Duration::from_secs(2);

/// The server's bounds, per client and overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Clients connected at once; one more is told "too many clients" and closed.
    pub max_clients: usize,
    /// Requests of one client being answered at once; more wait (the client is not read).
    pub in_flight: usize,
    /// Frames queued for one client; a client that lets them pile up is disconnected.
    pub outgoing_frames: usize,
    /// How long a client has to say hello.
    pub hello_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_clients: 64,
            in_flight: 16,
            outgoing_frames: 1024,
            hello_timeout: Duration::from_secs(5),
        }
    }
}

/// What every session shares.
#[derive(Debug)]
pub(super) struct Shared {
    pub desk: Desk,
    pub policy: AccessPolicy,
    pub limits: Limits,
    /// Cancelled when the server stops: every client is told so and closed.
    pub stop: CancellationToken,
}

/// How a session ended.
enum End {
    /// Tell the client why, then close.
    Bye(String),
    /// The client went away, or must be dropped without a word (it stopped reading).
    Quiet,
}

/// Serves one connection until it ends.
pub(super) async fn run(stream: UnixStream, shared: Arc<Shared>) {
    let credentials = match stream.peer_cred() {
        Ok(credentials) => credentials,
        Err(error) => {
            tracing::warn!(%error, "control client without peer credentials: closing it");
            return;
        }
    };
    let (uid, gid, pid) = (credentials.uid(), credentials.gid(), credentials.pid());
    let Ok(peer) = tokio::task::spawn_blocking(move || Peer::lookup(uid, gid, pid)).await else {
        return;
    };
    let (read, write) = stream.into_split();
    let mut reader = FrameReader::new(read);
    let (out, queue) = mpsc::channel(shared.limits.outgoing_frames);
    let kill = CancellationToken::new();
    let writer = tokio::spawn(write_frames(write, queue, kill.clone()));

    let end = match hello(&mut reader, &shared).await {
        Err(end) => end,
        Ok(hello) => {
            let (access, reason) = decide(&shared.policy, &peer, hello.readonly);
            let caller = Arc::new(Caller {
                client: printable_line(&hello.client)
                    .chars()
                    .take(CLIENT_NAME_LIMIT)
                    .collect(),
                peer,
                access,
                reason: reason.clone(),
            });
            tracing::info!(
                uid = caller.peer.uid,
                user = %caller.peer.user,
                pid = ?caller.peer.pid,
                client = %caller.client,
                ?access,
                "control client attached"
            );
            // Subscribed before the welcome: the client misses nothing after it.
            let updates = shared.desk.handle.updates();
            let welcome = ServerFrame::Welcome(Welcome {
                version: PROTOCOL_VERSION,
                pid: std::process::id(),
                access,
                reason,
            });
            if out.try_send(welcome).is_err() {
                End::Quiet
            } else {
                serve(&mut reader, &shared, caller, updates, &out, &kill).await
            }
        }
    };
    if let End::Bye(reason) = end {
        tracing::debug!(%reason, "closing a control client");
        drop(out.try_send(ServerFrame::Bye { reason }));
    }
    drop(out);
    // The writer ends once the queue is drained; a client that will not take even the bye is
    // cut off.
    let mut writer = writer;
    if tokio::time::timeout(DRAIN, &mut writer).await.is_err() {
        kill.cancel();
        drop(writer.await);
    }
}

/// Waits for the client's hello, or says why the connection must end.
async fn hello(
    reader: &mut FrameReader<tokio::net::unix::OwnedReadHalf>,
    shared: &Shared,
) -> Result<Hello, End> {
    let timeout = shared.limits.hello_timeout;
    let frame = tokio::select! {
        () = shared.stop.cancelled() => return Err(End::Bye(stopping())),
        frame = tokio::time::timeout(timeout, reader.next::<ClientFrame>()) => frame,
    };
    let hello = match frame {
        Err(_) => {
            return Err(End::Bye(format!(
                "no hello within {}: the first frame must be a hello",
                humantime::format_duration(timeout)
            )));
        }
        Ok(Err(FrameError::Closed | FrameError::Io(_))) => return Err(End::Quiet),
        Ok(Err(error)) => {
            return Err(End::Bye(format!(
                "{error}; the first frame must be a hello"
            )));
        }
        Ok(Ok(ClientFrame::Request { .. })) => {
            return Err(End::Bye(
                "a request before hello: the first frame must be a hello".into(),
            ));
        }
        Ok(Ok(ClientFrame::Hello(hello))) => hello,
    };
    if hello.version != PROTOCOL_VERSION {
        return Err(End::Bye(format!(
            "protocol version mismatch: the client speaks version {}, this collector \
             (pilotwatch {}) speaks version {PROTOCOL_VERSION}; run the same pilotwatch release \
             on both sides",
            hello.version,
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(hello)
}

/// The welcomed client's life: its requests answered, the updates pushed, until it leaves,
/// misbehaves, stops reading, or the server stops.
async fn serve(
    reader: &mut FrameReader<tokio::net::unix::OwnedReadHalf>,
    shared: &Arc<Shared>,
    caller: Arc<Caller>,
    updates: broadcast::Receiver<Update>,
    out: &mpsc::Sender<ServerFrame>,
    kill: &CancellationToken,
) -> End {
    let mut pump = tokio::spawn(push_updates(updates, out.clone(), kill.clone()));
    let in_flight = Arc::new(Semaphore::new(shared.limits.in_flight));
    let mut answers = JoinSet::new();
    let mut pumped = false;
    let end = loop {
        tokio::select! {
            biased;
            () = shared.stop.cancelled() => break End::Bye(stopping()),
            () = kill.cancelled() => break End::Quiet,
            ended = &mut pump, if !pumped => {
                pumped = true;
                break ended.unwrap_or(End::Quiet);
            }
            Some(_) = answers.join_next(), if !answers.is_empty() => {}
            frame = reader.next::<ClientFrame>() => match frame {
                Ok(ClientFrame::Request { id, request }) => {
                    let permit = tokio::select! {
                        () = kill.cancelled() => break End::Quiet,
                        permit = Arc::clone(&in_flight).acquire_owned() => permit,
                    };
                    let Ok(permit) = permit else { break End::Quiet };
                    let (shared, caller, out, kill) =
                        (Arc::clone(shared), Arc::clone(&caller), out.clone(), kill.clone());
                    answers.spawn(async move {
                        let result = answer(&shared.desk, &caller, request).await;
                        drop(permit);
                        if out.try_send(ServerFrame::Reply { id, result }).is_err() {
                            // Full: the client stopped reading. Closed: it is being closed.
                            kill.cancel();
                        }
                    });
                }
                Ok(ClientFrame::Hello(_)) => {
                    break End::Bye("a second hello: a connection says hello once".into());
                }
                Err(FrameError::Closed | FrameError::Io(_)) => break End::Quiet,
                Err(error) => break End::Bye(error.to_string()),
            },
        }
    };
    answers.shutdown().await;
    if !pumped {
        pump.abort();
        drop(pump.await);
    }
    end
}

/// Answers one request through the collector handle.
async fn answer(
    desk: &Desk,
    caller: &Caller,
    request: WireRequest,
) -> Result<WireAnswer, crate::console::ConsoleError> {
    let handle = &desk.handle;
    match request {
        WireRequest::Snapshot => handle
            .snapshot()
            .await
            .map(|snapshot| WireAnswer::Snapshot(Box::new(snapshot))),
        WireRequest::Feed(query) => handle.feed(query).await.map(WireAnswer::Feed),
        WireRequest::Activity(filter) => handle.activity(filter).await.map(WireAnswer::Activity),
        WireRequest::Latency(query) => handle.latency(query).await.map(WireAnswer::Latency),
        WireRequest::Command(command) => desk.run(caller, command).await.map(WireAnswer::Command),
    }
}

/// Pushes the collector's updates to the client's queue; ends the session when the queue is
/// full (the client stopped reading) or the collector's updates end (it stopped).
async fn push_updates(
    mut updates: broadcast::Receiver<Update>,
    out: mpsc::Sender<ServerFrame>,
    kill: CancellationToken,
) -> End {
    loop {
        let frame = match updates.recv().await {
            Ok(update) => ServerFrame::Update(WireUpdate::from(&update)),
            Err(broadcast::error::RecvError::Lagged(missed)) => ServerFrame::Lagged { missed },
            Err(broadcast::error::RecvError::Closed) => {
                return End::Bye("the collector stopped".into());
            }
        };
        match out.try_send(frame) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("a control client stopped reading: disconnecting it");
                kill.cancel();
                return End::Quiet;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => return End::Quiet,
        }
    }
}

/// Writes queued frames until the queue closes (then shuts the socket's write side) or the
/// session is killed.
async fn write_frames(
    mut write: OwnedWriteHalf,
    mut queue: mpsc::Receiver<ServerFrame>,
    kill: CancellationToken,
) {
    loop {
        let frame = tokio::select! {
            () = kill.cancelled() => return,
            frame = queue.recv() => frame,
        };
        let Some(frame) = frame else {
            drop(tokio::io::AsyncWriteExt::shutdown(&mut write).await);
            return;
        };
        tokio::select! {
            () = kill.cancelled() => return,
            written = write_frame(&mut write, &frame) => if let Err(error) = written {
                tracing::debug!(%error, "cannot write to a control client: closing it");
                kill.cancel();
                return;
            },
        }
    }
}

fn stopping() -> String {
    "the collector is stopping".into()
}
