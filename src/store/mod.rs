//! The collector's durable store: sled 0.34.7, one tree per concern, owned by exactly one
//! collector process.
//!
//! Trees: `inbox` (raw notification POST bodies, persisted before the 202 and removed once
//! processed) with `inbox-quarantine` (entries that could not be decoded, kept for inspection),
//! `notifications` (one record per item, time-ordered) with `rejections` (per-minute
//! counters by reason), `interactions` (the privacy-minimal projection, by id) with
//! `interactions-by-created` (its time index), `latency` (per-minute HDR histograms),
//! `subscriptions` (pilotwatch's own registry), `events` (keeper actions, lifecycle events, poll
//! runs, audit), `findings` (when each profile's findings started and ended) and `meta` (schema version, interaction count, each profile's latest accepted
//! notification time). Keys are big-endian so byte order is time order (see `keys`).
//!
//! # Durability
//!
//! Writes land in sled's in-process buffers. [`Store::commit`] makes every write made before
//! the call durable, with concurrent callers sharing one flush (group commit). What "durable"
//! means is [`StoreOptions::durability`]:
//!
//! - [`Durability::Fsync`] (default): sled's flush, then `fdatasync` of sled's data file and of
//!   any new blob file. When `commit` returns `Ok`, the writes survive a process kill, a kernel
//!   crash and a power loss, provided the device honours cache flushes. The power-loss half is
//!   reasoned from the source, not tested: power cannot be cut here.
//! - [`Durability::Flush`]: sled's flush only, which uses `sync_file_range`, not `fsync`
//!   (reliability-notes §1.2). The writes survive a process kill (tested: `tests/store.rs`
//!   kills a writer ten times and loses nothing committed), but not necessarily a power loss.
//!
//! Measured on the 2-vCPU VM (`benches/store_commit.rs`, 4 KiB inbox bodies, ext4 on a virtual
//! disk, other builds running): one caller's put + commit takes p50 0.15–0.18 ms with `Flush`
//! and 0.32–0.33 ms with `Fsync` (p99 4–5 ms either way); with 16 concurrent callers one flush
//! serves about eight commits and the store takes 8–12k items/s with `Fsync`.
//!
//! Writes never committed are lost on a kill only if sled had not yet written them; its
//! background flusher does so every `flush_every_ms`. Whatever a power loss takes is
//! re-fetched from Graph by the poller: interactions are deduplicated by id.
//!
//! # Ownership and recovery
//!
//! A second open of the directory, from another process or this one, fails with
//! [`StoreError::Locked`]: "another pilotwatch collector (pid N) owns DIR" (see `lock`). A store
//! sled cannot read (corruption, a panic while opening) is renamed to `DIR.corrupt-<time>` and a
//! fresh one started; [`Store::moved_aside`] says so, an audit event records it, and the caller
//! should backfill. A store written by a newer pilotwatch is refused, never moved.
//!
//! This module depends only on sled, hdrhistogram, `graph::model` (for the records),
//! `private_file` (the store marker) and the clock. It does no networking.

mod codec;
mod commit;
mod error;
mod events;
mod findings;
mod inbox;
mod interactions;
mod keys;
mod latency;
mod lock;
mod notifications;
mod open;
pub mod records;
mod retention;
mod schema;
mod subscriptions;
mod sync;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::clock::SharedClock;

pub use commit::CommitStats;
pub use error::StoreError;
pub use events::EventLog;
pub use findings::{FindingChanges, FindingRecord, FindingsHistory, ObservedFinding};
pub use inbox::Inbox;
pub use interactions::{IndexPosition, Interactions, ScanEnd};
pub use latency::LatencyHistograms;
pub use lock::{PID_FILE, pid_file};
pub use notifications::NotificationLog;
pub(crate) use open::panic_text;
pub use records::*;
pub use retention::RetentionReport;
pub use schema::{MARKER_FILE, SCHEMA_VERSION};
pub use subscriptions::SubscriptionRegistry;

use commit::{GroupCommit, Step};
use lock::DirLock;
use sync::DiskSync;

/// How the store is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// sled's page cache. sled's own default is 1 GiB (reliability-notes §1.4).
    pub cache_capacity_bytes: u64,
    /// What retention removes.
    pub retention: Retention,
    /// How often sled's background thread writes and syncs its buffers; `None` disables it
    /// (then only [`Store::commit`] and closing the store write to disk).
    pub flush_every_ms: Option<u64>,
    /// What a successful [`Store::commit`] guarantees (see the module documentation).
    pub durability: Durability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            cache_capacity_bytes: 64 * 1024 * 1024,
            retention: Retention::default(),
            flush_every_ms: Some(500),
            durability: Durability::Fsync,
        }
    }
}

/// What [`Store::apply_retention`] removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Log entries and interactions older than this go (by `received_at`, `at`, `created_at`).
    pub max_age: chrono::Duration,
    /// Beyond this many interactions, the oldest go.
    pub max_interactions: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_age: chrono::Duration::days(7),
            max_interactions: 1_000_000,
        }
    }
}

/// What a successful [`Store::commit`] guarantees (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// sled's flush: survives a process kill, not necessarily a power loss.
    Flush,
    /// sled's flush and `fdatasync`: survives a power loss if the device honours flushes.
    Fsync,
}

/// The store. Cheap to clone; every clone is the same open store.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// Names of the trees (stable: they are on disk).
mod tree_names {
    pub(super) const META: &str = "meta";
    pub(super) const INBOX: &str = "inbox";
    pub(super) const INBOX_QUARANTINE: &str = "inbox-quarantine";
    pub(super) const NOTIFICATIONS: &str = "notifications";
    pub(super) const REJECTIONS: &str = "rejections";
    pub(super) const INTERACTIONS: &str = "interactions";
    pub(super) const INTERACTIONS_BY_CREATED: &str = "interactions-by-created";
    pub(super) const LATENCY: &str = "latency";
    pub(super) const SUBSCRIPTIONS: &str = "subscriptions";
    pub(super) const EVENTS: &str = "events";
    pub(super) const FINDINGS: &str = "findings";
}

struct Trees {
    meta: sled::Tree,
    inbox: sled::Tree,
    inbox_quarantine: sled::Tree,
    notifications: sled::Tree,
    rejections: sled::Tree,
    interactions: sled::Tree,
    interactions_by_created: sled::Tree,
    latency: sled::Tree,
    subscriptions: sled::Tree,
    events: sled::Tree,
    findings: sled::Tree,
}

impl Trees {
    fn open(db: &sled::Db) -> sled::Result<Self> {
        use tree_names::*;
        Ok(Self {
            meta: db.open_tree(META)?,
            inbox: db.open_tree(INBOX)?,
            inbox_quarantine: db.open_tree(INBOX_QUARANTINE)?,
            notifications: db.open_tree(NOTIFICATIONS)?,
            rejections: db.open_tree(REJECTIONS)?,
            interactions: db.open_tree(INTERACTIONS)?,
            interactions_by_created: db.open_tree(INTERACTIONS_BY_CREATED)?,
            latency: db.open_tree(LATENCY)?,
            subscriptions: db.open_tree(SUBSCRIPTIONS)?,
            events: db.open_tree(EVENTS)?,
            findings: db.open_tree(FINDINGS)?,
        })
    }
}

// Fields drop in order: sled's handles close before the directory lock is released.
struct Inner {
    trees: Trees,
    db: sled::Db,
    disk: DiskSync,
    committer: Arc<GroupCommit>,
    clock: SharedClock,
    retention: Retention,
    /// Serialises read-modify-write of latency histograms.
    latency_writes: Mutex<()>,
    /// Serialises read-modify-write of the findings history.
    findings_writes: Mutex<()>,
    dir: PathBuf,
    moved_aside: Option<PathBuf>,
    _lock: DirLock,
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("durability", &self.disk.durability())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl Inner {
    /// One flush to disk, never panicking (sled has been seen to panic).
    fn flush_to_disk(&self) -> Result<(), StoreError> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.disk.flush(&self.db)))
            .unwrap_or_else(|panic| Err(StoreError::FlushFailed(open::panic_text(&panic))))
    }
}

impl Store {
    /// Makes every write made before this call durable (see the module documentation).
    ///
    /// Concurrent callers share flushes: a caller waits for at most the flush in progress and
    /// the one after it. Dropping the future does not disturb other callers.
    pub async fn commit(&self) -> Result<(), StoreError> {
        let committer = &self.inner.committer;
        let (ticket, mut progress) = committer.ticket();
        loop {
            match committer.step(ticket, &mut progress) {
                Step::Done(result) => return result,
                Step::Lead(target) => {
                    let inner = Arc::clone(&self.inner);
                    // Detached on purpose: it must record its result even if we are dropped.
                    drop(tokio::task::spawn_blocking(move || {
                        let result = inner.flush_to_disk();
                        let committer = Arc::clone(&inner.committer);
                        // Let go of the store before waking the callers: once they return,
                        // dropping their handles must close it (and free the directory).
                        drop(inner);
                        committer.finish(target, result);
                    }));
                }
                Step::Wait => {
                    if progress.changed().await.is_err() {
                        return Err(StoreError::FlushFailed("the store was closed".into()));
                    }
                }
            }
        }
    }

    /// Commit and flush counters.
    pub fn commit_stats(&self) -> CommitStats {
        self.inner.committer.stats()
    }

    /// The raw notification inbox.
    pub fn inbox(&self) -> Inbox {
        Inbox::new(Arc::clone(&self.inner))
    }

    /// The per-item notification log.
    pub fn notifications(&self) -> NotificationLog {
        NotificationLog::new(Arc::clone(&self.inner))
    }

    /// The interaction feed.
    pub fn interactions(&self) -> Interactions {
        Interactions::new(Arc::clone(&self.inner))
    }

    /// Per-minute latency histograms.
    pub fn latency(&self) -> LatencyHistograms {
        LatencyHistograms::new(Arc::clone(&self.inner))
    }

    /// pilotwatch's subscription registry.
    pub fn subscriptions(&self) -> SubscriptionRegistry {
        SubscriptionRegistry::new(Arc::clone(&self.inner))
    }

    /// The event log.
    pub fn events(&self) -> EventLog {
        EventLog::new(Arc::clone(&self.inner))
    }

    /// The findings history.
    pub fn findings(&self) -> FindingsHistory {
        FindingsHistory::new(Arc::clone(&self.inner))
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Where an unreadable store was moved when this one was opened, if it was. The caller
    /// should say so loudly and backfill.
    pub fn moved_aside(&self) -> Option<&Path> {
        self.inner.moved_aside.as_deref()
    }

    /// What a successful commit guarantees.
    pub fn durability(&self) -> Durability {
        self.inner.disk.durability()
    }

    /// Bytes sled uses on disk (expect 2–3× the logical size, reliability-notes §1.4).
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.inner.db.size_on_disk()?)
    }
}
