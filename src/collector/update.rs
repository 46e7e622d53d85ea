//! [`Update`]: what the collector tells its watchers (the TUI, the control socket) as it
//! happens, on a `tokio::sync::broadcast` channel. Every variant is also in the store (a diagnosis as its findings history), so a
//! watcher that lags or joins late rebuilds from there; the channel is only for immediacy.
//!
//! A dead task ([`Update::TaskDied`]) is not in the store but on the collector's task board,
//! which every snapshot carries.
//!
//! Depends on the store's record types, the poller's report, the task board's death record and
//! `diagnose`'s verdict only.

use std::sync::Arc;

use super::poller::PollReport;
use super::supervise::TaskDeath;
use crate::diagnose::ProfileVerdict;
use crate::store::records::{Event, InteractionRecord, NotificationRecord};

/// One thing that happened in the collector.
#[derive(Debug, Clone)]
pub enum Update {
    /// The subscription keeper acted (create, renew, reauthorize, adopt, delete, backfill
    /// request), with the outcome.
    Keeper(Event),
    /// A lifecycle notification the keeper acted on.
    Lifecycle(Event),
    /// A backfill, gap fill or reconciliation finished.
    Poll(PollReport),
    /// An interaction entered the feed (from a notification or the export API).
    Interaction(InteractionRecord),
    /// The receiver judged a notification item (accepted, duplicate or rejected, and why).
    Notification(NotificationRecord),
    /// A profile's verdict whose findings (codes or severities) changed. Shared, not copied:
    /// it is large and every watcher gets the same one. The findings history in the store
    /// says when each started and ended.
    Diagnosis(Arc<ProfileVerdict>),
    /// A collector task ended before shutdown (a panic or an unexpected return): the
    /// collector is no longer doing all of its job until it is restarted.
    TaskDied(Arc<TaskDeath>),
}
