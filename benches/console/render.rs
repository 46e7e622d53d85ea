//! Render time and bytes per frame, tab by tab: the pure `App` fed by the same handle the runner
//! uses (its effects carried out here, outside the timed part, as `tui::runner` carries them out),
//! and `Terminal::draw` timed — `view::render` into the back buffer, ratatui's diff, and the
//! escape sequences written into the counting writer.
//!
//! Each timed frame follows one step a user would take: a second passes on the clock and the
//! selection moves (`Down`); on the feed, a whole page scrolls (`PageDown`) through pages read
//! from the store, the heaviest frame the feed draws. Every frame is drawn, changed or not, so
//! the figure is the cost of a redraw, not of the runner's choice to skip one.
//!
//! Depends on the TUI's app, view and tabs, and the console handle.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use pilotwatch::console::CollectorHandle;
use pilotwatch::tui::action::Action;
use pilotwatch::tui::app::{App, AppOptions, Effect, Msg};
use pilotwatch::tui::runner::ask;
use pilotwatch::tui::tabs::TabId;
use pilotwatch::tui::{Theme, view};
use ratatui::Terminal;
use serde::{Deserialize, Serialize};

use crate::backend::BenchBackend;

/// One tab's frames in one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TabFrames {
    pub tab: String,
    /// Draw times, microseconds.
    pub p50_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
    /// Median bytes written per timed frame.
    pub bytes_median: f64,
    /// Bytes of the frame that switched to the tab (most of the screen repainted).
    pub switch_bytes: u64,
    pub frames: usize,
}

/// Carries out `effects` (and whatever their answers ask for) through `handle`.
async fn settle(app: &mut App, handle: &CollectorHandle, effects: Vec<Effect>) {
    let mut queue: VecDeque<Effect> = effects.into();
    let mut carried = 0;
    while let Some(effect) = queue.pop_front() {
        carried += 1;
        assert!(carried < 1_000, "the app keeps asking: {effect:?}");
        let message = match effect {
            Effect::Quit => continue,
            Effect::FetchSnapshot => Msg::Snapshot(handle.snapshot().await),
            Effect::Command(command) => {
                let result = handle.command(command.clone()).await;
                Msg::Outcome(command, result)
            }
            Effect::Query(tab, query) => Msg::Answer(tab, ask(handle, query).await),
        };
        queue.extend(app.update(message));
    }
}

/// `frames` timed frames on every tab.
pub async fn every_tab(handle: &CollectorHandle, frames: usize) -> Vec<TabFrames> {
    let theme = Theme::built_in("default").unwrap();
    let backend = BenchBackend::counting();
    let bytes = backend.bytes();
    let mut terminal = Terminal::new(backend).unwrap();
    let mut app = App::new(handle.connection(), AppOptions::default());
    let start = app.start();
    settle(&mut app, handle, start).await;
    let mut now: DateTime<Utc> = app.snapshot().expect("a snapshot").taken_at;
    let mut draw = |app: &App, now: DateTime<Utc>| {
        let before = bytes.load(Ordering::Relaxed);
        let started = Instant::now();
        terminal
            .draw(|frame| view::render(frame, app, &theme, now))
            .unwrap();
        let micros = started.elapsed().as_secs_f64() * 1e6;
        (micros, bytes.load(Ordering::Relaxed) - before)
    };
    draw(&app, now);

    let mut tabs = Vec::new();
    for tab in TabId::ALL {
        let effects = app.update(Msg::Action(Action::GoTab(tab)));
        settle(&mut app, handle, effects).await;
        let (_, switch_bytes) = draw(&app, now);
        let step = if tab == TabId::Feed {
            Action::PageDown
        } else {
            Action::Down
        };
        let mut times = Vec::with_capacity(frames);
        let mut sizes = Vec::with_capacity(frames);
        for _ in 0..frames {
            now += TimeDelta::seconds(1);
            let mut effects = app.update(Msg::Tick(now));
            effects.extend(app.update(Msg::Action(step)));
            settle(&mut app, handle, effects).await;
            app.take_dirty();
            let (micros, written) = draw(&app, now);
            times.push(micros);
            #[allow(clippy::cast_precision_loss)]
            sizes.push(written as f64);
        }
        times.sort_by(f64::total_cmp);
        tabs.push(TabFrames {
            tab: tab.title().to_owned(),
            p50_us: crate::percentile(&times, 0.50),
            p99_us: crate::percentile(&times, 0.99),
            max_us: times.last().copied().unwrap_or(0.0),
            bytes_median: crate::median(sizes),
            switch_bytes,
            frames,
        });
    }
    tabs
}
