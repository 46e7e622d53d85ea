//! Screens of the console, drawn from fixture state at a fixed instant into ratatui's
//! `TestBackend` and compared with the committed snapshots under `tests/snapshots/`: the frame
//! with the Credentials tab (a healthy profile and one whose secret expired), the help overlay,
//! the demo header, the header taken over by a dead collector task, and the too-small notice,
//! at 80×24 (the compact layout) and 160×48; and that `NO_COLOR` draws them without any
//! colour and with the same words.
//! Accept intended changes with `INSTA_UPDATE=always` or `cargo insta review`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tui_support;

use crossterm::event::KeyCode;
use pilotwatch::collector::update::Update;
use pilotwatch::collector::{EndReason, TaskDeath};
use pilotwatch::console::{Connection, Snapshot};
use pilotwatch::tui::Theme;
use pilotwatch::tui::app::{App, AppOptions, Msg};
use pilotwatch::tui::view::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_support::{key, now};

fn app_with(snapshot: Snapshot, connection: Connection) -> App {
    let mut app = App::new(connection, AppOptions::default());
    app.update(Msg::Snapshot(Ok(snapshot)));
    app.update(Msg::Tick(now()));
    app
}

fn app() -> App {
    app_with(tui_support::snapshot(), Connection::Embedded)
}

fn draw(app: &App, theme: &Theme, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, app, theme, now()))
        .unwrap();
    terminal
}

fn default_theme() -> Theme {
    Theme::built_in("default").unwrap()
}

#[test]
fn credentials_healthy_80x24() {
    let terminal = draw(&app(), &default_theme(), 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn credentials_healthy_160x48() {
    let terminal = draw(&app(), &default_theme(), 160, 48);
    insta::assert_snapshot!(terminal.backend());
}

fn expired_profile() -> App {
    let mut app = app();
    app.update(Msg::Key(key(KeyCode::Char('p'))));
    assert_eq!(app.profile().unwrap().name, "fabrikam");
    app
}

#[test]
fn credentials_expired_secret_80x24() {
    let terminal = draw(&expired_profile(), &default_theme(), 80, 24);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("CRIT"), "severity is spelt out:\n{screen}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn credentials_expired_secret_160x48() {
    let terminal = draw(&expired_profile(), &default_theme(), 160, 48);
    insta::assert_snapshot!(terminal.backend());
}

fn with_help() -> App {
    let mut app = app();
    app.update(Msg::Key(key(KeyCode::Char('?'))));
    app
}

#[test]
fn help_overlay_80x24() {
    let terminal = draw(&with_help(), &default_theme(), 80, 24);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_overlay_160x48() {
    let terminal = draw(&with_help(), &default_theme(), 160, 48);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_overlay_filtered() {
    let mut app = with_help();
    for code in [
        KeyCode::Char('/'),
        KeyCode::Char('t'),
        KeyCode::Char('a'),
        KeyCode::Char('b'),
    ] {
        app.update(Msg::Key(key(code)));
    }
    let terminal = draw(&app, &default_theme(), 80, 24);
    let screen = terminal.backend().to_string();
    assert!(screen.contains("next tab"), "{screen}");
    assert!(!screen.contains("quit pilotwatch"), "{screen}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn too_small_notice() {
    let terminal = draw(&app(), &default_theme(), 79, 24);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("terminal too small (need 80×24, have 79×24)"),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn demo_header_shows_the_simulated_clock_and_scenario_attached_read_only() {
    let app = app_with(
        tui_support::demo_snapshot(),
        Connection::Attached {
            pid: 4242,
            read_write: false,
        },
    );
    let terminal = draw(&app, &default_theme(), 160, 48);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains("attached to pid 4242 as read-only"),
        "{screen}"
    );
    assert!(
        screen.contains("demo 08:00:00 ×60 · scenario healthy"),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn no_color_draws_without_any_colour_and_the_same_words() {
    for (width, height) in [(80, 24), (160, 48)] {
        let expired =
            tui_support::assert_reads_the_same_without_colour(&expired_profile(), width, height);
        assert!(
            expired.contains("CRIT"),
            "severity is spelt out:\n{expired}"
        );
        tui_support::assert_reads_the_same_without_colour(&app(), width, height);
        tui_support::assert_reads_the_same_without_colour(&with_help(), width, height);
    }
}

/// The fixture with the contoso poller dead three minutes ago.
fn dead_task_app() -> App {
    let mut snapshot = tui_support::snapshot();
    snapshot.dead_tasks = vec![TaskDeath {
        task: "poller".into(),
        profile: Some("contoso".into()),
        ended_at: now() - chrono::Duration::minutes(3),
        reason: EndReason::Panicked {
            message: "called `Option::unwrap()` on a `None` value".into(),
        },
    }];
    app_with(snapshot, Connection::Embedded)
}

#[test]
fn dead_task_takes_the_header_over_80x24() {
    let terminal = draw(&dead_task_app(), &default_theme(), 80, 24);
    let header: Vec<String> = terminal
        .backend()
        .to_string()
        .lines()
        .take(2)
        .map(str::to_owned)
        .collect();
    assert!(
        header[1].contains("✖ CRIT task poller (contoso) died 3m ago: panicked:"),
        "{header:#?}"
    );
    assert!(header[1].contains("— restart pilotwatch"), "{header:#?}");
    assert!(header[0].contains("· 1234 stored"), "{header:#?}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn dead_task_takes_the_header_over_160x48() {
    let terminal = draw(&dead_task_app(), &default_theme(), 160, 48);
    let screen = terminal.backend().to_string();
    assert!(
        screen.contains(
            "✖ CRIT collector task poller (contoso) died 3m ago: panicked: called `Option::unwrap()` \
             on a `None` value — restart pilotwatch; its log says more"
        ),
        "{screen}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_task_death_update_reaches_the_header_without_a_snapshot() {
    let mut app = app();
    let death = TaskDeath {
        task: "diagnosis".into(),
        profile: None,
        ended_at: now(),
        reason: EndReason::Returned,
    };
    app.update(Msg::Update(Update::TaskDied(std::sync::Arc::new(death))));
    let screen = draw(&app, &default_theme(), 160, 48).backend().to_string();
    assert!(
        screen.contains(
            "✖ CRIT collector task diagnosis died just now: stopped without being asked to"
        ),
        "{screen}"
    );
    assert!(
        !screen.contains("no problem seen"),
        "the verdict headline must give way: {screen}"
    );
}
