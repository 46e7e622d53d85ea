//! Opening a store directory: take the directory lock, open sled with explicit settings, check
//! the schema, and — when sled cannot read what is there — move the directory aside and start
//! fresh rather than crash-loop (reliability-notes §1.4, §1.8 point 5).
//!
//! Depends on sled, the clock and the sibling modules.

use std::any::Any;
use std::fs::DirBuilder;
use std::io;
use std::os::unix::fs::DirBuilderExt as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::commit::GroupCommit;
use super::error::StoreError;
use super::lock::DirLock;
use super::records::{AuditAction, Event, EventKind};
use super::sync::DiskSync;
use super::{Inner, Store, StoreOptions, Trees, schema};
use crate::clock::SharedClock;

/// Why a directory could not be opened.
enum Failure {
    /// sled cannot read it: move it aside.
    Unreadable(String),
    /// Anything else: report it and touch nothing.
    Refused(StoreError),
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt { .. } => Self::Unreadable(error.to_string()),
            StoreError::Sled(error) => classify(error),
            other => Self::Refused(other),
        }
    }
}

struct Opened {
    db: sled::Db,
    trees: Trees,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    ///
    /// Fails with [`StoreError::Locked`] when another collector owns `dir`, and with
    /// [`StoreError::Schema`] when a newer pilotwatch wrote it. An unreadable store is moved to
    /// `DIR.corrupt-<time>` and replaced by an empty one: see [`Store::moved_aside`].
    pub fn open(
        dir: &Path,
        options: StoreOptions,
        clock: SharedClock,
    ) -> Result<Store, StoreError> {
        create_private_dir(dir)?;
        let lock = DirLock::acquire(dir)?;
        match open_db(dir, &options) {
            Ok(opened) => assemble(dir, opened, lock, None, options, clock),
            Err(Failure::Refused(error)) => Err(error),
            Err(Failure::Unreadable(reason)) => {
                let aside = move_aside(dir, clock.now())?;
                create_private_dir(dir)?;
                let fresh_lock = DirLock::acquire(dir)?;
                drop(lock);
                let opened = open_db(dir, &options).map_err(|failure| match failure {
                    Failure::Refused(error) => error,
                    Failure::Unreadable(reason) => StoreError::corrupt("(fresh store)", reason),
                })?;
                tracing::error!(
                    store = %dir.display(),
                    moved_to = %aside.display(),
                    %reason,
                    "the store was unreadable: moved it aside and started a fresh one"
                );
                let now = clock.now();
                let store = assemble(dir, opened, fresh_lock, Some(aside.clone()), options, clock)?;
                store.events().append(&Event {
                    at: now,
                    profile: String::new(),
                    kind: EventKind::Audit {
                        action: AuditAction::StoreMovedAside {
                            path: aside.display().to_string(),
                        },
                    },
                    message: format!(
                        "the store in {} was unreadable ({reason}); it was moved to {} and a \
                         fresh store started. Interactions from before are re-fetched by backfill.",
                        dir.display(),
                        aside.display()
                    ),
                })?;
                Ok(store)
            }
        }
    }
}

fn assemble(
    dir: &Path,
    opened: Opened,
    lock: DirLock,
    moved_aside: Option<PathBuf>,
    options: StoreOptions,
    clock: SharedClock,
) -> Result<Store, StoreError> {
    let disk = DiskSync::new(dir, options.durability)?;
    Ok(Store {
        inner: Arc::new(Inner {
            trees: opened.trees,
            db: opened.db,
            disk,
            committer: Arc::new(GroupCommit::new()),
            clock,
            retention: options.retention,
            latency_writes: Mutex::new(()),
            findings_writes: Mutex::new(()),
            dir: dir.to_path_buf(),
            moved_aside,
            _lock: lock,
        }),
    })
}

fn open_db(dir: &Path, options: &StoreOptions) -> Result<Opened, Failure> {
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(options.cache_capacity_bytes)
        .flush_every_ms(options.flush_every_ms)
        .mode(sled::Mode::LowSpace);
    // sled 0.34 has been seen to panic on some damaged stores (spacejam/sled#1387).
    let db = catch_unwind(AssertUnwindSafe(|| config.open()))
        .map_err(|panic| Failure::Unreadable(format!("sled panicked: {}", panic_text(&panic))))?
        .map_err(|error| {
            if is_lock_error(&error) {
                // We hold the pid-file lock, so the holder is not a pilotwatch that took it.
                Failure::Refused(StoreError::Locked {
                    dir: dir.to_path_buf(),
                    pid: None,
                })
            } else {
                classify(error)
            }
        })?;
    let trees = catch_unwind(AssertUnwindSafe(|| Trees::open(&db)))
        .map_err(|panic| Failure::Unreadable(format!("sled panicked: {}", panic_text(&panic))))?
        .map_err(classify)?;
    schema::check_or_initialise(&db, &trees.meta, dir)?;
    Ok(Opened { db, trees })
}

/// Which sled errors mean "this directory cannot be read".
fn classify(error: sled::Error) -> Failure {
    let unreadable = match &error {
        sled::Error::Corruption { .. }
        | sled::Error::ReportableBug(_)
        | sled::Error::Unsupported(_) => true,
        sled::Error::Io(io) => matches!(
            io.kind(),
            io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData
        ),
        _ => false,
    };
    if unreadable {
        Failure::Unreadable(error.to_string())
    } else {
        Failure::Refused(StoreError::Sled(error))
    }
}

fn is_lock_error(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io)
        if io.kind() == io::ErrorKind::Other && io.to_string().contains("could not acquire lock"))
}

/// The text of a caught panic (also the collector's and the receiver's, for their tasks).
pub(crate) fn panic_text(panic: &Box<dyn Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(StoreError::io("cannot create the store directory", dir))
}

/// Renames `dir` to `DIR.corrupt-<now>` (with a counter if that exists) and returns the new path.
fn move_aside(dir: &Path, now: DateTime<Utc>) -> Result<PathBuf, StoreError> {
    let mut base = dir.as_os_str().to_owned();
    base.push(format!(".corrupt-{}", now.format("%Y%m%dT%H%M%SZ")));
    let mut target = PathBuf::from(&base);
    let mut counter = 1;
    while target.exists() {
        counter += 1;
        let mut numbered = base.clone();
        numbered.push(format!("-{counter}"));
        target = PathBuf::from(numbered);
    }
    std::fs::rename(dir, &target).map_err(StoreError::io(
        "cannot move the unreadable store aside",
        dir,
    ))?;
    Ok(target)
}
