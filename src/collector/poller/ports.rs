//! What the poller needs from the store, as one small trait: de-duplicating inserts, lookups by
//! id (to tell what notifications delivered), the event log, and when the last notification
//! was accepted (where the collector's downtime began). The real `Store` implements
//! it in `collector::ports`; tests may implement it in memory to inject failures. Depends on
//! the store's record types and error only.

use chrono::{DateTime, Utc};

use crate::store::StoreError;
use crate::store::records::{Event, InteractionRecord};

/// The poller's view of the store.
pub trait PollerStore: Send + Sync + 'static {
    /// Inserts `record` unless an interaction with its id is stored; true when inserted.
    fn insert_if_absent(&self, record: &InteractionRecord) -> Result<bool, StoreError>;

    /// The stored interaction with this id.
    fn interaction(&self, id: &str) -> Result<Option<InteractionRecord>, StoreError>;

    /// Appends to the event log; returns the event's sequence number.
    fn append_event(&self, event: &Event) -> Result<u64, StoreError>;

    /// When `profile` last received a notification that entered the feed, if ever.
    fn last_accepted_at(&self, profile: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
}
