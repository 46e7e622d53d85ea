//! Entries of the event log: what the subscription keeper did and how it went, lifecycle
//! events Graph sent, poller runs, and an audit trail of operator commands and store recovery.
//! The UI's event list and diagnosis read these back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::graph::model::LifecycleEvent;

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
        /// Why it failed, as far as Graph's answer says; absent when it did not fail (and in
        /// events written before failures were typed).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure: Option<KeeperFailure>,
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
        /// Of those, how many no change notification delivered: what reconciliation measures
        /// the push path by.
        missing: u64,
        /// How it went.
        outcome: Outcome,
        /// The newest `createdDateTime` among the interactions the export API returned (for
        /// this profile's users); `None` when it returned none. Events written before the
        /// field existed read as `None`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        newest_created_at: Option<DateTime<Utc>>,
    },
    /// Something an operator should be able to trace later.
    Audit {
        /// What.
        action: AuditAction,
    },
}

impl EventKind {
    /// A keeper action without a typed failure (it succeeded, was skipped, or failed for a
    /// reason of pilotwatch's own).
    pub fn keeper(action: KeeperAction, outcome: Outcome) -> Self {
        Self::Keeper {
            action,
            outcome,
            failure: None,
        }
    }

    /// A lifecycle event as Graph named it.
    pub fn lifecycle(event: LifecycleEvent, subscription_id: impl Into<String>) -> Self {
        Self::Lifecycle {
            event: lifecycle_event_name(event).to_owned(),
            subscription_id: subscription_id.into(),
        }
    }
}

/// Graph's spelling of a `lifecycleEvent` (`unknown` for values this build does not know).
pub fn lifecycle_event_name(event: LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
        LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
        LifecycleEvent::Missed => "missed",
        LifecycleEvent::Unknown => "unknown",
    }
}

/// Actions of the subscription keeper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeeperAction {
    /// `POST /subscriptions` (also when recreating one Graph removed).
    Create,
    /// Took over an existing subscription after a 409.
    Adopt,
    /// `PATCH` with a new expiry, on schedule.
    Renew,
    /// A reauthorization: the keeper's `PATCH` (renew and reauthorize in one call) answering
    /// `reauthorizationRequired`, or an operator's `POST /subscriptions/{id}/reauthorize`.
    Reauthorize,
    /// `GET /subscriptions/{id}`: checked that a registered subscription still exists, or
    /// kept the registry up to date.
    Verify,
    /// `DELETE /subscriptions/{id}`.
    Delete,
    /// Asked the poller to backfill a gap.
    RequestBackfill,
    /// Moved a subscription to the current encryption certificate (Graph cannot PATCH
    /// `encryptionCertificate`, so the subscription is replaced).
    RotateCertificate,
    /// Read the licensed users a per-user scope keeps subscriptions for.
    ReadUsers,
}

/// How an action went. The event's message says why it failed or was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It worked.
    Succeeded,
    /// It failed; it may be retried.
    Failed,
    /// It was deliberately not attempted.
    Skipped,
}

/// Why a keeper action failed: the kind diagnosis tells apart and what Graph answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeeperFailure {
    /// What kind of failure.
    pub kind: KeeperFailureKind,
    /// The HTTP status, when Graph answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Graph's `error.code`, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Graph's `error.message` (or the transport or token error), cut to size.
    pub detail: String,
}

/// The kinds of keeper failure (the same distinctions as `diagnose::facts::FailureKind`, kept
/// here so the store does not depend on diagnosis).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeeperFailureKind {
    /// Graph's validation request to our endpoint failed (400 on create).
    Handshake,
    /// A subscription quota is used up, e.g. the one tenant-wide subscription per app and
    /// tenant, held by another deployment.
    Quota,
    /// 403: permissions or licences.
    Forbidden,
    /// 404: the subscription is gone.
    NotFound,
    /// 429.
    Throttled,
    /// 5xx or a timeout.
    Unavailable,
    /// No access token could be had.
    Unauthenticated,
    /// Anything else.
    Other,
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
            kind: EventKind::keeper(KeeperAction::Reauthorize, Outcome::Failed),
            message: "reauthorize failed".into(),
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["kind"]["kind"], "keeper");
        assert_eq!(json["kind"]["action"], "reauthorize");
        assert_eq!(json["kind"]["outcome"], "failed");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }

    #[test]
    fn keeper_failures_are_optional_so_older_events_still_read() {
        let old = r#"{"at":"2026-11-22T08:00:00Z","profile":"contoso","kind":{"kind":"keeper","action":"create","outcome":"failed"},"message":"m"}"#;
        let event: Event = serde_json::from_str(old).unwrap();
        assert_eq!(
            event.kind,
            EventKind::keeper(KeeperAction::Create, Outcome::Failed)
        );
        let typed = EventKind::Keeper {
            action: KeeperAction::Create,
            outcome: Outcome::Failed,
            failure: Some(KeeperFailure {
                kind: KeeperFailureKind::Handshake,
                status: Some(400),
                code: Some("InvalidRequest".into()),
                detail: "Subscription validation request failed.".into(),
            }),
        };
        let json = serde_json::to_value(&typed).unwrap();
        assert_eq!(json["failure"]["kind"], "handshake");
        assert_eq!(json["failure"]["status"], 400);
        assert_eq!(serde_json::from_value::<EventKind>(json).unwrap(), typed);
        let plain =
            serde_json::to_value(EventKind::keeper(KeeperAction::Renew, Outcome::Succeeded))
                .unwrap();
        assert!(plain.get("failure").is_none(), "{plain}");
    }

    #[test]
    fn newer_keeper_actions_have_kebab_case_names() {
        assert_eq!(
            serde_json::to_value(KeeperAction::RotateCertificate).unwrap(),
            "rotate-certificate"
        );
        assert_eq!(
            serde_json::to_value(KeeperAction::ReadUsers).unwrap(),
            "read-users"
        );
        assert_eq!(
            serde_json::from_str::<KeeperAction>("\"request-backfill\"").unwrap(),
            KeeperAction::RequestBackfill
        );
    }

    #[test]
    fn lifecycle_events_keep_graphs_spelling() {
        let kind = EventKind::lifecycle(LifecycleEvent::ReauthorizationRequired, "sub-1");
        assert_eq!(
            kind,
            EventKind::Lifecycle {
                event: "reauthorizationRequired".into(),
                subscription_id: "sub-1".into()
            }
        );
        for event in [
            LifecycleEvent::ReauthorizationRequired,
            LifecycleEvent::SubscriptionRemoved,
            LifecycleEvent::Missed,
        ] {
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                serde_json::Value::from(lifecycle_event_name(event))
            );
        }
    }
}
