//! What the receiver needs from durable storage, as one trait: the inbox of raw POST bodies
//! (put, durable commit, pending, remove), the subscription registry's `clientState`s, and
//! somewhere to write what processing concluded (notification records, latency samples,
//! interactions, lifecycle events).
//!
//! The collector adapts its sled `Store` to it (`collector::ports::ProfileLedger`); tests
//! implement it in memory, including stores whose commit fails or is slow. Keeping the receiver
//! behind this seam is what lets the ack path be proven to wait for the commit.
//!
//! Depends on the store's record types and the wire model only — never on the store itself.

use std::future::Future;

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use crate::graph::model::AiInteraction;
use crate::store::records::{Endpoint, Event, InteractionRecord, NotificationRecord, RawBatch};

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

    /// Up to `limit` inbox entries with an id above `after` (all when `None`), oldest first.
    /// The processor pages with `after` past entries it holds back for a retry.
    fn pending(&self, after: Option<u64>, limit: usize) -> Result<Vec<RawBatch>, Self::Error>;

    /// Removes a processed inbox entry.
    fn remove(&self, id: u64) -> Result<(), Self::Error>;

    /// The `clientState` pilotwatch gave the subscription; `None` when it is not ours (or no
    /// longer active).
    fn client_state(&self, subscription_id: &str) -> Result<Option<SecretString>, Self::Error>;

    /// Stores an authentic interaction (as the privacy-minimal projection the profile asks
    /// for) unless one with its id is there; returns the stored record when it is new.
    fn insert_interaction(
        &self,
        profile: &str,
        interaction: &AiInteraction,
        seen_at: DateTime<Utc>,
    ) -> Result<Option<InteractionRecord>, Self::Error>;

    /// Adds a latency sample (`received − createdDateTime`) at `at`.
    fn record_latency(&self, at: DateTime<Utc>, latency_ms: u64) -> Result<(), Self::Error>;

    /// Appends a notification record.
    fn append_notification(&self, record: &NotificationRecord) -> Result<(), Self::Error>;

    /// Appends an authentic lifecycle event (an [`Event`] of kind `Lifecycle`) to the event log.
    fn append_lifecycle(&self, event: &Event) -> Result<(), Self::Error>;
}
