//! The paging window: joins between pages never duplicate or lose a row, the window stays
//! bounded, and dropped rows are fetched back from their cursor. Pure.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use chrono::TimeDelta;

use super::*;
use crate::store::records::InteractionSource;

fn record(n: i64) -> InteractionRecord {
    let at: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
    InteractionRecord {
        id: format!("m-{n:07}"),
        user_id: None,
        session_id: None,
        request_id: None,
        app_class: "IPM.SkypeTeams.Message.Copilot.Teams".into(),
        interaction_type: if n % 2 == 0 {
            "userPrompt"
        } else {
            "aiResponse"
        }
        .into(),
        conversation_type: None,
        created_at: at + TimeDelta::seconds(n),
        from_display_name: None,
        attachments: 0,
        links: 0,
        contexts: 0,
        body: None,
        source: InteractionSource::Notification,
        first_seen_at: at + TimeDelta::seconds(n),
    }
}

/// A store of `count` interactions, newest first (`m-<count-1>` … `m-0`).
fn store(count: i64) -> Vec<InteractionRecord> {
    (0..count).rev().map(record).collect()
}

/// What the collector answers: rows strictly older than the cursor, examining at most
/// `bound`, keeping those `keep` accepts.
fn serve(
    store: &[InteractionRecord],
    query: &FeedQuery,
    bound: usize,
    keep: impl Fn(&InteractionRecord) -> bool,
) -> FeedPage {
    let start = match &query.after {
        None => 0,
        Some(cursor) => store
            .iter()
            .position(|r| key(r) < (cursor.created_at, cursor.id.as_str()))
            .unwrap_or(store.len()),
    };
    let mut rows = Vec::new();
    let mut examined = 0;
    let mut last = None;
    for record in store.iter().skip(start) {
        if examined == bound || rows.len() == query.limit {
            break;
        }
        examined += 1;
        last = Some(record);
        if keep(record) {
            rows.push(record.clone());
        }
    }
    let more = start + examined < store.len();
    FeedPage {
        rows,
        next: if more { last.map(cursor_after) } else { None },
        scanned: examined as u64,
        ..FeedPage::default()
    }
}

fn everything(_: &InteractionRecord) -> bool {
    true
}

fn assert_strictly_newest_first(window: &Window) {
    let ids: HashSet<&str> = window.rows().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), window.rows().len(), "no duplicates");
    for pair in window.rows().iter().collect::<Vec<_>>().windows(2) {
        assert!(
            key(pair[0]) > key(pair[1]),
            "{} then {}",
            pair[0].id,
            pair[1].id
        );
    }
}

#[test]
fn pages_join_without_duplicates_even_when_they_overlap() {
    let store = store(1_000);
    let mut window = Window::new(FeedFilter::default());
    let first = window.reset();
    assert!(
        window
            .apply(&first, serve(&store, &first, 20_000, everything))
            .accepted
    );
    assert_eq!(window.rows().len(), PAGE_ROWS);
    let down = window.more_below().unwrap();
    // The collector answers from a few rows back (a row arrived late between the pages).
    let mut page = serve(&store, &down, 20_000, everything);
    page.rows.splice(0..0, store[195..200].iter().cloned());
    window.apply(&down, page);
    assert_eq!(window.rows().len(), 2 * PAGE_ROWS);
    assert_strictly_newest_first(&window);
    assert_eq!(window.rows().back().unwrap().id, "m-0000600");
}

#[test]
fn memory_stays_bounded_and_dropped_rows_come_back_in_place() {
    let store = store(10_000);
    let mut window = Window::new(FeedFilter::default());
    let first = window.reset();
    window.apply(&first, serve(&store, &first, 20_000, everything));
    while window.rows().len() + window.dropped_above() < 5_000 {
        let down = window.more_below().unwrap();
        window.apply(&down, serve(&store, &down, 20_000, everything));
        assert!(window.rows().len() <= MAX_ROWS);
    }
    assert!(window.dropped_above() > 0);
    let top_before = window.rows().front().unwrap().id.clone();
    assert_eq!(
        store[window.dropped_above()].id,
        top_before,
        "the window sits where the rows dropped above say"
    );
    while window.dropped_above() > 0 {
        let up = window.more_above().unwrap();
        let applied = window.apply(&up, serve(&store, &up, 20_000, everything));
        assert!(applied.prepended > 0);
        assert_strictly_newest_first(&window);
        assert!(window.rows().len() <= MAX_ROWS);
        assert_eq!(store[window.dropped_above()].id, window.rows()[0].id);
    }
    assert_eq!(window.rows()[0].id, "m-0009999");
    assert!(window.more_above().is_none(), "nothing is above the newest");
    // Rows cut off below are asked for again from the last row kept.
    let down = window.more_below().unwrap();
    assert_eq!(down.after, window.rows().back().map(cursor_after));
}

#[test]
fn a_rare_filter_keeps_searching_and_says_how_far() {
    let store = store(50_000);
    let rare = |r: &InteractionRecord| r.id == "m-0000007" || r.id == "m-0000003";
    let mut window = Window::new(FeedFilter::default());
    let first = window.reset();
    window.apply(&first, serve(&store, &first, 20_000, rare));
    assert!(window.rows().is_empty());
    assert_eq!(window.searched(), 20_000);
    assert!(!window.exhausted());
    let down = window.more_below().unwrap();
    window.apply(&down, serve(&store, &down, 20_000, rare));
    assert_eq!(window.searched(), 40_000);
    let down = window.more_below().unwrap();
    window.apply(&down, serve(&store, &down, 20_000, rare));
    let ids: Vec<&str> = window.rows().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["m-0000007", "m-0000003"]);
    assert!(window.exhausted());
    assert_eq!(window.searched(), 0, "the search is over");
    assert!(window.more_below().is_none());
}

#[test]
fn only_the_awaited_answer_counts() {
    let store = store(500);
    let mut window = Window::new(FeedFilter::default());
    let stale = window.reset();
    let fresh = window.reset();
    let mut other = stale.clone();
    other.limit = 3;
    assert!(
        !window
            .apply(&other, serve(&store, &other, 20_000, everything))
            .accepted
    );
    assert!(window.rows().is_empty());
    assert!(window.more_below().is_none(), "one page at a time");
    assert!(
        window
            .apply(&fresh, serve(&store, &fresh, 20_000, everything))
            .accepted
    );
    assert!(
        !window
            .apply(&fresh, serve(&store, &fresh, 20_000, everything))
            .accepted
    );
    window.abandon(&fresh);
    assert_eq!(window.rows().len(), PAGE_ROWS);
}

#[test]
fn following_shows_the_newer_head_and_pausing_freezes_it() {
    let older = store(300);
    let mut window = Window::new(FeedFilter::default());
    let first = window.reset();
    window.apply(&first, serve(&older, &first, 20_000, everything));
    // Three arrived since the page; the head also repeats rows the window holds.
    let head: Vec<InteractionRecord> = (297..303).rev().map(record).collect();
    let newer: Vec<String> = window
        .newer_in(&head)
        .iter()
        .map(|r| r.id.clone())
        .collect();
    assert_eq!(newer, ["m-0000302", "m-0000301", "m-0000300"]);
    let added = window.freeze(window.newer_in(&head).into_iter().cloned().collect());
    assert_eq!(added, 3);
    assert_strictly_newest_first(&window);
    assert_eq!(window.rows()[0].id, "m-0000302");
    assert!(
        window.newer_in(&head).is_empty(),
        "frozen: nothing newer is pending"
    );
    // Before any page, follow mode shows the whole head.
    let empty = Window::new(FeedFilter::default());
    assert_eq!(empty.newer_in(&head).len(), head.len());
}
