//! The four tabs and the interface each one follows, so tabs can be built independently:
//!
//! - a **state** struct (`Default`), owned by the [`App`](super::app::App), holding only what
//!   the tab itself needs between frames (scroll offsets, selection, its own queries' answers);
//! - `handle(&mut self, action, &TabContext) -> TabReply`: the tab's reaction to an action the
//!   frame did not consume (movement, Enter, its own keys); it never does I/O, it asks for a
//!   [`Command`] in its reply;
//! - `render(frame, area, &State, &TabContext)`: pure drawing of the body area;
//! - optionally, data of its own beyond the snapshot (a feed page, latency over a window): it
//!   asks with a [`Query`] (from `handle`, or from `activated` when the tab is shown and
//!   `refreshed` after every snapshot), the runner asks the collector, and the [`Answer`]
//!   comes back through `answer`;
//! - optionally, a text prompt of its own (the feed's filter): while `input` returns one, keys
//!   are text for it and Enter and Esc reach `handle` as `Open` and `Back`;
//! - optionally, a form of its own (the Credentials tab's profile form): while `form_open`
//!   says so, keys are text for the focused field (`input`) and the form's own bindings reach
//!   `handle`.
//!
//! Depends on the console's snapshot types, the theme and ratatui; never on the collector's
//! internals or the terminal.

pub mod credentials;
pub mod feed;
pub mod latency;
pub mod subscriptions;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use tui_input::Input;

use super::action::Action;
use super::theme::Theme;
use crate::console::{
    ActivityView, Command, ConsoleError, FeedFilter, FeedPage, FeedQuery, LatencyQuery,
    LatencyView, ProfileSnapshot, Snapshot,
};

/// A tab, by its number in the tab bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TabId {
    /// 1: credentials of the shown profile.
    #[default]
    Credentials,
    /// 2: subscriptions and the diagnosis.
    Subscriptions,
    /// 3: notification latency.
    Latency,
    /// 4: the interaction feed.
    Feed,
}

impl TabId {
    /// In tab-bar order.
    pub const ALL: [TabId; 4] = [
        TabId::Credentials,
        TabId::Subscriptions,
        TabId::Latency,
        TabId::Feed,
    ];

    /// The tab's name in the tab bar.
    pub fn title(self) -> &'static str {
        match self {
            TabId::Credentials => "Credentials",
            TabId::Subscriptions => "Subscriptions",
            TabId::Latency => "Latency",
            TabId::Feed => "Feed",
        }
    }

    /// Its number (the key that selects it).
    pub fn number(self) -> usize {
        self.index() + 1
    }

    fn index(self) -> usize {
        match self {
            TabId::Credentials => 0,
            TabId::Subscriptions => 1,
            TabId::Latency => 2,
            TabId::Feed => 3,
        }
    }

    /// The tab after this one, wrapping round.
    pub fn next(self) -> TabId {
        Self::ALL
            .get((self.index() + 1) % Self::ALL.len())
            .copied()
            .unwrap_or_default()
    }

    /// The tab before this one, wrapping round.
    pub fn previous(self) -> TabId {
        Self::ALL
            .get((self.index() + Self::ALL.len() - 1) % Self::ALL.len())
            .copied()
            .unwrap_or_default()
    }
}

/// What a tab sees of the application when it handles an action or draws.
#[derive(Debug, Clone, Copy)]
pub struct TabContext<'a> {
    /// The collector's state with updates applied; `None` before the first snapshot.
    pub snapshot: Option<&'a Snapshot>,
    /// The profile shown.
    pub profile: Option<&'a ProfileSnapshot>,
    /// The collector's "now".
    pub now: DateTime<Utc>,
    /// Styles.
    pub theme: &'a Theme,
    /// Whether commands that change anything are refused.
    pub readonly: bool,
    /// The last command outcome line about the shown profile, if any.
    pub last_outcome: Option<&'a super::app::OutcomeLine>,
    /// Whether a command for this tab is still running.
    pub pending: bool,
}

/// A tab's answer to an action.
#[derive(Debug, Clone)]
pub enum TabReply {
    /// Handled inside the tab (it may have changed what is drawn).
    Handled,
    /// Not the tab's business; nothing changed.
    Ignored,
    /// Run this command through the collector; the label says what is running.
    Command(Command, String),
    /// Tell the user something (one line in the status line).
    Notice(String),
    /// Ask the collector for data; the answer comes back to the same tab.
    Query(Query),
}

/// Data a tab asks the collector for, beyond the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// A page of the feed.
    Feed(FeedQuery),
    /// Users × apps.
    Activity(FeedFilter),
    /// Latency over a window.
    Latency(LatencyQuery),
}

/// The collector's answer to a [`Query`], with the query it answers (a tab drops answers to
/// queries it no longer wants: the user moved on).
#[derive(Debug, Clone)]
pub enum Answer {
    /// A page of the feed.
    Feed(FeedQuery, Result<FeedPage, ConsoleError>),
    /// Users × apps.
    Activity(FeedFilter, Result<ActivityView, ConsoleError>),
    /// Latency over a window.
    Latency(LatencyQuery, Result<LatencyView, ConsoleError>),
}

/// Every tab's state.
#[derive(Debug, Clone, Default)]
pub struct Tabs {
    /// Tab 1.
    pub credentials: credentials::State,
    /// Tab 2.
    pub subscriptions: subscriptions::State,
    /// Tab 3.
    pub latency: latency::State,
    /// Tab 4.
    pub feed: feed::State,
}

impl Tabs {
    /// Routes `action` to `tab`.
    pub fn handle(&mut self, tab: TabId, action: Action, context: &TabContext<'_>) -> TabReply {
        match tab {
            TabId::Credentials => self.credentials.handle(action, context),
            TabId::Subscriptions => self.subscriptions.handle(action, context),
            TabId::Feed => self.feed.handle(action, context),
            TabId::Latency => self.latency.handle(action, context),
        }
    }

    /// Whether `tab` has a form open: the keys are its (see [`Context::Form`]).
    ///
    /// [`Context::Form`]: super::keymap::Context::Form
    pub fn form_open(&self, tab: TabId) -> bool {
        tab == TabId::Credentials && self.credentials.form_open()
    }

    /// The text `tab` is having typed (a filter, a path, a form's field), if any: while there
    /// is one, keys are text, and Enter and Esc go to the tab.
    pub fn input(&self, tab: TabId) -> Option<&Input> {
        match tab {
            TabId::Feed => self.feed.input(),
            TabId::Credentials => self.credentials.input(),
            TabId::Subscriptions | TabId::Latency => None,
        }
    }

    /// The same, to edit.
    pub fn input_mut(&mut self, tab: TabId) -> Option<&mut Input> {
        match tab {
            TabId::Feed => self.feed.input_mut(),
            TabId::Credentials => self.credentials.input_mut(),
            TabId::Subscriptions | TabId::Latency => None,
        }
    }

    /// `tab` is now shown (or its profile changed): what it wants to know first.
    pub fn activated(&mut self, tab: TabId, context: &TabContext<'_>) -> Option<Query> {
        match tab {
            TabId::Subscriptions => {
                self.subscriptions.activated();
                None
            }
            TabId::Feed => self.feed.activated(context),
            TabId::Latency => self.latency.wanted(context),
            TabId::Credentials => {
                self.credentials.activated();
                None
            }
        }
    }

    /// A fresh snapshot arrived while `tab` is shown: what it wants refreshed with it.
    pub fn refreshed(&mut self, tab: TabId, context: &TabContext<'_>) -> Option<Query> {
        match tab {
            TabId::Feed => self.feed.refreshed(context),
            TabId::Latency => self.latency.wanted(context),
            TabId::Credentials | TabId::Subscriptions => None,
        }
    }

    /// The collector answered a query `tab` asked. Returns whether anything drawn changed.
    pub fn answer(&mut self, tab: TabId, answer: Answer, context: &TabContext<'_>) -> bool {
        match tab {
            TabId::Feed => self.feed.answer(answer, context),
            TabId::Latency => self.latency.answer(answer, context),
            TabId::Credentials | TabId::Subscriptions => false,
        }
    }

    /// Draws `tab` into `area`.
    pub fn render(&self, tab: TabId, frame: &mut Frame<'_>, area: Rect, context: &TabContext<'_>) {
        match tab {
            TabId::Credentials => credentials::render(frame, area, &self.credentials, context),
            TabId::Subscriptions => {
                subscriptions::render(frame, area, &self.subscriptions, context);
            }
            TabId::Feed => feed::render(frame, area, &self.feed, context),
            TabId::Latency => latency::render(frame, area, &self.latency, context),
        }
    }
}
