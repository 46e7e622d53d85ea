//! The event loop: one task owns the terminal, the [`App`] and a [`CollectorHandle`], and
//! `select!`s (biased, in this order) over shutdown signals, terminal events, finished
//! requests, collector updates, a periodic refresh and the frame interval. Messages go to the
//! app; its effects become requests on the handle, run as tasks the loop owns (so a backend
//! that never answers cannot freeze the screen, and leaving aborts them).
//!
//! Redraws happen on frame ticks (at most [`FPS`] a second) and only when the app says
//! something visible changed: an update, a key, a reply, or a shown clock moving on. A bursty
//! collector is drained up to [`UPDATE_DRAIN_CAP`] updates before the next frame, so a storm
//! costs one draw. A lagged update receiver asks for a fresh snapshot; a closed one, or a
//! request the backend drops, shows "collector not answering" and keeps retrying. The
//! handle's link (a control-socket client's) going down shows "disconnected — retrying in
//! Ns" over the last state; every change back to connected asks for a fresh snapshot.
//!
//! "Now" is the collector's clock: the latest snapshot's `taken_at` plus the real time since,
//! times the simulation's speed (1 outside the demo). The loop ends when the user quits, on
//! SIGTERM or SIGINT, or when the terminal's event stream ends or fails — the pty is gone.
//! SIGHUP is left to its default disposition on purpose; see [`super::terminal`].
//!
//! Depends on the console handle, the app, the view and crossterm's event stream; [`drive`]
//! takes any ratatui backend and any event stream, so tests run it without a terminal.

use std::future::Future;
use std::io;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use crossterm::event::{Event as TermEvent, EventStream, MouseEventKind};
use futures_util::{Stream, StreamExt as _};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, interval, interval_at};

use super::action::Action;
use super::app::{App, AppOptions, Effect, Msg};
use super::tabs::{Answer, Query};
use super::terminal::TerminalGuard;
use super::{TuiError, TuiOptions, view};
use crate::collector::update::Update;
use crate::console::CollectorHandle;

/// Frames per second, at most.
pub const FPS: u64 = 30;

/// Updates applied between two frames before the loop looks at anything else.
pub const UPDATE_DRAIN_CAP: usize = 1024;

/// How often a fresh snapshot is asked for: catches what updates do not carry (delivery
/// counts) and notices a backend that went away while nothing happened.
pub const REFRESH: Duration = Duration::from_secs(10);

/// Runs the console on the real terminal until the user quits, a signal arrives or the
/// terminal goes away. The terminal is restored however it ends.
pub async fn run(handle: CollectorHandle, options: TuiOptions) -> Result<(), TuiError> {
    let (guard, mut terminal) = TerminalGuard::enter(options.mouse)?;
    let result = drive(
        &mut terminal,
        EventStream::new(),
        handle,
        &options,
        shutdown_signal(),
    )
    .await;
    drop(guard);
    result
}

/// SIGTERM or SIGINT (Ctrl-C from outside raw mode, `kill`, systemd); never SIGHUP.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = int.recv() => {}
                }
            }
            _ => {
                tracing::warn!("cannot listen for SIGTERM/SIGINT; quit with q");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The collector's clock as seen from here.
#[derive(Debug, Default)]
struct CollectorClock {
    anchor: Option<(DateTime<Utc>, Instant, f64)>,
}

impl CollectorClock {
    fn rebase(&mut self, taken_at: DateTime<Utc>, speed: f64) {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        self.anchor = Some((taken_at, Instant::now(), speed));
    }

    fn now(&self) -> Option<DateTime<Utc>> {
        let (taken_at, at, speed) = self.anchor?;
        let elapsed = at.elapsed().as_secs_f64() * speed;
        // Whole microseconds are finer than anything shown.
        #[allow(clippy::cast_possible_truncation)]
        let micros = (elapsed * 1e6).min(i64::MAX as f64) as i64;
        Some(taken_at + TimeDelta::microseconds(micros))
    }
}

/// Runs the loop on `terminal`, reading `events`, until the user quits, `shutdown` completes,
/// or `events` ends or fails.
pub async fn drive<B, S, F>(
    terminal: &mut Terminal<B>,
    mut events: S,
    handle: CollectorHandle,
    options: &TuiOptions,
    shutdown: F,
) -> Result<(), TuiError>
where
    B: Backend,
    S: Stream<Item = io::Result<TermEvent>> + Unpin,
    F: Future<Output = ()>,
{
    let mut app = App::new(
        handle.connection(),
        AppOptions {
            profile: options.profile.clone(),
            readonly: options.readonly,
        },
    );
    let mut updates = handle.updates();
    let mut updates_open = true;
    let mut link = handle.link();
    // An embedded handle's link never changes: its first `changed()` says so and the arm
    // is switched off.
    let mut link_open = true;
    let mut requests: JoinSet<Msg> = JoinSet::new();
    let mut fetching = false;
    let mut clock = CollectorClock::default();
    let mut frames = interval(Duration::from_millis(1000 / FPS));
    frames.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut refresh = interval_at(Instant::now() + REFRESH, REFRESH);
    refresh.set_missed_tick_behavior(MissedTickBehavior::Skip);
    tokio::pin!(shutdown);

    let mut pending = app.start();
    loop {
        for effect in pending.drain(..) {
            match effect {
                Effect::Quit => return Ok(()),
                Effect::FetchSnapshot if fetching => {}
                Effect::FetchSnapshot => {
                    fetching = true;
                    let handle = handle.clone();
                    requests.spawn(async move { Msg::Snapshot(handle.snapshot().await) });
                }
                Effect::Command(command) => {
                    let handle = handle.clone();
                    requests.spawn(async move {
                        let result = handle.command(command.clone()).await;
                        Msg::Outcome(command, result)
                    });
                }
                Effect::Query(tab, query) => {
                    let handle = handle.clone();
                    requests.spawn(async move { Msg::Answer(tab, ask(&handle, query).await) });
                }
            }
        }
        let mut messages = Vec::new();
        tokio::select! {
            biased;
            () = &mut shutdown => return Ok(()),
            event = events.next() => match event {
                Some(Ok(event)) => {
                    if let Some(key) = event.as_key_press_event() {
                        messages.push(Msg::Key(key));
                    } else if let Some(message) = other_event(&event) {
                        messages.push(message);
                    }
                }
                // The pty is gone (or never was): nothing more can be read or shown.
                Some(Err(_)) | None => return Ok(()),
            },
            Some(done) = requests.join_next() => {
                // A request task cannot panic short of a bug; if one did, the next refresh
                // asks again.
                if let Ok(message) = done {
                    if let Msg::Snapshot(result) = &message {
                        fetching = false;
                        if let Ok(snapshot) = result {
                            let speed = snapshot.simulation.as_ref().map_or(1.0, |s| s.speed);
                            clock.rebase(snapshot.taken_at, speed);
                        }
                    }
                    messages.push(message);
                } else {
                    fetching = false;
                }
            },
            changed = link.changed(), if link_open => match changed {
                Ok(()) => messages.push(Msg::Link(link.borrow_and_update().clone())),
                Err(_) => link_open = false,
            },
            received = updates.recv(), if updates_open => {
                updates_open = drain(received, &mut updates, &mut messages);
            },
            _ = refresh.tick() => pending.push(Effect::FetchSnapshot),
            _ = frames.tick() => {
                if let Some(now) = clock.now() {
                    pending.extend(app.update(Msg::Tick(now)));
                }
                if app.take_dirty() {
                    let now = clock.now().unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
                    terminal
                        .draw(|frame| view::render(frame, &app, &options.theme, now))
                        .map_err(|error| io::Error::other(error.to_string()))?;
                }
            },
        }
        for message in messages {
            pending.extend(app.update(message));
        }
    }
}

/// Resizes redraw; with `--mouse`, the wheel scrolls. Everything else is ignored.
fn other_event(event: &TermEvent) -> Option<Msg> {
    match event {
        TermEvent::Resize(..) => Some(Msg::Resized),
        TermEvent::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollUp => Some(Msg::Action(Action::Up)),
            MouseEventKind::ScrollDown => Some(Msg::Action(Action::Down)),
            _ => None,
        },
        _ => None,
    }
}

/// Turns one received update, and up to [`UPDATE_DRAIN_CAP`] more already waiting, into
/// messages; returns whether the stream is still open.
fn drain(
    first: Result<Update, RecvError>,
    updates: &mut tokio::sync::broadcast::Receiver<Update>,
    messages: &mut Vec<Msg>,
) -> bool {
    match first {
        Ok(update) => messages.push(Msg::Update(update)),
        Err(RecvError::Lagged(_)) => messages.push(Msg::Lagged),
        Err(RecvError::Closed) => {
            messages.push(Msg::UpdatesClosed);
            return false;
        }
    }
    for _ in 0..UPDATE_DRAIN_CAP {
        match updates.try_recv() {
            Ok(update) => messages.push(Msg::Update(update)),
            Err(TryRecvError::Lagged(_)) => messages.push(Msg::Lagged),
            Err(TryRecvError::Empty) => break,
            Err(TryRecvError::Closed) => {
                messages.push(Msg::UpdatesClosed);
                return false;
            }
        }
    }
    true
}

/// Asks the collector what a tab's query wants (also what the console bench drives).
pub async fn ask(handle: &CollectorHandle, query: Query) -> Answer {
    match query {
        Query::Feed(query) => {
            let page = handle.feed(query.clone()).await;
            Answer::Feed(query, page)
        }
        Query::Activity(filter) => {
            let view = handle.activity(filter.clone()).await;
            Answer::Activity(filter, view)
        }
        Query::Latency(query) => {
            let view = handle.latency(query.clone()).await;
            Answer::Latency(query, view)
        }
    }
}
