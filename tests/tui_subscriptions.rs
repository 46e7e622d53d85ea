//! The Subscriptions tab, driven through the real app and drawn into ratatui's `TestBackend`
//! from fixture state at a fixed instant: a healthy subscription, an expired one whose
//! notifications arrive with `validationTokens: null`, the confirm prompt, and the empty states,
//! at 80×24 (compact) and 160×48; and its actions — each asks first, `y` sends exactly the
//! command asked about, `n` and moving away drop it, read-only refuses before asking, and the
//! outcome is shown under the subscription. Accept intended screen changes with
//! `INSTA_UPDATE=always` or `cargo insta review`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tui_support;

use chrono::Duration;
use crossterm::event::KeyCode;
use pilotwatch::console::{Command, CommandOutcome, Connection, Snapshot};
use pilotwatch::tui::Theme;
use pilotwatch::tui::app::{App, AppOptions, Effect, Msg};
use pilotwatch::tui::view::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_support::subscriptions::{
    broken_snapshot, healthy_snapshot, no_subscription_snapshot, no_verdict_snapshot,
};
use tui_support::{key, now};

const SUBSCRIPTION: &str = "7f1d3c2b-5a4e-4d6f-9b8a-0c1d2e3f4a5b";

fn app_with(snapshot: Snapshot, readonly: bool) -> App {
    let mut app = App::new(
        Connection::Embedded,
        AppOptions {
            profile: None,
            readonly,
        },
    );
    app.update(Msg::Snapshot(Ok(snapshot)));
    app.update(Msg::Tick(now()));
    press(&mut app, KeyCode::Char('2'));
    app
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(key(code)))
}

fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let theme = Theme::built_in("default").unwrap();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, app, &theme, now()))
        .unwrap();
    terminal
}

fn text(app: &App, width: u16, height: u16) -> String {
    screen(app, width, height).backend().to_string()
}

#[test]
fn healthy_80x24() {
    let app = app_with(healthy_snapshot(), false);
    let shown = text(&app, 80, 24);
    assert!(shown.contains("tenant-wide"), "{shown}");
    assert!(shown.contains("no rung is broken"), "{shown}");
    insta::assert_snapshot!(screen(&app, 80, 24).backend());
}

#[test]
fn healthy_160x48() {
    let app = app_with(healthy_snapshot(), false);
    let shown = text(&app, 160, 48);
    assert!(shown.contains("/copilot/interactionHistory/getAllEnterpriseInteractions"));
    assert!(shown.contains("0.04 s against Graph's 3 s"), "{shown}");
    insta::assert_snapshot!(screen(&app, 160, 48).backend());
}

#[test]
fn expired_with_null_tokens_80x24() {
    let app = app_with(broken_snapshot(), false);
    let shown = text(&app, 80, 24);
    assert!(shown.contains("EXPIRED 20m ago"), "{shown}");
    assert!(shown.contains("[subscription alive]"), "{shown}");
    insta::assert_snapshot!(screen(&app, 80, 24).backend());
}

#[test]
fn the_diagnosis_scrolls_to_every_finding_80x24() {
    let mut app = app_with(broken_snapshot(), false);
    let mut seen = text(&app, 80, 24);
    for _ in 0..12 {
        press(&mut app, KeyCode::PageDown);
        seen.push_str(&text(&app, 80, 24));
    }
    for code in [
        "[subscription-expired]",
        "[push-path-broken]",
        "[validation-tokens-null]",
    ] {
        assert!(seen.contains(code), "{code} never shown");
    }
    assert!(seen.contains("1. "), "numbered fix steps are shown");
    press(&mut app, KeyCode::Char('g'));
    assert!(text(&app, 80, 24).contains("Empty-dashboard ladder"));
}

#[test]
fn expired_with_null_tokens_160x48() {
    let app = app_with(broken_snapshot(), false);
    let shown = text(&app, 160, 48);
    assert!(shown.contains("◀ first broken"), "{shown}");
    assert!(shown.contains("validation-tokens-null"), "{shown}");
    assert!(shown.contains("0% carried validationTokens"), "{shown}");
    insta::assert_snapshot!(screen(&app, 160, 48).backend());
}

fn asking(snapshot: Snapshot, key: char) -> App {
    let mut app = app_with(snapshot, false);
    let effects = press(&mut app, KeyCode::Char(key));
    assert!(effects.is_empty(), "nothing runs before a yes: {effects:?}");
    app
}

fn asking_to_renew() -> App {
    asking(healthy_snapshot(), 'R')
}

/// The expired subscription's fix: recreate it, asked first.
#[test]
fn confirm_prompt_80x24() {
    let app = asking(broken_snapshot(), 'c');
    let shown = text(&app, 80, 24);
    assert!(shown.contains("confirm: recreate"), "{shown}");
    assert!(shown.contains("press y to confirm, n to cancel"), "{shown}");
    insta::assert_snapshot!(screen(&app, 80, 24).backend());
}

#[test]
fn confirm_prompt_160x48() {
    let app = asking(broken_snapshot(), 'c');
    insta::assert_snapshot!(screen(&app, 160, 48).backend());
}

#[test]
fn an_expired_subscription_is_not_renewed_but_recreated() {
    let mut app = app_with(broken_snapshot(), false);
    for key in ['R', 'a'] {
        assert!(press(&mut app, KeyCode::Char(key)).is_empty());
        let shown = text(&app, 160, 48);
        assert!(shown.contains("press c to recreate it"), "{key}: {shown}");
        assert!(!shown.contains("confirm:"), "{key}: {shown}");
        assert!(press(&mut app, KeyCode::Char('y')).is_empty());
    }
}

#[test]
fn yes_renews_the_selected_subscription_and_its_outcome_is_shown() {
    let mut app = asking_to_renew();
    let effects = press(&mut app, KeyCode::Char('y'));
    let command = match effects.as_slice() {
        [
            Effect::Command(
                command @ Command::Renew {
                    profile,
                    subscription,
                },
            ),
        ] => {
            assert_eq!(
                (profile.as_str(), subscription.as_str()),
                ("contoso", SUBSCRIPTION)
            );
            command.clone()
        }
        other => panic!("expected one renew, got {other:?}"),
    };
    assert!(text(&app, 80, 24).contains("running: renew"));
    assert!(
        press(&mut app, KeyCode::Char('y')).is_empty(),
        "a second y asks nothing"
    );
    app.update(Msg::Outcome(
        command,
        Ok(CommandOutcome::done("renewed until 2026-09-25 08:00Z")),
    ));
    let shown = text(&app, 80, 24);
    assert!(
        shown.contains(&format!(
            "last: renew {SUBSCRIPTION} (contoso): ✔ OK renewed until"
        )),
        "{shown}"
    );
    assert!(!shown.contains("confirm:"), "{shown}");
}

#[test]
fn no_drops_the_question_and_changes_nothing() {
    let mut app = asking_to_renew();
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    let shown = text(&app, 80, 24);
    assert!(!shown.contains("confirm:"), "{shown}");
    assert!(shown.contains("cancelled: nothing was changed"), "{shown}");
    assert!(
        press(&mut app, KeyCode::Char('y')).is_empty(),
        "nothing left to confirm"
    );
}

#[test]
fn leaving_the_tab_drops_the_question() {
    let mut app = asking_to_renew();
    press(&mut app, KeyCode::Char('1'));
    press(&mut app, KeyCode::Char('2'));
    assert!(press(&mut app, KeyCode::Char('y')).is_empty());
    assert!(!text(&app, 80, 24).contains("confirm:"));
}

#[test]
fn read_only_refuses_before_asking() {
    let mut app = app_with(healthy_snapshot(), true);
    for code in ['R', 'a', 'c', 'b'] {
        assert!(press(&mut app, KeyCode::Char(code)).is_empty());
        let shown = text(&app, 80, 24);
        assert!(shown.contains("read-only:"), "{code}: {shown}");
        assert!(!shown.contains("confirm:"), "{code}: {shown}");
        assert!(press(&mut app, KeyCode::Char('y')).is_empty());
    }
}

#[test]
fn reauthorize_and_recreate_name_the_subscription() {
    let mut app = app_with(healthy_snapshot(), false);
    press(&mut app, KeyCode::Char('a'));
    assert!(text(&app, 160, 48).contains("Graph advises against"));
    assert!(matches!(
        press(&mut app, KeyCode::Char('y')).as_slice(),
        [Effect::Command(Command::Reauthorize { subscription, .. })] if subscription == SUBSCRIPTION
    ));
    press(&mut app, KeyCode::Char('c'));
    assert!(matches!(
        press(&mut app, KeyCode::Char('y')).as_slice(),
        [Effect::Command(Command::Recreate { subscription, .. })] if subscription == SUBSCRIPTION
    ));
}

#[test]
fn backfill_widens_on_each_press_and_ends_now() {
    let mut app = app_with(healthy_snapshot(), false);
    press(&mut app, KeyCode::Char('b'));
    assert!(text(&app, 80, 24).contains("backfill the last hour"));
    press(&mut app, KeyCode::Char('b'));
    assert!(text(&app, 80, 24).contains("backfill the last 6 hours"));
    match press(&mut app, KeyCode::Char('y')).as_slice() {
        [Effect::Command(Command::Backfill { profile, from, to })] => {
            assert_eq!(profile, "contoso");
            assert_eq!(*to, now());
            assert_eq!(*to - *from, Duration::hours(6));
        }
        other => panic!("expected one backfill, got {other:?}"),
    }
}

#[test]
fn selection_moves_and_drops_a_question_about_another_row() {
    let mut snapshot = healthy_snapshot();
    let mut second = snapshot.profiles[0].subscriptions[0].clone();
    second.id = "second-subscription".into();
    second.resource =
        "/copilot/users/5b2c3d4e/interactionHistory/getAllEnterpriseInteractions".into();
    snapshot.profiles[0].subscriptions.push(second);
    let mut app = app_with(snapshot, false);
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('j'));
    assert!(
        press(&mut app, KeyCode::Char('y')).is_empty(),
        "the question went with the row"
    );
    let shown = text(&app, 80, 24);
    assert!(shown.contains(" ▸ user 5b2c3…"), "{shown}");
    assert!(
        shown.contains("selection moved: nothing was changed"),
        "{shown}"
    );
    press(&mut app, KeyCode::Char('R'));
    assert!(matches!(
        press(&mut app, KeyCode::Char('y')).as_slice(),
        [Effect::Command(Command::Renew { subscription, .. })] if subscription == "second-subscription"
    ));
}

#[test]
fn no_subscription_says_why_80x24() {
    let mut app = app_with(no_subscription_snapshot(), false);
    let shown = text(&app, 80, 24);
    assert!(shown.contains("no subscription for contoso"), "{shown}");
    assert!(press(&mut app, KeyCode::Char('R')).is_empty());
    assert!(text(&app, 80, 24).contains("has no subscription to act on"));
    insta::assert_snapshot!(screen(&app, 80, 24).backend());
}

#[test]
fn no_verdict_yet_80x24() {
    let app = app_with(no_verdict_snapshot(), false);
    let shown = text(&app, 80, 24);
    assert!(shown.contains("no verdict yet"), "{shown}");
    insta::assert_snapshot!(screen(&app, 80, 24).backend());
}

#[test]
fn reads_the_same_without_colour() {
    for (width, height) in [(80, 24), (160, 48)] {
        let broken = tui_support::assert_reads_the_same_without_colour(
            &app_with(broken_snapshot(), false),
            width,
            height,
        );
        assert!(broken.contains("CRIT"), "severity is spelt out:\n{broken}");
        tui_support::assert_reads_the_same_without_colour(&asking_to_renew(), width, height);
    }
}
