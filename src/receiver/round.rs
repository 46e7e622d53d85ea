//! Writing one round of judged inbox entries: in inbox order, each entry's records, its new
//! interactions (insert-if-absent, so of two entries carrying the same interaction the older
//! one is the first delivery and the other says `duplicate`), its lifecycle events, then its
//! removal from the inbox. An entry whose writes fail is reported and the others go on; the
//! caller commits once for the whole round and only then lets anything out.
//!
//! Depends on `batch`, `ledger` and the store's record types; no async, no clock (the
//! processing time is in each entry).

use chrono::{DateTime, Utc};

use super::LifecycleSignal;
use super::batch::{self, JudgedChanges, Screened};
use super::ledger::Ledger;
use super::processor::ProcessedBatch;
use crate::store::records::{NotificationRecord, RawBatch};

/// One inbox entry, judged and ready to be written.
pub(crate) struct Judged {
    /// The entry.
    pub(crate) batch: RawBatch,
    /// The record every record of the entry starts from.
    pub(crate) base: NotificationRecord,
    /// What judging concluded.
    pub(crate) verdict: Verdict,
}

/// What judging concluded, by endpoint.
pub(crate) enum Verdict {
    /// A change-notification batch, every item judged.
    Changes(JudgedChanges),
    /// A lifecycle batch: screening is all the judging it needs; its events are dated `now`.
    Lifecycle {
        /// The screened batch.
        screened: Screened,
        /// When it was processed.
        now: DateTime<Utc>,
    },
}

/// What writing one entry produced, to let out once the round is committed.
pub(crate) struct Written {
    /// The entry's records and new interactions.
    pub(crate) produced: ProcessedBatch,
    /// The signals for the keeper.
    pub(crate) signals: Vec<LifecycleSignal>,
}

/// Writes `round` in order; one outcome per entry, in the same order, with its inbox id.
pub(crate) fn write_round<L: Ledger>(
    ledger: &L,
    round: Vec<Judged>,
) -> Vec<(u64, Result<Written, L::Error>)> {
    round
        .into_iter()
        .map(|judged| (judged.batch.id, write_entry(ledger, judged)))
        .collect()
}

fn write_entry<L: Ledger>(ledger: &L, judged: Judged) -> Result<Written, L::Error> {
    let Judged {
        batch,
        base,
        verdict,
    } = judged;
    let mut produced = ProcessedBatch {
        batch_id: batch.id,
        profile: batch.profile.clone(),
        endpoint: batch.endpoint,
        notifications: Vec::new(),
        interactions: Vec::new(),
    };
    let signals = match verdict {
        Verdict::Changes(changes) => {
            batch::write_changes(ledger, &batch, &base, changes, &mut produced)?;
            Vec::new()
        }
        Verdict::Lifecycle { screened, now } => {
            batch::write_lifecycle(ledger, &batch, &base, screened, now, &mut produced)?
        }
    };
    Ok(Written { produced, signals })
}
