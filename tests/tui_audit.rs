//! What an on-call engineer sees of the control socket in the console: the `A` overlay with the
//! collector's recent audit trail (who sent which command, when, and how it went — in words,
//! not colour alone), and the header while the socket is down ("disconnected — retrying in
//! Ns" over the last state) and after it is back ("attached to pid N as read-write"), at 80×24
//! and 160×48. Accept intended changes with `INSTA_UPDATE=always` or `cargo insta review`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tui_support;

use std::time::Duration;

use chrono::TimeDelta;
use crossterm::event::KeyCode;
use pilotwatch::console::{Connection, LinkState};
use pilotwatch::tui::Theme;
use pilotwatch::tui::app::{App, AppOptions, Effect, Msg};
use pilotwatch::tui::view::audit::{AuditOutcome, AuditRecord};
use pilotwatch::tui::view::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_support::{key, now};

const ATTACHED: Connection = Connection::Attached {
    pid: 4242,
    read_write: true,
};

fn attached_app() -> App {
    let mut app = App::new(ATTACHED, AppOptions::default());
    app.update(Msg::Snapshot(Ok(tui_support::snapshot())));
    app.update(Msg::Tick(now()));
    app
}

fn theme() -> Theme {
    Theme::built_in("default").unwrap()
}

fn records() -> Vec<AuditRecord> {
    let record =
        |minutes: i64, user: &str, uid: u32, command: &str, outcome, message: &str| AuditRecord {
            at: now() - TimeDelta::minutes(minutes),
            uid,
            user: user.into(),
            pid: Some(4242),
            client: "pilotwatch 0.1.0 tui".into(),
            command: command.into(),
            arguments: serde_json::json!({
                "command": command,
                "profile": "contoso",
                "subscription": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
            }),
            outcome,
            message: message.into(),
        };
    vec![
        record(
            2,
            "alice",
            1001,
            "renew",
            AuditOutcome::Succeeded,
            "renewed; expires 2026-09-25 07:58Z",
        ),
        record(
            9,
            "bob",
            1002,
            "recreate",
            AuditOutcome::Refused,
            "read-only: uid 1002 is not in group pilotwatch",
        ),
        record(
            31,
            "alice",
            1001,
            "reauthorize",
            AuditOutcome::Failed,
            "Graph answered 403 Forbidden: the app lost its role assignment",
        ),
    ]
}

/// The app attached to a collector whose snapshot carries `records`, with the trail open (`A`),
/// drawn as the console draws it.
fn draw_trail(records: Vec<AuditRecord>, width: u16, height: u16) -> String {
    let mut app = App::new(ATTACHED, AppOptions::default());
    let mut snapshot = tui_support::snapshot();
    snapshot.recent_audit = records;
    app.update(Msg::Snapshot(Ok(snapshot)));
    app.update(Msg::Tick(now()));
    app.update(Msg::Key(key(KeyCode::Char('A'))));
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, &app, &theme(), now()))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn audit_trail_80x24() {
    let screen = draw_trail(records(), 80, 24);
    assert!(screen.contains("Audit trail — newest first"), "{screen}");
    assert!(screen.contains("alice (1001)"), "{screen}");
    assert!(screen.contains("⊘ refused"), "{screen}");
    assert!(screen.contains("✖ failed"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn audit_trail_160x48() {
    let screen = draw_trail(records(), 160, 48);
    // Wide enough for the arguments.
    assert!(
        screen.contains("subscription=7f105c7d-2dc5-4530-97cd-4e7ae6534c07"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn a_opens_the_trail_from_any_tab_and_esc_closes_it() {
    let mut app = attached_app();
    app.update(Msg::Key(key(KeyCode::Char('2'))));
    app.update(Msg::Key(key(KeyCode::Char('A'))));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    terminal
        .draw(|frame| render(frame, &app, &theme(), now()))
        .unwrap();
    let screen = terminal.backend().to_string();
    assert!(screen.contains("Audit trail"), "{screen}");
    assert!(screen.contains("No command recorded yet"), "{screen}");
    // Tab keys do not act under the trail: `R` renews nothing.
    let effects = app.update(Msg::Key(key(KeyCode::Char('R'))));
    assert!(effects.is_empty(), "{effects:?}");
    app.update(Msg::Key(key(KeyCode::Esc)));
    terminal
        .draw(|frame| render(frame, &app, &theme(), now()))
        .unwrap();
    assert!(!terminal.backend().to_string().contains("Audit trail"));
}

fn disconnected(app: &mut App, retry_in: Duration) {
    refused(app, retry_in, None);
}

fn refused(app: &mut App, retry_in: Duration, reason: Option<&str>) {
    let effects = app.update(Msg::Link(LinkState::Disconnected {
        last: ATTACHED,
        since: tokio::time::Instant::now(),
        retry_in,
        reason: reason.map(str::to_owned),
    }));
    assert!(effects.is_empty(), "{effects:?}");
}

fn draw(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, app, &theme(), now()))
        .unwrap();
    terminal.backend().to_string()
}

#[test]
fn disconnected_80x24() {
    let mut app = attached_app();
    disconnected(&mut app, Duration::from_millis(2300));
    let screen = draw(&app, 80, 24);
    assert!(
        screen.contains("UNKN disconnected — retrying in 3s"),
        "{screen}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn disconnected_160x48() {
    let mut app = attached_app();
    disconnected(&mut app, Duration::from_secs(5));
    let screen = draw(&app, 160, 48);
    assert!(screen.contains("disconnected from pid 4242"), "{screen}");
    assert!(
        screen.contains("disconnected — retrying in 5s: showing the last state"),
        "{screen}"
    );
    // The last state stays on screen.
    assert!(screen.contains("contoso"), "{screen}");
    insta::assert_snapshot!(screen);
}

#[test]
fn refused_80x24_says_why_and_cuts_the_reason_not_the_retry() {
    let mut app = attached_app();
    refused(
        &mut app,
        Duration::from_secs(5),
        Some("the collector speaks control protocol v2, this pilotwatch v1: run the same version"),
    );
    let screen = draw(&app, 80, 24);
    let second = screen.lines().nth(1).unwrap();
    assert!(
        second.contains(
            "UNKN the collector speaks control protocol v2, this pilotwa… — retrying in 5s"
        ),
        "{screen}"
    );
    assert!(screen.contains("disconnected from pid 4242"), "{screen}");
    assert!(screen.contains("contoso"), "{screen}");
    // At 160 columns the whole reason fits.
    let wide = draw(&app, 160, 48);
    assert!(
        wide.contains("UNKN the collector speaks control protocol v2, this pilotwatch v1: run the same version — retrying in 5s"),
        "{wide}"
    );
    insta::assert_snapshot!(screen);
}

#[test]
fn reattached_asks_for_a_fresh_snapshot_and_says_so_when_it_comes() {
    let mut app = attached_app();
    disconnected(&mut app, Duration::from_secs(1));
    let reattached = Connection::Attached {
        pid: 5151,
        read_write: false,
    };
    let effects = app.update(Msg::Link(LinkState::Connected(reattached)));
    assert!(
        matches!(effects.as_slice(), [Effect::FetchSnapshot]),
        "{effects:?}"
    );
    app.update(Msg::Snapshot(Ok(tui_support::snapshot())));
    let screen = draw(&app, 160, 48);
    assert!(
        screen.contains("attached to pid 5151 as read-only"),
        "{screen}"
    );
    assert!(!screen.contains("disconnected"), "{screen}");
    // The new grant is read-only: the tabs refuse writes before sending them.
    assert!(app.tab_context(&Theme::plain(), now()).readonly);
}
