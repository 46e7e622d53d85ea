//! The view model: the collector's [`Snapshot`] with [`Update`]s applied on top, so the screen
//! follows the collector between snapshots without asking it anything. Bounded: the feed head
//! and each profile's events keep a fixed number of entries, however long pilotwatch runs.
//!
//! Pure; depends on the console's snapshot and the collector's update types only.

use crate::collector::update::Update;
use crate::console::Snapshot;
use crate::store::records::Event;

/// Interactions kept at the head of the feed.
pub const FEED_HEAD_CAP: usize = 500;

/// Events kept per profile.
pub const EVENTS_CAP: usize = 200;

/// Applies `update` to `snapshot`; returns whether anything a view shows changed.
pub fn apply(snapshot: &mut Snapshot, update: &Update) -> bool {
    match update {
        Update::Interaction(record) => {
            snapshot.feed_head.insert(0, record.clone());
            snapshot.feed_head.truncate(FEED_HEAD_CAP);
            snapshot.interactions_stored = snapshot.interactions_stored.saturating_add(1);
            true
        }
        Update::Diagnosis(verdict) => {
            let name = &verdict.diagnosis.profile;
            match snapshot.profiles.iter_mut().find(|p| &p.name == name) {
                Some(profile) => {
                    profile.verdict = Some(verdict.as_ref().clone());
                    true
                }
                // A profile the snapshot does not know (added since): the next snapshot has it.
                None => false,
            }
        }
        Update::Keeper(event) | Update::Lifecycle(event) => prepend_event(snapshot, event),
        Update::TaskDied(death) => {
            // The same death may already be in a snapshot taken after it was recorded.
            let known = snapshot
                .dead_tasks
                .iter()
                .any(|dead| dead == death.as_ref());
            if !known {
                snapshot.dead_tasks.push(death.as_ref().clone());
            }
            !known
        }
        // Per-notification and per-poll counts reach the view through the next snapshot's
        // subscription rows and verdicts; nothing shown is derived from them one by one.
        Update::Notification(_) | Update::Poll(_) => false,
    }
}

fn prepend_event(snapshot: &mut Snapshot, event: &Event) -> bool {
    match snapshot
        .profiles
        .iter_mut()
        .find(|profile| profile.name == event.profile)
    {
        Some(profile) => {
            profile.recent_events.insert(0, event.clone());
            profile.recent_events.truncate(EVENTS_CAP);
            true
        }
        None => false,
    }
}

/// Whether two snapshots differ in anything but the moment they were taken (a periodic
/// refresh that brings nothing new must not cost a redraw).
pub fn differs(old: &Snapshot, new: &Snapshot) -> bool {
    old.started_at != new.started_at
        || old.pid != new.pid
        || old.version != new.version
        || old.simulation != new.simulation
        || old.profiles != new.profiles
        || old.interactions_stored != new.interactions_stored
        || old.feed_head != new.feed_head
        || old.dead_tasks != new.dead_tasks
}
