//! What the receiver needs from durable storage, as one trait: the inbox of raw POST bodies
//! (put, durable commit, pending, remove), the subscription registry's `clientState`s, and
//! somewhere to write what processing concluded (notification records, latency samples,
//! interactions, lifecycle events).
//!
//! The collector's sled `Store` implements it (see the issue-4 contract); tests implement it in
//! memory, including stores whose commit fails. Keeping the receiver behind this seam is what
//! lets it be tested without the store and lets the ack path be proven to wait for the commit.
//!
//! Depends on `verdict` and the wire model only.

use std::future::Future;

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::verdict::NotificationRecord;
use crate::graph::model::{AiInteraction, LifecycleEvent};

/// Which endpoint a POST arrived on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Change notifications.
    Notification,
    /// Lifecycle notifications.
    Lifecycle,
}

/// A raw POST body waiting in the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingBatch {
    /// Inbox id (ascending in arrival order).
    pub id: u64,
    /// The profile whose endpoint received it.
    pub profile: String,
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The body as received.
    pub body: Vec<u8>,
}

/// A lifecycle notification that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleEntry {
    /// When it was processed.
    pub at: DateTime<Utc>,
    /// The profile.
    pub profile: String,
    /// The subscription it concerns.
    pub subscription_id: String,
    /// What happened.
    pub event: LifecycleEvent,
    /// A sentence for the event log.
    pub message: String,
}

/// Durable storage as the receiver uses it.
pub trait Ledger: Send + Sync + 'static {
    /// The storage's error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Adds a raw body to the inbox (durable only after [`Ledger::commit`]).
    fn put(
        &self,
        profile: &str,
        endpoint: Endpoint,
        received_at: DateTime<Utc>,
        body: &[u8],
    ) -> Result<u64, Self::Error>;

    /// Makes every write made before the call durable.
    fn commit(&self) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Up to `limit` inbox entries, oldest first.
    fn pending(&self, limit: usize) -> Result<Vec<PendingBatch>, Self::Error>;

    /// Removes a processed inbox entry.
    fn remove(&self, id: u64) -> Result<(), Self::Error>;

    /// The `clientState` pilotwatch gave the subscription; `None` when it is not ours.
    fn client_state(&self, subscription_id: &str) -> Result<Option<SecretString>, Self::Error>;

    /// Stores an authentic interaction unless one with its id is there; true when new.
    fn insert_interaction(
        &self,
        profile: &str,
        interaction: &AiInteraction,
        seen_at: DateTime<Utc>,
    ) -> Result<bool, Self::Error>;

    /// Adds a latency sample (`received − createdDateTime`) at `at`.
    fn record_latency(&self, at: DateTime<Utc>, latency_ms: u64) -> Result<(), Self::Error>;

    /// Appends a notification record.
    fn append_notification(&self, record: &NotificationRecord) -> Result<(), Self::Error>;

    /// Appends a lifecycle event to the event log.
    fn append_lifecycle(&self, entry: &LifecycleEntry) -> Result<(), Self::Error>;
}
