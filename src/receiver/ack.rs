//! Which inbox entries the HTTP side has acknowledged, and when: the processor must neither
//! process an entry whose commit (and 202) is still under way — sled shows a write before it is
//! durable — nor guess its acknowledgement time. The HTTP side registers an entry as in flight
//! while it stores it, then marks it acknowledged (or drops the registration when the commit
//! failed or the request was abandoned); the processor looks an entry up, skips it while in
//! flight, and forgets it once processed. Every change wakes the processor.
//!
//! The acknowledgement's duration is kept as measured on a monotonic timer: Graph judges our
//! response time in real time, while the collector's clock runs faster under the simulator.
//!
//! The book holds at most one entry per inbox entry not yet processed, so it cannot grow
//! without the inbox growing. Depends on tokio's `Notify` and chrono only.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

/// What the book knows of an inbox entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AckStatus {
    /// Stored, but its commit and 202 are still under way: not to be processed yet.
    InFlight,
    /// Acknowledged.
    Acked(Acked),
    /// Never seen by this run (left by a previous one), or its commit failed (no 202 was
    /// sent; Graph will retry): the acknowledgement time is unknown.
    Unknown,
}

/// When an entry was acknowledged, and how long the request took until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Acked {
    /// The 202's time by the collector's clock.
    pub(crate) at: DateTime<Utc>,
    /// Reception to 202 in real milliseconds; `None` when this run did not acknowledge it.
    pub(crate) took_ms: Option<u32>,
}

impl Acked {
    /// An entry this run did not acknowledge: its reception time stands in, its duration is
    /// unknown.
    pub(crate) fn unmeasured(at: DateTime<Utc>) -> Self {
        Self { at, took_ms: None }
    }
}

#[derive(Debug, Default)]
pub(crate) struct AckBook {
    entries: Mutex<HashMap<u64, Option<Acked>>>,
    changed: Notify,
}

impl AckBook {
    fn entries(&self) -> MutexGuard<'_, HashMap<u64, Option<Acked>>> {
        // The map stays consistent even if a holder panicked: every update is one call.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `put` (which stores the entry and returns its id) and registers the entry as in
    /// flight before anyone can look it up: the lookup waits for the same lock.
    pub(crate) fn store<E>(&self, put: impl FnOnce() -> Result<u64, E>) -> Result<InFlight<'_>, E> {
        let mut entries = self.entries();
        let id = put()?;
        entries.insert(id, None);
        Ok(InFlight {
            book: self,
            id: Some(id),
        })
    }

    /// What is known of entry `id`.
    pub(crate) fn status(&self, id: u64) -> AckStatus {
        match self.entries().get(&id) {
            None => AckStatus::Unknown,
            Some(None) => AckStatus::InFlight,
            Some(Some(at)) => AckStatus::Acked(*at),
        }
    }

    /// Entry `id` is processed: nothing more to know of it.
    pub(crate) fn forget(&self, id: u64) {
        self.entries().remove(&id);
    }

    /// Resolves after the next change (one pending change is remembered).
    pub(crate) async fn changed(&self) {
        self.changed.notified().await;
    }

    fn settle(&self, id: u64, at: Option<Acked>) {
        {
            let mut entries = self.entries();
            match at {
                Some(at) => entries.insert(id, Some(at)),
                None => entries.remove(&id),
            };
        }
        self.changed.notify_one();
    }
}

/// An entry being stored; dropping it without [`InFlight::acked`] (a failed commit, an
/// abandoned request) lets the processor take it, with an unknown acknowledgement time.
#[derive(Debug)]
pub(crate) struct InFlight<'a> {
    book: &'a AckBook,
    id: Option<u64>,
}

impl InFlight<'_> {
    /// The 202 is being sent at `at`, `took` after the request arrived (real time).
    pub(crate) fn acked(mut self, at: DateTime<Utc>, took: std::time::Duration) {
        if let Some(id) = self.id.take() {
            let took_ms = Some(u32::try_from(took.as_millis()).unwrap_or(u32::MAX));
            self.book.settle(id, Some(Acked { at, took_ms }));
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            self.book.settle(id, None);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn an_entry_is_held_back_until_acknowledged_and_then_carries_the_real_time() {
        let book = AckBook::default();
        let at: DateTime<Utc> = "2026-11-22T08:00:03Z".parse().unwrap();
        let stored = book.store(|| Ok::<_, ()>(7)).unwrap();
        assert_eq!(book.status(7), AckStatus::InFlight);
        stored.acked(at, std::time::Duration::from_millis(12));
        book.changed().await; // the processor is woken
        let acked = Acked {
            at,
            took_ms: Some(12),
        };
        assert_eq!(book.status(7), AckStatus::Acked(acked));
        book.forget(7);
        assert_eq!(book.status(7), AckStatus::Unknown);
        assert!(book.entries().is_empty(), "nothing is kept once processed");
    }

    #[tokio::test]
    async fn a_failed_or_abandoned_store_is_released_and_a_failed_put_leaves_nothing() {
        let book = AckBook::default();
        drop(book.store(|| Ok::<_, ()>(8)).unwrap());
        book.changed().await;
        assert_eq!(book.status(8), AckStatus::Unknown);
        assert!(book.store(|| Err::<u64, _>("full")).is_err());
        assert!(book.entries().is_empty());
    }
}
