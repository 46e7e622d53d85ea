//! [`Update`]: what the collector tells its watchers (the TUI, the control socket) as it
//! happens, on a `tokio::sync::broadcast` channel. Every variant is also in the store, so a
//! watcher that lags or joins late rebuilds from there; the channel is only for immediacy.
//!
//! Depends on the record types and the poller's report only.

use super::keeper::records::{Event, InteractionRecord};
use super::poller::PollReport;

/// One thing that happened in the collector.
///
/// CONTRACT: the processor's `Notification(NotificationRecord)` variant is added at merge,
/// with the store's record type.
#[derive(Debug, Clone)]
pub enum Update {
    /// The subscription keeper acted (create, renew, reauthorize, adopt, delete, backfill
    /// request), with the outcome.
    Keeper(Event),
    /// A lifecycle notification the keeper acted on.
    Lifecycle(Event),
    /// A backfill, gap fill or reconciliation finished.
    Poll(PollReport),
    /// An interaction entered the feed.
    Interaction(InteractionRecord),
}
