//! A raw notification POST as the receiver persisted it before answering 202.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which receiver endpoint a POST arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endpoint {
    /// The `notificationUrl`: change notifications.
    Notification,
    /// The `lifecycleNotificationUrl`: lifecycle events.
    Lifecycle,
}

/// One POST body waiting in the inbox to be verified and processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawBatch {
    /// Inbox id: increasing in arrival order, unique across restarts.
    pub id: u64,
    /// The profile whose endpoint received it.
    pub profile: String,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// When the request was received (the collector's clock).
    pub received_at: DateTime<Utc>,
    /// The body exactly as received.
    pub body: Vec<u8>,
}
