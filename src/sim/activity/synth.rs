//! One Copilot exchange as Graph stores it: a `userPrompt` and its `aiResponse` sharing a
//! `requestId`, shaped exactly like `graph-fixtures/interactions-page.json` (graph-facts §1.5):
//! the user side as a `teamworkUserIdentity` whose `displayName` is the Skype MRI, the Copilot
//! side as the bot's `teamworkApplicationIdentity`, bodies (text prompt, HTML answer with
//! `<attachment id>` placeholders), and the attachments, links, contexts and mentions that
//! go with the experience.
//!
//! Depends on the tenant, the activity book and `graph::model`.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::json;

use super::apps::AppKind;
use super::book::{ActivityBook, Bump, Session, pick, random_guid};
use super::content::{self, Document, Fill};
use super::wire::{
    bot_identity, citation_card, hex_id, html_body, millis_to_time, text_body, user_identity,
};
use crate::graph::model::{
    AiInteraction, AiInteractionAttachment, AiInteractionContext, AiInteractionLink,
    AiInteractionMention, IdentitySet, InteractionType, ItemBody,
};
use crate::sim::ledger::Generated;
use crate::sim::tenant::{SimUser, Tenant};

/// What one exchange is about; everything else is drawn at random.
#[derive(Debug, Clone, Copy)]
pub struct PairRequest<'a> {
    /// Who asks.
    pub user: &'a SimUser,
    /// In which experience.
    pub kind: AppKind,
    /// When the prompt is sent.
    pub prompt_at: DateTime<Utc>,
    /// How long Copilot takes to answer.
    pub reply_after: Duration,
    /// Which way a taken millisecond moves.
    pub bump: Bump,
}

/// Builds exchanges for one tenant.
#[derive(Debug, Clone)]
pub struct Synth<'a> {
    tenant: &'a Tenant,
    book: &'a ActivityBook,
    /// `from` of each user's prompts, in the order of `tenant.users` (built once: identities
    /// are the same on every prompt).
    user_identities: Vec<IdentitySet>,
    /// `from` of answers in Teams, and everywhere else.
    bot_identities: [IdentitySet; 2],
}

/// The pieces of an exchange shared by its prompt and its answer.
struct Scene<'a> {
    user: &'a SimUser,
    kind: AppKind,
    session: Session,
    request_id: String,
    document: &'static Document,
    document_url: String,
    person: Option<&'a SimUser>,
}

impl<'a> Synth<'a> {
    /// A builder for `tenant`'s exchanges, remembering sessions and ids in `book`.
    pub fn new(tenant: &'a Tenant, book: &'a ActivityBook) -> Self {
        let user_identities = tenant
            .users
            .iter()
            .map(|user| user_identity(&tenant.id, user))
            .collect();
        Self {
            tenant,
            book,
            user_identities,
            bot_identities: [bot_identity(AppKind::Teams), bot_identity(AppKind::BizChat)],
        }
    }

    fn user_identity(&self, user: &SimUser) -> IdentitySet {
        self.tenant
            .users
            .iter()
            .position(|known| known.id == user.id)
            .and_then(|index| self.user_identities.get(index))
            .cloned()
            .unwrap_or_else(|| user_identity(&self.tenant.id, user))
    }

    fn bot_identity(&self, kind: AppKind) -> IdentitySet {
        let [teams, other] = &self.bot_identities;
        if kind == AppKind::Teams {
            teams.clone()
        } else {
            other.clone()
        }
    }

    /// A prompt and its answer, `[prompt, response]`. `taken` says whether a millisecond is
    /// already used by an interaction in the log.
    pub fn pair<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        request: &PairRequest<'_>,
        taken: &dyn Fn(i64) -> bool,
    ) -> [Generated; 2] {
        let kind = request.kind;
        let session = self
            .book
            .session(rng, &request.user.id, kind, request.prompt_at);
        let exchange = pick(rng, content::exchanges(kind))
            .copied()
            .unwrap_or(content::Exchange {
                prompt: "Help me with {topic}",
                answer: "Here is what I found about {topic}.",
            });
        let document = session
            .document
            .or_else(|| content::random_document(rng, kind))
            .unwrap_or(&content::FALLBACK_DOCUMENT);
        let person = pick(rng, &self.tenant.users).filter(|p| p.id != request.user.id);
        let meeting = session
            .meeting
            .as_ref()
            .map(|m| m.subject)
            .or_else(|| pick(rng, content::MEETINGS).copied())
            .unwrap_or("the meeting");
        let topic = pick(rng, content::TOPICS).copied().unwrap_or("the project");
        let fill = Fill {
            topic,
            file: document.name,
            meeting,
            person: person.map_or("a colleague", |p| p.display_name.as_str()),
        };
        let scene = Scene {
            user: request.user,
            kind,
            request_id: random_guid(rng),
            document_url: self.document_url(document),
            document,
            session,
            person,
        };

        let prompt_ms =
            self.book
                .reserve_millis(request.prompt_at.timestamp_millis(), request.bump, taken);
        let reply_ms = request.reply_after.num_milliseconds().max(1);
        let response_ms =
            self.book
                .reserve_millis(prompt_ms.saturating_add(reply_ms), request.bump, taken);
        let prompt = self.prompt(rng, &scene, &fill, exchange, prompt_ms);
        let response = self.response(rng, &scene, &fill, exchange, response_ms);
        [
            self.generated(request.user, prompt),
            self.generated(request.user, response),
        ]
    }

    fn prompt<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        scene: &Scene<'_>,
        fill: &Fill<'_>,
        exchange: content::Exchange,
        ms: i64,
    ) -> AiInteraction {
        let mut mentions = Vec::new();
        if exchange.prompt.contains("{person}")
            && rng.random_bool(0.5)
            && let Some(person) = scene.person
        {
            mentions.push(self.mention(person));
        }
        let mut attachments = Vec::new();
        if scene.kind == AppKind::BizChat && rng.random_bool(0.1) {
            attachments.push(AiInteractionAttachment {
                attachment_id: hex_id(rng),
                content_type: Some("file".to_owned()),
                content_url: Some(scene.document_url.clone()),
                name: Some(scene.document.name.to_owned()),
                content: None,
            });
        }
        AiInteraction {
            contexts: self.contexts(scene),
            attachments,
            mentions,
            ..self.skeleton(
                scene,
                ms,
                InteractionType::UserPrompt,
                text_body(&fill.apply(exchange.prompt)),
                self.user_identity(scene.user),
            )
        }
    }

    fn response<R: Rng + ?Sized>(
        &self,
        rng: &mut R,
        scene: &Scene<'_>,
        fill: &Fill<'_>,
        exchange: content::Exchange,
        ms: i64,
    ) -> AiInteraction {
        let mut html = format!("<p>{}</p>", fill.apply(exchange.answer));
        let closing = pick(rng, content::CLOSINGS).copied().unwrap_or_default();
        if !closing.is_empty() {
            html.push_str(&format!("<p>{closing}</p>"));
        }
        let mut attachments = Vec::new();
        let mut links = Vec::new();
        let cites_document = exchange.prompt.contains("{file}")
            || exchange.answer.contains("{file}")
            || (scene.kind != AppKind::WebChat && rng.random_bool(0.35));
        if cites_document {
            attachments.push(AiInteractionAttachment {
                attachment_id: hex_id(rng),
                content_type: Some("reference".to_owned()),
                content_url: Some(scene.document_url.clone()),
                name: Some(scene.document.name.to_owned()),
                content: None,
            });
            links.push(AiInteractionLink {
                link_url: Some(scene.document_url.clone()),
                display_name: Some(scene.document.name.to_owned()),
                link_type: Some("File".to_owned()),
            });
        }
        if matches!(scene.kind, AppKind::BizChat | AppKind::WebChat) && rng.random_bool(0.25) {
            attachments.push(AiInteractionAttachment {
                attachment_id: hex_id(rng),
                content_type: Some("application/vnd.microsoft.card.adaptive".to_owned()),
                content_url: None,
                name: None,
                content: Some(citation_card(scene.document.name)),
            });
        }
        if let Some(meeting) = &scene.session.meeting
            && rng.random_bool(0.3)
        {
            links.push(AiInteractionLink {
                link_url: Some(format!(
                    "https://teams.microsoft.com/l/meetup-join/{}/0",
                    meeting.thread_id.replace(':', "%3a").replace('@', "%40")
                )),
                display_name: Some(meeting.subject.to_owned()),
                link_type: Some("Meeting".to_owned()),
            });
        } else if exchange.prompt.contains("{meeting}") {
            links.push(AiInteractionLink {
                link_url: Some(format!(
                    "https://outlook.office365.com/owa/?itemid={}&exvsurl=1&path=/calendar/item",
                    URL_SAFE_NO_PAD.encode(random_guid(rng))
                )),
                display_name: Some(fill.meeting.to_owned()),
                link_type: Some("Event".to_owned()),
            });
        }
        for attachment in &attachments {
            html.push_str(&format!(
                "<attachment id=\"{}\"></attachment>",
                attachment.attachment_id
            ));
        }
        // Known issue (graph-facts §1.5): in Teams meetings some answers lose the prompt's
        // contexts.
        let contexts = if scene.session.meeting.is_some() && rng.random_bool(0.3) {
            Vec::new()
        } else {
            self.contexts(scene)
        };
        AiInteraction {
            attachments,
            links,
            contexts,
            ..self.skeleton(
                scene,
                ms,
                InteractionType::AiResponse,
                html_body(&html),
                self.bot_identity(scene.kind),
            )
        }
    }

    fn skeleton(
        &self,
        scene: &Scene<'_>,
        ms: i64,
        interaction_type: InteractionType,
        body: ItemBody,
        from: IdentitySet,
    ) -> AiInteraction {
        AiInteraction {
            id: ms.to_string(),
            session_id: scene.session.id.clone(),
            request_id: scene.request_id.clone(),
            app_class: scene.kind.app_class().to_owned(),
            interaction_type,
            conversation_type: Some(scene.kind.conversation_type().to_owned()),
            etag: Some(ms.to_string()),
            created_date_time: millis_to_time(ms),
            locale: Some("en-us".to_owned()),
            body: Some(body),
            from: Some(from),
            attachments: Vec::new(),
            links: Vec::new(),
            contexts: Vec::new(),
            mentions: Vec::new(),
        }
    }

    fn contexts(&self, scene: &Scene<'_>) -> Vec<AiInteractionContext> {
        if let Some(meeting) = &scene.session.meeting {
            return vec![AiInteractionContext {
                context_reference: Some(format!(
                    "https://microsoft.teams.com/threads/{}",
                    meeting.thread_id
                )),
                display_name: Some(meeting.subject.to_owned()),
                context_type: Some("TeamsMeeting".to_owned()),
            }];
        }
        match scene.session.document {
            Some(document) => vec![AiInteractionContext {
                context_reference: Some(scene.document_url.clone()),
                display_name: Some(document.name.to_owned()),
                context_type: Some("File".to_owned()),
            }],
            None => Vec::new(),
        }
    }

    fn mention(&self, person: &SimUser) -> AiInteractionMention {
        AiInteractionMention {
            mention_id: Some(0),
            mention_text: Some(person.display_name.clone()),
            mentioned: Some(json!({
                "@odata.type": "#microsoft.graph.aiInteractionMentionedIdentitySet",
                "application": null,
                "device": null,
                "conversation": null,
                "tag": null,
                "user": {
                    "@odata.type": "#microsoft.graph.teamworkUserIdentity",
                    "id": person.id,
                    "displayName": person.display_name,
                    "userIdentityType": "aadUser",
                    "tenantId": self.tenant.id,
                },
            })),
        }
    }

    fn generated(&self, user: &SimUser, interaction: AiInteraction) -> Generated {
        Generated {
            user_id: user.id.clone(),
            interaction: Arc::new(interaction),
        }
    }

    /// `https://<tenant>.sharepoint.com/<folder>/<name>`, spaces encoded.
    fn document_url(&self, document: &Document) -> String {
        let label = self
            .tenant
            .domain
            .strip_suffix(".onmicrosoft.com")
            .unwrap_or(&self.tenant.domain);
        format!(
            "https://{label}.sharepoint.com/{}/{}",
            document.folder, document.name
        )
        .replace(' ', "%20")
    }
}
