//! What diagnosis reasons from: plain, owned data about one profile, gathered elsewhere — by
//! the collector from its store and live state, or by `pilotwatch check` directly from Graph
//! when no collector runs. A part that could not be gathered is `None`, and diagnosis says what
//! it could not tell instead of guessing.
//!
//! Nothing here is secret (no `clientState`, no token, no secret value) and nothing here does
//! I/O; the types serialise so `check --json` can show what a verdict was based on.
//!
//! Depends on the credential report and the store's record types (both plain data).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::creds::CredentialReport;
use crate::diagnose::thresholds::ProfileThresholds;
use crate::store::records::{DecryptFailure, KeeperAction, Outcome, RejectReason, TokenRejection};

/// Everything known about one profile's pipeline at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The profile.
    pub profile: String,
    /// The profile's application (client) id, for fix steps that name the app; `None` when
    /// not known (facts from before the field existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Where the profile warns (its `[thresholds]`); diagnosis's own lines when not given.
    #[serde(default)]
    pub thresholds: ProfileThresholds,
    /// Where the facts came from.
    pub source: FactSource,
    /// The credential report, when credentials were checked.
    pub credentials: Option<CredentialReport>,
    /// The subscription registry and the keeper's recent actions.
    pub subscriptions: Option<SubscriptionFacts>,
    /// What the receiver saw; only a running collector knows.
    pub delivery: Option<DeliveryFacts>,
    /// What the export API (the poller) saw.
    pub export: Option<ExportFacts>,
    /// How Graph answered our requests.
    pub graph: Option<GraphTraffic>,
    /// The store.
    pub store: Option<StoreFacts>,
    /// The collector's tasks that died (panicked or ended before shutdown): the collector is
    /// not doing all of its job. Only a running collector knows; empty from anywhere else.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead_tasks: Vec<DeadTask>,
}

/// A collector task that ended before shutdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadTask {
    /// Which task (`keeper`, `poller`, `receiver processor`, …).
    pub task: String,
    /// The profile it served; `None` for the collector's shared tasks.
    pub profile: Option<String>,
    /// When it ended.
    pub ended_at: DateTime<Utc>,
    /// Why: its panic message, or "it returned".
    pub reason: String,
}

/// Where facts came from, which bounds what they can say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FactSource {
    /// A running collector (embedded, or `pilotwatch serve` with this pid).
    Collector {
        /// The collector's process id.
        pid: u32,
        /// When it started: silence before then is no evidence against the push path.
        since: DateTime<Utc>,
    },
    /// Asked Graph directly: no collector runs, so nothing is known of delivery.
    Direct,
    /// A collector owns the store but could not be asked.
    Unreachable {
        /// Its process id, from the store's lock.
        pid: Option<u32>,
        /// Why it could not be asked.
        reason: String,
    },
}

/// The subscription side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFacts {
    /// The resource the profile's subscriptions are for (the tenant-wide Copilot resource, or
    /// per-user resources).
    pub resource: String,
    /// The profile's notification URL, as configured (what Graph's validation handshake calls).
    pub notification_url: Option<String>,
    /// Whether the profile has a lifecycle notification URL configured.
    pub lifecycle_url_configured: bool,
    /// Live subscriptions (registry entries in the active state, or Graph's list in direct mode).
    pub active: Vec<SubscriptionFact>,
    /// The keeper's latest attempt of each action, and how many in a row failed.
    pub actions: Vec<ActionFact>,
    /// Lifecycle notifications received in the lookback window, newest first.
    pub lifecycle: Vec<LifecycleFact>,
}

/// One live subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionFact {
    /// Graph's subscription id.
    pub id: String,
    /// Its resource.
    pub resource: String,
    /// When it expires.
    pub expires_at: DateTime<Utc>,
    /// When it was created: Graph notifies only about interactions created after it.
    pub created_at: DateTime<Utc>,
    /// Its lifecycle notification URL, if any.
    pub lifecycle_url: Option<String>,
    /// The certificate its rich content is encrypted for, if it carries rich data.
    pub certificate_id: Option<String>,
    /// The last successful renewal.
    pub last_renewed_at: Option<DateTime<Utc>>,
    /// The last successful reauthorization.
    pub last_reauthorized_at: Option<DateTime<Utc>>,
}

/// The latest attempt of one keeper action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionFact {
    /// Which action.
    pub action: KeeperAction,
    /// When it was last attempted.
    pub at: DateTime<Utc>,
    /// How that attempt went.
    pub outcome: Outcome,
    /// Why it failed, when it did.
    pub failure: Option<ActionFailure>,
    /// Failures in a row up to and including this attempt (0 when it succeeded).
    pub failures_in_a_row: u32,
    /// Since when it has been failing (the first of those failures).
    pub failing_since: Option<DateTime<Utc>>,
    /// The keeper's own words about it.
    pub message: String,
}

/// Why a keeper action failed, as far as Graph's answer says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionFailure {
    /// What kind of failure.
    pub kind: FailureKind,
    /// The HTTP status, when Graph answered.
    pub status: Option<u16>,
    /// Graph's `error.code`, when it sent one.
    pub code: Option<String>,
    /// Graph's `error.message` (or the transport error), cut to size.
    pub detail: String,
}

/// The kinds of keeper failure diagnosis tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Graph's validation request to our endpoint failed (unreachable, not 200 text/plain in
    /// 10 s).
    Handshake,
    /// A tenant-wide subscription already exists for the app, held by someone else.
    Quota,
    /// 403: permissions or licences.
    Forbidden,
    /// 404: the subscription is gone.
    NotFound,
    /// 429.
    Throttled,
    /// 5xx or a timeout.
    Unavailable,
    /// No token could be had.
    Unauthenticated,
    /// Anything else.
    Other,
}

/// One lifecycle notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleFact {
    /// When it was processed.
    pub at: DateTime<Utc>,
    /// Graph's `lifecycleEvent` spelling (`subscriptionRemoved`, `reauthorizationRequired`,
    /// `missed`).
    pub event: String,
    /// The subscription it was about.
    pub subscription_id: String,
}

/// What the receiver saw in the lookback window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryFacts {
    /// The lookback window, in minutes.
    pub window_minutes: u32,
    /// Notification items received in the window.
    pub received: u64,
    /// Items that entered the feed.
    pub accepted: u64,
    /// Items kept out, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Items whose validation tokens failed, by the check that failed.
    pub token_failures: BTreeMap<TokenRejection, u64>,
    /// Items whose content did not decrypt, by step.
    pub decrypt_failures: BTreeMap<DecryptFailure, u64>,
    /// The certificates Graph encrypted for that we hold no key for (id and thumbprint).
    pub unknown_certificates: Vec<String>,
    /// The certificate our live subscription carries.
    pub current_certificate_id: Option<String>,
    /// The last notification received, of any kind.
    pub last_received_at: Option<DateTime<Utc>>,
    /// The last item that entered the feed.
    pub last_accepted_at: Option<DateTime<Utc>>,
    /// Our time to acknowledge, in the window.
    pub ack: Option<Spread>,
    /// Share of acknowledgements slower than Graph's 2.9 s slow line in the last 10 minutes.
    pub ack_slow_share: Option<f64>,
    /// Notification latency (received − `createdDateTime`) in the window.
    pub latency: Option<Spread>,
}

/// A distribution in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// How many samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// What the export API (polled) says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportFacts {
    /// The latest reconciliation: the export API against what notifications delivered.
    pub last_reconcile: Option<ReconcileFact>,
    /// The newest interaction the export API has shown.
    pub newest_created_at: Option<DateTime<Utc>>,
    /// Interactions the export API showed in the lookback window.
    pub seen_in_window: u64,
}

/// One reconciliation of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileFact {
    /// When it ran.
    pub at: DateTime<Utc>,
    /// The window it compared.
    pub from: DateTime<Utc>,
    /// Its end.
    pub to: DateTime<Utc>,
    /// Interactions the export API had in the window.
    pub fetched: u64,
    /// Of those, how many no notification had delivered.
    pub missing: u64,
    /// How it went.
    pub outcome: Outcome,
}

/// How Graph answered our requests in the lookback window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphTraffic {
    /// The window, in minutes.
    pub window_minutes: u32,
    /// Requests answered (any status).
    pub requests: u64,
    /// Answered 429.
    pub throttled: u64,
    /// Answered 5xx, or timed out.
    pub failed: u64,
    /// The first of the current run of throttled or failed answers.
    pub trouble_since: Option<DateTime<Utc>>,
    /// The latest `request-id` of a failed or throttled answer, for a support case.
    pub last_request_id: Option<String>,
}

/// The store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreFacts {
    /// Interactions held.
    pub interactions: u64,
    /// The retention count limit.
    pub max_interactions: u64,
    /// The retention age limit, in days.
    pub retention_days: u32,
    /// The oldest interaction held.
    pub oldest_created_at: Option<DateTime<Utc>>,
    /// When a corrupt store was moved aside, and where, if that happened recently.
    pub moved_aside: Option<MovedAside>,
}

/// A corrupt store set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MovedAside {
    /// When.
    pub at: DateTime<Utc>,
    /// Where it now is.
    pub path: String,
}
