//! The event log: keeper actions, lifecycle events, poll runs and the audit trail, append-only
//! and keyed `at ++ sequence` so that it reads back in time order.
//!
//! Depends on sled and the records only.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::Inner;
use super::codec::{decode, encode};
use super::error::StoreError;
use super::keys;
use super::records::Event;

const TREE: &str = "events";

/// Handle on the event log.
#[derive(Debug, Clone)]
pub struct EventLog {
    inner: Arc<Inner>,
}

impl EventLog {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Appends an event; returns its sequence number.
    pub fn append(&self, event: &Event) -> Result<u64, StoreError> {
        let sequence = self.inner.db.generate_id()?;
        let key = keys::time_sequence(event.at, sequence)?;
        self.inner
            .trees
            .events
            .insert(key, encode("event", event)?)?;
        Ok(sequence)
    }

    /// The `limit` latest events, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.inner
            .trees
            .events
            .iter()
            .rev()
            .take(limit)
            .map(|entry| decode(TREE, &entry?.1))
            .collect()
    }

    /// Events at or after `at`, oldest first, at most `limit`.
    pub fn since(&self, at: DateTime<Utc>, limit: usize) -> Result<Vec<Event>, StoreError> {
        self.inner
            .trees
            .events
            .range(keys::time_bound(at)..)
            .take(limit)
            .map(|entry| decode(TREE, &entry?.1))
            .collect()
    }
}
