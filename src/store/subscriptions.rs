//! pilotwatch's subscription registry: every subscription it created or adopted, by id. Graph's
//! own list is not trusted (it omits `clientState` and may lag); this is what the keeper renews
//! and what the receiver checks `clientState` against.
//!
//! Depends on sled and the records only.

use std::sync::Arc;

use super::Inner;
use super::codec::{decode, encode};
use super::error::StoreError;
use super::records::{SubscriptionRecord, SubscriptionState};

const TREE: &str = "subscriptions";

/// Handle on the subscription registry.
#[derive(Debug, Clone)]
pub struct SubscriptionRegistry {
    inner: Arc<Inner>,
}

impl SubscriptionRegistry {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Inserts or replaces the record with `record.id`.
    pub fn put(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        if record.id.is_empty() {
            return Err(StoreError::Encode {
                what: "subscription",
                reason: "the id is empty".into(),
            });
        }
        let value = encode("subscription", record)?;
        self.inner
            .trees
            .subscriptions
            .insert(record.id.as_bytes(), value)?;
        Ok(())
    }

    /// The record with this id.
    pub fn get(&self, id: &str) -> Result<Option<SubscriptionRecord>, StoreError> {
        self.inner
            .trees
            .subscriptions
            .get(id.as_bytes())?
            .map(|bytes| decode(TREE, &bytes))
            .transpose()
    }

    /// The profile's subscriptions in state [`SubscriptionState::Active`].
    pub fn active(&self, profile: &str) -> Result<Vec<SubscriptionRecord>, StoreError> {
        Ok(self
            .all()?
            .into_iter()
            .filter(|record| record.profile == profile && record.state == SubscriptionState::Active)
            .collect())
    }

    /// Every record, by id.
    pub fn all(&self) -> Result<Vec<SubscriptionRecord>, StoreError> {
        self.inner
            .trees
            .subscriptions
            .iter()
            .map(|entry| decode(TREE, &entry?.1))
            .collect()
    }

    /// Forgets a record (retention of long-dead subscriptions).
    pub(super) fn remove(&self, id: &str) -> Result<(), StoreError> {
        self.inner.trees.subscriptions.remove(id.as_bytes())?;
        Ok(())
    }
}
