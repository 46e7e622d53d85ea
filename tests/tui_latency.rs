//! The Latency tab, drawn from fixture latency at a fixed instant into ratatui's `TestBackend`
//! and compared with the committed snapshots under `tests/snapshots/`: a healthy hour and an
//! hour with a Graph-side incident (p99 past Microsoft's 60 min maximum) at 80×24 (compact)
//! and 160×48, and the loading, quiet-window and collector-error states. Also the tab's
//! conversation with the collector: it asks when shown, after each snapshot and when the
//! window changes, and drops answers for a window it no longer shows.
//! Accept intended changes with `INSTA_UPDATE=always` or `cargo insta review`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tui_support;

use crossterm::event::KeyCode;
use pilotwatch::console::{Connection, ConsoleError, LatencyQuery, LatencyView, LatencyWindow};
use pilotwatch::tui::Theme;
use pilotwatch::tui::app::{App, AppOptions, Effect, Msg};
use pilotwatch::tui::tabs::{Answer, Query, TabId};
use pilotwatch::tui::view::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_support::{key, latency, now};

/// The app showing the Latency tab; returns the question it asked on being shown.
fn on_latency_tab() -> (App, LatencyQuery) {
    let mut app = App::new(Connection::Embedded, AppOptions::default());
    app.update(Msg::Snapshot(Ok(tui_support::snapshot())));
    app.update(Msg::Tick(now()));
    let effects = app.update(Msg::Key(key(KeyCode::Char('3'))));
    assert_eq!(app.tab(), TabId::Latency);
    let query = only_query(&effects);
    assert_eq!(
        query,
        LatencyQuery {
            window: LatencyWindow::Hour,
            profile: Some("contoso".into()),
        },
        "asks for the shown profile's last hour when shown"
    );
    (app, query)
}

fn only_query(effects: &[Effect]) -> LatencyQuery {
    match effects {
        [Effect::Query(TabId::Latency, Query::Latency(query))] => query.clone(),
        other => panic!("expected one latency query, got {other:?}"),
    }
}

fn answered(view: LatencyView) -> App {
    let (mut app, query) = on_latency_tab();
    app.update(Msg::Answer(
        TabId::Latency,
        Answer::Latency(query, Ok(view)),
    ));
    app
}

fn draw(app: &App, width: u16, height: u16) -> String {
    let theme = Theme::built_in("default").unwrap();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, app, &theme, now()))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn healthy_80x24() {
    let screen = draw(&answered(latency::healthy()), 80, 24);
    for words in [
        "p50 2.4s",
        "p95 6.1s",
        "1,204 samples",
        "Graph's slow line 2.9s",
    ] {
        assert!(screen.contains(words), "{words:?} missing:\n{screen}");
    }
    assert!(screen.contains("1h max off top"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn healthy_160x48() {
    let screen = draw(&answered(latency::healthy()), 160, 48);
    for words in [
        "BizChat",
        "WebChat",
        "Graph's side 6.1s (>99 %)",
        "10s average",
    ] {
        assert!(screen.contains(words), "{words:?} missing:\n{screen}");
    }
    insta::assert_snapshot!(screen);
}

#[test]
fn graph_side_incident_80x24() {
    let screen = draw(&answered(latency::incident()), 80, 24);
    assert!(
        screen.contains("✖ CRIT"),
        "severity is spelt out:\n{screen}"
    );
    assert!(screen.contains("max 1h22m"), "{screen}");
    assert!(screen.contains("•• 1h max"), "{screen}");
    assert!(!screen.contains("off top"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn graph_side_incident_160x48() {
    let screen = draw(&answered(latency::incident()), 160, 48);
    assert!(
        screen.contains(">1h"),
        "the bucket past the maximum:\n{screen}"
    );
    assert!(screen.contains("Teams"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn loading_until_the_first_answer() {
    let (app, _) = on_latency_tab();
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("loading latency for the last 1 h…"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_quiet_window_says_why_that_may_be_normal() {
    let (mut app, _) = on_latency_tab();
    let effects = app.update(Msg::Key(key(KeyCode::Char('['))));
    let query = only_query(&effects);
    assert_eq!(query.window, LatencyWindow::FifteenMinutes);
    app.update(Msg::Answer(
        TabId::Latency,
        Answer::Latency(query, Ok(latency::quiet())),
    ));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("No notifications arrived for contoso in the last 15 min"),
        "{screen}"
    );
    assert!(screen.contains("That can be normal"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn a_collector_error_is_shown_as_such() {
    let (mut app, query) = on_latency_tab();
    app.update(Msg::Answer(
        TabId::Latency,
        Answer::Latency(
            query,
            Err(ConsoleError::Failed("store read: corrupt".into())),
        ),
    ));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("collector error: failed: store read: corrupt"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn it_asks_again_after_each_snapshot_and_for_each_window_and_drops_stale_answers() {
    let (mut app, hour) = on_latency_tab();
    let effects = app.update(Msg::Snapshot(Ok(tui_support::snapshot())));
    assert_eq!(
        only_query(&effects),
        hour,
        "re-asked with the fresh snapshot"
    );

    let effects = app.update(Msg::Key(key(KeyCode::Char('w'))));
    let day = only_query(&effects);
    assert_eq!(day.window, LatencyWindow::Day);
    let effects = app.update(Msg::Key(key(KeyCode::Char(']'))));
    assert_eq!(only_query(&effects).window, LatencyWindow::FifteenMinutes);
    let effects = app.update(Msg::Key(key(KeyCode::Char('w'))));
    assert_eq!(only_query(&effects), hour, "w wraps round to the hour");
    app.update(Msg::Key(key(KeyCode::Char('w'))));

    // The hour's answer arrives after the user moved on to the day: it is not drawn.
    app.take_dirty();
    app.update(Msg::Answer(
        TabId::Latency,
        Answer::Latency(hour, Ok(latency::healthy())),
    ));
    assert!(
        !app.take_dirty(),
        "a stale answer changes nothing on screen"
    );
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("loading latency for the last 24 h…"),
        "{screen}"
    );

    // Another tab asks nothing of the collector about latency.
    let effects = app.update(Msg::Key(key(KeyCode::Char('1'))));
    assert!(effects.is_empty(), "{effects:?}");
}

#[test]
fn the_window_key_is_hinted_on_the_latency_tab_only() {
    let (app, _) = on_latency_tab();
    let screen = draw(&app, 160, 48);
    assert!(screen.contains("w window"), "{screen}");
    let mut other = App::new(Connection::Embedded, AppOptions::default());
    other.update(Msg::Snapshot(Ok(tui_support::snapshot())));
    assert!(!draw(&other, 160, 48).contains("w window"));
}

#[test]
fn reads_the_same_without_colour() {
    for (width, height) in [(80, 24), (160, 48)] {
        for view in [latency::healthy(), latency::incident()] {
            tui_support::assert_reads_the_same_without_colour(&answered(view), width, height);
        }
    }
}
