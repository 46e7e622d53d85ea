//! The notification log: one record per notification item (or per group of items refused
//! together, see [`NotificationRecord::items`]), keyed `received_at ++ sequence`,
//! plus the `rejections` tree of per-minute counters by [`RejectReason`] so that "how many were
//! rejected, and why, since T" never scans the log. A rejected record and its counter are
//! written in one transaction. Each profile's latest accepted `received_at` is kept in `meta`
//! so "when did this profile last get a genuine notification" never scans either.
//!
//! Depends on sled and the records only.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use sled::Transactional as _;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::Inner;
use super::codec::{decode, encode};
use super::error::StoreError;
use super::keys::{self, TIME_LEN};
use super::records::{NotificationRecord, RejectReason};

const TREE: &str = "notifications";
const REJECTIONS: &str = "rejections";

/// Prefix of the per-profile "latest accepted notification" keys in `meta`.
const LAST_ACCEPTED_PREFIX: &[u8] = b"last-accepted-notification/";

/// Handle on the notification log.
#[derive(Debug, Clone)]
pub struct NotificationLog {
    inner: Arc<Inner>,
}

impl NotificationLog {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Appends a record; returns its sequence number.
    pub fn append(&self, record: &NotificationRecord) -> Result<u64, StoreError> {
        let sequence = self.inner.db.generate_id()?;
        let key = keys::time_sequence(record.received_at, sequence)?;
        let value = encode("notification record", record)?;
        let trees = &self.inner.trees;
        let Some(reason) = record.rejected else {
            trees.notifications.insert(key, value)?;
            if record.accepted {
                self.note_accepted(&record.profile, record.received_at)?;
            }
            return Ok(sequence);
        };
        let counter = rejection_key(record.received_at, reason)?;
        (&trees.notifications, &trees.rejections)
            .transaction(|(log, counters)| {
                log.insert(&key, value.as_slice())?;
                let count = counters
                    .get(counter)?
                    .map_or(0, |bytes| counter_value(&bytes));
                let total = count.saturating_add(u64::from(record.items.max(1)));
                counters.insert(&counter, &total.to_be_bytes())?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|error| match error {
                TransactionError::Abort(error) => error,
                TransactionError::Storage(error) => StoreError::Sled(error),
            })?;
        Ok(sequence)
    }

    /// The `limit` most recently received records, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<NotificationRecord>, StoreError> {
        self.inner
            .trees
            .notifications
            .iter()
            .rev()
            .take(limit)
            .map(|entry| decode(TREE, &entry?.1))
            .collect()
    }

    /// Records received in `[from, to)`, oldest first, at most `limit`.
    pub fn between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        self.inner
            .trees
            .notifications
            .range(keys::time_bound(from)..keys::time_bound(to))
            .take(limit)
            .map(|entry| decode(TREE, &entry?.1))
            .collect()
    }

    /// Hands the records received in `[from, to)` to `visit`, oldest first, at most `limit` of
    /// them; returns how many were visited. Nothing is collected: a day of notifications is
    /// summarised without holding it in memory.
    pub fn visit_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        mut visit: impl FnMut(&NotificationRecord),
    ) -> Result<usize, StoreError> {
        let range = keys::time_bound(from)..keys::time_bound(to);
        let mut visited = 0;
        for entry in self.inner.trees.notifications.range(range).take(limit) {
            visit(&decode(TREE, &entry?.1)?);
            visited += 1;
        }
        Ok(visited)
    }

    /// When `profile` last received a notification that entered the feed (its `received_at`),
    /// if ever. Forgeries and rejected items do not count: they must not move the start of a
    /// gap backfill forward.
    pub fn last_accepted_at(&self, profile: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let Some(bytes) = self.inner.trees.meta.get(last_accepted_key(profile))? else {
            return Ok(None);
        };
        keys::time_of(&bytes)
            .map(Some)
            .ok_or_else(|| StoreError::corrupt("meta", "a last-notification time is not 8 bytes"))
    }

    /// Raises the profile's latest accepted time to `at`. Written after the record and not in
    /// its transaction: a crash in between leaves the time older than the log, which only
    /// makes a later gap backfill start earlier.
    fn note_accepted(&self, profile: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let encoded = keys::time(at)?;
        self.inner.trees.meta.fetch_and_update(
            last_accepted_key(profile),
            |current| match current {
                Some(current) if current >= encoded.as_slice() => Some(current.to_vec()),
                _ => Some(encoded.to_vec()),
            },
        )?;
        Ok(())
    }

    /// Rejected items by reason, received since the start of the minute holding `since`.
    /// Reasons with no rejection are absent.
    pub fn rejected_counts(
        &self,
        since: DateTime<Utc>,
    ) -> Result<BTreeMap<RejectReason, u64>, StoreError> {
        let mut counts = BTreeMap::new();
        let start = keys::time_bound(keys::minute_floor(since));
        for entry in self.inner.trees.rejections.range(start..) {
            let (key, value) = entry?;
            let reason = key
                .get(TIME_LEN)
                .and_then(|index| RejectReason::ALL.get(usize::from(*index)))
                .ok_or_else(|| StoreError::corrupt(REJECTIONS, "a counter names no reason"))?;
            *counts.entry(*reason).or_insert(0) += counter_value(&value);
        }
        Ok(counts)
    }
}

fn last_accepted_key(profile: &str) -> Vec<u8> {
    [LAST_ACCEPTED_PREFIX, profile.as_bytes()].concat()
}

fn rejection_key(
    at: DateTime<Utc>,
    reason: RejectReason,
) -> Result<[u8; TIME_LEN + 1], StoreError> {
    let index = RejectReason::ALL
        .iter()
        .position(|known| *known == reason)
        .and_then(|index| u8::try_from(index).ok())
        .unwrap_or(u8::MAX);
    let mut key = [0; TIME_LEN + 1];
    key[..TIME_LEN].copy_from_slice(&keys::time(keys::minute_floor(at))?);
    key[TIME_LEN] = index;
    Ok(key)
}

fn counter_value(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}
