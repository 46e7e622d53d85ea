//! The inbox: raw notification POST bodies, written before the receiver answers 202 and
//! removed once processed. Whatever a crash leaves here is processed at the next start.
//!
//! An entry that cannot be decoded (a torn or foreign write) is moved to the `inbox-quarantine`
//! tree, bytes intact, the first time a reader meets it: it is never processed, and never blocks
//! the entries behind it.
//!
//! Keys are sled-generated ids (big-endian), increasing in arrival order and unique across
//! restarts. Values are a small binary header and the body, because this is the hot path and a
//! body must not be re-encoded: `version u8, endpoint u8, received_at (keys::time), profile
//! length u16, profile, body`.
//!
//! Depends on sled and the records only.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use sled::Transactional as _;
use sled::transaction::{ConflictableTransactionError, TransactionError};

use super::Inner;
use super::error::StoreError;
use super::keys::{self, TIME_LEN};
use super::records::{Endpoint, RawBatch};

const TREE: &str = "inbox";
const FORMAT: u8 = 1;
const HEADER_LEN: usize = 2 + TIME_LEN + 2;

/// Handle on the inbox tree.
#[derive(Debug, Clone)]
pub struct Inbox {
    inner: Arc<Inner>,
}

impl Inbox {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Stores a POST body; returns its id. Not durable until [`super::Store::commit`].
    pub fn put(
        &self,
        profile: &str,
        endpoint: Endpoint,
        received_at: DateTime<Utc>,
        body: &[u8],
    ) -> Result<u64, StoreError> {
        let profile_len = u16::try_from(profile.len()).map_err(|_| StoreError::Encode {
            what: "inbox entry",
            reason: format!("the profile name is {} bytes long", profile.len()),
        })?;
        let mut value = Vec::with_capacity(HEADER_LEN + profile.len() + body.len());
        value.push(FORMAT);
        value.push(match endpoint {
            Endpoint::Notification => 0,
            Endpoint::Lifecycle => 1,
        });
        value.extend_from_slice(&keys::time(received_at)?);
        value.extend_from_slice(&profile_len.to_be_bytes());
        value.extend_from_slice(profile.as_bytes());
        value.extend_from_slice(body);
        let id = self.inner.db.generate_id()?;
        self.inner.trees.inbox.insert(id.to_be_bytes(), value)?;
        Ok(id)
    }

    /// Up to `limit` batches waiting to be processed, oldest first. An entry that cannot be
    /// decoded is moved to the quarantine (see [`Inbox::quarantined`]) instead of hiding every
    /// entry behind it.
    pub fn pending(&self, limit: usize) -> Result<Vec<RawBatch>, StoreError> {
        self.collect(None, None, limit)
    }

    /// Up to `limit` of `profile`'s batches waiting to be processed, oldest first. Each
    /// profile's receiver drains its own, so one profile's backlog never hides another's.
    pub fn pending_for(&self, profile: &str, limit: usize) -> Result<Vec<RawBatch>, StoreError> {
        self.collect(Some(profile), None, limit)
    }

    /// Like [`Inbox::pending_for`], but only batches with an id above `after`: how a
    /// processor pages past batches it is holding back for a retry.
    pub fn pending_for_after(
        &self,
        profile: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RawBatch>, StoreError> {
        self.collect(Some(profile), after, limit)
    }

    fn collect(
        &self,
        profile: Option<&str>,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<RawBatch>, StoreError> {
        let inbox = &self.inner.trees.inbox;
        let entries = match after {
            Some(after) => match after.checked_add(1) {
                Some(first) => inbox.range(first.to_be_bytes()..),
                None => return Ok(Vec::new()),
            },
            None => inbox.iter(),
        };
        let mut batches = Vec::new();
        for entry in entries {
            if batches.len() >= limit {
                break;
            }
            let (key, value) = entry?;
            // Another profile's entry is its receiver's to process (or quarantine).
            let others = profile.is_some_and(|profile| {
                profile_of(&value).is_some_and(|owner| owner != profile.as_bytes())
            });
            if others {
                continue;
            }
            match decode(&key, &value) {
                Ok(batch) => batches.push(batch),
                Err(error) => self.quarantine(&key, &value, &error)?,
            }
        }
        Ok(batches)
    }

    /// Moves an undecodable entry out of the way, in one transaction, keeping its bytes.
    fn quarantine(&self, key: &[u8], value: &[u8], why: &StoreError) -> Result<(), StoreError> {
        let trees = &self.inner.trees;
        (&trees.inbox, &trees.inbox_quarantine)
            .transaction(|(inbox, quarantine)| {
                quarantine.insert(key, value)?;
                inbox.remove(key)?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(|error| match error {
                TransactionError::Abort(error) => error,
                TransactionError::Storage(error) => StoreError::Sled(error),
            })?;
        tracing::error!(target: "pilotwatch::store", error = %why, "an inbox entry cannot be decoded; moved to the inbox-quarantine tree");
        Ok(())
    }

    /// Number of undecodable entries moved out of the inbox (counts them: O(n)).
    pub fn quarantined(&self) -> usize {
        self.inner.trees.inbox_quarantine.len()
    }

    /// Forgets a processed batch. Removing an id that is not there is not an error.
    pub fn remove(&self, id: u64) -> Result<(), StoreError> {
        self.inner.trees.inbox.remove(id.to_be_bytes())?;
        Ok(())
    }

    /// Number of batches waiting (counts them: O(n)).
    pub fn len(&self) -> usize {
        self.inner.trees.inbox.len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.inner.trees.inbox.is_empty()
    }
}

/// The profile bytes of an entry, without copying its body; `None` when the entry is too
/// short (then [`decode`] says what is wrong with it).
fn profile_of(value: &[u8]) -> Option<&[u8]> {
    let len_at = HEADER_LEN - 2;
    let len = u16::from_be_bytes([*value.get(len_at)?, *value.get(len_at + 1)?]);
    value.get(HEADER_LEN..HEADER_LEN + usize::from(len))
}

fn decode(key: &[u8], value: &[u8]) -> Result<RawBatch, StoreError> {
    let bad = |reason: &str| StoreError::corrupt(TREE, reason);
    let id = u64::from_be_bytes(key.try_into().map_err(|_| bad("a key is not 8 bytes"))?);
    let (header, rest) = value
        .split_at_checked(HEADER_LEN)
        .ok_or_else(|| bad("an entry is shorter than its header"))?;
    let [format, endpoint, received_at @ .., len_high, len_low]: [u8; HEADER_LEN] = header
        .try_into()
        .map_err(|_| bad("an entry is shorter than its header"))?;
    if format != FORMAT {
        return Err(bad("an entry has an unknown format"));
    }
    let endpoint = match endpoint {
        0 => Endpoint::Notification,
        1 => Endpoint::Lifecycle,
        _ => return Err(bad("an entry names an unknown endpoint")),
    };
    let received_at = keys::time_of(&received_at).ok_or_else(|| bad("an entry has no time"))?;
    let (profile, body) = rest
        .split_at_checked(usize::from(u16::from_be_bytes([len_high, len_low])))
        .ok_or_else(|| bad("an entry's profile is truncated"))?;
    let profile =
        std::str::from_utf8(profile).map_err(|_| bad("an entry's profile is not UTF-8"))?;
    Ok(RawBatch {
        id,
        profile: profile.to_owned(),
        endpoint,
        received_at,
        body: body.to_vec(),
    })
}
