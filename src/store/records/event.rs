//! Entries of the event log: what the subscription keeper did and how it went, lifecycle
//! events Graph sent, poller runs, and an audit trail of operator commands and store recovery.
//! The UI's event list and diagnosis read these back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When it happened (the collector's clock).
    pub at: DateTime<Utc>,
    /// The profile concerned; empty for events about the collector itself.
    pub profile: String,
    /// What happened.
    pub kind: EventKind,
    /// One line for a human, already free of secrets.
    pub message: String,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventKind {
    /// The subscription keeper acted.
    Keeper {
        /// The action.
        action: KeeperAction,
        /// How it went.
        outcome: Outcome,
    },
    /// Graph sent a lifecycle notification.
    Lifecycle {
        /// `lifecycleEvent` as Graph spelt it: `reauthorizationRequired`, `subscriptionRemoved`,
        /// `missed`, or something newer.
        event: String,
        /// The subscription it concerns.
        subscription_id: String,
    },
    /// The poller fetched a window of interactions.
    Poll {
        /// Why it ran.
        trigger: PollTrigger,
        /// Start of the `createdDateTime` window.
        from: DateTime<Utc>,
        /// End of the window.
        to: DateTime<Utc>,
        /// Interactions returned by the export API.
        fetched: u64,
        /// Of those, how many the store did not have yet.
        new: u64,
        /// How it went.
        outcome: Outcome,
    },
    /// Something an operator should be able to trace later.
    Audit {
        /// What.
        action: AuditAction,
    },
}

/// Actions of the subscription keeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeeperAction {
    /// `POST /subscriptions`.
    Create,
    /// Took over an existing subscription after a 409.
    Adopt,
    /// `PATCH` with a new expiry.
    Renew,
    /// `POST /subscriptions/{id}/reauthorize`.
    Reauthorize,
    /// Created a new subscription because the old one is gone.
    Recreate,
    /// `DELETE /subscriptions/{id}`.
    Delete,
    /// Switched to a new encryption certificate.
    RotateCertificate,
}

/// How an action went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// It worked.
    Succeeded,
    /// It failed; it may be retried.
    Failed {
        /// Why, free of secrets.
        error: String,
    },
    /// It was not attempted.
    Skipped {
        /// Why not.
        reason: String,
    },
}

/// Why the poller ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PollTrigger {
    /// The initial backfill window.
    Backfill,
    /// A gap: `missed`, a removed subscription, an outage or collector downtime.
    GapFill,
    /// The periodic comparison of the export API with what notifications delivered.
    Reconcile,
    /// An operator asked for it.
    Operator,
}

/// Audited actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum AuditAction {
    /// The store was unreadable and was moved aside; a fresh one was started.
    StoreMovedAside {
        /// Where the unreadable store now is.
        path: String,
    },
    /// An operator command reached the collector.
    Command {
        /// The command, e.g. `renew`, `backfill`.
        name: String,
        /// Where it came from, e.g. `control-socket`.
        origin: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_with_stable_tags() {
        let event = Event {
            at: "2026-11-22T08:00:00Z".parse().unwrap(),
            profile: "contoso".into(),
            kind: EventKind::Keeper {
                action: KeeperAction::Reauthorize,
                outcome: Outcome::Failed {
                    error: "403".into(),
                },
            },
            message: "reauthorize failed".into(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"]["kind"], "keeper");
        assert_eq!(json["kind"]["action"], "reauthorize");
        assert_eq!(json["kind"]["outcome"]["outcome"], "failed");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }
}
