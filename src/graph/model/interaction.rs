//! `aiInteraction` and its parts, as returned by `getAllEnterpriseInteractions` and carried
//! (encrypted) in rich change notifications (graph-facts §1.5).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One Copilot prompt or response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiInteraction {
    /// Message id (in Microsoft's examples, `createdDateTime` as epoch milliseconds).
    pub id: String,
    /// Thread id, e.g. `19:…@thread.v2`.
    pub session_id: String,
    /// Shared by a `userPrompt` and its `aiResponse`.
    pub request_id: String,
    /// Which Copilot experience, e.g. `IPM.SkypeTeams.Message.Copilot.BizChat`.
    pub app_class: String,
    /// Prompt or response.
    pub interaction_type: InteractionType,
    /// Free string: `bizchat`, `appchat`, …
    #[serde(default)]
    pub conversation_type: Option<String>,
    /// Last-modification stamp.
    #[serde(default)]
    pub etag: Option<String>,
    /// When the interaction happened.
    pub created_date_time: DateTime<Utc>,
    /// e.g. `en-us`.
    #[serde(default)]
    pub locale: Option<String>,
    /// The prompt or response text.
    #[serde(default)]
    pub body: Option<ItemBody>,
    /// Who said it: a user for prompts, the Copilot application for responses.
    #[serde(default)]
    pub from: Option<IdentitySet>,
    /// Files, cards and references.
    #[serde(default)]
    pub attachments: Vec<AiInteractionAttachment>,
    /// Links in the interaction.
    #[serde(default)]
    pub links: Vec<AiInteractionLink>,
    /// Context the interaction ran in (a meeting, a file).
    #[serde(default)]
    pub contexts: Vec<AiInteractionContext>,
    /// @-mentions.
    #[serde(default)]
    pub mentions: Vec<AiInteractionMention>,
}

/// `aiInteractionType`, an evolvable enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum InteractionType {
    /// The user's prompt.
    UserPrompt,
    /// Copilot's answer.
    AiResponse,
    /// Graph's sentinel for values added later.
    #[serde(other)]
    UnknownFutureValue,
}

/// `itemBody`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    /// `text` or `html`.
    pub content_type: String,
    /// The text.
    pub content: String,
}

/// `chatMessageFromIdentitySet`: exactly one of `user` / `application` is set in practice.
/// The identities are kept as JSON because their `@odata.type` varies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdentitySet {
    /// `#microsoft.graph.chatMessageFromIdentitySet`.
    #[serde(
        rename = "@odata.type",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_type: Option<String>,
    /// Copilot's bot identity on responses.
    #[serde(default)]
    pub application: Option<serde_json::Value>,
    /// Always null for Copilot.
    #[serde(default)]
    pub device: Option<serde_json::Value>,
    /// The user on prompts (`teamworkUserIdentity`).
    #[serde(default)]
    pub user: Option<serde_json::Value>,
}

impl IdentitySet {
    /// The user's object id, when this is a user.
    pub fn user_id(&self) -> Option<&str> {
        self.user.as_ref()?.get("id")?.as_str()
    }
}

/// `aiInteractionAttachment`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiInteractionAttachment {
    /// Unique only within the message.
    pub attachment_id: String,
    /// `reference`, `file`, `image/…`, `application/vnd.microsoft.card.adaptive`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Where the attachment lives.
    #[serde(default)]
    pub content_url: Option<String>,
    /// File name.
    #[serde(default)]
    pub name: Option<String>,
    /// Inline content (adaptive cards as a JSON string).
    #[serde(default)]
    pub content: Option<String>,
}

/// `aiInteractionLink`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiInteractionLink {
    /// Target URL.
    #[serde(default)]
    pub link_url: Option<String>,
    /// Shown text.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `Event`, `Meeting`, `File`, …
    #[serde(default)]
    pub link_type: Option<String>,
}

/// `aiInteractionContext`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiInteractionContext {
    /// URL of the context (a meeting thread, a file).
    #[serde(default)]
    pub context_reference: Option<String>,
    /// Shown text.
    #[serde(default)]
    pub display_name: Option<String>,
    /// e.g. `TeamsMeeting`, `File`.
    #[serde(default)]
    pub context_type: Option<String>,
}

/// `aiInteractionMention`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AiInteractionMention {
    /// Index of the mention in the text.
    #[serde(default)]
    pub mention_id: Option<i32>,
    /// The mention as written.
    #[serde(default)]
    pub mention_text: Option<String>,
    /// Who or what was mentioned.
    #[serde(default)]
    pub mentioned: Option<serde_json::Value>,
}
