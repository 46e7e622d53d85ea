//! The interaction feed, deduplicated by Graph's id: `interactions` maps id → record, and
//! `interactions-by-created` holds `created_at ++ id` keys for time-ordered reads and
//! retention. Both, and the count kept in `meta`, change together in one transaction, so a
//! crash never leaves a record unindexed or the count wrong.
//!
//! Depends on sled and the records only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sled::Transactional as _;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use super::Inner;
use super::codec::{decode, encode};
use super::error::StoreError;
use super::keys::{self, TIME_LEN};
use super::records::InteractionRecord;

const TREE: &str = "interactions";
/// Key of the interaction count in `meta`.
const COUNT_KEY: &[u8] = b"interaction-count";

/// Handle on the interaction feed.
#[derive(Debug, Clone)]
pub struct Interactions {
    inner: Arc<Inner>,
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl Interactions {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Stores `record` unless an interaction with its id is already stored. Returns true when
    /// it was new; a duplicate changes nothing (the first copy is kept).
    pub fn insert_if_absent(&self, record: &InteractionRecord) -> Result<bool, StoreError> {
        if record.id.is_empty() {
            return Err(StoreError::Encode {
                what: "interaction",
                reason: "the id is empty".into(),
            });
        }
        let value = encode("interaction", record)?;
        let index = keys::time_then(record.created_at, record.id.as_bytes())?;
        let trees = &self.inner.trees;
        (
            &trees.interactions,
            &trees.interactions_by_created,
            &trees.meta,
        )
            .transaction(|(by_id, by_created, meta)| {
                if by_id.get(record.id.as_bytes())?.is_some() {
                    return Ok(false);
                }
                by_id.insert(record.id.as_bytes(), value.as_slice())?;
                by_created.insert(index.as_slice(), &[])?;
                adjust_count(meta, 1)?;
                Ok(true)
            })
            .map_err(from_transaction)
    }

    /// The interaction with this id.
    pub fn get(&self, id: &str) -> Result<Option<InteractionRecord>, StoreError> {
        self.inner
            .trees
            .interactions
            .get(id.as_bytes())?
            .map(|bytes| decode(TREE, &bytes))
            .transpose()
    }

    /// The `limit` most recently created interactions, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<InteractionRecord>, StoreError> {
        let index = self.inner.trees.interactions_by_created.iter().rev();
        self.resolve(index.take(limit))
    }

    /// The interaction created first among those held (what retention removes next).
    pub fn oldest(&self) -> Result<Option<InteractionRecord>, StoreError> {
        let index = self.inner.trees.interactions_by_created.iter().take(1);
        Ok(self.resolve(index)?.into_iter().next())
    }

    /// Interactions created in `[from, to)`, oldest first.
    pub fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<InteractionRecord>, StoreError> {
        let index = self
            .inner
            .trees
            .interactions_by_created
            .range(keys::time_bound(from)..keys::time_bound(to));
        self.resolve(index)
    }

    /// Number of stored interactions.
    pub fn count(&self) -> Result<u64, StoreError> {
        Ok(self
            .inner
            .trees
            .meta
            .get(COUNT_KEY)?
            .map_or(0, |bytes| count_value(&bytes)))
    }

    /// Removes the interactions behind these index keys (retention). Returns how many went.
    pub(super) fn remove_indexed(&self, index_keys: &[sled::IVec]) -> Result<u64, StoreError> {
        let trees = &self.inner.trees;
        (
            &trees.interactions,
            &trees.interactions_by_created,
            &trees.meta,
        )
            .transaction(|(by_id, by_created, meta)| {
                let mut removed = 0;
                for key in index_keys {
                    if by_created.remove(key)?.is_none() {
                        continue;
                    }
                    if let Some(id) = key.get(TIME_LEN..)
                        && by_id.remove(id)?.is_some()
                    {
                        removed += 1;
                    }
                }
                adjust_count(meta, -removed)?;
                Ok(u64::try_from(removed).unwrap_or(0))
            })
            .map_err(from_transaction)
    }

    fn resolve(
        &self,
        index: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    ) -> Result<Vec<InteractionRecord>, StoreError> {
        let by_id = &self.inner.trees.interactions;
        let mut records = Vec::new();
        for entry in index {
            let (key, _) = entry?;
            let id = key
                .get(TIME_LEN..)
                .ok_or_else(|| StoreError::corrupt(TREE, "an index key is too short"))?;
            let bytes = by_id
                .get(id)?
                .ok_or_else(|| StoreError::corrupt(TREE, "an index entry has no interaction"))?;
            records.push(decode(TREE, &bytes)?);
        }
        Ok(records)
    }
}

fn adjust_count(meta: &TransactionalTree, delta: i64) -> TxResult<()> {
    let current = meta.get(COUNT_KEY)?.map_or(0, |bytes| count_value(&bytes));
    let next = current.saturating_add_signed(delta);
    meta.insert(COUNT_KEY, &next.to_be_bytes())?;
    Ok(())
}

fn count_value(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

fn from_transaction(error: TransactionError<StoreError>) -> StoreError {
    match error {
        TransactionError::Abort(error) => error,
        TransactionError::Storage(error) => StoreError::Sled(error),
    }
}
