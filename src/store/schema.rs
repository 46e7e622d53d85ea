//! The schema version of a store directory, kept in the `meta` tree.
//!
//! A fresh store gets the current version. A newer version is refused with a message saying
//! so (this build would misread it). An older version is migrated step by step when a
//! migration exists, and refused otherwise; version 1 is the first, so none exist yet.
//!
//! Depends on sled only.

use std::path::Path;

use super::error::StoreError;

/// The layout this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

/// Key of the version in the `meta` tree.
pub(crate) const VERSION_KEY: &[u8] = b"schema-version";

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
    let Some(stored) = meta.get(VERSION_KEY)? else {
        meta.insert(VERSION_KEY, &SCHEMA_VERSION.to_be_bytes())?;
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
