//! The audit trail: every operator command that reached the collector over its control socket,
//! in its own tree so that its retention can outlive the busy logs' (who renewed what last
//! month is still a fair question after a week of notifications has been swept). Keyed
//! `at ++ sequence`, so it reads back in time order; appends are committed before they return,
//! so an acknowledged command is never missing from the trail.
//!
//! A tree of its own adds nothing to the layout older stores have (sled creates it empty on
//! first open), so the schema version is unchanged.
//!
//! Depends on sled and the records only.

use std::sync::Arc;

use super::codec::{decode, encode};
use super::error::StoreError;
use super::records::AuditRecord;
use super::{Inner, Store, keys};

const TREE: &str = "audit";

/// The shortest time audit records are kept, whatever the store's general retention age.
pub const AUDIT_MIN_RETENTION: chrono::Duration = chrono::Duration::days(90);

/// Handle on the audit trail. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AuditTrail {
    inner: Arc<Inner>,
}

impl AuditTrail {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Appends `record` without waiting for the disk; returns its sequence number.
    pub fn append(&self, record: &AuditRecord) -> Result<u64, StoreError> {
        let sequence = self.inner.db.generate_id()?;
        let key = keys::time_sequence(record.at, sequence)?;
        self.inner
            .trees
            .audit
            .insert(key, encode("audit record", record)?)?;
        Ok(sequence)
    }

    /// Appends `record` and commits it (see [`Store::commit`]).
    pub async fn record(&self, record: &AuditRecord) -> Result<u64, StoreError> {
        let sequence = self.append(record)?;
        Store {
            inner: Arc::clone(&self.inner),
        }
        .commit()
        .await?;
        Ok(sequence)
    }

    /// The `limit` latest records, newest first.
    pub fn recent(&self, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        self.inner
            .trees
            .audit
            .iter()
            .rev()
            .take(limit)
            .map(|entry| decode(TREE, &entry?.1))
            .collect()
    }

    /// How many records the trail holds.
    pub fn len(&self) -> usize {
        self.inner.trees.audit.len()
    }

    /// Whether the trail is empty.
    pub fn is_empty(&self) -> bool {
        self.inner.trees.audit.is_empty()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::clock::ManualClock;
    use crate::store::records::AuditOutcome;
    use crate::store::{AUDIT_MIN_RETENTION, StoreOptions};

    fn record(at: &str, command: &str) -> AuditRecord {
        AuditRecord {
            at: at.parse::<DateTime<Utc>>().unwrap(),
            uid: 1000,
            user: "alice".into(),
            pid: Some(1),
            client: "test".into(),
            command: command.into(),
            arguments: serde_json::json!({ "command": command }),
            outcome: AuditOutcome::Succeeded,
            message: "done".into(),
        }
    }

    #[tokio::test]
    async fn records_read_back_newest_first_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new("2026-11-22T08:00:00Z".parse().unwrap()));
        {
            let store = Store::open(dir.path(), StoreOptions::default(), clock.clone()).unwrap();
            let trail = store.audit();
            assert!(trail.is_empty());
            trail
                .record(&record("2026-11-22T08:00:02Z", "renew"))
                .await
                .unwrap();
            trail
                .record(&record("2026-11-22T08:00:01Z", "backfill"))
                .await
                .unwrap();
            trail
                .record(&record("2026-11-22T08:00:03Z", "recreate"))
                .await
                .unwrap();
        }
        let store = Store::open(dir.path(), StoreOptions::default(), clock).unwrap();
        let names: Vec<String> = store
            .audit()
            .recent(2)
            .unwrap()
            .into_iter()
            .map(|record| record.command)
            .collect();
        assert_eq!(names, ["recreate", "renew"]);
        assert_eq!(store.audit().len(), 3);
    }

    #[tokio::test]
    async fn retention_keeps_the_trail_longer_than_the_busy_logs() {
        let dir = tempfile::tempdir().unwrap();
        let start: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        let clock = Arc::new(ManualClock::new(start));
        let store = Store::open(dir.path(), StoreOptions::default(), clock.clone()).unwrap();
        store
            .audit()
            .record(&record("2026-11-22T08:00:00Z", "renew"))
            .await
            .unwrap();
        // A month later: far past the default seven days, well within the audit's minimum.
        clock.advance(chrono::Duration::days(30));
        store
            .audit()
            .record(&record("2026-12-22T08:00:00Z", "backfill"))
            .await
            .unwrap();
        assert_eq!(store.apply_retention().unwrap().audit, 0);
        assert_eq!(store.audit().len(), 2);
        clock.advance(AUDIT_MIN_RETENTION - chrono::Duration::days(29));
        let report = store.apply_retention().unwrap();
        assert_eq!(report.audit, 1);
        let left: Vec<String> = store
            .audit()
            .recent(10)
            .unwrap()
            .into_iter()
            .map(|record| record.command)
            .collect();
        assert_eq!(left, ["backfill"]);
    }
}
