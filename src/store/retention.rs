//! Retention: removes what is older than `max_age` from every log tree (notifications and
//! their rejection counters, events, latency minutes, interactions by `created_at`), the oldest
//! interactions beyond `max_interactions`, subscriptions that ended before the cutoff, and
//! findings-history episodes that ended before it (open ones stay), and audit records older than
//! the retention age or [`AUDIT_MIN_RETENTION`], whichever is longer.
//! The inbox is never touched: it holds work not yet done.
//!
//! Each call does bounded work — at most [`RETENTION_BATCH`] removals per tree — so it never
//! stalls the collector; [`RetentionReport::complete`] says whether another call is needed.
//! The cutoff comes from the injected clock.
//!
//! Depends on sled, the clock and the sibling tree modules.

use serde::Serialize;

use super::AUDIT_MIN_RETENTION;
use super::Store;
use super::error::StoreError;
use super::keys;
use super::records::SubscriptionState;

/// Most removals per tree per call.
pub const RETENTION_BATCH: usize = 10_000;

/// Interaction removals per transaction (sled keeps a transaction's writes in memory).
const INTERACTION_CHUNK: usize = 1_000;

/// What one [`Store::apply_retention`] call removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Notification records older than the cutoff.
    pub notifications: u64,
    /// Per-minute rejection counters older than the cutoff.
    pub rejection_counters: u64,
    /// Events older than the cutoff.
    pub events: u64,
    /// Latency minutes older than the cutoff.
    pub latency_minutes: u64,
    /// Interactions created before the cutoff.
    pub interactions_by_age: u64,
    /// The oldest interactions beyond the maximum count.
    pub interactions_by_count: u64,
    /// Subscriptions no longer active whose expiry is before the cutoff.
    pub subscriptions: u64,
    /// Findings-history episodes that ended before the cutoff.
    pub findings: u64,
    /// Audit records older than the audit's own cutoff.
    pub audit: u64,
    /// False when a limit was reached and more remains to remove.
    pub complete: bool,
}

impl RetentionReport {
    /// Everything removed.
    pub fn total(&self) -> u64 {
        self.notifications
            + self.rejection_counters
            + self.events
            + self.latency_minutes
            + self.interactions_by_age
            + self.interactions_by_count
            + self.subscriptions
            + self.findings
            + self.audit
    }
}

impl Store {
    /// Removes what the retention policy no longer keeps (bounded work; see the module docs).
    pub fn apply_retention(&self) -> Result<RetentionReport, StoreError> {
        let inner = &self.inner;
        let retention = &inner.retention;
        let cutoff_time = inner.clock.now() - retention.max_age;
        let cutoff = keys::time_bound(cutoff_time);
        let trees = &inner.trees;
        let mut complete = true;
        let mut sweep = |tree: &sled::Tree| -> Result<u64, StoreError> {
            let (removed, done) = remove_before(tree, &cutoff)?;
            complete &= done;
            Ok(removed)
        };
        let mut report = RetentionReport {
            notifications: sweep(&trees.notifications)?,
            rejection_counters: sweep(&trees.rejections)?,
            events: sweep(&trees.events)?,
            latency_minutes: sweep(&trees.latency)?,
            ..RetentionReport::default()
        };

        let interactions = self.interactions();
        let old = first_keys(
            trees.interactions_by_created.range(..cutoff),
            RETENTION_BATCH + 1,
        )?;
        complete &= old.len() <= RETENTION_BATCH;
        for chunk in old
            .chunks(INTERACTION_CHUNK)
            .take(RETENTION_BATCH / INTERACTION_CHUNK)
        {
            report.interactions_by_age += interactions.remove_indexed(chunk)?;
        }

        let excess = interactions
            .count()?
            .saturating_sub(retention.max_interactions);
        let budget = usize::try_from(excess).unwrap_or(usize::MAX);
        complete &= budget <= RETENTION_BATCH;
        let oldest = first_keys(
            trees.interactions_by_created.iter(),
            budget.min(RETENTION_BATCH),
        )?;
        for chunk in oldest.chunks(INTERACTION_CHUNK) {
            report.interactions_by_count += interactions.remove_indexed(chunk)?;
        }

        let registry = self.subscriptions();
        for record in registry.all()? {
            if record.state != SubscriptionState::Active && record.expires_at < cutoff_time {
                registry.remove(&record.id)?;
                report.subscriptions += 1;
            }
        }
        let (findings, done) = self
            .findings()
            .remove_ended_before(cutoff_time, RETENTION_BATCH)?;
        report.findings = findings;
        complete &= done;
        let audit_cutoff =
            keys::time_bound(inner.clock.now() - retention.max_age.max(AUDIT_MIN_RETENTION));
        let (audit, done) = remove_before(&trees.audit, &audit_cutoff)?;
        report.audit = audit;
        complete &= done;
        report.complete = complete;
        Ok(report)
    }
}

/// Removes up to [`RETENTION_BATCH`] keys below `cutoff` in one atomic batch; returns how many
/// and whether none remain.
fn remove_before(tree: &sled::Tree, cutoff: &[u8]) -> Result<(u64, bool), StoreError> {
    let doomed = first_keys(tree.range(..cutoff), RETENTION_BATCH + 1)?;
    let done = doomed.len() <= RETENTION_BATCH;
    let mut batch = sled::Batch::default();
    let mut removed = 0;
    for key in doomed.into_iter().take(RETENTION_BATCH) {
        batch.remove(key);
        removed += 1;
    }
    tree.apply_batch(batch)?;
    Ok((removed, done))
}

fn first_keys(
    entries: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
    limit: usize,
) -> Result<Vec<sled::IVec>, StoreError> {
    entries.take(limit).map(|entry| Ok(entry?.0)).collect()
}
