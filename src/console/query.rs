//! What a view asks of the store through the collector: a page of the feed under a filter,
//! the users × apps activity, and latency over a window. Each answer is bounded in size, so a
//! million stored interactions never reach a view at once.
//!
//! Plain data (serde both ways, so the control socket can carry it); depends on the store's
//! record types only. [`filter`] is the filter's text syntax, shared by the TUI's prompt and
//! `pilotwatch export --filter`.

pub mod filter;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::records::InteractionRecord;

/// Which interactions a view wants; every field narrows, all empty matches everything.
/// Text matches are case-insensitive substrings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedFilter {
    /// Only this profile's interactions.
    pub profile: Option<String>,
    /// `appClass` contains this.
    pub app: Option<String>,
    /// The user's id or display name contains this.
    pub user: Option<String>,
    /// `interactionType` contains this (`userPrompt`, `aiResponse`).
    pub interaction_type: Option<String>,
    /// Any of the above, the session id or the stored body contains this.
    pub text: Option<String>,
}

impl FeedFilter {
    /// Whether nothing narrows the feed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Where a page starts: just older than this interaction (the feed runs newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedCursor {
    /// The `createdDateTime` of the last interaction of the previous page.
    pub created_at: DateTime<Utc>,
    /// Its id (ties on time are ordered by id).
    pub id: String,
}

/// One page of the feed, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedQuery {
    /// Which interactions.
    pub filter: FeedFilter,
    /// Start after this one; `None` for the newest.
    pub after: Option<FeedCursor>,
    /// At most this many rows.
    pub limit: usize,
}

/// The answer to a [`FeedQuery`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPage {
    /// Matching interactions, newest first.
    pub rows: Vec<InteractionRecord>,
    /// Where the next page starts; `None` when the feed is exhausted. A filter that matches
    /// rarely may return fewer rows than asked with a cursor: the scan stopped at its bound
    /// and the view asks again from there.
    pub next: Option<FeedCursor>,
    /// Interactions examined to build this page.
    pub scanned: u64,
    /// Display names of the rows' users, by user id, as far as the directory knows them yet
    /// (interactions carry only an id and an MRI; names still unknown come with a later page).
    #[serde(default)]
    pub names: BTreeMap<String, String>,
    /// Why no display names can be shown at all (no profile may read users), if so.
    #[serde(default)]
    pub names_unavailable: Option<String>,
}

/// Users × apps: who used which Copilot app, how often, and when last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    /// One row per user and app, most recent activity first.
    pub rows: Vec<ActivityRow>,
    /// Interactions counted.
    pub counted: u64,
    /// Whether counting stopped at its bound before reaching the oldest interaction (the
    /// counts then cover `since` onwards only).
    pub truncated: bool,
    /// The oldest interaction counted.
    pub since: Option<DateTime<Utc>>,
}

/// One user's use of one app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityRow {
    /// The user's id, or empty when unknown (responses fetched without a user).
    pub user_id: String,
    /// The user's display name when the directory could be read.
    pub user_name: Option<String>,
    /// `appClass`.
    pub app: String,
    /// Prompts.
    pub prompts: u64,
    /// Responses.
    pub responses: u64,
    /// The newest interaction's time.
    pub last_at: DateTime<Utc>,
}

/// How far back the latency tab looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatencyWindow {
    /// The last 15 minutes, minute by minute.
    FifteenMinutes,
    /// The last hour.
    Hour,
    /// The last 24 hours.
    Day,
}

impl LatencyWindow {
    /// The window's length in minutes.
    pub fn minutes(self) -> i64 {
        match self {
            Self::FifteenMinutes => 15,
            Self::Hour => 60,
            Self::Day => 24 * 60,
        }
    }
}

/// Latency over a window, for one profile or all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencyQuery {
    /// How far back.
    pub window: LatencyWindow,
    /// One profile, or every profile.
    pub profile: Option<String>,
}

/// Percentiles of one stretch of time, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyPoint {
    /// The stretch's start.
    pub at: DateTime<Utc>,
    /// Samples in it.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

/// The latency tab's data: delivery latency is `createdDateTime` → our receipt (Graph's side
/// plus the network); our own delay is receipt → stored and acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyView {
    /// The window asked for.
    pub window: LatencyWindow,
    /// Its end, by the collector's clock.
    pub until: DateTime<Utc>,
    /// One point per stretch (a minute for 15 min and 1 h, ten minutes for 24 h), oldest first;
    /// stretches without samples are left out.
    pub series: Vec<LatencyPoint>,
    /// The whole window (its `at` is the window's start); `None` without samples.
    pub overall: Option<LatencyPoint>,
    /// Distribution over the window: (upper bound in seconds, samples at or below it and
    /// above the previous bound).
    pub histogram: Vec<(f64, u64)>,
    /// Delivery latency per `appClass`, most samples first.
    pub by_app: Vec<(String, LatencyPoint)>,
    /// Our acknowledgement time (receipt → 2xx), seconds.
    pub ack: Option<LatencyPoint>,
    /// Our processing delay (receipt → stored), seconds.
    pub ours: Option<LatencyPoint>,
}
