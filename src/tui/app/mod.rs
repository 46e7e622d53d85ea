//! The application core: [`App`] holds the view model (the collector's snapshot with updates
//! applied), the tab states, the overlays, the command line and the last command outcomes;
//! [`App::update`] takes one [`Msg`] and returns the [`Effect`]s the runner must carry out
//! through the collector handle. This is the whole of pilotwatch's interactive behaviour,
//! testable without a terminal or a collector.
//!
//! This file owns the state and the messages; what keys and actions do is `actions`, how
//! the collector's answers land is `replies`.
//!
//! Pure: no I/O, no clock reads — "now" arrives in [`Msg::Tick`], computed by the runner from
//! the collector's clock. Depends on the console types, the keymap, the tabs and tui-input;
//! never on the terminal, the runner or the collector's internals.

mod actions;
mod messages;
mod outcome;
mod overlay;
mod replies;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

pub use messages::{Effect, Msg};
pub use outcome::{OutcomeLine, describe, profile_of};
pub use overlay::Overlay;
use tui_input::Input;

use super::keymap::Context;
use super::model;
use super::tabs::{TabContext, TabId, Tabs};
use super::theme::Theme;
use super::view::audit::AuditRecord;
use crate::collector::update::Update;
use crate::console::{Command, Connection, ProfileSnapshot, Snapshot};

/// The status line while a refresh is on its way.
const REFRESHING: &str = "asking the collector for fresh state…";

/// Outcomes kept for the status line and the tabs.
const OUTCOMES_KEPT: usize = 8;

/// Whether the collector answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Waiting for the first snapshot (or the first after reconnecting).
    Connecting,
    /// Answering.
    Live,
    /// Not answering: the screen keeps the last state, marked stale.
    NotAnswering(String),
    /// The socket to the collector is down and the handle dials again in this many whole
    /// seconds (rounded up); the screen keeps the last state, marked stale.
    Reconnecting {
        /// Seconds until the next attempt.
        retry_in_secs: u64,
        /// Why the last attempt failed although something is at the socket.
        reason: Option<String>,
    },
}

/// Options that shape the app (from the command line).
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// Start on this profile.
    pub profile: Option<String>,
    /// Refuse commands that change anything.
    pub readonly: bool,
}

/// The application state.
#[derive(Debug)]
pub struct App {
    pub(super) snapshot: Option<Snapshot>,
    pub(super) connection: Connection,
    pub(super) readonly: bool,
    /// Read-only was asked for (`--readonly`), whatever the collector grants.
    asked_readonly: bool,
    pub(super) tab: TabId,
    pub(super) tabs: Tabs,
    pub(super) profile: usize,
    wanted_profile: Option<String>,
    pub(super) overlay: Overlay,
    pub(super) prompt: Option<Input>,
    pub(super) message: Option<String>,
    pub(super) outcomes: VecDeque<OutcomeLine>,
    pub(super) pending: Vec<Command>,
    pub(super) link: Link,
    now: DateTime<Utc>,
    clock_key: Option<i64>,
    dirty: bool,
}

impl App {
    /// A new app for a collector reached via `connection`; [`Self::start`] says what to fetch.
    pub fn new(connection: Connection, options: AppOptions) -> Self {
        let read_only_link = matches!(
            connection,
            Connection::Attached {
                read_write: false,
                ..
            }
        );
        Self {
            snapshot: None,
            readonly: options.readonly || read_only_link,
            asked_readonly: options.readonly,
            connection,
            tab: TabId::default(),
            tabs: Tabs::default(),
            profile: 0,
            wanted_profile: options.profile,
            overlay: Overlay::None,
            prompt: None,
            message: None,
            outcomes: VecDeque::new(),
            pending: Vec::new(),
            link: Link::Connecting,
            now: DateTime::<Utc>::UNIX_EPOCH,
            clock_key: None,
            dirty: true,
        }
    }

    /// The effects to run once at start: the first snapshot.
    pub fn start(&self) -> Vec<Effect> {
        vec![Effect::FetchSnapshot]
    }

    /// Whether the screen must be redrawn, clearing the flag.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// The state shown, when there is one.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.snapshot.as_ref()
    }

    /// The profile shown.
    pub fn profile(&self) -> Option<&ProfileSnapshot> {
        self.snapshot.as_ref()?.profiles.get(self.profile)
    }

    /// The tab shown.
    pub fn tab(&self) -> TabId {
        self.tab
    }

    /// The collector's recent audit trail, newest first (empty before the first snapshot).
    pub fn audit_trail(&self) -> &[AuditRecord] {
        self.snapshot
            .as_ref()
            .map_or(&[], |snapshot| snapshot.recent_audit.as_slice())
    }

    /// Whether the collector answers.
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The latest outcomes, newest first.
    pub fn outcomes(&self) -> impl Iterator<Item = &OutcomeLine> {
        self.outcomes.iter()
    }

    /// Where keys go now.
    pub fn key_context(&self) -> Context {
        match (&self.prompt, &self.overlay) {
            (Some(_), _) | (None, Overlay::Help { editing: true, .. }) => Context::Prompt,
            (None, Overlay::None) if self.tabs.form_open(self.tab) => Context::Form,
            (None, Overlay::None) if self.tabs.input(self.tab).is_some() => Context::Prompt,
            (None, Overlay::Help { .. }) => Context::Help,
            // The trail is read-only: only global keys (scrolling, closing) reach it.
            (None, Overlay::Audit { .. }) => Context::Global,
            (None, Overlay::None) => Context::Tab(self.tab),
        }
    }

    /// Takes one message; returns what the runner must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Action(action) => self.on_action(action),
            Msg::Update(update) => {
                if let Some(snapshot) = &mut self.snapshot
                    && model::apply(snapshot, &update)
                {
                    self.dirty = true;
                }
                // The keeper, a lifecycle event or a poll changed subscriptions or counts the
                // snapshot holds: read them now rather than at the next periodic refresh (the
                // runner asks once however many arrive together).
                if matches!(
                    update,
                    Update::Keeper(_) | Update::Lifecycle(_) | Update::Poll(_)
                ) {
                    vec![Effect::FetchSnapshot]
                } else {
                    Vec::new()
                }
            }
            Msg::Lagged => vec![Effect::FetchSnapshot],
            Msg::Link(state) => self.on_link(state),
            Msg::UpdatesClosed => {
                self.lose_link("the collector's update stream ended".into());
                Vec::new()
            }
            Msg::Snapshot(result) => {
                let fresh = result.is_ok();
                self.on_snapshot(result);
                if fresh {
                    self.tab_query(Tabs::refreshed)
                } else {
                    Vec::new()
                }
            }
            Msg::Answer(tab, answer) => {
                let plain = Theme::plain();
                let mut tabs = std::mem::take(&mut self.tabs);
                if tabs.answer(tab, answer, &self.tab_context(&plain, self.now)) {
                    self.dirty = true;
                }
                self.tabs = tabs;
                Vec::new()
            }
            Msg::Outcome(command, result) => self.on_outcome(&command, result),
            Msg::Tick(now) => {
                self.now = now;
                let key = self.clock_key(now);
                if self.clock_key != Some(key) {
                    self.clock_key = Some(key);
                    self.dirty = true;
                }
                Vec::new()
            }
            Msg::Resized => {
                self.dirty = true;
                Vec::new()
            }
        }
    }

    /// What of "now" is visible: the second in the demo (its simulated clock is shown), the
    /// minute elsewhere (countdowns are shown to the minute). A change of key is a redraw.
    fn clock_key(&self, now: DateTime<Utc>) -> i64 {
        let simulated = self
            .snapshot
            .as_ref()
            .is_some_and(|s| s.simulation.is_some());
        if simulated {
            now.timestamp()
        } else {
            now.timestamp().div_euclid(60)
        }
    }

    /// The context a tab sees.
    pub fn tab_context<'a>(&'a self, theme: &'a Theme, now: DateTime<Utc>) -> TabContext<'a> {
        let profile = self.profile();
        let name = profile.map(|profile| profile.name.as_str());
        TabContext {
            snapshot: self.snapshot.as_ref(),
            profile,
            now,
            theme,
            readonly: self.readonly,
            last_outcome: self
                .outcomes
                .iter()
                .find(|line| line.profile.as_deref() == name && name.is_some()),
            pending: self
                .pending
                .iter()
                .any(|command| profile_of(command) == name && name.is_some()),
        }
    }
}
