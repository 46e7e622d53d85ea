//! One welcomed connection, pumped: the handle's [`Request`]s become `Request` frames with ids
//! (the reply channel kept in a pending map under that id), `Reply` frames are matched back by
//! id, pushed `Update`s go into the handle's broadcast, and a `Lagged` notice republishes the
//! connected link so views fetch a fresh snapshot. Commands that may not cross the socket are
//! answered here with the protocol's refusal and never sent.
//!
//! When the connection ends, every pending request fails with
//! [`ConsoleError::Disconnected`] — an answer, never a hang. Writes go through their own task
//! so a collector slow to read our requests never stops us reading its replies and updates.
//!
//! Depends on the protocol, the codec and the console's handle types; knows nothing of
//! reconnecting (that is [`super::link`]).

use std::collections::HashMap;

use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::collector::update::Update;
use crate::console::{
    ActivityView, CommandOutcome, ConsoleError, FeedPage, LatencyView, LinkState, Request, Snapshot,
};
use crate::control::codec::{FrameReader, write_frame};
use crate::control::protocol::{
    ClientFrame, FrameError, ServerFrame, WireAnswer, WireCommand, WireRequest,
};

/// Frames queued for the writer task before the session waits for it.
const OUTGOING: usize = 64;

/// How a session ended.
#[derive(Debug)]
pub enum Ended {
    /// Every handle was dropped: nobody will ask anything again.
    HandlesGone,
    /// The connection ended; why, for the log.
    Lost(String),
}

/// A request's reply channel, by what it expects.
enum Pending {
    Snapshot(oneshot::Sender<Result<Snapshot, ConsoleError>>),
    Feed(oneshot::Sender<Result<FeedPage, ConsoleError>>),
    Activity(oneshot::Sender<Result<ActivityView, ConsoleError>>),
    Latency(oneshot::Sender<Result<LatencyView, ConsoleError>>),
    Command(oneshot::Sender<Result<CommandOutcome, ConsoleError>>),
}

/// The answer does not fit the question: a collector bug, told to the asker rather than
/// dropped.
fn mismatched() -> ConsoleError {
    ConsoleError::Failed("the collector answered a different question".into())
}

impl Pending {
    /// Delivers `result`; a requester that stopped waiting is not an error.
    fn deliver(self, result: Result<WireAnswer, ConsoleError>) {
        match self {
            Self::Snapshot(reply) => {
                let _ = reply.send(result.and_then(|answer| match answer {
                    WireAnswer::Snapshot(snapshot) => Ok(*snapshot),
                    _ => Err(mismatched()),
                }));
            }
            Self::Feed(reply) => {
                let _ = reply.send(result.and_then(|answer| match answer {
                    WireAnswer::Feed(page) => Ok(page),
                    _ => Err(mismatched()),
                }));
            }
            Self::Activity(reply) => {
                let _ = reply.send(result.and_then(|answer| match answer {
                    WireAnswer::Activity(view) => Ok(view),
                    _ => Err(mismatched()),
                }));
            }
            Self::Latency(reply) => {
                let _ = reply.send(result.and_then(|answer| match answer {
                    WireAnswer::Latency(view) => Ok(view),
                    _ => Err(mismatched()),
                }));
            }
            Self::Command(reply) => {
                let _ = reply.send(result.and_then(|answer| match answer {
                    WireAnswer::Command(outcome) => Ok(outcome),
                    _ => Err(mismatched()),
                }));
            }
        }
    }
}

/// What a request becomes: a frame to send with its reply channel, or nothing to send (it was
/// answered here).
fn translate(request: Request) -> Option<(WireRequest, Pending)> {
    Some(match request {
        Request::Snapshot(reply) => (WireRequest::Snapshot, Pending::Snapshot(reply)),
        Request::Feed(query, reply) => (WireRequest::Feed(query), Pending::Feed(reply)),
        Request::Activity(filter, reply) => {
            (WireRequest::Activity(filter), Pending::Activity(reply))
        }
        Request::Latency(query, reply) => (WireRequest::Latency(query), Pending::Latency(reply)),
        Request::Command(command, reply) => match WireCommand::from_command(command) {
            Ok(command) => (WireRequest::Command(command), Pending::Command(reply)),
            Err(refusal) => {
                let _ = reply.send(Err(refusal));
                return None;
            }
        },
    })
}

/// Answers `request` with [`ConsoleError::Disconnected`] (while no connection is up).
pub fn refuse_disconnected(request: Request) {
    match request {
        Request::Snapshot(reply) => {
            let _ = reply.send(Err(ConsoleError::Disconnected));
        }
        Request::Feed(_, reply) => {
            let _ = reply.send(Err(ConsoleError::Disconnected));
        }
        Request::Activity(_, reply) => {
            let _ = reply.send(Err(ConsoleError::Disconnected));
        }
        Request::Latency(_, reply) => {
            let _ = reply.send(Err(ConsoleError::Disconnected));
        }
        Request::Command(_, reply) => {
            let _ = reply.send(Err(ConsoleError::Disconnected));
        }
    }
}

/// Pumps one connection until it ends or every handle is dropped.
pub async fn run(
    requests: &mut mpsc::Receiver<Request>,
    updates: &broadcast::Sender<Update>,
    link: &watch::Sender<LinkState>,
    mut reader: FrameReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
) -> Ended {
    let (outgoing, queued) = mpsc::channel(OUTGOING);
    let mut writing = tokio::spawn(write_all(writer, queued));
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut next_id: u64 = 0;
    let ended = loop {
        tokio::select! {
            request = requests.recv() => {
                let Some(request) = request else { break Ended::HandlesGone };
                let Some((request, reply)) = translate(request) else { continue };
                next_id = next_id.wrapping_add(1);
                pending.insert(next_id, reply);
                let frame = ClientFrame::Request { id: next_id, request };
                if outgoing.send(frame).await.is_err() {
                    break Ended::Lost("the connection closed while sending".into());
                }
            }
            frame = reader.next::<ServerFrame>() => match frame {
                Ok(frame) => {
                    if let Some(ended) = take(frame, &mut pending, updates, link) {
                        break ended;
                    }
                }
                Err(error) => break Ended::Lost(error.to_string()),
            },
            written = &mut writing => {
                let why = match written {
                    Ok(Err(error)) => error.to_string(),
                    _ => "the connection closed while sending".into(),
                };
                break Ended::Lost(why);
            }
        }
    };
    writing.abort();
    for (_, reply) in pending.drain() {
        reply.deliver(Err(ConsoleError::Disconnected));
    }
    ended
}

/// Takes one frame from the collector; `Some` when it ends the connection.
fn take(
    frame: ServerFrame,
    pending: &mut HashMap<u64, Pending>,
    updates: &broadcast::Sender<Update>,
    link: &watch::Sender<LinkState>,
) -> Option<Ended> {
    match frame {
        ServerFrame::Reply { id, result } => match pending.remove(&id) {
            Some(reply) => reply.deliver(result),
            None => tracing::warn!(
                id,
                "the collector replied to a request nobody is waiting for"
            ),
        },
        ServerFrame::Update(update) => {
            // No view subscribed yet is not an error: they start from a snapshot.
            let _ = updates.send(Update::from(update));
        }
        ServerFrame::Lagged { missed } => {
            tracing::info!(missed, "the collector dropped updates for this client");
            // Same state, published again: views resynchronise on every change.
            link.send_modify(|_| {});
        }
        ServerFrame::Bye { reason } => return Some(Ended::Lost(reason)),
        ServerFrame::Welcome(_) => {
            tracing::warn!("the collector sent a second welcome; ignored");
        }
    }
    None
}

/// Writes queued frames until the queue closes or a write fails.
async fn write_all(
    mut writer: OwnedWriteHalf,
    mut queued: mpsc::Receiver<ClientFrame>,
) -> Result<(), FrameError> {
    while let Some(frame) = queued.recv().await {
        write_frame(&mut writer, &frame).await?;
    }
    Ok(())
}
