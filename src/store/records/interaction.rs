//! The privacy-minimal projection of an `aiInteraction` that the store keeps (DESIGN rule 5):
//! identifiers, classification, time, who, and counts. The prompt or response text is kept only
//! when the operator opted in with `store_bodies`; attachments, links, contexts and mentions are
//! reduced to counts, never copied.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::graph::model::{AiInteraction, InteractionType};

/// How pilotwatch first learnt of an interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InteractionSource {
    /// A (rich) change notification.
    Notification,
    /// The export API (backfill, gap fill, reconciliation).
    Poll,
}

/// One Copilot prompt or response as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionRecord {
    /// Graph's message id; the dedupe key.
    pub id: String,
    /// The user the interaction belongs to: `from.user.id` on prompts. Responses come from the
    /// Copilot application, so their owner is known only to whoever fetched them for a user
    /// (the poller sets it); `None` when nobody knows.
    pub user_id: Option<String>,
    /// `sessionId`.
    pub session_id: Option<String>,
    /// `requestId`: pairs a prompt with its response.
    pub request_id: Option<String>,
    /// `appClass`.
    pub app_class: String,
    /// `interactionType` as Graph spells it (`userPrompt`, `aiResponse`, …).
    pub interaction_type: String,
    /// `conversationType`.
    pub conversation_type: Option<String>,
    /// `createdDateTime`.
    pub created_at: DateTime<Utc>,
    /// The display name of `from` (a user's MRI or the Copilot app's name).
    pub from_display_name: Option<String>,
    /// Number of attachments.
    pub attachments: u32,
    /// Number of links.
    pub links: u32,
    /// Number of contexts.
    pub contexts: u32,
    /// The prompt or response text; only with `store_bodies = true`.
    pub body: Option<String>,
    /// How pilotwatch first learnt of it.
    pub source: InteractionSource,
    /// When pilotwatch first stored it.
    pub first_seen_at: DateTime<Utc>,
}

/// An `aiInteraction` that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInteraction {
    /// The id is empty, so it cannot be deduplicated.
    #[error("the interaction has an empty id")]
    EmptyId,
    /// The id is longer than any Graph id (it would only bloat keys).
    #[error("the interaction id is {0} bytes long; at most {max} are accepted", max = InteractionRecord::MAX_ID_BYTES)]
    IdTooLong(usize),
    /// `createdDateTime` is outside the years the store can index (1678 to 2261).
    #[error("the interaction's createdDateTime is outside the years the store can index")]
    CreatedOutOfRange,
}

impl InteractionRecord {
    /// Longest id accepted. Graph's ids are epoch milliseconds; this leaves ample room.
    pub const MAX_ID_BYTES: usize = 512;

    /// Whether `id` can be an interaction's key: what [`InteractionRecord::from_graph`]
    /// checks, for callers that must judge an item before projecting it.
    pub fn check_id(id: &str) -> Result<(), InvalidInteraction> {
        if id.is_empty() {
            return Err(InvalidInteraction::EmptyId);
        }
        if id.len() > Self::MAX_ID_BYTES {
            return Err(InvalidInteraction::IdTooLong(id.len()));
        }
        Ok(())
    }

    /// Whether `item` can be stored: its id can be a key ([`InteractionRecord::check_id`]) and
    /// its `createdDateTime` can be indexed. What [`InteractionRecord::from_graph`] checks.
    pub fn check_storable(item: &AiInteraction) -> Result<(), InvalidInteraction> {
        Self::check_id(&item.id)?;
        item.created_date_time
            .timestamp_nanos_opt()
            .map(drop)
            .ok_or(InvalidInteraction::CreatedOutOfRange)
    }

    /// Projects `item` to what the store keeps: bodies only when `store_bodies`.
    pub fn from_graph(
        item: &AiInteraction,
        source: InteractionSource,
        seen_at: DateTime<Utc>,
        store_bodies: bool,
    ) -> Result<Self, InvalidInteraction> {
        Self::check_storable(item)?;
        let from = item.from.as_ref();
        let from_display_name = from.and_then(|from| {
            [from.user.as_ref(), from.application.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|identity| identity.get("displayName")?.as_str())
                .map(str::to_owned)
        });
        Ok(Self {
            id: item.id.clone(),
            user_id: from.and_then(|from| from.user_id()).map(str::to_owned),
            session_id: non_empty(&item.session_id),
            request_id: non_empty(&item.request_id),
            app_class: item.app_class.clone(),
            interaction_type: interaction_type_name(item.interaction_type).to_owned(),
            conversation_type: item.conversation_type.clone(),
            created_at: item.created_date_time,
            from_display_name,
            attachments: count(item.attachments.len()),
            links: count(item.links.len()),
            contexts: count(item.contexts.len()),
            body: item
                .body
                .as_ref()
                .filter(|_| store_bodies)
                .map(|body| body.content.clone()),
            source,
            first_seen_at: seen_at,
        })
    }
}

fn interaction_type_name(kind: InteractionType) -> &'static str {
    match kind {
        InteractionType::UserPrompt => "userPrompt",
        InteractionType::AiResponse => "aiResponse",
        InteractionType::UnknownFutureValue => "unknownFutureValue",
    }
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn count(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt() -> AiInteraction {
        serde_json::from_value(serde_json::json!({
            "id": "1732148356886", "sessionId": "19:abc@thread.v2",
            "requestId": "6a1c6cbb-6e2b-4b1c-9f0b-1e8d4f6f0a11",
            "appClass": "IPM.SkypeTeams.Message.Copilot.BizChat",
            "interactionType": "userPrompt", "conversationType": "bizchat",
            "etag": "1732148356886", "createdDateTime": "2024-11-21T00:19:16.886Z",
            "locale": "en-us",
            "contexts": [{"contextReference": "https://x", "displayName": "m", "contextType": "TeamsMeeting"}],
            "from": {"@odata.type": "#microsoft.graph.chatMessageFromIdentitySet",
                     "application": null, "device": null,
                     "user": {"id": "u-1", "displayName": "8:orgid:u-1", "userIdentityType": "aadUser"}},
            "body": {"contentType": "text", "content": "summarise the quarterly numbers"},
            "attachments": [{"attachmentId": "a"}, {"attachmentId": "b"}],
            "links": [{"linkUrl": "https://l"}],
            "mentions": [{"mentionId": 0, "mentionText": "Ann"}]
        }))
        .unwrap()
    }

    #[test]
    fn a_creation_time_the_store_cannot_index_is_refused() {
        let mut item = prompt();
        assert_eq!(InteractionRecord::check_storable(&item), Ok(()));
        item.created_date_time = "2300-01-01T00:00:00Z".parse().unwrap();
        let seen = "2024-11-21T00:19:20Z".parse().unwrap();
        assert_eq!(
            InteractionRecord::check_storable(&item),
            Err(InvalidInteraction::CreatedOutOfRange)
        );
        assert_eq!(
            InteractionRecord::from_graph(&item, InteractionSource::Poll, seen, false),
            Err(InvalidInteraction::CreatedOutOfRange)
        );
    }

    #[test]
    fn keeps_only_the_privacy_minimal_fields() {
        let seen = "2024-11-21T00:19:20Z".parse().unwrap();
        let record =
            InteractionRecord::from_graph(&prompt(), InteractionSource::Poll, seen, false).unwrap();
        assert_eq!(record.id, "1732148356886");
        assert_eq!(record.user_id.as_deref(), Some("u-1"));
        assert_eq!(record.interaction_type, "userPrompt");
        assert_eq!(record.from_display_name.as_deref(), Some("8:orgid:u-1"));
        assert_eq!(
            (record.attachments, record.links, record.contexts),
            (2, 1, 1)
        );
        assert_eq!(record.body, None);
        let stored = serde_json::to_string(&record).unwrap();
        assert!(!stored.contains("quarterly"), "{stored}");
        assert!(!stored.contains("Ann"), "{stored}");
        assert!(!stored.contains("https://"), "{stored}");
    }

    #[test]
    fn keeps_the_body_only_when_asked() {
        let seen = "2024-11-21T00:19:20Z".parse().unwrap();
        let record =
            InteractionRecord::from_graph(&prompt(), InteractionSource::Notification, seen, true)
                .unwrap();
        assert_eq!(
            record.body.as_deref(),
            Some("summarise the quarterly numbers")
        );
    }

    #[test]
    fn responses_have_no_owner_and_the_app_as_sender() {
        let mut response = prompt();
        response.interaction_type = InteractionType::AiResponse;
        response.from = Some(
            serde_json::from_value(serde_json::json!({
                "application": {"id": "fb8d773d", "displayName": "Copilot in Teams"},
                "device": null, "user": null
            }))
            .unwrap(),
        );
        let seen = "2024-11-21T00:19:20Z".parse().unwrap();
        let record =
            InteractionRecord::from_graph(&response, InteractionSource::Poll, seen, false).unwrap();
        assert_eq!(record.user_id, None);
        assert_eq!(
            record.from_display_name.as_deref(),
            Some("Copilot in Teams")
        );
        assert_eq!(record.interaction_type, "aiResponse");
    }

    #[test]
    fn refuses_ids_that_cannot_be_keys() {
        let seen = "2024-11-21T00:19:20Z".parse().unwrap();
        let mut item = prompt();
        item.id.clear();
        assert_eq!(
            InteractionRecord::from_graph(&item, InteractionSource::Poll, seen, false),
            Err(InvalidInteraction::EmptyId)
        );
        item.id = "9".repeat(InteractionRecord::MAX_ID_BYTES + 1);
        assert!(matches!(
            InteractionRecord::from_graph(&item, InteractionSource::Poll, seen, false),
            Err(InvalidInteraction::IdTooLong(_))
        ));
    }
}
