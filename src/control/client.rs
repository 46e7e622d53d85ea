//! The control socket's client side: how a view (the TUI, a CLI twin) reaches the collector
//! `pilotwatch serve` runs, as an ordinary [`CollectorHandle`].
//!
//! [`discover`] finds the socket (a `--control-socket` flag, else the first of
//! [`default_candidates`] that exists), [`attach`] dials it, introduces itself and waits for
//! the welcome, then hands back a handle whose backend ([`session`]) turns requests into frames
//! with ids and replies back into answers, forwards pushed updates into the handle's broadcast,
//! and ([`link`]) when the collector goes away fails what was pending, reports the link as
//! disconnected and dials again with a jittered backoff until it is back.
//!
//! Depends on the protocol, the codec, the console's handle types and tokio's Unix sockets;
//! never on the TUI, the store or the collector's internals: whatever serves the socket, the
//! view sees the same handle an embedded collector gives.

mod backoff;
mod link;
mod session;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, watch};

use super::codec::{FrameReader, write_frame};
use super::protocol::{
    Access, ClientFrame, FrameError, Hello, PROTOCOL_VERSION, ServerFrame, Welcome,
};
use crate::console::{CollectorHandle, Connection, LinkState};

pub use backoff::Backoff;

/// The socket's name inside whichever runtime directory holds it.
pub const SOCKET_NAME: &str = "control.sock";

/// Where systemd's `RuntimeDirectory=pilotwatch` puts the service's socket.
pub const SYSTEM_SOCKET: &str = "/run/pilotwatch/control.sock";

/// How long the collector has to answer a hello, unless the client says otherwise.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Updates buffered for the handle's subscribers before the slowest loses the oldest.
const UPDATE_BUFFER: usize = 1024;

/// How a client attaches.
#[derive(Debug, Clone)]
pub struct AttachOptions {
    /// Ask for read-only access (`--readonly`), whatever this user may be allowed.
    pub readonly: bool,
    /// Who is calling, for the collector's audit trail (`pilotwatch 0.1.0 tui`).
    pub client: String,
    /// How long the collector has to answer the hello.
    pub handshake: Duration,
}

impl AttachOptions {
    /// Options for a client of `kind` (`tui`, `status`, …) at this build's version, with the
    /// usual [`HANDSHAKE_TIMEOUT`].
    pub fn new(kind: &str, readonly: bool) -> Self {
        Self {
            readonly,
            client: format!("pilotwatch {} {kind}", env!("CARGO_PKG_VERSION")),
            handshake: HANDSHAKE_TIMEOUT,
        }
    }

    /// With `handshake` to answer the hello instead: a client with a deadline of its own (a
    /// monitoring check) gives up sooner.
    pub fn with_handshake(mut self, handshake: Duration) -> Self {
        self.handshake = handshake;
        self
    }
}

/// Why attaching failed.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    /// No collector listens there: no socket file, or one nobody accepts on (a stale socket
    /// left by a collector that died). The caller may start an embedded collector.
    #[error("no collector answers at {}: {source}", .path.display())]
    Absent {
        /// The socket's path.
        path: PathBuf,
        /// What the dial said.
        source: io::Error,
    },
    /// The socket exists but could not be dialled (permissions, most often).
    #[error("cannot connect to the collector at {}: {source}", .path.display())]
    Dial {
        /// The socket's path.
        path: PathBuf,
        /// What the dial said.
        source: io::Error,
    },
    /// The collector answered the hello with a goodbye (a protocol version it does not
    /// speak, too many clients).
    #[error("the collector at {} refused this client: {reason}", .path.display())]
    Refused {
        /// The socket's path.
        path: PathBuf,
        /// The collector's reason.
        reason: String,
    },
    /// The collector welcomed the client in a protocol version this build does not speak.
    #[error(
        "the collector at {} speaks control protocol v{theirs}, this pilotwatch speaks v{ours}; \
         run the same pilotwatch version on both sides",
        .path.display()
    )]
    Version {
        /// The socket's path.
        path: PathBuf,
        /// The collector's version.
        theirs: u32,
        /// This build's.
        ours: u32,
    },
    /// The collector did not answer the hello in time.
    #[error(
        "the collector at {} did not answer within {}s",
        .path.display(),
        .after.as_secs_f32()
    )]
    Timeout {
        /// The socket's path.
        path: PathBuf,
        /// How long it was given.
        after: Duration,
    },
    /// The hello or its answer could not be exchanged (closed, malformed).
    #[error("the collector at {} broke the handshake: {source}", .path.display())]
    Handshake {
        /// The socket's path.
        path: PathBuf,
        /// What went wrong.
        source: FrameError,
    },
}

impl AttachError {
    /// Whether nothing runs there at all, as opposed to a collector that answered badly: only
    /// then may a view start its own collector on the store.
    pub fn is_absent(&self) -> bool {
        matches!(self, Self::Absent { .. })
    }

    /// Why attaching failed although something is at the socket, in words for a status bar
    /// (the socket's path left out: the bar already says whom it was attached to); `None`
    /// when nothing listens there at all.
    pub fn reason(&self) -> Option<String> {
        match self {
            Self::Absent { .. } => None,
            Self::Dial { source, .. } => Some(format!("cannot connect to its socket: {source}")),
            Self::Refused { reason, .. } => Some(format!("the collector refused us: {reason}")),
            Self::Version { theirs, ours, .. } => Some(format!(
                "the collector speaks control protocol v{theirs}, this pilotwatch v{ours}: \
                 run the same version on both sides"
            )),
            Self::Timeout { after, .. } => Some(format!(
                "the collector did not answer the hello within {}s",
                after.as_secs_f32()
            )),
            Self::Handshake { source, .. } => Some(format!("the handshake broke: {source}")),
        }
    }

    /// Whether something is at the socket but never answered properly (no answer to the hello
    /// in time, or a broken one): a hung or dying collector, as opposed to one that said no.
    pub fn is_silent(&self) -> bool {
        matches!(self, Self::Timeout { .. } | Self::Handshake { .. })
    }
}

/// Where a client looks for the socket, in order: the system service's, then the user's
/// (`runtime_dir` is `$XDG_RUNTIME_DIR/pilotwatch`, [`crate::config::Paths::runtime_dir`]).
/// `$RUNTIME_DIRECTORY` is not looked at: systemd sets it for the service, not for clients.
pub fn default_candidates(runtime_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut candidates = vec![PathBuf::from(SYSTEM_SOCKET)];
    candidates.extend(runtime_dir.map(|dir| dir.join(SOCKET_NAME)));
    candidates
}

/// The socket to try: `flag` (`--control-socket`) when given, whether or not it exists (an
/// explicit path that does not answer is an error, not a reason to run embedded); else the
/// first candidate that exists.
pub fn discover(flag: Option<&Path>, candidates: &[PathBuf]) -> Option<PathBuf> {
    match flag {
        Some(path) => Some(path.to_path_buf()),
        None => candidates
            .iter()
            .find(|path| path.symlink_metadata().is_ok())
            .cloned(),
    }
}

/// Attaches to the running collector, if there is one: at `flag` (`--control-socket`) when
/// given — there it must answer — else at the first of `candidates` that answers. `Ok(None)`
/// means nothing runs (no socket, or only stale ones), so the caller may run its own
/// collector; a collector that answers but refuses is an error, never a reason to open the
/// store behind its back.
pub async fn attach_running(
    flag: Option<&Path>,
    candidates: &[PathBuf],
    options: AttachOptions,
) -> Result<Option<CollectorHandle>, AttachError> {
    if let Some(path) = flag {
        return attach(path, options).await.map(Some);
    }
    for path in candidates {
        if discover(None, std::slice::from_ref(path)).is_none() {
            continue;
        }
        match attach(path, options.clone()).await {
            Ok(handle) => return Ok(Some(handle)),
            Err(error) if error.is_absent() => {
                tracing::debug!(%error, "no collector there");
            }
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

/// Attaches to the collector listening at `path`: dials, says hello, waits for the welcome,
/// and returns a handle served over the socket until every clone of it is dropped. The
/// handle's link reports the collector going away and coming back; it reconnects by itself.
pub async fn attach(path: &Path, options: AttachOptions) -> Result<CollectorHandle, AttachError> {
    let (connection, reader, writer) = connect(path, &options).await?;
    let (updates, _) = broadcast::channel(UPDATE_BUFFER);
    let (link_tx, link_rx) = watch::channel(LinkState::Connected(connection));
    let (handle, requests) = CollectorHandle::with_link(updates.clone(), link_rx);
    tokio::spawn(link::run(
        link::Backend {
            path: path.to_path_buf(),
            options,
            requests,
            updates,
            link: link_tx,
        },
        reader,
        writer,
    ));
    Ok(handle)
}

/// One connection, welcomed: how it reads in the status bar and its two halves.
type Connected = (Connection, FrameReader<OwnedReadHalf>, OwnedWriteHalf);

/// Dials `path` and completes the handshake within the options' time.
async fn connect(path: &Path, options: &AttachOptions) -> Result<Connected, AttachError> {
    let stream = UnixStream::connect(path).await.map_err(|source| {
        let path = path.to_path_buf();
        match source.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                AttachError::Absent { path, source }
            }
            _ => AttachError::Dial { path, source },
        }
    })?;
    let (read, mut writer) = stream.into_split();
    let mut reader = FrameReader::new(read);
    let hello = ClientFrame::Hello(Hello {
        version: PROTOCOL_VERSION,
        client: options.client.clone(),
        readonly: options.readonly,
    });
    let exchange = async {
        write_frame(&mut writer, &hello).await?;
        reader.next::<ServerFrame>().await
    };
    let answer = tokio::time::timeout(options.handshake, exchange)
        .await
        .map_err(|_| AttachError::Timeout {
            path: path.to_path_buf(),
            after: options.handshake,
        })?;
    let welcome = match answer {
        Ok(ServerFrame::Welcome(welcome)) => welcome,
        Ok(ServerFrame::Bye { reason }) => {
            return Err(AttachError::Refused {
                path: path.to_path_buf(),
                reason,
            });
        }
        Ok(other) => {
            return Err(AttachError::Handshake {
                path: path.to_path_buf(),
                source: FrameError::Malformed(format!(
                    "expected a welcome, got {}",
                    frame_name(&other)
                )),
            });
        }
        Err(source) => {
            return Err(AttachError::Handshake {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let connection = welcomed(path, &welcome)?;
    // Every view says whom it is attached to in its own output; the log line is for debugging.
    tracing::debug!(
        path = %path.display(),
        pid = welcome.pid,
        access = ?welcome.access,
        reason = %welcome.reason,
        "attached to the collector"
    );
    Ok((connection, reader, writer))
}

/// What a welcome grants, or why this build cannot use it.
fn welcomed(path: &Path, welcome: &Welcome) -> Result<Connection, AttachError> {
    if welcome.version != PROTOCOL_VERSION {
        return Err(AttachError::Version {
            path: path.to_path_buf(),
            theirs: welcome.version,
            ours: PROTOCOL_VERSION,
        });
    }
    Ok(Connection::Attached {
        pid: welcome.pid,
        read_write: welcome.access == Access::ReadWrite,
    })
}

/// A frame's kind, for messages (never its content).
fn frame_name(frame: &ServerFrame) -> &'static str {
    match frame {
        ServerFrame::Welcome(_) => "a welcome",
        ServerFrame::Reply { .. } => "a reply",
        ServerFrame::Update(_) => "an update",
        ServerFrame::Lagged { .. } => "a lagged notice",
        ServerFrame::Bye { .. } => "a goodbye",
    }
}

#[cfg(test)]
mod tests;
