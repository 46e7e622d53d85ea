//! The whole state a view starts from: what the collector is, each profile's verdict (facts
//! and diagnosis), its subscriptions with their delivery, the findings history, recent
//! keeper and lifecycle events, and the head of the feed. A view applies [`Update`]s on top
//! and asks for a fresh snapshot when it lags.
//!
//! [`Update`]: crate::collector::update::Update
//!
//! Plain data (serde both ways, so the control socket can carry it); depends on the
//! diagnosis, the store's record types and the collector's task-death record only.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::collector::TaskDeath;
use crate::diagnose::ProfileVerdict;
use crate::store::FindingRecord;
use crate::store::records::{Event, InteractionRecord};

/// How a view reaches the collector it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum Connection {
    /// The collector runs inside this process.
    Embedded,
    /// Attached to `pilotwatch serve` over its control socket.
    Attached {
        /// The collector's process id.
        pid: u32,
        /// Whether this client may send commands that change anything.
        read_write: bool,
    },
}

/// The simulator the collector is pointed at, when it is one (`demo`, `serve --sim`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationInfo {
    /// The scenario now playing.
    pub scenario: String,
    /// Every scenario it can switch to.
    pub scenarios: Vec<String>,
    /// Simulated seconds per real second.
    pub speed: f64,
}

/// The collector's state at `taken_at` (its clock, which is simulated in the demo).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// When it was taken, by the collector's clock.
    pub taken_at: DateTime<Utc>,
    /// When the collector started, by its clock.
    pub started_at: DateTime<Utc>,
    /// The collector's process id.
    pub pid: u32,
    /// pilotwatch's version on the collector's side.
    pub version: String,
    /// Present when the collector talks to the simulator.
    pub simulation: Option<SimulationInfo>,
    /// Every configured profile, in configuration order.
    pub profiles: Vec<ProfileSnapshot>,
    /// Interactions in the store, all profiles.
    pub interactions_stored: u64,
    /// The newest interactions, newest first (the feed's first screen, before any query).
    pub feed_head: Vec<InteractionRecord>,
    /// Every collector task that died (panicked or stopped before shutdown), oldest first.
    /// Not empty means the collector no longer does all of its job until it is restarted.
    /// Absent from older collectors' snapshots, hence the default.
    #[serde(default)]
    pub dead_tasks: Vec<TaskDeath>,
}

/// One profile as the tabs show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileSnapshot {
    /// The profile's name in the configuration.
    pub name: String,
    /// Its tenant (id or domain, as configured).
    pub tenant: String,
    /// Its application (client) id.
    pub client_id: String,
    /// The latest verdict: the facts gathered and the diagnosis drawn from them. `None`
    /// until the first diagnosis round (seconds after start).
    pub verdict: Option<ProfileVerdict>,
    /// Its subscriptions with their delivery.
    pub subscriptions: Vec<SubscriptionRow>,
    /// Findings that started or ended recently, newest first: the next shift's answer to
    /// "since when".
    pub findings_history: Vec<FindingRecord>,
    /// Recent keeper, lifecycle and poll events, newest first.
    pub recent_events: Vec<Event>,
}

/// One subscription with how its notifications fared (over the diagnosis window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionRow {
    /// Graph's subscription id.
    pub id: String,
    /// The resource it watches.
    pub resource: String,
    /// When Graph will delete it unless renewed.
    pub expires_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The last successful renewal.
    pub last_renewed_at: Option<DateTime<Utc>>,
    /// When the keeper plans to renew it next.
    pub next_renewal_at: Option<DateTime<Utc>>,
    /// The lifecycle notification URL, if it has one.
    pub lifecycle_url: Option<String>,
    /// Whether notifications carry the resource data (rich notifications).
    pub rich: bool,
    /// The encryption certificate's id.
    pub certificate_id: Option<String>,
    /// When that certificate expires.
    pub certificate_expires_at: Option<DateTime<Utc>>,
    /// The last lifecycle event for it (`reauthorizationRequired`, …) and when.
    pub last_lifecycle: Option<(DateTime<Utc>, String)>,
    /// When its creation handshake last succeeded.
    pub last_handshake_at: Option<DateTime<Utc>>,
    /// Notifications received in the window.
    pub received: u64,
    /// Share of them that carried `validationTokens` (0.0–1.0); `None` when none arrived.
    pub tokens_present_share: Option<f64>,
    /// Decryption failures in the window.
    pub decrypt_failures: u64,
    /// `clientState` mismatches in the window.
    pub client_state_mismatches: u64,
    /// 95th percentile of our acknowledgement time, seconds.
    pub ack_p95_seconds: Option<f64>,
}
