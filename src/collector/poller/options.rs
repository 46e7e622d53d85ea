//! The poller's knobs ([`PollOptions`], with defaults from graph-facts §1.3 and §2) and its
//! error ([`PollError`]). Depends on the Graph client's error and the store's only.

use chrono::{DateTime, Duration, Utc};

use crate::graph::http::RequestError;
use crate::store::StoreError;

/// How the poller behaves. Spans are in the injected clock's time.
#[derive(Debug, Clone, PartialEq)]
pub struct PollOptions {
    /// The initial backfill reads `[now − initial_backfill, now)`, or from just before the
    /// last accepted notification when that is earlier (see `downtime_overlap`).
    pub initial_backfill: Duration,
    /// Longest window one call chain covers; longer windows are cut into chunks.
    pub chunk: Duration,
    /// Reconciliation runs this often…
    pub reconcile_every: Duration,
    /// …over a window this long…
    pub reconcile_window: Duration,
    /// …ending this long ago, so notifications in flight (average under 10 s, at most 60
    /// minutes, graph-facts §2) have had time to arrive.
    pub reconcile_settle: Duration,
    /// Longest window one reconciliation reads: after a stall (the queue busy with retries for
    /// hours) the time since the last one is read in windows of at most this.
    pub reconcile_max_window: Duration,
    /// The initial backfill also starts this long before the profile's last accepted
    /// notification, so the collector's downtime is read (notifications in flight when it
    /// stopped included).
    pub downtime_overlap: Duration,
    /// No poll reaches further back than this: the store's retention (7 days), beyond which
    /// what is read would be deleted again.
    pub max_lookback: Duration,
    /// The licensed-user list is read again after this long.
    pub users_refresh_every: Duration,
    /// `$top` (the documentation recommends 100).
    pub page_size: u32,
    /// Pages read per user per chunk at most.
    pub max_pages: usize,
    /// Users read at once (all share the tenant's request budget).
    pub concurrency: usize,
    /// First retry delay after a failed or incomplete poll; doubles up to `retry_max`.
    pub retry_first: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// Attempts per window before it is given up (and reported).
    pub max_attempts: u32,
}

impl Default for PollOptions {
    fn default() -> Self {
        Self {
            initial_backfill: Duration::days(1),
            chunk: Duration::hours(6),
            reconcile_every: Duration::hours(1),
            reconcile_window: Duration::hours(1),
            reconcile_settle: Duration::minutes(15),
            reconcile_max_window: Duration::hours(24),
            downtime_overlap: Duration::minutes(15),
            max_lookback: Duration::days(7),
            users_refresh_every: Duration::hours(6),
            page_size: 100,
            max_pages: 200,
            concurrency: 4,
            retry_first: Duration::minutes(1),
            retry_max: Duration::minutes(30),
            max_attempts: 5,
        }
    }
}

/// Why a poll produced no report.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The licensed users could not be listed (and none were known). Boxed: the request
    /// error is as large as clippy lets an error be.
    #[error("cannot list the tenant's licensed users: {0}")]
    Users(#[source] Box<RequestError>),
    /// The window is empty or reversed.
    #[error("nothing to poll: the window {from} to {to} is empty")]
    EmptyWindow {
        /// Start.
        from: DateTime<Utc>,
        /// End.
        to: DateTime<Utc>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
