//! The app's behaviour, message by message, without a terminal or a collector.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::collector::update::Update;
use crate::console::{CommandOutcome, ConsoleError, SimulationInfo, SubscriptionRow};
use crate::diagnose::facts::{FactSource, Facts};
use crate::diagnose::{Diagnosis, Ladder, ProfileVerdict};
use crate::severity::Severity;

fn now() -> DateTime<Utc> {
    "2026-09-22T08:00:00Z".parse().unwrap()
}

fn profile(name: &str, subscriptions: &[&str]) -> ProfileSnapshot {
    ProfileSnapshot {
        name: name.into(),
        tenant: format!("{name}.example"),
        client_id: "client".into(),
        verdict: None,
        subscriptions: subscriptions
            .iter()
            .map(|id| SubscriptionRow {
                id: (*id).into(),
                resource: "/copilot/interactionHistory/getAllEnterpriseInteractions".into(),
                expires_at: now() + Duration::days(2),
                created_at: now(),
                last_renewed_at: None,
                next_renewal_at: None,
                lifecycle_url: None,
                rich: false,
                certificate_id: None,
                certificate_expires_at: None,
                last_lifecycle: None,
                last_handshake_at: None,
                received: 0,
                tokens_present_share: None,
                decrypt_failures: 0,
                client_state_mismatches: 0,
                ack_p95_seconds: None,
            })
            .collect(),
        findings_history: Vec::new(),
        recent_events: Vec::new(),
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        taken_at: now(),
        started_at: now(),
        pid: 7,
        version: "0".into(),
        simulation: None,
        profiles: vec![profile("contoso", &["sub-1"]), profile("fabrikam", &[])],
        interactions_stored: 0,
        feed_head: Vec::new(),
        dead_tasks: Vec::new(),
    }
}

fn live(options: AppOptions) -> App {
    let mut app = App::new(Connection::Embedded, options);
    assert!(matches!(app.start().as_slice(), [Effect::FetchSnapshot]));
    app.update(Msg::Snapshot(Ok(snapshot())));
    app.take_dirty();
    app
}

fn press(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn type_line(app: &mut App, line: &str) -> Vec<Effect> {
    press(app, KeyCode::Char(':'));
    for c in line.chars() {
        press(app, KeyCode::Char(c));
    }
    press(app, KeyCode::Enter)
}

#[test]
fn an_unknown_command_says_so_and_changes_nothing() {
    let mut app = live(AppOptions::default());
    let effects = type_line(&mut app, "frobnicate");
    assert!(effects.is_empty());
    assert_eq!(app.tab(), TabId::Credentials);
    assert!(app.prompt.is_none());
    let message = app.message.clone().unwrap();
    assert!(
        message.contains("unknown command `:frobnicate`"),
        "{message}"
    );
}

#[test]
fn command_line_switches_tabs_and_quits() {
    let mut app = live(AppOptions::default());
    // The feed asks for its first page when shown; nothing else happens.
    let effects = type_line(&mut app, "feed");
    assert!(
        effects
            .iter()
            .all(|effect| matches!(effect, Effect::Query(TabId::Feed, _))),
        "{effects:?}"
    );
    assert_eq!(app.tab(), TabId::Feed);
    assert!(matches!(
        type_line(&mut app, "q").as_slice(),
        [Effect::Quit]
    ));
}

#[test]
fn keys_typed_into_the_command_line_are_text_not_actions() {
    let mut app = live(AppOptions::default());
    press(&mut app, KeyCode::Char(':'));
    assert!(
        press(&mut app, KeyCode::Char('q')).is_empty(),
        "q quit from the prompt"
    );
    assert_eq!(app.prompt.as_ref().unwrap().value(), "q");
    press(&mut app, KeyCode::Esc);
    assert!(app.prompt.is_none());
}

#[test]
fn scenario_is_refused_outside_the_demo_and_checked_inside() {
    let mut app = live(AppOptions::default());
    assert!(type_line(&mut app, "scenario healthy").is_empty());
    assert!(app.message.clone().unwrap().contains("only in the demo"));

    let mut demo = snapshot();
    demo.simulation = Some(SimulationInfo {
        scenario: "healthy".into(),
        scenarios: vec!["healthy".into(), "secret-expired".into()],
        speed: 60.0,
    });
    app.update(Msg::Snapshot(Ok(demo)));
    assert!(type_line(&mut app, "scenario nope").is_empty());
    assert!(
        app.message
            .clone()
            .unwrap()
            .contains("healthy, secret-expired")
    );
    let effects = type_line(&mut app, "scenario secret-expired");
    assert!(matches!(
        effects.as_slice(),
        [Effect::Command(Command::SwitchScenario { name })] if name == "secret-expired"
    ));
}

#[test]
fn renew_picks_the_only_subscription_and_read_only_refuses_it() {
    let mut app = live(AppOptions::default());
    let effects = type_line(&mut app, "renew");
    assert!(matches!(
        effects.as_slice(),
        [Effect::Command(Command::Renew { profile, subscription })]
            if profile == "contoso" && subscription == "sub-1"
    ));

    let mut readonly = live(AppOptions {
        readonly: true,
        ..AppOptions::default()
    });
    assert!(type_line(&mut readonly, "renew").is_empty());
    assert!(readonly.message.clone().unwrap().starts_with("read-only"));
    // Testing credentials changes nothing, so read-only allows it.
    assert!(matches!(
        press(&mut readonly, KeyCode::Char('t')).as_slice(),
        [Effect::Command(Command::TestCredentials { .. })]
    ));
}

#[test]
fn a_command_still_running_is_not_sent_twice_and_its_outcome_is_kept() {
    let mut app = live(AppOptions::default());
    assert_eq!(press(&mut app, KeyCode::Char('t')).len(), 1);
    assert!(press(&mut app, KeyCode::Char('t')).is_empty());
    let command = Command::TestCredentials {
        profile: "contoso".into(),
    };
    app.update(Msg::Outcome(
        command,
        Ok(CommandOutcome::failed("AADSTS7000222")),
    ));
    let line = app.outcomes().next().unwrap();
    assert!(!line.succeeded);
    assert_eq!(line.message, "AADSTS7000222");
    assert_eq!(press(&mut app, KeyCode::Char('t')).len(), 1);
}

#[test]
fn profiles_cycle_and_a_wanted_profile_is_honoured() {
    let mut app = live(AppOptions::default());
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.profile().unwrap().name, "fabrikam");
    press(&mut app, KeyCode::Char('p'));
    assert_eq!(app.profile().unwrap().name, "contoso");

    let app = live(AppOptions {
        profile: Some("fabrikam".into()),
        ..AppOptions::default()
    });
    assert_eq!(app.profile().unwrap().name, "fabrikam");
}

/// A verdict for contoso with `severity` and nothing else.
fn verdict(severity: Severity) -> Arc<ProfileVerdict> {
    let diagnosis = Diagnosis {
        profile: "contoso".into(),
        at: now(),
        severity,
        headline: None,
        findings: Vec::new(),
        ladder: Ladder {
            rungs: Vec::new(),
            first_broken: None,
        },
    };
    let facts = Facts {
        profile: "contoso".into(),
        source: FactSource::Direct,
        credentials: None,
        subscriptions: None,
        delivery: None,
        export: None,
        graph: None,
        store: None,
        client_id: None,
        thresholds: Default::default(),
    };
    Arc::new(ProfileVerdict { facts, diagnosis })
}

#[test]
fn a_diagnosis_update_replaces_the_verdict_and_marks_the_screen() {
    let mut app = live(AppOptions::default());
    let verdict = verdict(Severity::Warning);
    app.update(Msg::Update(Update::Diagnosis(verdict)));
    assert!(app.take_dirty());
    let shown = app.profile().unwrap().verdict.as_ref().unwrap();
    assert_eq!(shown.diagnosis.severity, Severity::Warning);
}

#[test]
fn the_keeper_acting_asks_for_a_snapshot_and_a_diagnosis_does_not() {
    use crate::store::records::{Event, EventKind, KeeperAction, Outcome};
    let mut app = live(AppOptions::default());
    let created = Event {
        at: now(),
        profile: "contoso".into(),
        kind: EventKind::keeper(KeeperAction::Create, Outcome::Succeeded),
        message: "created subscription s-2".into(),
    };
    // The new subscription is in the store, not in the event: the snapshot brings it.
    assert!(matches!(
        app.update(Msg::Update(Update::Keeper(created))).as_slice(),
        [Effect::FetchSnapshot]
    ));
    let verdict = verdict(Severity::Ok);
    assert!(
        app.update(Msg::Update(Update::Diagnosis(verdict)))
            .is_empty()
    );
}

#[test]
fn lag_asks_for_a_snapshot_and_an_unchanged_snapshot_draws_nothing() {
    let mut app = live(AppOptions::default());
    assert!(matches!(
        app.update(Msg::Lagged).as_slice(),
        [Effect::FetchSnapshot]
    ));
    let mut same = snapshot();
    same.taken_at = now() + Duration::seconds(10);
    app.update(Msg::Snapshot(Ok(same)));
    assert!(!app.take_dirty());
}

#[test]
fn the_clock_redraws_per_minute_outside_the_demo() {
    let mut app = live(AppOptions::default());
    app.update(Msg::Tick(now()));
    assert!(app.take_dirty());
    app.update(Msg::Tick(now() + Duration::seconds(30)));
    assert!(!app.take_dirty(), "nothing shown changes within a minute");
    app.update(Msg::Tick(now() + Duration::seconds(61)));
    assert!(app.take_dirty());
}

#[test]
fn a_disconnected_backend_is_shown_and_a_later_answer_restores_it() {
    let mut app = live(AppOptions::default());
    app.update(Msg::Snapshot(Err(ConsoleError::Disconnected)));
    assert!(matches!(app.link(), Link::NotAnswering(_)));
    assert!(snapshot_kept(&app));
    app.update(Msg::Snapshot(Ok(snapshot())));
    assert_eq!(app.link(), &Link::Live);
}

fn snapshot_kept(app: &App) -> bool {
    app.snapshot().is_some()
}
