//! Fixture state for the console's tests: a [`Snapshot`] with a healthy profile (`contoso`) and
//! one whose secret has expired (`fabrikam`), built from the canonical Graph fixtures through
//! the real credential assessment and diagnosis, at a fixed instant; plus a ratatui backend
//! that counts frames, and helpers to drive the runner without a terminal.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Duration, Utc};
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use pilotwatch::console::{ProfileSnapshot, SimulationInfo, Snapshot, SubscriptionRow};
use pilotwatch::creds::{
    CredentialFacts, Readable, SecretFacts, SecretShape, ServerClock, TokenFacts,
};
use pilotwatch::diagnose::facts::{FactSource, Facts, SubscriptionFact, SubscriptionFacts};
use pilotwatch::diagnose::{ProfileVerdict, diagnose};
use pilotwatch::graph::auth::{AadstsKind, AuthError};
use pilotwatch::graph::model::{
    AccessTokenClaims, Application, Collection, ServicePrincipal, SubscribedSku, User,
};
use pilotwatch::store::records::{InteractionRecord, InteractionSource};
use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use serde::de::DeserializeOwned;

pub mod latency;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/graph-fixtures/",
            $name
        ))
    };
}

fn parse<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).unwrap()
}

/// The fixed instant every fixture is judged at (70 days before the fixture secret expires).
pub fn now() -> DateTime<Utc> {
    "2026-09-22T08:00:00Z".parse().unwrap()
}

const TENANT_WIDE: &str = "/copilot/interactionHistory/getAllEnterpriseInteractions";

fn healthy_facts(profile: &str) -> CredentialFacts {
    let claims: AccessTokenClaims = parse(fixture!("access-token-claims.json"));
    let mut principal: ServicePrincipal = parse(fixture!("service-principal.json"));
    principal.app_role_assignment_required = false;
    let application: Application = parse(fixture!("application.json"));
    let skus = parse::<Collection<SubscribedSku>>(fixture!("subscribed-skus.json")).value;
    let user: User = parse(fixture!("user-assigned-plans.json"));
    CredentialFacts {
        profile: profile.into(),
        tenant: claims.tid.clone(),
        client_id: claims.appid.clone().unwrap(),
        authority: "https://login.microsoftonline.com".into(),
        graph_root: "https://graph.microsoft.com".into(),
        checked_at: now(),
        secret: SecretFacts {
            source: format!("file /home/ops/.local/share/pilotwatch/secrets/{profile}"),
            loaded: Ok(SecretShape {
                hint: "Q~7".into(),
                looks_like_secret_id: false,
                length: 40,
            }),
        },
        token: TokenFacts::Granted {
            claims: Some(claims),
            expires_at: now() + Duration::seconds(3599),
        },
        service_principal: Readable::Read(principal),
        application: Readable::Read(application),
        subscribed_skus: Readable::Read(skus),
        sampled_users: Readable::Read(vec![user]),
        server_date: Some(ServerClock {
            server: now(),
            local: now(),
        }),
        configured_secret_expires: None,
        expiry_warning_days: vec![30, 14, 7, 1],
    }
}

/// The identity platform refuses the expired secret (AADSTS7000222); the profile's configured
/// expiry date says since when.
fn expired_facts(profile: &str) -> CredentialFacts {
    let mut facts = healthy_facts(profile);
    facts.token = TokenFacts::Refused(AuthError::Rejected {
        status: 401,
        code: Some(7_000_222),
        error: "invalid_client".into(),
        kind: AadstsKind::ExpiredSecret,
        description: "AADSTS7000222: The provided client secret keys for app are expired.".into(),
        trace_id: Some("0f1e2d3c-trace".into()),
        correlation_id: Some("4b5a6978-corr".into()),
    });
    facts.service_principal = Readable::NotTried;
    facts.application = Readable::NotTried;
    facts.subscribed_skus = Readable::NotTried;
    facts.sampled_users = Readable::NotTried;
    facts.configured_secret_expires = Some((now() - Duration::days(3)).date_naive());
    facts
}

fn subscription_fact() -> SubscriptionFact {
    SubscriptionFact {
        id: "7f1d3c2b-5a4e-4d6f-9b8a-0c1d2e3f4a5b".into(),
        resource: TENANT_WIDE.into(),
        expires_at: now() + Duration::hours(50),
        created_at: now() - Duration::hours(22),
        lifecycle_url: Some("https://pilotwatch.contoso.com/lifecycle".into()),
        certificate_id: Some("pilotwatch-2026-09".into()),
        last_renewed_at: Some(now() - Duration::hours(22)),
        last_reauthorized_at: None,
    }
}

fn verdict(credentials: CredentialFacts) -> ProfileVerdict {
    let facts = Facts {
        profile: credentials.profile.clone(),
        source: FactSource::Collector {
            pid: 4242,
            since: now() - Duration::hours(1),
        },
        credentials: Some(pilotwatch::creds::assess(&credentials)),
        subscriptions: Some(SubscriptionFacts {
            resource: TENANT_WIDE.into(),
            notification_url: Some("https://pilotwatch.contoso.com/notify".into()),
            lifecycle_url_configured: true,
            active: vec![subscription_fact()],
            actions: Vec::new(),
            lifecycle: Vec::new(),
        }),
        delivery: None,
        export: None,
        graph: None,
        store: None,
        client_id: Some("24d3b144-9f5e-4c1a-8d7b-2f6a0e9c1b35".into()),
        thresholds: Default::default(),
        dead_tasks: Vec::new(),
    };
    let diagnosis = diagnose(&facts, now());
    ProfileVerdict { facts, diagnosis }
}

fn subscription_row() -> SubscriptionRow {
    let fact = subscription_fact();
    SubscriptionRow {
        id: fact.id,
        resource: fact.resource,
        expires_at: fact.expires_at,
        created_at: fact.created_at,
        last_renewed_at: fact.last_renewed_at,
        next_renewal_at: Some(now() + Duration::hours(26)),
        lifecycle_url: fact.lifecycle_url,
        rich: true,
        certificate_id: fact.certificate_id,
        certificate_expires_at: Some(now() + Duration::days(300)),
        last_lifecycle: None,
        last_handshake_at: Some(fact.created_at),
        received: 120,
        tokens_present_share: Some(1.0),
        decrypt_failures: 0,
        client_state_mismatches: 0,
        ack_p95_seconds: Some(0.04),
    }
}

fn profile(name: &str, tenant: &str, credentials: CredentialFacts) -> ProfileSnapshot {
    ProfileSnapshot {
        name: name.into(),
        tenant: tenant.into(),
        client_id: credentials.client_id.clone(),
        verdict: Some(verdict(credentials)),
        subscriptions: vec![subscription_row()],
        findings_history: Vec::new(),
        recent_events: Vec::new(),
    }
}

/// One interaction, as the collector would announce it.
pub fn interaction(id: &str) -> InteractionRecord {
    InteractionRecord {
        id: id.into(),
        user_id: Some("5b2c3d4e-1a2b-4c3d-9e8f-7a6b5c4d3e2f".into()),
        session_id: Some("19:session".into()),
        request_id: Some("req-1".into()),
        app_class: "IPM.SkypeTeams.Message.Copilot.Teams".into(),
        interaction_type: "userPrompt".into(),
        conversation_type: Some("appchat".into()),
        created_at: now() - Duration::seconds(30),
        from_display_name: Some("Adele Vance".into()),
        attachments: 0,
        links: 0,
        contexts: 1,
        body: None,
        source: InteractionSource::Notification,
        first_seen_at: now(),
    }
}

/// The fixture state: `contoso` healthy, `fabrikam` with an expired secret.
pub fn snapshot() -> Snapshot {
    Snapshot {
        taken_at: now(),
        started_at: now() - Duration::hours(1),
        pid: 4242,
        version: "0.1.0".into(),
        simulation: None,
        profiles: vec![
            profile(
                "contoso",
                "contoso.onmicrosoft.com",
                healthy_facts("contoso"),
            ),
            profile(
                "fabrikam",
                "fabrikam.onmicrosoft.com",
                expired_facts("fabrikam"),
            ),
        ],
        interactions_stored: 1234,
        feed_head: vec![interaction("m-1")],
        dead_tasks: Vec::new(),
        recent_audit: Vec::new(),
    }
}

/// The fixture state as the demo shows it.
pub fn demo_snapshot() -> Snapshot {
    Snapshot {
        simulation: Some(SimulationInfo {
            scenario: "healthy".into(),
            scenarios: vec!["healthy".into(), "app-role-assignment-required".into()],
            speed: 60.0,
        }),
        ..snapshot()
    }
}

/// Draws `app` at `width`×`height` with the default theme and with the theme `NO_COLOR`
/// selects, and asserts the second carries no colour at all while reading exactly like the
/// first: severity, selection and every word survive without colour. Returns the plain screen.
pub fn assert_reads_the_same_without_colour(
    app: &pilotwatch::tui::app::App,
    width: u16,
    height: u16,
) -> String {
    use pilotwatch::tui::Theme;
    use ratatui::Terminal;
    use ratatui::style::{Color, Modifier};
    let draw = |theme: &Theme| {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| pilotwatch::tui::view::render(frame, app, theme, now()))
            .unwrap();
        terminal
    };
    let coloured = draw(&Theme::built_in("default").unwrap());
    let plain = draw(&Theme::select(Some("default"), true).unwrap());
    for cell in plain.backend().buffer().content() {
        assert_eq!(cell.fg, Color::Reset, "a colour under NO_COLOR: {cell:?}");
        assert_eq!(cell.bg, Color::Reset, "a colour under NO_COLOR: {cell:?}");
    }
    let screen = plain.backend().to_string();
    assert_eq!(
        screen,
        coloured.backend().to_string(),
        "the words must not depend on the theme"
    );
    let emphasised = plain
        .backend()
        .buffer()
        .content()
        .iter()
        .filter(|cell| !cell.modifier.is_empty())
        .count();
    assert!(
        emphasised > 0,
        "without colour, attributes (bold, reversed) must still mark the header and tabs"
    );
    assert!(
        plain
            .backend()
            .buffer()
            .content()
            .iter()
            .any(|cell| cell.modifier.contains(Modifier::REVERSED)),
        "the header bar stands out by reversal without colour"
    );
    screen
}

/// A key press as crossterm reports it.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// A key press as a terminal event.
pub fn press(code: KeyCode) -> std::io::Result<TermEvent> {
    Ok(TermEvent::Key(key(code)))
}

/// A [`TestBackend`] that counts the frames drawn to it (one `flush` per frame).
#[derive(Debug)]
pub struct CountingBackend {
    pub inner: TestBackend,
    pub frames: Arc<AtomicUsize>,
    shown: Screen,
}

/// The text on a [`CountingBackend`]'s screen at its last flush, readable while the console
/// still runs (to watch the status bar change as the collector goes and comes back).
#[derive(Debug, Clone, Default)]
pub struct Screen(Arc<std::sync::Mutex<String>>);

impl Screen {
    /// What was on screen at the last flush.
    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl CountingBackend {
    pub fn new(width: u16, height: u16) -> (Self, Arc<AtomicUsize>) {
        let (backend, _) = Self::watched(width, height);
        let frames = Arc::clone(&backend.frames);
        (backend, frames)
    }

    /// A backend and the test's view of what it shows.
    pub fn watched(width: u16, height: u16) -> (Self, Screen) {
        let shown = Screen::default();
        let backend = Self {
            inner: TestBackend::new(width, height),
            frames: Arc::new(AtomicUsize::new(0)),
            shown: shown.clone(),
        };
        (backend, shown)
    }

    pub fn frames(&self) -> usize {
        self.frames.load(Ordering::SeqCst)
    }
}

impl Backend for CountingBackend {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.frames.fetch_add(1, Ordering::SeqCst);
        *self.shown.0.lock().unwrap() = self.inner.to_string();
        self.inner.flush()
    }
}
pub mod feed;
pub mod subscriptions;
