//! The findings history: when each finding of each profile started and ended, so the next shift
//! sees how long a problem lasted and when it was fixed. One record per episode — a code
//! appearing for a profile opens one, its disappearance closes it (`ended_at`), and a change of
//! severity while it is open updates it in place.
//!
//! Keyed `len(profile) ++ profile ++ started_at ++ code`, so a profile's episodes read back in
//! time order with one prefix scan. Codes are stored as their stable kebab-case spelling, so the
//! store does not depend on diagnosis. Closed episodes older than the retention age are removed
//! by retention; open ones stay whatever their age.
//!
//! Depends on sled, the severity scale and the store's keys and codec only.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Inner;
use super::codec::{decode, encode};
use super::error::StoreError;
use super::keys;
use crate::severity::Severity;

const TREE: &str = "findings";

/// One episode of one finding for one profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRecord {
    /// The profile.
    pub profile: String,
    /// The finding's stable code, e.g. `validation-tokens-null`.
    pub code: String,
    /// Its severity, the latest while open.
    pub severity: Severity,
    /// Its one-line title, the latest while open.
    pub title: String,
    /// When it was first seen.
    pub started_at: DateTime<Utc>,
    /// When it was last seen gone; `None` while it is still open.
    pub ended_at: Option<DateTime<Utc>>,
}

/// A finding present in the latest diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedFinding {
    /// Its stable code.
    pub code: String,
    /// Its severity.
    pub severity: Severity,
    /// Its title.
    pub title: String,
}

/// What one observation changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingChanges {
    /// Codes that appeared.
    pub started: Vec<String>,
    /// Codes that disappeared.
    pub ended: Vec<String>,
    /// Codes whose severity changed.
    pub changed: Vec<String>,
}

impl FindingChanges {
    /// True when nothing started, ended or changed severity.
    pub fn is_empty(&self) -> bool {
        self.started.is_empty() && self.ended.is_empty() && self.changed.is_empty()
    }
}

/// Handle on the findings history.
#[derive(Debug, Clone)]
pub struct FindingsHistory {
    inner: Arc<Inner>,
}

impl FindingsHistory {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Brings `profile`'s open episodes in line with the findings of a diagnosis made `at`:
    /// opens the new codes, closes the vanished ones and updates changed severities. Serialised
    /// per store, so two observations never open the same code twice.
    pub fn observe(
        &self,
        profile: &str,
        at: DateTime<Utc>,
        current: &[ObservedFinding],
    ) -> Result<FindingChanges, StoreError> {
        let _guard = self
            .inner
            .findings_writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tree = &self.inner.trees.findings;
        let mut open: BTreeMap<String, (sled::IVec, FindingRecord)> = BTreeMap::new();
        for entry in tree.scan_prefix(profile_prefix(profile)?) {
            let (key, value) = entry?;
            let record: FindingRecord = decode(TREE, &value)?;
            if record.ended_at.is_none() {
                open.insert(record.code.clone(), (key, record));
            }
        }
        let mut changes = FindingChanges::default();
        let mut batch = sled::Batch::default();
        for finding in current {
            match open.remove(&finding.code) {
                Some((key, mut record)) => {
                    // Titles carry counts that move every round; only a new severity is
                    // worth a write (and refreshes the title with it).
                    if record.severity != finding.severity {
                        changes.changed.push(finding.code.clone());
                        record.severity = finding.severity;
                        record.title.clone_from(&finding.title);
                        batch.insert(key, encode("finding", &record)?);
                    }
                }
                None => {
                    let record = FindingRecord {
                        profile: profile.to_owned(),
                        code: finding.code.clone(),
                        severity: finding.severity,
                        title: finding.title.clone(),
                        started_at: at,
                        ended_at: None,
                    };
                    batch.insert(record_key(&record)?, encode("finding", &record)?);
                    changes.started.push(finding.code.clone());
                }
            }
        }
        for (code, (key, mut record)) in open {
            record.ended_at = Some(at.max(record.started_at));
            batch.insert(key, encode("finding", &record)?);
            changes.ended.push(code);
        }
        tree.apply_batch(batch)?;
        Ok(changes)
    }

    /// `profile`'s open episodes, oldest first.
    pub fn open(&self, profile: &str) -> Result<Vec<FindingRecord>, StoreError> {
        let mut records = Vec::new();
        for entry in self
            .inner
            .trees
            .findings
            .scan_prefix(profile_prefix(profile)?)
        {
            let record: FindingRecord = decode(TREE, &entry?.1)?;
            if record.ended_at.is_none() {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// `profile`'s `limit` latest episodes (open and closed), newest first.
    pub fn history(&self, profile: &str, limit: usize) -> Result<Vec<FindingRecord>, StoreError> {
        self.inner
            .trees
            .findings
            .scan_prefix(profile_prefix(profile)?)
            .rev()
            .take(limit)
            .map(|entry| decode(TREE, &entry?.1))
            .collect()
    }

    /// Removes closed episodes that ended before `cutoff`, at most `limit`; returns how many
    /// went and whether none remain.
    pub(super) fn remove_ended_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: usize,
    ) -> Result<(u64, bool), StoreError> {
        let _guard = self
            .inner
            .findings_writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tree = &self.inner.trees.findings;
        let mut batch = sled::Batch::default();
        let mut removed = 0_usize;
        let mut done = true;
        for entry in tree.iter() {
            let (key, value) = entry?;
            let record: FindingRecord = decode(TREE, &value)?;
            if record.ended_at.is_some_and(|ended| ended < cutoff) {
                if removed >= limit {
                    done = false;
                    break;
                }
                batch.remove(key);
                removed += 1;
            }
        }
        tree.apply_batch(batch)?;
        Ok((removed as u64, done))
    }
}

/// `len(profile) ++ profile`: length-prefixed, so no profile's prefix is another's.
fn profile_prefix(profile: &str) -> Result<Vec<u8>, StoreError> {
    let len = u16::try_from(profile.len()).map_err(|_| StoreError::Encode {
        what: "finding",
        reason: format!("the profile name is {} bytes long", profile.len()),
    })?;
    let mut prefix = Vec::with_capacity(2 + profile.len());
    prefix.extend_from_slice(&len.to_be_bytes());
    prefix.extend_from_slice(profile.as_bytes());
    Ok(prefix)
}

fn record_key(record: &FindingRecord) -> Result<Vec<u8>, StoreError> {
    let mut key = profile_prefix(&record.profile)?;
    key.extend_from_slice(&keys::time(record.started_at)?);
    key.extend_from_slice(record.code.as_bytes());
    Ok(key)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use chrono::Duration;

    use super::*;
    use crate::clock::ManualClock;
    use crate::store::{Durability, Retention, Store, StoreOptions};

    fn at(minutes: i64) -> DateTime<Utc> {
        "2026-11-22T08:00:00Z".parse::<DateTime<Utc>>().unwrap() + Duration::minutes(minutes)
    }

    fn open(clock: Arc<ManualClock>) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let options = StoreOptions {
            durability: Durability::Flush,
            retention: Retention {
                max_age: Duration::days(7),
                max_interactions: 10,
            },
            ..StoreOptions::default()
        };
        let store = Store::open(&dir.path().join("store"), options, clock).unwrap();
        (dir, store)
    }

    fn seen(code: &str, severity: Severity) -> ObservedFinding {
        ObservedFinding {
            code: code.into(),
            severity,
            title: format!("{code} is {severity:?}"),
        }
    }

    #[test]
    fn episodes_open_change_severity_and_close() {
        let (_dir, store) = open(Arc::new(ManualClock::new(at(0))));
        let history = store.findings();
        let changes = history
            .observe(
                "contoso",
                at(0),
                &[seen("subscription-removed", Severity::Critical)],
            )
            .unwrap();
        assert_eq!(changes.started, ["subscription-removed"]);
        let changes = history
            .observe(
                "contoso",
                at(1),
                &[seen("subscription-removed", Severity::Critical)],
            )
            .unwrap();
        assert!(changes.is_empty(), "{changes:?}");
        let changes = history
            .observe(
                "contoso",
                at(2),
                &[seen("subscription-removed", Severity::Info)],
            )
            .unwrap();
        assert_eq!(changes.changed, ["subscription-removed"]);
        let open = history.open("contoso").unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(
            (open[0].severity, open[0].started_at),
            (Severity::Info, at(0))
        );
        let changes = history.observe("contoso", at(3), &[]).unwrap();
        assert_eq!(changes.ended, ["subscription-removed"]);
        assert!(history.open("contoso").unwrap().is_empty());
        // It comes back: a new episode, newest first in the history.
        history
            .observe(
                "contoso",
                at(4),
                &[seen("subscription-removed", Severity::Critical)],
            )
            .unwrap();
        let all = history.history("contoso", 10).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].started_at, all[0].ended_at), (at(4), None));
        assert_eq!((all[1].started_at, all[1].ended_at), (at(0), Some(at(3))));
        assert_eq!(history.history("contoso", 1).unwrap().len(), 1);
    }

    #[test]
    fn profiles_do_not_see_each_others_findings_even_with_a_shared_prefix() {
        let (_dir, store) = open(Arc::new(ManualClock::new(at(0))));
        let history = store.findings();
        history
            .observe("con", at(0), &[seen("clock-skew", Severity::Warning)])
            .unwrap();
        history
            .observe(
                "contoso",
                at(0),
                &[seen("secret-expired", Severity::Critical)],
            )
            .unwrap();
        history.observe("con", at(1), &[]).unwrap();
        assert_eq!(history.open("contoso").unwrap().len(), 1);
        assert_eq!(history.history("con", 10).unwrap()[0].code, "clock-skew");
    }

    #[test]
    fn retention_removes_episodes_that_ended_long_ago_and_keeps_open_ones() {
        let clock = Arc::new(ManualClock::new(at(0)));
        let (_dir, store) = open(Arc::clone(&clock));
        let history = store.findings();
        history
            .observe(
                "contoso",
                at(0),
                &[
                    seen("clock-skew", Severity::Warning),
                    seen("secret-expiring", Severity::Warning),
                ],
            )
            .unwrap();
        history
            .observe(
                "contoso",
                at(1),
                &[seen("secret-expiring", Severity::Warning)],
            )
            .unwrap();
        clock.advance(Duration::days(8));
        let report = store.apply_retention().unwrap();
        assert_eq!(report.findings, 1);
        let left = history.history("contoso", 10).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].code, "secret-expiring");
    }
}
