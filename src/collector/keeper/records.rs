//! STAND-IN for the store's and the receiver's data types, written to the issue-4 contract so
//! the keeper and the poller compile and are testable before `crate::store` and
//! `crate::receiver` exist. At merge this file becomes re-exports:
//!
//! ```text
//! pub use crate::store::{StoreError, SubscriptionRecord, SubscriptionState, ClientState, Event,
//!     EventKind, KeeperAction, Outcome, InteractionRecord, InteractionSource};
//! pub use crate::receiver::LifecycleSignal;
//! ```
//!
//! Only what the keeper and the poller use is here, with the contract's names and shapes; the
//! few things the contract leaves open (the `ClientState` constructor, the `KeeperAction`,
//! `Outcome` and `Poll` variants, `from_graph`'s treatment of responses) are marked `CONTRACT:`
//! so the lead can reconcile them. Depends on `graph::model` only.

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::graph::model::{AiInteraction, LifecycleEvent};

/// Why a store operation failed (stand-in for `store::StoreError`).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Anything the real store can report.
    #[error("store: {0}")]
    Backend(String),
}

/// Where a subscription stands in pilotwatch's own registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionState {
    /// Believed alive at Graph; the keeper renews it.
    Active,
    /// Graph removed it (404, `subscriptionRemoved`, expiry).
    Removed,
    /// The keeper created a successor (e.g. after a configuration change).
    Replaced,
    /// The keeper deleted it at Graph.
    Deleted,
}

/// A subscription's `clientState`: secret (it authenticates notifications), so `Debug` shows
/// nothing of it. CONTRACT: the constructor and accessor names are the keeper's guess.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClientState(#[serde(with = "client_state_serde")] SecretString);

impl ClientState {
    /// Wraps a client state value.
    pub fn new(value: String) -> Self {
        Self(SecretString::from(value))
    }

    /// The value, for the subscription request body and for comparison.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientState(<redacted>)")
    }
}

impl PartialEq for ClientState {
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (self.expose().as_bytes(), other.expose().as_bytes());
        a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
    }
}

mod client_state_serde {
    use secrecy::{ExposeSecret, SecretString};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &SecretString, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(value.expose_secret())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
        Ok(SecretString::from(String::deserialize(d)?))
    }
}

/// pilotwatch's own record of a subscription it created (Graph's list is not trusted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    /// Graph's id.
    pub id: String,
    /// The profile it belongs to.
    pub profile: String,
    /// The watched resource.
    pub resource: String,
    /// When Graph deletes it unless renewed.
    pub expires_at: DateTime<Utc>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The secret echoed on every notification.
    pub client_state: ClientState,
    /// Where notifications go.
    pub notification_url: String,
    /// Where lifecycle events go.
    pub lifecycle_url: Option<String>,
    /// The encryption certificate id it was created with.
    pub certificate_id: Option<String>,
    /// Where it stands.
    pub state: SubscriptionState,
    /// Last successful renewal (PATCH; a renewal also reauthorizes).
    pub last_renewed_at: Option<DateTime<Utc>>,
    /// Last successful `POST …/reauthorize`.
    pub last_reauthorized_at: Option<DateTime<Utc>>,
}

/// What the keeper did. CONTRACT: the contract names the type, not its variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeeperAction {
    /// `POST /subscriptions`.
    Create,
    /// `PATCH /subscriptions/{id}` with a new expiry, on schedule.
    Renew,
    /// `PATCH` (renew and reauthorize in one call) answering `reauthorizationRequired`.
    Reauthorize,
    /// `GET /subscriptions/{id}`: checking a registered subscription still exists.
    Verify,
    /// `GET /subscriptions` after a 409: looking for the existing subscription.
    Adopt,
    /// `DELETE /subscriptions/{id}`.
    Delete,
    /// A gap backfill asked of the poller.
    RequestBackfill,
}

/// How an action ended. CONTRACT: the contract names the type, not its variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It worked.
    Succeeded,
    /// It failed; the message says why and when the keeper tries again.
    Failed,
    /// Deliberately not done; the message says why.
    Skipped,
}

/// What an [`Event`] records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum EventKind {
    /// A keeper action and its outcome.
    Keeper {
        /// What was done.
        action: KeeperAction,
        /// How it ended.
        outcome: Outcome,
    },
    /// A lifecycle notification the keeper acted on.
    Lifecycle {
        /// `reauthorizationRequired`, `subscriptionRemoved`, `missed`.
        event: String,
        /// The subscription it concerned.
        subscription_id: String,
    },
    /// A poll (backfill, gap fill, reconciliation). CONTRACT: fields are the keeper's guess.
    Poll {
        /// `backfill`, `gap`, `reconcile`.
        kind: String,
        /// Interactions the export API returned.
        fetched: u64,
        /// Of those, not in the store before.
        new: u64,
        /// Of those, never delivered by a notification.
        missing: u64,
    },
}

/// One entry of the append-only event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When (injected clock).
    pub at: DateTime<Utc>,
    /// The profile.
    pub profile: String,
    /// What.
    pub kind: EventKind,
    /// For people: what happened, why, what comes next.
    pub message: String,
}

/// How an interaction reached the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InteractionSource {
    /// A change notification.
    Notification,
    /// The export API (backfill, gap fill, reconciliation).
    Poll,
}

/// DESIGN rule 5's privacy-minimal projection of an `aiInteraction`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InteractionRecord {
    /// Graph's id (dedupe key).
    pub id: String,
    /// The owner: the user whose history holds it.
    pub user_id: String,
    /// Thread id.
    pub session_id: Option<String>,
    /// Pairs a prompt with its response.
    pub request_id: Option<String>,
    /// Which Copilot experience.
    pub app_class: String,
    /// `userPrompt`, `aiResponse`, …
    pub interaction_type: String,
    /// `bizchat`, `appchat`, …
    pub conversation_type: Option<String>,
    /// Graph's `createdDateTime`.
    pub created_at: DateTime<Utc>,
    /// `from.user.displayName` or `from.application.displayName`.
    pub from_display_name: Option<String>,
    /// Attachment count.
    pub attachments: u32,
    /// Link count.
    pub links: u32,
    /// Context count.
    pub contexts: u32,
    /// The text, only with `store_bodies`.
    pub body: Option<String>,
    /// How it arrived first.
    pub source: InteractionSource,
    /// When pilotwatch first saw it.
    pub first_seen_at: DateTime<Utc>,
}

impl InteractionRecord {
    /// The projection. CONTRACT: `from.user.id` is absent on `aiResponse` items (their `from`
    /// is the Copilot application), so `from_graph` must not fail on them; the poller sets
    /// `user_id` to the mailbox owner it read the item from in any case.
    pub fn from_graph(
        item: &AiInteraction,
        source: InteractionSource,
        seen_at: DateTime<Utc>,
        store_bodies: bool,
    ) -> Result<Self, StoreError> {
        let from = item.from.as_ref();
        let display_name = from.and_then(|from| {
            [from.user.as_ref(), from.application.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|identity| identity.get("displayName")?.as_str().map(str::to_owned))
        });
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let interaction_type = serde_json::to_value(item.interaction_type)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        Ok(Self {
            id: item.id.clone(),
            user_id: from
                .and_then(|from| from.user_id())
                .unwrap_or_default()
                .to_owned(),
            session_id: Some(item.session_id.clone()),
            request_id: Some(item.request_id.clone()),
            app_class: item.app_class.clone(),
            interaction_type,
            conversation_type: item.conversation_type.clone(),
            created_at: item.created_date_time,
            from_display_name: display_name,
            attachments: count(item.attachments.len()),
            links: count(item.links.len()),
            contexts: count(item.contexts.len()),
            body: store_bodies
                .then(|| item.body.as_ref().map(|body| body.content.clone()))
                .flatten(),
            source,
            first_seen_at: seen_at,
        })
    }
}

/// A lifecycle notification for the keeper (stand-in for `receiver::LifecycleSignal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleSignal {
    /// The profile whose lifecycle endpoint received it.
    pub profile: String,
    /// The subscription it concerns.
    pub subscription_id: String,
    /// What Graph says happened.
    pub event: LifecycleEvent,
}
