//! Making a commit durable: sled's flush, then (with [`Durability::Fsync`]) `fdatasync` of
//! the files sled wrote.
//!
//! sled 0.34.7's `flush()` writes its IO buffers with `pwrite` and calls `sync_file_range`, not
//! `fsync` (reliability-notes §1.2, spacejam/sled#1452): the data is in the kernel when it
//! returns, so it survives the death of the process, but nothing guarantees it reached the
//! device. `fsync`/`fdatasync` act on the inode, whatever descriptor they are called on, so
//! syncing our own read-only descriptor of sled's `db` file after the flush forces out every
//! page sled wrote to it. Values too large for a log segment go to files under `blobs/`,
//! which sled never syncs: each new one is synced once, then the directory that names it.
//!
//! Depends on sled and the standard library.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::Durability;
use super::error::StoreError;

/// sled's data file inside the store directory.
const DATA_FILE: &str = "db";
/// sled's directory of large values.
const BLOB_DIR: &str = "blobs";

/// Flushes a store to disk as far as its [`Durability`] promises.
#[derive(Debug)]
pub(crate) struct DiskSync {
    durability: Durability,
    data_file: Option<File>,
    blob_dir: PathBuf,
    synced_blobs: Mutex<HashSet<OsString>>,
}

impl DiskSync {
    /// Prepares to sync the store in `dir`, which sled has opened.
    pub(crate) fn new(dir: &Path, durability: Durability) -> Result<Self, StoreError> {
        let data_file = match durability {
            Durability::Flush => None,
            Durability::Fsync => {
                let path = dir.join(DATA_FILE);
                Some(
                    File::open(&path)
                        .map_err(StoreError::io("cannot open sled's data file", path))?,
                )
            }
        };
        let sync = Self {
            durability,
            data_file,
            blob_dir: dir.join(BLOB_DIR),
            synced_blobs: Mutex::new(HashSet::new()),
        };
        if durability == Durability::Fsync {
            // The files sled created at first open must be named durably too.
            sync_dir(dir).map_err(StoreError::io("cannot sync the store directory", dir))?;
        }
        Ok(sync)
    }

    /// Flushes `db`, then syncs what it wrote. Blocking.
    pub(crate) fn flush(&self, db: &sled::Db) -> Result<(), StoreError> {
        db.flush()?;
        let Some(data_file) = &self.data_file else {
            return Ok(());
        };
        data_file
            .sync_data()
            .map_err(StoreError::io("cannot sync sled's data file", DATA_FILE))?;
        self.sync_new_blobs().map_err(StoreError::io(
            "cannot sync sled's blob files",
            &self.blob_dir,
        ))
    }

    /// What this store promises.
    pub(crate) fn durability(&self) -> Durability {
        self.durability
    }

    fn sync_new_blobs(&self) -> io::Result<()> {
        let mut synced = self
            .synced_blobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut present = HashSet::new();
        let mut any_new = false;
        let entries = match fs::read_dir(&self.blob_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(error),
        };
        for entry in entries {
            let name = entry?.file_name();
            if !synced.contains(&name) {
                match File::open(self.blob_dir.join(&name)) {
                    Ok(file) => file.sync_data()?,
                    // sled removes blobs it no longer needs; a vanished one needs no sync.
                    Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
                    Err(error) => return Err(error),
                }
                any_new = true;
            }
            present.insert(name);
        }
        if any_new {
            sync_dir(&self.blob_dir)?;
        }
        *synced = present;
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
