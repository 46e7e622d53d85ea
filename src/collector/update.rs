//! [`Update`]: what the collector tells its watchers (the TUI, the control socket) as it
//! happens, on a `tokio::sync::broadcast` channel. Every variant is also in the store (a diagnosis as its findings history), so a
//! watcher that lags or joins late rebuilds from there; the channel is only for immediacy.
//!
//! Depends on the store's record types, the poller's report and `diagnose`'s verdict only.

use std::sync::Arc;

use super::poller::PollReport;
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
}
