//! The control socket's protocol: versioned JSON lines, one frame per line, in both directions.
//!
//! A client opens with [`ClientFrame::Hello`] (its protocol version, who it is, whether it asks
//! only to read). The collector answers [`ServerFrame::Welcome`] (its version, its pid, the
//! access granted) or [`ServerFrame::Bye`] with the reason and closes. Then the client sends
//! [`ClientFrame::Request`]s, each with an id its [`ServerFrame::Reply`] repeats, while the
//! collector pushes every [`ServerFrame::Update`]. Requests and answers are the console's own
//! types ([`crate::console`]), so an attached view sees exactly what an embedded one does.
//!
//! The snapshot is asked for (a request like any other) rather than pushed after the welcome:
//! a view asks for one again after every `Lagged` and every reconnect, so one way serves all
//! three. Updates flow from the welcome on, so one taken after the snapshot was read can
//! arrive before its reply and be overwritten by it; the console refreshes its snapshot every
//! 10 s and pages the feed afresh, which heals that. A sequence number on updates would
//! close it, at the price of one more field every frame carries.
//!
//! Two console commands never cross the socket: profile edits (they carry a client secret,
//! which stays on the collector's host: `pilotwatch creds add` there) and export (the client
//! pages the feed and writes its own file, so the collector never writes where a client
//! says). [`WireCommand`] is the commands that do.
//!
//! Decoding never panics and bounds every frame at [`MAX_FRAME_BYTES`]; a bad frame is a
//! [`FrameError`] that names what was wrong. Pure: serde only, no I/O.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::collector::poller::PollReport;
use crate::collector::supervise::TaskDeath;
use crate::collector::update::Update;
use crate::console::{
    ActivityView, Command, CommandOutcome, ConsoleError, FeedFilter, FeedPage, FeedQuery,
    LatencyQuery, LatencyView, Snapshot,
};
use crate::diagnose::ProfileVerdict;
use crate::store::records::{Event, InteractionRecord, NotificationRecord};

/// The protocol version this build speaks. A peer speaking another is refused with a
/// [`ServerFrame::Bye`] that names both.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest frame either side accepts, newline excluded. A snapshot with its feed head and
/// findings history is well under 1 MiB; the margin is for large tenants, not for abuse.
pub const MAX_FRAME_BYTES: usize = 8 * 1024 * 1024;

/// What a client sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ClientFrame {
    /// The first frame, and only the first.
    Hello(Hello),
    /// A question or a command.
    Request {
        /// Chosen by the client; its reply repeats it.
        id: u64,
        /// What is asked.
        request: WireRequest,
    },
}

/// A client's introduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// The protocol version the client speaks.
    pub version: u32,
    /// Who is calling, for the audit trail (`pilotwatch 0.1.0 tui`).
    pub client: String,
    /// The client asks for read-only access (`--readonly`), whatever it may be allowed.
    pub readonly: bool,
}

/// What a client may ask.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum WireRequest {
    /// The whole current state.
    Snapshot,
    /// One page of the feed.
    Feed(FeedQuery),
    /// Users × apps.
    Activity(FeedFilter),
    /// Latency over a window.
    Latency(LatencyQuery),
    /// Do something.
    Command(WireCommand),
}

/// The console commands that may cross the socket (see the module doc for the two that do not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WireCommand {
    /// Probe a profile's credentials now.
    TestCredentials {
        /// The profile.
        profile: String,
    },
    /// Renew a subscription now.
    Renew {
        /// The profile owning it.
        profile: String,
        /// Graph's subscription id.
        subscription: String,
    },
    /// Reauthorize a subscription now.
    Reauthorize {
        /// The profile owning it.
        profile: String,
        /// Graph's subscription id.
        subscription: String,
    },
    /// Delete a subscription and create it afresh, backfilling the gap.
    Recreate {
        /// The profile owning it.
        profile: String,
        /// Graph's subscription id.
        subscription: String,
    },
    /// Fetch a window of interactions from the export API into the store.
    Backfill {
        /// The profile.
        profile: String,
        /// Window start.
        from: DateTime<Utc>,
        /// Window end.
        to: DateTime<Utc>,
    },
    /// Switch the simulator's scenario (only when the collector runs against the simulator).
    SwitchScenario {
        /// The scenario's name.
        name: String,
    },
}

impl WireCommand {
    /// The command a view asked for, if it may cross the socket; otherwise why not.
    pub fn from_command(command: Command) -> Result<Self, ConsoleError> {
        Ok(match command {
            Command::TestCredentials { profile } => Self::TestCredentials { profile },
            Command::Renew {
                profile,
                subscription,
            } => Self::Renew {
                profile,
                subscription,
            },
            Command::Reauthorize {
                profile,
                subscription,
            } => Self::Reauthorize {
                profile,
                subscription,
            },
            Command::Recreate {
                profile,
                subscription,
            } => Self::Recreate {
                profile,
                subscription,
            },
            Command::Backfill { profile, from, to } => Self::Backfill { profile, from, to },
            Command::SwitchScenario { name } => Self::SwitchScenario { name },
            Command::Export { .. } => {
                return Err(ConsoleError::Refused(
                    "an attached view exports by reading the feed itself, not through the \
                     collector"
                        .into(),
                ));
            }
            Command::ValidateProfile { .. }
            | Command::SaveProfile { .. }
            | Command::RemoveProfile { .. } => {
                return Err(ConsoleError::Refused(
                    "profiles are edited on the collector's host (`pilotwatch creds add` / \
                     `creds rm` there), so a client secret never crosses the control socket"
                        .into(),
                ));
            }
        })
    }
}

impl From<WireCommand> for Command {
    fn from(command: WireCommand) -> Self {
        match command {
            WireCommand::TestCredentials { profile } => Self::TestCredentials { profile },
            WireCommand::Renew {
                profile,
                subscription,
            } => Self::Renew {
                profile,
                subscription,
            },
            WireCommand::Reauthorize {
                profile,
                subscription,
            } => Self::Reauthorize {
                profile,
                subscription,
            },
            WireCommand::Recreate {
                profile,
                subscription,
            } => Self::Recreate {
                profile,
                subscription,
            },
            WireCommand::Backfill { profile, from, to } => Self::Backfill { profile, from, to },
            WireCommand::SwitchScenario { name } => Self::SwitchScenario { name },
        }
    }
}

/// What the collector sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ServerFrame {
    /// The answer to a hello that was accepted.
    Welcome(Welcome),
    /// The answer to one request.
    Reply {
        /// The request's id.
        id: u64,
        /// The answer, or why there is none.
        result: Result<WireAnswer, ConsoleError>,
    },
    /// Something the collector did (pushed as it happens).
    Update(WireUpdate),
    /// This client read too slowly and `missed` updates were dropped for it: it should ask for
    /// a fresh snapshot (as a view does when its own update channel lags).
    Lagged {
        /// How many.
        missed: u64,
    },
    /// The connection is closing, and why (a refused hello, a bad frame).
    Bye {
        /// For a human.
        reason: String,
    },
}

/// The collector's side of the introduction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Welcome {
    /// The protocol version the collector speaks.
    pub version: u32,
    /// The collector's process id.
    pub pid: u32,
    /// What this client may do.
    pub access: Access,
    /// Why the access is what it is (`read-only: you asked`, `read-only: uid 1001 is not in
    /// group pilotwatch`).
    pub reason: String,
}

/// What a client may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Read state and send every [`WireCommand`].
    ReadWrite,
    /// Read state and test credentials only.
    ReadOnly,
}

/// An answer, by the request it answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum WireAnswer {
    /// To [`WireRequest::Snapshot`].
    Snapshot(Box<Snapshot>),
    /// To [`WireRequest::Feed`].
    Feed(FeedPage),
    /// To [`WireRequest::Activity`].
    Activity(ActivityView),
    /// To [`WireRequest::Latency`].
    Latency(LatencyView),
    /// To [`WireRequest::Command`].
    Command(CommandOutcome),
}

/// A collector [`Update`] on the wire.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum WireUpdate {
    /// See [`Update::Keeper`].
    Keeper(Event),
    /// See [`Update::Lifecycle`].
    Lifecycle(Event),
    /// See [`Update::Poll`].
    Poll(PollReport),
    /// See [`Update::Interaction`].
    Interaction(InteractionRecord),
    /// See [`Update::Notification`].
    Notification(NotificationRecord),
    /// See [`Update::Diagnosis`].
    Diagnosis(Box<ProfileVerdict>),
    /// See [`Update::TaskDied`].
    TaskDied(TaskDeath),
}

impl From<&Update> for WireUpdate {
    fn from(update: &Update) -> Self {
        match update {
            Update::Keeper(event) => Self::Keeper(event.clone()),
            Update::Lifecycle(event) => Self::Lifecycle(event.clone()),
            Update::Poll(report) => Self::Poll(report.clone()),
            Update::Interaction(record) => Self::Interaction(record.clone()),
            Update::Notification(record) => Self::Notification(record.clone()),
            Update::Diagnosis(verdict) => Self::Diagnosis(Box::new(verdict.as_ref().clone())),
            Update::TaskDied(death) => Self::TaskDied(death.as_ref().clone()),
        }
    }
}

impl From<WireUpdate> for Update {
    fn from(update: WireUpdate) -> Self {
        match update {
            WireUpdate::Keeper(event) => Self::Keeper(event),
            WireUpdate::Lifecycle(event) => Self::Lifecycle(event),
            WireUpdate::Poll(report) => Self::Poll(report),
            WireUpdate::Interaction(record) => Self::Interaction(record),
            WireUpdate::Notification(record) => Self::Notification(record),
            WireUpdate::Diagnosis(verdict) => Self::Diagnosis(Arc::new(*verdict)),
            WireUpdate::TaskDied(death) => Self::TaskDied(Arc::new(death)),
        }
    }
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Longer than [`MAX_FRAME_BYTES`].
    #[error("frame longer than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Not UTF-8, or not JSON, or not a frame this side understands.
    #[error("malformed frame: {0}")]
    Malformed(String),
    /// The peer closed the connection.
    #[error("the connection closed")]
    Closed,
    /// Reading or writing the socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// One frame as a line (with its newline), refusing to produce one the peer would refuse.
pub fn encode<T: Serialize>(frame: &T) -> Result<String, FrameError> {
    let mut line =
        serde_json::to_string(frame).map_err(|error| FrameError::Malformed(error.to_string()))?;
    if line.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            limit: MAX_FRAME_BYTES,
        });
    }
    line.push('\n');
    Ok(line)
}

/// Reads one frame from a line (without its newline).
pub fn decode<T: serde::de::DeserializeOwned>(line: &str) -> Result<T, FrameError> {
    if line.len() > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge {
            limit: MAX_FRAME_BYTES,
        });
    }
    serde_json::from_str(line).map_err(|error| FrameError::Malformed(error.to_string()))
}

#[cfg(test)]
mod tests;
