//! The Feed tab, drawn from fixture state at a fixed instant into ratatui's `TestBackend` and
//! compared with the committed snapshots: the live feed, a filtered feed, the detail pane and
//! the activity view at 80×24 and 160×48, and the empty states. The app is driven as the
//! runner drives it: keys in, queries out, the fixture collector's answers back.
//! Accept intended changes with `INSTA_UPDATE=always` or `cargo insta review`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tui_support;

use crossterm::event::KeyCode;
use pilotwatch::console::{Command, Connection, ExportFormat, FeedPage, Snapshot};
use pilotwatch::tui::Theme;
use pilotwatch::tui::app::{App, AppOptions, Effect, Msg};
use pilotwatch::tui::tabs::{Answer, Query, TabId};
use pilotwatch::tui::view::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_support::feed::{activity_view, empty_feed_snapshot, feed_page, feed_snapshot};
use tui_support::{key, now};

/// Answers every query in `effects` as the fixture collector would, until none is left.
fn settle(app: &mut App, mut effects: Vec<Effect>) -> Vec<Effect> {
    let mut others = Vec::new();
    while let Some(effect) = effects.pop() {
        let answer = match effect {
            Effect::Query(TabId::Feed, Query::Feed(query)) => {
                // The fixture holds the newest 400; a bigger store goes on past them.
                let stored = app.snapshot().map_or(0, |s| s.interactions_stored);
                let page = if stored == 0 {
                    FeedPage {
                        rows: Vec::new(),
                        next: None,
                        scanned: 0,
                        ..FeedPage::default()
                    }
                } else {
                    feed_page(&query, stored <= 400)
                };
                Answer::Feed(query, Ok(page))
            }
            Effect::Query(TabId::Feed, Query::Activity(filter)) => {
                Answer::Activity(filter, Ok(activity_view()))
            }
            other => {
                others.push(other);
                continue;
            }
        };
        effects.extend(app.update(Msg::Answer(TabId::Feed, answer)));
    }
    others
}

fn feed_app(snapshot: Snapshot) -> App {
    let mut app = App::new(Connection::Embedded, AppOptions::default());
    app.update(Msg::Snapshot(Ok(snapshot)));
    app.update(Msg::Tick(now()));
    let effects = app.update(Msg::Key(key(KeyCode::Char('4'))));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Query(TabId::Feed, Query::Feed(_)))),
        "the tab asks for its first page when shown"
    );
    settle(&mut app, effects);
    app
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    let effects = app.update(Msg::Key(key(code)));
    settle(app, effects)
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let theme = Theme::built_in("default").unwrap();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, app, &theme, now()))
        .unwrap();
    terminal
}

fn filtered() -> App {
    let mut app = feed_app(feed_snapshot());
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "app:word type:prompt");
    press(&mut app, KeyCode::Enter);
    app
}

fn detail() -> App {
    let mut app = feed_app(feed_snapshot());
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    app
}

fn activity() -> App {
    let mut app = feed_app(feed_snapshot());
    press(&mut app, KeyCode::Char('a'));
    app
}

#[test]
fn live_80x24() {
    let terminal = screen(&feed_app(feed_snapshot()), 80, 24);
    let text = terminal.backend().to_string();
    assert!(text.contains("following"), "{text}");
    assert!(text.contains("1,000,000 stored"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn live_160x48() {
    insta::assert_snapshot!(screen(&feed_app(feed_snapshot()), 160, 48).backend());
}

#[test]
fn filtered_80x24() {
    let terminal = screen(&filtered(), 80, 24);
    let text = terminal.backend().to_string();
    assert!(text.contains("/app:word type:prompt"), "{text}");
    assert!(!text.contains("response"), "only prompts: {text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn filtered_160x48() {
    insta::assert_snapshot!(screen(&filtered(), 160, 48).backend());
}

#[test]
fn detail_80x24() {
    let terminal = screen(&detail(), 80, 24);
    let text = terminal.backend().to_string();
    assert!(text.contains("paused"), "moving down pauses: {text}");
    assert!(text.contains("Summarise the Q3 budget"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn detail_160x48() {
    insta::assert_snapshot!(screen(&detail(), 160, 48).backend());
}

#[test]
fn activity_80x24() {
    let terminal = screen(&activity(), 80, 24);
    let text = terminal.backend().to_string();
    assert!(text.contains("partial"), "truncated counts say so: {text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn activity_160x48() {
    insta::assert_snapshot!(screen(&activity(), 160, 48).backend());
}

#[test]
fn empty_store_waits_for_the_first_interaction() {
    let terminal = screen(&feed_app(empty_feed_snapshot()), 80, 24);
    let text = terminal.backend().to_string();
    assert!(text.contains("waiting for the first interaction"), "{text}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_filter_that_matches_nothing_says_so() {
    let mut app = feed_app(Snapshot {
        interactions_stored: 400,
        ..feed_snapshot()
    });
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "user:nobody");
    press(&mut app, KeyCode::Enter);
    let text = screen(&app, 80, 24).backend().to_string();
    assert!(text.contains("nothing matches `user:nobody`"), "{text}");
}

#[test]
fn bad_filter_syntax_is_explained_and_changes_nothing() {
    let mut app = feed_app(feed_snapshot());
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "colour:red");
    let effects = press(&mut app, KeyCode::Enter);
    assert!(effects.is_empty(), "nothing is asked: {effects:?}");
    let terminal = screen(&app, 80, 24);
    let text = terminal.backend().to_string();
    assert!(text.contains("unknown field `colour:`"), "{text}");
    assert!(
        text.contains("1,000,000 stored"),
        "the feed is unfiltered: {text}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn export_prompts_for_a_path_and_sends_the_filtered_selection() {
    let mut app = filtered();
    press(&mut app, KeyCode::Char('e'));
    let text = screen(&app, 80, 24).backend().to_string();
    assert!(
        text.contains("./pilotwatch-export-20260922-080000.jsonl"),
        "{text}"
    );
    let effects = press(&mut app, KeyCode::Enter);
    let [
        Effect::Command(Command::Export {
            filter,
            format,
            path,
        }),
    ] = effects.as_slice()
    else {
        panic!("one export command: {effects:?}");
    };
    assert_eq!(filter.app.as_deref(), Some("word"));
    assert_eq!(filter.interaction_type.as_deref(), Some("prompt"));
    assert_eq!(*format, ExportFormat::Jsonl);
    assert_eq!(
        path.to_str(),
        Some("./pilotwatch-export-20260922-080000.jsonl")
    );
}

#[test]
fn keys_typed_in_the_filter_are_text_not_commands() {
    let mut app = feed_app(feed_snapshot());
    press(&mut app, KeyCode::Char('/'));
    let effects = press(&mut app, KeyCode::Char('q'));
    assert!(
        effects.is_empty(),
        "q is a letter here, not quit: {effects:?}"
    );
    assert_eq!(app.tab(), TabId::Feed);
    press(&mut app, KeyCode::Esc);
    let effects = app.update(Msg::Key(key(KeyCode::Char('q'))));
    assert!(effects.iter().any(|e| matches!(e, Effect::Quit)));
}

#[test]
fn esc_closes_the_detail_pane_and_g_follows_again() {
    let mut app = detail();
    press(&mut app, KeyCode::Esc);
    let text = screen(&app, 80, 24).backend().to_string();
    assert!(!text.contains("Interaction 2"), "{text}");
    assert!(text.contains("paused"), "{text}");
    let effects = app.update(Msg::Key(key(KeyCode::Char('g'))));
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Query(TabId::Feed, Query::Feed(q)) if q.after.is_none())),
        "following starts from the newest: {effects:?}"
    );
    settle(&mut app, effects);
    let text = screen(&app, 80, 24).backend().to_string();
    assert!(text.contains("following · 1/1,000,000 stored"), "{text}");
}

#[test]
fn reads_the_same_without_colour() {
    for (width, height) in [(80, 24), (160, 48)] {
        for app in [feed_app(feed_snapshot()), filtered(), detail(), activity()] {
            tui_support::assert_reads_the_same_without_colour(&app, width, height);
        }
    }
}
