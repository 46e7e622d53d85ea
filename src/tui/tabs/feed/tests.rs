//! The Feed tab's behaviour: following and pausing, filtering, the detail pane, activity and
//! export, driven through `State::handle` and answers as the app would. Pure; no terminal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::console::{Command, ExportFormat, FeedPage, Snapshot};
use crate::store::records::InteractionSource;
use crate::tui::theme::Theme;
use window::{PAGE_ROWS, cursor_after};

fn now() -> DateTime<Utc> {
    "2026-11-22T08:00:00Z".parse().unwrap()
}

fn record(n: i64) -> InteractionRecord {
    InteractionRecord {
        id: format!("m-{n:05}"),
        user_id: Some("u-1".into()),
        session_id: None,
        request_id: None,
        app_class: if n % 2 == 0 {
            "Copilot.Teams"
        } else {
            "Copilot.Word"
        }
        .into(),
        interaction_type: "userPrompt".into(),
        conversation_type: None,
        created_at: now() - TimeDelta::hours(10) + TimeDelta::seconds(n),
        from_display_name: Some("Adele Vance".into()),
        attachments: 0,
        links: 0,
        contexts: 0,
        body: None,
        source: InteractionSource::Notification,
        first_seen_at: now(),
    }
}

/// A snapshot whose head holds `m-<newest>` down to `m-<newest - 9>`.
fn snapshot(newest: i64, stored: u64) -> Snapshot {
    Snapshot {
        taken_at: now(),
        started_at: now(),
        pid: 1,
        version: "test".into(),
        simulation: None,
        profiles: Vec::new(),
        interactions_stored: stored,
        feed_head: (newest - 9..=newest).rev().map(record).collect(),
        dead_tasks: Vec::new(),
    }
}

fn context<'a>(snapshot: &'a Snapshot, theme: &'a Theme) -> TabContext<'a> {
    TabContext {
        snapshot: Some(snapshot),
        profile: None,
        now: now(),
        theme,
        readonly: false,
        last_outcome: None,
        pending: false,
    }
}

/// The page the store would answer for `query`, from `m-<newest>` down.
fn page(query: &crate::console::FeedQuery, newest: i64) -> FeedPage {
    let start = query
        .after
        .as_ref()
        .map_or(newest, |cursor| cursor.id[2..].parse::<i64>().unwrap() - 1);
    let rows: Vec<InteractionRecord> = (0..query.limit as i64)
        .map(|k| start - k)
        .filter(|n| *n >= 0)
        .map(record)
        .collect();
    let next = rows.last().filter(|r| r.id != "m-00000").map(cursor_after);
    FeedPage {
        scanned: rows.len() as u64,
        rows,
        next,
        ..FeedPage::default()
    }
}

fn feed_query(reply: TabReply) -> crate::console::FeedQuery {
    match reply {
        TabReply::Query(Query::Feed(query)) => query,
        other => panic!("expected a feed query, got {other:?}"),
    }
}

fn ids<'a>(state: &'a State, context: &TabContext<'a>) -> Vec<&'a str> {
    state.list(context).iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn following_shows_arrivals_and_scrolling_down_pauses() {
    let theme = Theme::plain();
    let mut state = State::default();
    let before = snapshot(999, 1_000);
    let query = state.activated(&context(&before, &theme)).unwrap();
    let Query::Feed(query) = query else {
        panic!("a feed page first")
    };
    assert_eq!(query.after, None);
    state.answer(
        Answer::Feed(query.clone(), Ok(page(&query, 999))),
        &context(&before, &theme),
    );
    assert_eq!(ids(&state, &context(&before, &theme))[0], "m-00999");

    // Two arrive: following, they are on top and the selection stays on the newest.
    let arrived = snapshot(1_001, 1_002);
    let list = ids(&state, &context(&arrived, &theme));
    assert_eq!(&list[..3], ["m-01001", "m-01000", "m-00999"]);
    assert_eq!(list.len(), PAGE_ROWS + 2, "no duplicates at the join");

    // Scrolling down pauses; what arrives next does not move the list.
    state.handle(Action::Down, &context(&arrived, &theme));
    assert!(!state.following());
    let later = snapshot(1_005, 1_006);
    let list = ids(&state, &context(&later, &theme));
    assert_eq!(list[state.selected], "m-01000");
    assert_eq!(list[0], "m-01001");
    assert_eq!(state.arrived(&context(&later, &theme)), 4);

    // `f` follows again from the newest.
    let reply = state.handle(Action::Follow, &context(&later, &theme));
    assert_eq!(feed_query(reply).after, None);
    assert!(state.following());
    assert_eq!(state.selected, 0);
    assert_eq!(ids(&state, &context(&later, &theme))[0], "m-01005");
}

#[test]
fn scrolling_pages_on_and_keeps_the_selected_row() {
    let theme = Theme::plain();
    let snap = snapshot(999, 1_000);
    let context = context(&snap, &theme);
    let mut state = State::default();
    let Some(Query::Feed(first)) = state.activated(&context) else {
        panic!("a feed page first")
    };
    state.answer(Answer::Feed(first.clone(), Ok(page(&first, 999))), &context);
    let mut asked = None;
    for _ in 0..PAGE_ROWS {
        if let TabReply::Query(Query::Feed(query)) = state.handle(Action::Down, &context) {
            asked.get_or_insert(query);
        }
    }
    let asked = asked.expect("the next page is asked for before the end");
    assert_eq!(asked.after.as_ref().unwrap().id, "m-00800");
    let selected = ids(&state, &context)[state.selected].to_owned();
    state.answer(Answer::Feed(asked.clone(), Ok(page(&asked, 999))), &context);
    assert_eq!(ids(&state, &context)[state.selected], selected);
    assert_eq!(ids(&state, &context).len(), 2 * PAGE_ROWS);
    // A stale answer changes nothing.
    assert!(!state.answer(Answer::Feed(asked.clone(), Ok(page(&asked, 999))), &context));
}

#[test]
fn a_bad_filter_changes_nothing_and_a_good_one_starts_over() {
    let theme = Theme::plain();
    let snap = snapshot(999, 1_000);
    let context = context(&snap, &theme);
    let mut state = State::default();
    state.handle(Action::Filter, &context);
    *state.input_mut().unwrap() = Input::new("colour:red".into());
    let reply = state.handle(Action::Open, &context);
    assert!(matches!(reply, TabReply::Notice(ref text) if text.contains("unknown field")));
    assert!(state.filter().is_empty());
    assert!(state.input().is_some(), "the prompt stays open to fix it");

    *state.input_mut().unwrap() = Input::new("app:word".into());
    let query = feed_query(state.handle(Action::Open, &context));
    assert_eq!(query.filter.app.as_deref(), Some("word"));
    assert!(state.input().is_none());
    // Following with a filter shows only the matching head rows.
    assert!(
        ids(&state, &context)
            .iter()
            .all(|id| { id[2..].parse::<i64>().unwrap() % 2 == 1 })
    );
}

#[test]
fn export_sends_the_filtered_selection() {
    let theme = Theme::plain();
    let snap = snapshot(999, 1_000);
    let context = context(&snap, &theme);
    let mut state = State::default();
    state.handle(Action::Filter, &context);
    *state.input_mut().unwrap() = Input::new("type:prompt".into());
    state.handle(Action::Open, &context);
    state.handle(Action::Export, &context);
    assert_eq!(
        state.input().unwrap().value(),
        "./pilotwatch-export-20261122-080000.jsonl"
    );
    *state.input_mut().unwrap() = Input::new("out.csv".into());
    let TabReply::Command(
        Command::Export {
            filter,
            format,
            path,
        },
        _,
    ) = state.handle(Action::Open, &context)
    else {
        panic!("an export command")
    };
    assert_eq!(filter.interaction_type.as_deref(), Some("prompt"));
    assert_eq!(format, ExportFormat::Csv);
    assert_eq!(path.to_str(), Some("out.csv"));
}

#[test]
fn detail_and_activity_open_and_close() {
    let theme = Theme::plain();
    let snap = snapshot(999, 1_000);
    let context = context(&snap, &theme);
    let mut state = State::default();
    assert!(matches!(
        state.handle(Action::Open, &context),
        TabReply::Handled
    ));
    assert!(state.detail);
    assert!(matches!(
        state.handle(Action::Back, &context),
        TabReply::Handled
    ));
    assert!(!state.detail);
    assert!(matches!(
        state.handle(Action::Back, &context),
        TabReply::Ignored
    ));
    let reply = state.handle(Action::Activity, &context);
    assert!(matches!(reply, TabReply::Query(Query::Activity(_))));
    assert!(state.activity.is_some());
    state.handle(Action::Activity, &context);
    assert!(state.activity.is_none());
}
