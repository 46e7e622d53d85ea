//! The Graph wire pieces an exchange is assembled from: the `from` identity sets of a user and
//! of the Copilot bot (graph-facts §1.5, as in `interactions-page.json`), item bodies, the
//! adaptive card a cited answer carries, attachment ids, and epoch-millisecond times.
//!
//! Depends on `graph::model` and the tenant's user type.

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;
use serde_json::json;

use super::apps::AppKind;
use crate::graph::model::well_known::COPILOT_BOT_APP_ID;
use crate::graph::model::{IdentitySet, ItemBody};
use crate::sim::tenant::SimUser;

const FROM_TYPE: &str = "#microsoft.graph.chatMessageFromIdentitySet";

/// A user's `from`: a `teamworkUserIdentity` whose `displayName` is the Skype MRI
/// `8:orgid:<id>`, not a human name.
pub fn user_identity(tenant_id: &str, user: &SimUser) -> IdentitySet {
    IdentitySet {
        odata_type: Some(FROM_TYPE.to_owned()),
        application: None,
        device: None,
        user: Some(json!({
            "@odata.type": "#microsoft.graph.teamworkUserIdentity",
            "id": user.id,
            "displayName": format!("8:orgid:{}", user.id),
            "userIdentityType": "aadUser",
            "tenantId": tenant_id,
        })),
    }
}

/// The Copilot bot's `from` in `kind`.
pub fn bot_identity(kind: AppKind) -> IdentitySet {
    IdentitySet {
        odata_type: Some(FROM_TYPE.to_owned()),
        application: Some(json!({
            "@odata.type": "#microsoft.graph.teamworkApplicationIdentity",
            "id": COPILOT_BOT_APP_ID,
            "displayName": kind.bot_name(),
            "applicationIdentityType": "bot",
        })),
        device: None,
        user: None,
    }
}

/// A plain-text body (prompts).
pub fn text_body(content: &str) -> ItemBody {
    ItemBody {
        content_type: "text".to_owned(),
        content: content.to_owned(),
    }
}

/// An HTML body (answers).
pub fn html_body(content: &str) -> ItemBody {
    ItemBody {
        content_type: "html".to_owned(),
        content: content.to_owned(),
    }
}

/// An adaptive card listing the answer's source, serialized as a string as Graph returns it.
pub fn citation_card(source: &str) -> String {
    json!({
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.5",
        "body": [
            { "type": "TextBlock", "text": "Sources", "weight": "Bolder" },
            { "type": "TextBlock", "text": format!("1. {source}"), "wrap": true },
        ],
    })
    .to_string()
}

/// 32 hex digits, the shape of attachment ids.
pub fn hex_id<R: Rng + ?Sized>(rng: &mut R) -> String {
    hex::encode(rng.random::<[u8; 16]>())
}

/// Epoch milliseconds as a time (the epoch itself for values chrono cannot represent).
pub fn millis_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}
