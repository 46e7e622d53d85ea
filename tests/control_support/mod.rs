//! A fake collector speaking the control protocol over a real Unix socket in a temporary
//! directory, for the client's tests: it welcomes (or says goodbye), answers snapshots, feed
//! pages and commands from a fixed state, records the commands it was sent, pushes updates and
//! `Lagged` notices on demand, can leave a command unanswered, and can be stopped and started
//! again on the same path (a collector restart). Built on the crate's own codec, so what it
//! sends is exactly what the protocol allows.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use pilotwatch::collector::update::Update;
use pilotwatch::console::{Command, CommandOutcome, ConsoleError, FeedPage, Snapshot};
use pilotwatch::control::codec::{FrameReader, write_frame};
use pilotwatch::control::protocol::{
    Access, ClientFrame, Hello, PROTOCOL_VERSION, ServerFrame, Welcome, WireAnswer, WireCommand,
    WireRequest, WireUpdate,
};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc};
use tokio::task::{JoinHandle, JoinSet};

/// A command whose profile is this is never answered (a collector that hangs on it).
pub const NEVER_ANSWERED: &str = "hangs";

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// The pid its welcome announces.
    pub pid: u32,
    /// The access it grants (read-only anyway when the hello asks for it).
    pub access: Access,
    /// Answer every hello with this goodbye instead of a welcome.
    pub bye: Option<String>,
    /// The state it serves.
    pub snapshot: Snapshot,
}

/// What a test can do to a running fake.
pub struct FakeCollector {
    pub path: PathBuf,
    /// Every hello received.
    pub hellos: mpsc::UnboundedReceiver<Hello>,
    /// Every command received.
    pub commands: mpsc::UnboundedReceiver<WireCommand>,
    frames: broadcast::Sender<ServerFrame>,
    accepting: JoinHandle<()>,
}

impl FakeCollector {
    /// Listens at `path` (which must not exist).
    pub fn start(path: &Path, behaviour: Behaviour) -> Self {
        let listener = UnixListener::bind(path).unwrap();
        let (hellos_tx, hellos) = mpsc::unbounded_channel();
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (frames, _) = broadcast::channel(64);
        let pushed = frames.clone();
        let accepting = tokio::spawn(async move {
            // Dropped with this task, so stopping the fake closes every connection.
            let mut clients = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { return };
                        clients.spawn(serve(
                            stream,
                            behaviour.clone(),
                            hellos_tx.clone(),
                            commands_tx.clone(),
                            pushed.subscribe(),
                        ));
                    }
                    Some(_) = clients.join_next() => {}
                }
            }
        });
        Self {
            path: path.to_path_buf(),
            hellos,
            commands,
            frames,
            accepting,
        }
    }

    /// Pushes `update` to every welcomed client.
    pub fn push(&self, update: &Update) {
        let _ = self
            .frames
            .send(ServerFrame::Update(WireUpdate::from(update)));
    }

    /// Sends `frame` as it is to every welcomed client (a stray reply, say).
    pub fn send(&self, frame: ServerFrame) {
        let _ = self.frames.send(frame);
    }

    /// Tells every welcomed client it missed updates.
    pub fn lag(&self, missed: u64) {
        let _ = self.frames.send(ServerFrame::Lagged { missed });
    }

    /// Stops listening, drops every connection and removes the socket: the collector is gone.
    pub async fn stop(self) {
        self.accepting.abort();
        let _ = self.accepting.await;
        let _ = std::fs::remove_file(&self.path);
    }
}

/// One client, until it or the fake goes.
async fn serve(
    stream: UnixStream,
    behaviour: Behaviour,
    hellos: mpsc::UnboundedSender<Hello>,
    commands: mpsc::UnboundedSender<WireCommand>,
    mut pushed: broadcast::Receiver<ServerFrame>,
) {
    let (read, mut write) = stream.into_split();
    let mut reader = FrameReader::new(read);
    let Ok(ClientFrame::Hello(hello)) = reader.next::<ClientFrame>().await else {
        return;
    };
    let readonly = hello.readonly;
    let _ = hellos.send(hello);
    if let Some(reason) = behaviour.bye {
        let _ = write_frame(&mut write, &ServerFrame::Bye { reason }).await;
        return;
    }
    let access = if readonly {
        Access::ReadOnly
    } else {
        behaviour.access
    };
    let welcome = ServerFrame::Welcome(Welcome {
        version: PROTOCOL_VERSION,
        pid: behaviour.pid,
        access,
        reason: "fake".into(),
    });
    if write_frame(&mut write, &welcome).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = reader.next::<ClientFrame>() => {
                let Ok(ClientFrame::Request { id, request }) = frame else { return };
                let result = match request {
                    WireRequest::Snapshot => {
                        Ok(WireAnswer::Snapshot(Box::new(behaviour.snapshot.clone())))
                    }
                    WireRequest::Feed(query) => Ok(WireAnswer::Feed(FeedPage {
                        rows: behaviour
                            .snapshot
                            .feed_head
                            .iter()
                            .take(query.limit)
                            .cloned()
                            .collect(),
                        ..FeedPage::default()
                    })),
                    WireRequest::Command(command) => {
                        let hangs = matches!(
                            &command,
                            WireCommand::TestCredentials { profile } if profile == NEVER_ANSWERED
                        );
                        let _ = commands.send(command.clone());
                        if hangs {
                            continue;
                        }
                        let writes = Command::from(command.clone()).writes();
                        if writes && access == Access::ReadOnly {
                            Err(ConsoleError::Refused("read-only: fake".into()))
                        } else {
                            Ok(WireAnswer::Command(CommandOutcome::done(format!(
                                "fake did {command:?}"
                            ))))
                        }
                    }
                    WireRequest::Activity(_) | WireRequest::Latency(_) => {
                        Err(ConsoleError::Refused("not in this fake".into()))
                    }
                };
                let reply = ServerFrame::Reply { id, result };
                if write_frame(&mut write, &reply).await.is_err() {
                    return;
                }
            }
            frame = pushed.recv() => {
                let Ok(frame) = frame else { return };
                if write_frame(&mut write, &frame).await.is_err() {
                    return;
                }
            }
        }
    }
}
