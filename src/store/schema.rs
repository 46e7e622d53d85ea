//! The schema version of a store directory, kept in the `meta` tree.
//!
//! A fresh store gets the current version. A newer version is refused with a message saying
//! so (this build would misread it). An older version is migrated step by step when a
//! migration exists, and refused otherwise; version 1 is the first, so none exist yet.
//!
//! sled reads its log up to the first damaged segment and silently treats that as the end, so
//! a store whose log is garbled from the start opens empty, without an error. To tell that from
//! a new store, the first open leaves a marker file next to sled's (after the version is
//! flushed); a store that has the marker but no version lost its contents and is reported
//! corrupt, so that it is moved aside and backfilled rather than silently restarted.
//!
//! Depends on sled and `private_file` only.

use std::path::Path;

use super::error::StoreError;
use crate::private_file::write_private_atomically;

/// The layout this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Key of the version in the `meta` tree.
pub(crate) const VERSION_KEY: &[u8] = b"schema-version";

/// Marker file: "this directory has held a pilotwatch store".
pub const MARKER_FILE: &str = "pilotwatch-store";

/// A migration from `from` to `from + 1`.
type Migration = fn(&sled::Db) -> Result<(), StoreError>;

/// Migrations by source version. Empty: version 1 is the first layout.
const MIGRATIONS: &[(u32, Migration)] = &[];

/// Makes `db` readable by this build, or says why it is not.
pub(crate) fn check_or_initialise(
    db: &sled::Db,
    meta: &sled::Tree,
    dir: &Path,
) -> Result<(), StoreError> {
    let marker = dir.join(MARKER_FILE);
    let Some(stored) = meta.get(VERSION_KEY)? else {
        if marker.exists() {
            return Err(StoreError::corrupt(
                "meta",
                "sled opened it empty although it held a store: its log is unreadable",
            ));
        }
        meta.insert(VERSION_KEY, &SCHEMA_VERSION.to_be_bytes())?;
        db.flush()?;
        write_private_atomically(&marker, format!("{SCHEMA_VERSION}\n").as_bytes()).map_err(
            |error| StoreError::Io {
                action: "cannot write the store marker",
                path: error.path,
                source: error.source,
            },
        )?;
        return Ok(());
    };
    let bytes: [u8; 4] = stored.as_ref().try_into().map_err(|_| {
        StoreError::corrupt(
            "meta",
            format!("the schema version is {} bytes long", stored.len()),
        )
    })?;
    let mut found = u32::from_be_bytes(bytes);
    let refuse = |found| StoreError::Schema {
        dir: dir.to_path_buf(),
        found,
        expected: SCHEMA_VERSION,
    };
    if found > SCHEMA_VERSION {
        return Err(refuse(found));
    }
    while found < SCHEMA_VERSION {
        let migration = MIGRATIONS
            .iter()
            .find(|(from, _)| *from == found)
            .map(|(_, migration)| migration)
            .ok_or_else(|| refuse(found))?;
        migration(db)?;
        found += 1;
        meta.insert(VERSION_KEY, &found.to_be_bytes())?;
    }
    Ok(())
}
