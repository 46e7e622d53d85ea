//! The snapshot a view starts from: who the collector is, each configured profile's latest
//! verdict (from memory), its subscription rows, findings history and recent events (from the
//! store), the head of the feed, and the collector's dead tasks (from its task board). One
//! blocking store read builds it all.
//!
//! Depends on the collector's verdicts and task board, the store and the console's snapshot
//! types.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{Backend, read_store, subscriptions};
use crate::console::{ConsoleError, ProfileSnapshot, Snapshot};
use crate::diagnose::ProfileVerdict;
use crate::store::StoreError;

/// Interactions in the feed's first screen.
pub const FEED_HEAD: usize = 200;

/// Findings history entries per profile.
pub const FINDINGS_HISTORY: usize = 100;

/// Recent events per profile.
pub const RECENT_EVENTS: usize = 50;

/// Events read to find each profile's recent ones (events of every profile share one log).
const EVENTS_READ: usize = 2_000;

/// Answers a snapshot request.
pub(super) async fn snapshot(backend: Arc<Backend>) -> Result<Snapshot, ConsoleError> {
    let taken_at = backend.options.clock.now();
    let verdicts = backend.verdicts.verdicts();
    // Read before the store: a task that dies meanwhile is in the next snapshot, and its
    // update reaches the view anyway.
    let dead_tasks = backend.tasks.deaths();
    let mut snapshot =
        read_store(&backend, move |backend| build(backend, verdicts, taken_at)).await?;
    snapshot.dead_tasks = dead_tasks;
    Ok(snapshot)
}

fn build(
    backend: &Backend,
    mut verdicts: Vec<ProfileVerdict>,
    taken_at: DateTime<Utc>,
) -> Result<Snapshot, StoreError> {
    let store = &backend.store;
    let events = store.events().recent(EVENTS_READ)?;
    let mut profiles = Vec::with_capacity(backend.options.profiles.len());
    for profile in &backend.options.profiles {
        let verdict = verdicts
            .iter()
            .position(|verdict| verdict.facts.profile == profile.name)
            .map(|index| verdicts.swap_remove(index));
        profiles.push(ProfileSnapshot {
            name: profile.name.clone(),
            tenant: profile.tenant.clone(),
            client_id: profile.client_id.clone(),
            verdict,
            subscriptions: subscriptions::rows(
                store,
                &profile.name,
                &backend.options.keeper,
                taken_at,
            )?,
            findings_history: store.findings().history(&profile.name, FINDINGS_HISTORY)?,
            recent_events: events
                .iter()
                .filter(|event| event.profile == profile.name)
                .take(RECENT_EVENTS)
                .cloned()
                .collect(),
        });
    }
    let interactions = store.interactions();
    Ok(Snapshot {
        taken_at,
        started_at: backend.options.started_at,
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        simulation: backend.simulation(),
        profiles,
        interactions_stored: interactions.count()?,
        feed_head: interactions.recent(FEED_HEAD)?,
        dead_tasks: Vec::new(),
    })
}
