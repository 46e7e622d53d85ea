//! How the keeper says what it did: every action and its outcome is an [`Event`] appended to
//! the store and an [`Update`] on the broadcast channel (lifecycle events only broadcast: the
//! receiver logged them), and registry records are written with a failure recorded rather
//! than fatal (the subscription at Graph is what matters for delivery).
//!
//! The keeper's record-keeping only: no decisions and no Graph calls. Depends on the store's
//! record types, the update channel and the clock.

use std::time::Duration as StdDuration;

use chrono::Duration;

use super::Keeper;
use crate::collector::update::Update;
use crate::receiver::LifecycleSignal;
use crate::store::records::{
    Event, EventKind, KeeperAction, KeeperFailure, Outcome, SubscriptionRecord,
};

impl Keeper {
    /// Writes a registry record; a store failure is recorded, and the keeper carries on with
    /// what it holds in memory (the subscription at Graph is what matters for delivery).
    pub(super) fn save(&self, record: &SubscriptionRecord) {
        if let Err(error) = self.store.put_subscription(record) {
            self.note(
                KeeperAction::Verify,
                Outcome::Failed,
                format!(
                    "cannot write subscription {} to the registry: {error}",
                    record.id
                ),
            );
        }
    }

    /// Records an action and its outcome (see [`Self::note_with`]).
    pub(super) fn note(&self, action: KeeperAction, outcome: Outcome, message: String) {
        self.note_with(action, outcome, None, message);
    }

    /// Records an action with, when it failed on Graph's answer, the typed failure diagnosis
    /// reads.
    pub(super) fn note_with(
        &self,
        action: KeeperAction,
        outcome: Outcome,
        failure: Option<KeeperFailure>,
        message: String,
    ) {
        let kind = EventKind::Keeper {
            action,
            outcome,
            failure,
        };
        let event = self.event(kind, message);
        tracing::info!(target: "pilotwatch::collector::keeper", profile = %self.profile.name, ?action, ?outcome, "{}", event.message);
        let _ = self.updates.send(Update::Keeper(event));
    }

    /// Tells watchers about a lifecycle event. Not appended: the receiver logged it before
    /// signalling, and the keeper's answer is a keeper event of its own.
    pub(super) fn note_lifecycle(&self, signal: &LifecycleSignal, message: String) {
        let event = Event {
            at: self.clock.now(),
            profile: self.profile.name.clone(),
            kind: EventKind::lifecycle(signal.event, signal.subscription_id.clone()),
            message,
        };
        tracing::info!(target: "pilotwatch::collector::keeper", profile = %self.profile.name, "{}", event.message);
        let _ = self.updates.send(Update::Lifecycle(event));
    }

    /// Builds and appends an event (a store failure is logged; the broadcast still goes out).
    pub(super) fn event(&self, kind: EventKind, message: String) -> Event {
        let event = Event {
            at: self.clock.now(),
            profile: self.profile.name.clone(),
            kind,
            message,
        };
        if let Err(error) = self.store.append_event(&event) {
            tracing::warn!(%error, "cannot append a keeper event to the store");
        }
        event
    }
}

/// A simulated span for people, e.g. `4m 30s`.
pub(super) fn span(span: Duration) -> String {
    let seconds = span.num_seconds().max(0).unsigned_abs();
    humantime::format_duration(StdDuration::from_secs(seconds)).to_string()
}
