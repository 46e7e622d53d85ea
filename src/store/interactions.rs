//! The interaction feed, deduplicated by Graph's id: `interactions` maps id → record, and
//! `interactions-by-created` holds `created_at ++ id` keys for time-ordered reads and
//! retention. Both, and the count kept in `meta`, change together in one transaction, so a
//! crash never leaves a record unindexed or the count wrong.
//!
//! Views read the feed newest first with [`Interactions::visit_newest_first`]: a reverse scan
//! of the index from a position, bounded in entries examined, so a page under a rare filter
//! costs the same however large the store grows.
//!
//! Depends on sled and the records only.

use std::ops::ControlFlow;
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

/// A place in the creation index: an interaction's `created_at` and id. Index order is time
/// order, ties broken by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPosition {
    /// `createdDateTime`.
    pub created_at: DateTime<Utc>,
    /// Graph's id.
    pub id: String,
}

/// How a [`Interactions::visit_newest_first`] scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanEnd {
    /// Index entries examined (each one read and handed to the visitor).
    pub examined: u64,
    /// The last entry examined, when the scan stopped before the oldest interaction (the
    /// visitor said stop, or `max_examined` was reached): the next scan starts just older
    /// than it. `None` when the scan reached the oldest interaction.
    pub resume: Option<IndexPosition>,
}

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

    /// Stores every record of `records` whose id is not stored yet, in one transaction (all or
    /// none); returns how many were new. For bulk loads, where a transaction per record would
    /// dominate; a record with an empty id refuses the whole batch.
    pub fn insert_all_if_absent(&self, records: &[InteractionRecord]) -> Result<u64, StoreError> {
        let mut encoded = Vec::with_capacity(records.len());
        for record in records {
            if record.id.is_empty() {
                return Err(StoreError::Encode {
                    what: "interaction",
                    reason: "the id is empty".into(),
                });
            }
            let value = encode("interaction", record)?;
            let index = keys::time_then(record.created_at, record.id.as_bytes())?;
            encoded.push((record.id.as_bytes(), value, index));
        }
        let trees = &self.inner.trees;
        (
            &trees.interactions,
            &trees.interactions_by_created,
            &trees.meta,
        )
            .transaction(|(by_id, by_created, meta)| {
                let mut added = 0_i64;
                for (id, value, index) in &encoded {
                    if by_id.get(id)?.is_some() {
                        continue;
                    }
                    by_id.insert(*id, value.as_slice())?;
                    by_created.insert(index.as_slice(), &[])?;
                    added += 1;
                }
                adjust_count(meta, added)?;
                Ok(u64::try_from(added).unwrap_or(0))
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

    /// Hands interactions to `visit` newest first (ties on `created_at` by descending id),
    /// starting just older than `before` (or at the newest), until `visit` breaks, at most
    /// `max_examined` entries have been examined, or the oldest is reached. Nothing is
    /// collected here: the visitor keeps what it needs.
    pub fn visit_newest_first(
        &self,
        before: Option<&IndexPosition>,
        max_examined: u64,
        mut visit: impl FnMut(&InteractionRecord) -> ControlFlow<()>,
    ) -> Result<ScanEnd, StoreError> {
        let index = &self.inner.trees.interactions_by_created;
        let mut entries = match before {
            Some(position) => {
                let mut bound = keys::time_bound(position.created_at).to_vec();
                bound.extend_from_slice(position.id.as_bytes());
                index.range(..bound).rev()
            }
            None => index.iter().rev(),
        };
        let mut end = ScanEnd {
            examined: 0,
            resume: before.cloned(),
        };
        while end.examined < max_examined {
            let Some(entry) = entries.next() else {
                end.resume = None;
                return Ok(end);
            };
            let (key, _) = entry?;
            let (position, record) = self.resolve_one(&key)?;
            end.examined += 1;
            end.resume = Some(position);
            if visit(&record).is_break() {
                break;
            }
        }
        // The bound or the visitor stopped the scan: say there is more only if there is.
        if entries.next().transpose()?.is_none() {
            end.resume = None;
        }
        Ok(end)
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

    fn resolve_one(&self, key: &[u8]) -> Result<(IndexPosition, InteractionRecord), StoreError> {
        let corrupt = |what: &str| StoreError::corrupt(TREE, what.to_owned());
        let created_at = keys::time_of(key).ok_or_else(|| corrupt("an index key is too short"))?;
        let id = key
            .get(TIME_LEN..)
            .ok_or_else(|| corrupt("an index key is too short"))?;
        let bytes = self
            .inner
            .trees
            .interactions
            .get(id)?
            .ok_or_else(|| corrupt("an index entry has no interaction"))?;
        let id = String::from_utf8(id.to_vec())
            .map_err(|_| corrupt("an index key's id is not UTF-8"))?;
        let position = IndexPosition { created_at, id };
        Ok((position, decode(TREE, &bytes)?))
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
