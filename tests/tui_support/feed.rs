//! Feed fixtures: a store of interactions from four users across Copilot apps (prompts with
//! their responses, some delivered by notification in about a second, some fetched by the
//! poller minutes late, one with its body stored), the snapshot whose head holds the newest
//! of them, the collector's page answers, and an activity view that stopped at its bound.

use chrono::Duration;
use pilotwatch::console::embedded::feed::Matcher;
use pilotwatch::console::{ActivityRow, ActivityView, FeedPage, FeedQuery, Snapshot};
use pilotwatch::store::records::{InteractionRecord, InteractionSource};

use super::{now, snapshot};

const USERS: [(&str, &str); 4] = [
    ("5b2c3d4e-1a2b-4c3d-9e8f-7a6b5c4d3e2f", "Adele Vance"),
    ("8c1f0a9e-2b3c-4d5e-8f70-1a2b3c4d5e6f", "Alex Wilber"),
    ("0d9e8f7a-6b5c-4d3e-9f2a-1b0c9d8e7f6a", "Megan Bowen"),
    ("3e4f5a6b-7c8d-4e9f-8a0b-c1d2e3f4a5b6", "Lee Gu"),
];

const APPS: [&str; 5] = [
    "IPM.SkypeTeams.Message.Copilot.Teams",
    "IPM.SkypeTeams.Message.Copilot.Word",
    "IPM.SkypeTeams.Message.Copilot.Excel",
    "IPM.SkypeTeams.Message.Copilot.Outlook",
    "IPM.SkypeTeams.Message.Copilot.BizChat",
];

/// The `n`th interaction (0 the newest): pairs of prompt and response, 40 s apart.
pub fn feed_record(n: usize) -> InteractionRecord {
    let pair = n / 2;
    let prompt = n % 2 == 1;
    let (user_id, name) = USERS[pair % USERS.len()];
    let created_at = now() - Duration::seconds(40 * pair as i64 + 12)
        + Duration::seconds(i64::from(!prompt) * 3);
    let polled = pair % 7 == 3;
    let delay = if polled {
        Duration::seconds(125 + pair as i64)
    } else {
        Duration::milliseconds(800 + 150 * (pair as i64 % 5))
    };
    InteractionRecord {
        id: format!("AAMkAGI2TG93AAA={:04}", 9_999 - n),
        user_id: Some(user_id.into()),
        session_id: Some(format!(
            "19:{:08x}-sess@thread.v2",
            0x5eed_0000u32 + pair as u32
        )),
        request_id: Some(format!("req-{pair:04}")),
        app_class: APPS[pair % APPS.len()].into(),
        interaction_type: if prompt { "userPrompt" } else { "aiResponse" }.into(),
        conversation_type: Some(
            if pair.is_multiple_of(3) {
                "bizchat"
            } else {
                "appchat"
            }
            .into(),
        ),
        created_at,
        from_display_name: Some(if prompt { name } else { "Microsoft 365 Chat" }.into()),
        attachments: u32::from(pair.is_multiple_of(4)),
        links: (pair % 3) as u32,
        contexts: 1,
        body: (pair == 0).then(|| {
            if prompt {
                "Summarise the Q3 budget review thread and list the open actions".to_owned()
            } else {
                "The Q3 budget review agreed three actions: Megan revises the travel line, Lee \
                 confirms the licence true-up, Adele books the follow-up."
                    .to_owned()
            }
        }),
        source: if polled {
            InteractionSource::Poll
        } else {
            InteractionSource::Notification
        },
        first_seen_at: created_at + delay,
    }
}

/// Every stored interaction, newest first.
pub fn feed_store() -> Vec<InteractionRecord> {
    (0..400).map(feed_record).collect()
}

/// The fixture snapshot with the feed's head (its newest 24) and a million stored.
pub fn feed_snapshot() -> Snapshot {
    Snapshot {
        interactions_stored: 1_000_000,
        feed_head: (0..24).map(feed_record).collect(),
        ..snapshot()
    }
}

/// The fixture snapshot of a collector that has stored nothing yet.
pub fn empty_feed_snapshot() -> Snapshot {
    Snapshot {
        interactions_stored: 0,
        feed_head: Vec::new(),
        ..snapshot()
    }
}

/// What the collector answers for `query` over [`feed_store`]. With `ends` false the store
/// goes on past the fixture's 400 (the "million"): a page that reaches their end says so with
/// a cursor, as a rare filter's short page does.
pub fn feed_page(query: &FeedQuery, ends: bool) -> FeedPage {
    let matcher = Matcher::new(&query.filter);
    let store = feed_store();
    let start = match &query.after {
        None => 0,
        Some(cursor) => store
            .iter()
            .position(|r| (r.created_at, r.id.as_str()) < (cursor.created_at, cursor.id.as_str()))
            .unwrap_or(store.len()),
    };
    let mut rows = Vec::new();
    let mut scanned = 0;
    for record in &store[start..] {
        if rows.len() == query.limit {
            break;
        }
        scanned += 1;
        if matcher.matches(record) {
            rows.push(record.clone());
        }
    }
    let more = start + scanned < store.len() || !ends;
    let next = (more && scanned > 0).then(|| pilotwatch::console::FeedCursor {
        created_at: store[start + scanned - 1].created_at,
        id: store[start + scanned - 1].id.clone(),
    });
    FeedPage {
        rows,
        next,
        scanned: scanned as u64,
        ..FeedPage::default()
    }
}

/// Users × apps as counted up to the bound (truncated).
pub fn activity_view() -> ActivityView {
    let row = |user: usize, app: usize, prompts, responses, minutes| ActivityRow {
        user_id: USERS[user].0.into(),
        user_name: Some(USERS[user].1.into()),
        app: APPS[app].into(),
        prompts,
        responses,
        last_at: now() - Duration::minutes(minutes),
    };
    ActivityView {
        rows: vec![
            row(0, 0, 412, 409, 1),
            row(1, 1, 230, 230, 2),
            row(2, 2, 198, 196, 3),
            row(3, 3, 87, 87, 4),
            row(0, 4, 45, 44, 38),
            ActivityRow {
                user_id: String::new(),
                user_name: None,
                app: APPS[4].into(),
                prompts: 0,
                responses: 18,
                last_at: now() - Duration::hours(5),
            },
        ],
        counted: 200_000,
        truncated: true,
        since: Some(now() - Duration::days(6)),
    }
}
