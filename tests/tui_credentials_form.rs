//! The Credentials tab's profile actions, driven through the app with key presses and command
//! outcomes, drawn into ratatui's `TestBackend` at a fixed instant: the form empty, filled
//! (the secret masked), after a failed validation (offering "save anyway") and the removal
//! question, at 80×24 and 160×48; and the flows behind them — typing, the secret never in the
//! buffer or `Debug`, Esc changing nothing, bad fields refused without a command, validate →
//! save sending exactly the expected commands, save anyway, remove with `y`, read-only refusals.
//! Accept intended screen changes with `INSTA_UPDATE=always` or `cargo insta review`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pilotwatch::console::{Command, CommandOutcome, Connection, ConsoleError};
use pilotwatch::tui::Theme;
use pilotwatch::tui::app::{App, AppOptions, Effect, Msg};
use pilotwatch::tui::keymap::Context;
use pilotwatch::tui::view::render;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use secrecy::ExposeSecret;
use tui_support::{key, now};

const TENANT: &str = "northwind.onmicrosoft.com";
const CLIENT: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "Zx9~hunter2-not-for-screens";
const FAILURE: &str = "profile northwind: AADSTS7000215: Invalid client secret provided. Ensure \
                       the secret being sent in the request is the client secret value, not \
                       the client secret ID";

fn app_with(options: AppOptions) -> App {
    let mut app = App::new(Connection::Embedded, options);
    app.update(Msg::Snapshot(Ok(tui_support::snapshot())));
    app.update(Msg::Tick(now()));
    app
}

fn app() -> App {
    app_with(AppOptions::default())
}

fn screen(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let theme = Theme::built_in("default").unwrap();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| render(frame, app, &theme, now()))
        .unwrap();
    terminal
}

fn text(app: &App) -> String {
    screen(app, 160, 48).backend().to_string()
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(key(code)))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        assert!(
            press(app, KeyCode::Char(c)).is_empty(),
            "typing sent something"
        );
    }
}

fn commands(effects: Vec<Effect>) -> Vec<Command> {
    effects
        .into_iter()
        .map(|effect| match effect {
            Effect::Command(command) => command,
            other => panic!("expected only commands, got {other:?}"),
        })
        .collect()
}

/// `n`, then every field typed, Tab between them; the focus ends on the secret.
fn filled() -> App {
    let mut app = app();
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    assert_eq!(app.key_context(), Context::Form);
    for (index, value) in ["northwind", TENANT, CLIENT, SECRET].iter().enumerate() {
        if index > 0 {
            press(&mut app, KeyCode::Tab);
        }
        type_text(&mut app, value);
    }
    app
}

/// A filled form submitted; returns the validate command it sent.
fn submitted(app: &mut App) -> Command {
    let sent = commands(press(app, KeyCode::Enter));
    let [validate] = sent.as_slice() else {
        panic!("expected one command, got {sent:?}");
    };
    match validate {
        Command::ValidateProfile { draft } => {
            assert_eq!(draft.name, "northwind");
            assert_eq!(draft.tenant, TENANT);
            assert_eq!(draft.client_id, CLIENT);
            assert_eq!(draft.secret.as_ref().unwrap().expose_secret(), SECRET);
        }
        other => panic!("expected a validation, got {other:?}"),
    }
    validate.clone()
}

fn failed() -> App {
    let mut app = filled();
    let validate = submitted(&mut app);
    let next = app.update(Msg::Outcome(validate, Ok(CommandOutcome::failed(FAILURE))));
    assert!(
        next.is_empty(),
        "a failed validation saves nothing: {next:?}"
    );
    app
}

fn removing() -> App {
    let mut app = app();
    assert!(press(&mut app, KeyCode::Char('d')).is_empty());
    app
}

#[test]
fn form_empty_80x24() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    insta::assert_snapshot!(screen(&app, 80, 24).backend());
}

#[test]
fn form_empty_160x48() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    insta::assert_snapshot!(screen(&app, 160, 48).backend());
}

#[test]
fn form_filled_80x24() {
    let terminal = screen(&filled(), 80, 24);
    let shown = terminal.backend().to_string();
    assert!(shown.contains(&"•".repeat(SECRET.len())), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn form_filled_160x48() {
    insta::assert_snapshot!(screen(&filled(), 160, 48).backend());
}

#[test]
fn form_validation_failed_80x24() {
    let terminal = screen(&failed(), 80, 24);
    let shown = terminal.backend().to_string();
    assert!(shown.contains("AADSTS7000215"), "{shown}");
    assert!(shown.contains("save anyway"), "{shown}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn form_validation_failed_160x48() {
    insta::assert_snapshot!(screen(&failed(), 160, 48).backend());
}

#[test]
fn remove_confirmation_80x24() {
    let terminal = screen(&removing(), 80, 24);
    let shown = terminal.backend().to_string();
    assert!(shown.contains("Remove profile contoso"), "{shown}");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn remove_confirmation_160x48() {
    insta::assert_snapshot!(screen(&removing(), 160, 48).backend());
}

#[test]
fn the_secret_is_in_neither_the_buffer_nor_debug() {
    let mut app = filled();
    for (width, height) in [(80, 24), (160, 48)] {
        let terminal = screen(&app, width, height);
        let cells: String = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|cell| cell.symbol())
            .collect();
        assert!(!cells.contains("hunter2"), "{cells}");
    }
    assert!(!format!("{app:?}").contains("hunter2"));
    let validate = submitted(&mut app);
    assert!(!format!("{app:?} {validate:?}").contains("hunter2"));
    assert!(text(&app).contains("validating…"));
}

#[test]
fn esc_closes_the_form_and_changes_nothing() {
    let mut app = filled();
    assert!(press(&mut app, KeyCode::Esc).is_empty());
    assert_eq!(
        app.key_context(),
        Context::Tab(pilotwatch::tui::tabs::TabId::Credentials)
    );
    let shown = text(&app);
    assert!(shown.contains("form closed: nothing was saved"), "{shown}");
    assert!(!shown.contains("New profile"), "{shown}");
    // Reopened, it is empty again.
    press(&mut app, KeyCode::Char('n'));
    assert!(!text(&app).contains("northwind"));
}

#[test]
fn a_bad_field_is_refused_without_a_command() {
    let mut app = app();
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "north wind");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "common");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "1234");
    press(&mut app, KeyCode::Tab);
    let sent = press(&mut app, KeyCode::Enter);
    assert!(sent.is_empty(), "{sent:?}");
    let shown = text(&app);
    for why in [
        "1 to 64 characters",
        "tenant id GUID or a domain",
        "application (client) id GUID, 8-4-4-4-12",
        "a new profile needs its client secret",
        "fix the marked fields: nothing was sent",
    ] {
        assert!(shown.contains(why), "{why} missing:\n{shown}");
    }
}

#[test]
fn validate_then_save_sends_exactly_those_commands_and_closes() {
    let mut app = filled();
    let validate = submitted(&mut app);
    let next = commands(app.update(Msg::Outcome(
        validate,
        Ok(CommandOutcome::done(
            "profile northwind: token issued, roles AiEnterpriseInteraction.Read.All",
        )),
    )));
    let [Command::SaveProfile { draft, force }] = next.as_slice() else {
        panic!("expected one save, got {next:?}");
    };
    assert!(!force, "a validated draft needs no force");
    assert_eq!(draft.name, "northwind");
    assert_eq!(draft.secret.as_ref().unwrap().expose_secret(), SECRET);
    assert!(text(&app).contains("token issued: saving…"));

    let saved = "saved profile northwind: token issued, roles AiEnterpriseInteraction.Read.All; \
                 secret stored (mode 600); the collector uses it from its next start";
    let after = app.update(Msg::Outcome(
        next[0].clone(),
        Ok(CommandOutcome::done(saved)),
    ));
    assert!(after.is_empty(), "{after:?}");
    assert_ne!(app.key_context(), Context::Form, "the form closed");
    assert!(!text(&app).contains("New profile"));
    let outcome = app.outcomes().next().unwrap();
    assert!(outcome.succeeded);
    assert_eq!(outcome.what, "save profile northwind");
    assert!(
        outcome
            .message
            .ends_with("the collector uses it from its next start"),
        "{outcome:?}"
    );
}

#[test]
fn save_anyway_sends_the_failed_draft_with_force() {
    let mut app = failed();
    let sent = commands(app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    ))));
    let [Command::SaveProfile { draft, force: true }] = sent.as_slice() else {
        panic!("expected a forced save, got {sent:?}");
    };
    assert_eq!(draft.name, "northwind");
    assert!(text(&app).contains("saving anyway, unvalidated…"));
}

#[test]
fn a_refusing_collector_is_shown_and_save_anyway_is_not_offered() {
    let mut app = filled();
    let validate = submitted(&mut app);
    let refusal =
        "profiles cannot be edited here: this collector runs without a configuration file";
    app.update(Msg::Outcome(
        validate,
        Err(ConsoleError::Refused(refusal.into())),
    ));
    let shown = text(&app);
    assert!(
        shown.contains("✖ refused: profiles cannot be edited here"),
        "{shown}"
    );
    assert!(
        !shown.contains("Ctrl-s save anyway (unvalidated)"),
        "{shown}"
    );
    let sent = app.update(Msg::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    assert!(sent.is_empty(), "{sent:?}");
}

#[test]
fn edit_is_prefilled_and_keeps_the_saved_secret_when_left_empty() {
    let mut app = app();
    press(&mut app, KeyCode::Char('e'));
    let shown = text(&app);
    assert!(shown.contains("Edit profile contoso"), "{shown}");
    assert!(shown.contains("empty keeps the saved secret"), "{shown}");
    // The tenant has the keys: replace it, move on, and submit from the secret.
    for _ in 0.."contoso.onmicrosoft.com".len() {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, "11111111-aaaa-4bbb-8ccc-222222222222");
    press(&mut app, KeyCode::Tab);
    for _ in 0..CLIENT.len() {
        press(&mut app, KeyCode::Backspace);
    }
    type_text(&mut app, CLIENT);
    press(&mut app, KeyCode::Tab);
    let sent = commands(press(&mut app, KeyCode::Enter));
    let [Command::ValidateProfile { draft }] = sent.as_slice() else {
        panic!("{sent:?}");
    };
    assert_eq!(draft.name, "contoso");
    assert_eq!(draft.tenant, "11111111-aaaa-4bbb-8ccc-222222222222");
    assert!(draft.secret.is_none(), "empty keeps the saved secret");
}

#[test]
fn remove_asks_and_only_y_removes() {
    let mut app = removing();
    assert!(press(&mut app, KeyCode::Char('n')).is_empty());
    assert!(text(&app).contains("kept profile contoso: nothing was changed"));
    assert_ne!(
        app.key_context(),
        Context::Form,
        "n answered, it opened nothing"
    );

    let mut app = removing();
    let sent = commands(press(&mut app, KeyCode::Char('y')));
    let [Command::RemoveProfile { profile }] = sent.as_slice() else {
        panic!("{sent:?}");
    };
    assert_eq!(profile, "contoso");
}

#[test]
fn read_only_refuses_add_edit_and_remove_and_hides_their_hints() {
    let mut app = app_with(AppOptions {
        readonly: true,
        ..AppOptions::default()
    });
    for (key, refused) in [
        ('n', "read-only: `add a profile` would change something"),
        (
            'e',
            "read-only: `save profile contoso` would change something",
        ),
        (
            'd',
            "read-only: `remove profile contoso` would change something",
        ),
    ] {
        assert!(press(&mut app, KeyCode::Char(key)).is_empty());
        assert_ne!(app.key_context(), Context::Form);
        let shown = text(&app);
        assert!(shown.contains(refused), "{refused}:\n{shown}");
        assert!(!shown.contains("Remove profile contoso"), "{shown}");
    }
    let shown = text(&app);
    let footer = shown.lines().last().unwrap_or_default();
    assert!(footer.contains("t test now"), "{footer}");
    assert!(!footer.contains("n new"), "{footer}");
    assert!(!footer.contains("d remove"), "{footer}");
}
