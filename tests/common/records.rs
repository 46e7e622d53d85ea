//! Interactions to seed a store with, for tests that page, filter and export many of them: the
//! `n`th of a run, by one of forty users, alternating prompts and responses, from the usual
//! BizChat app or, when `rare`, from an app a filter can pick out.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use pilotwatch::store::records::{InteractionRecord, InteractionSource};

/// The app class of a rare interaction.
pub const RARE_APP: &str = "IPM.SkypeTeams.Message.Copilot.Rare";

/// The `n`th seeded interaction, with `id`, created at `created_at`, as the poller stores it.
pub fn seeded(id: String, n: u32, created_at: DateTime<Utc>, rare: bool) -> InteractionRecord {
    InteractionRecord {
        id,
        user_id: Some(format!("user-{}", n % 40)),
        session_id: None,
        request_id: None,
        app_class: if rare {
            RARE_APP
        } else {
            "IPM.SkypeTeams.Message.Copilot.BizChat"
        }
        .into(),
        interaction_type: if n.is_multiple_of(2) {
            "userPrompt"
        } else {
            "aiResponse"
        }
        .into(),
        conversation_type: None,
        created_at,
        from_display_name: None,
        attachments: 0,
        links: 0,
        contexts: 0,
        body: None,
        source: InteractionSource::Poll,
        first_seen_at: created_at,
    }
}
