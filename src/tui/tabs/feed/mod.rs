//! Tab 4, Feed: the rolling interaction list, newest first, with columns time, user, app,
//! prompt/response, session and latency. It follows new interactions (the snapshot's feed
//! head, kept current by the app) until the user scrolls down, which pauses it; `f` toggles
//! following and `g` jumps back to the newest and follows. `/` filters (`app:teams
//! user:adele type:prompt free text`), Enter shows every stored field of the selected
//! interaction, `a` shows who used which app, `e` exports the filtered selection.
//!
//! The store may hold millions of interactions: the tab never loads them, it pages through a
//! bounded [`Window`] with [`Query::Feed`] and shows where it is.
//!
//! Pure; depends on the console's query and command types, the store's record type, the
//! theme and ratatui; never on the collector's internals or the terminal.

mod activity;
mod cells;
mod detail;
mod prompt;
mod view;
pub mod window;

/// The filter syntax lives with the console's query types, so the CLI twins parse it too.
pub use crate::console::query::filter;

use tui_input::Input;

use super::{Answer, Query, TabContext, TabReply};
use crate::console::embedded::feed::Matcher;
use crate::console::{ActivityView, FeedFilter};
use crate::store::records::InteractionRecord;
use crate::tui::action::Action;
pub use prompt::{Prompt, PromptKind};
pub use view::render;
use window::Window;

/// Lines a page key moves.
const PAGE: usize = 10;

/// Rows the list shows at least (the smallest terminal): how far selection may move before
/// the list scrolls, reckoned before the real height is known.
const NOMINAL_ROWS: usize = 10;

/// The next page is asked for when the selection comes this close to the window's end.
const PREFETCH: usize = 50;

/// The activity view, while shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// The answer, once it came: the view, or why it could not be counted.
    pub view: Option<Result<ActivityView, String>>,
    /// First row shown.
    pub scroll: usize,
}

/// The tab's own state.
#[derive(Debug, Clone)]
pub struct State {
    window: Window,
    following: bool,
    selected: usize,
    top: usize,
    detail: bool,
    prompt: Option<Prompt>,
    activity: Option<Activity>,
    error: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            window: Window::default(),
            following: true,
            selected: 0,
            top: 0,
            detail: false,
            prompt: None,
            activity: None,
            error: None,
        }
    }
}

impl State {
    /// The filter applied.
    pub fn filter(&self) -> &FeedFilter {
        self.window.filter()
    }

    /// Whether new interactions appear as they arrive.
    pub fn following(&self) -> bool {
        self.following
    }

    /// The text field being edited (filter or export path), if any.
    pub fn input(&self) -> Option<&Input> {
        self.prompt.as_ref().map(|prompt| &prompt.input)
    }

    /// The same, to edit.
    pub fn input_mut(&mut self) -> Option<&mut Input> {
        self.prompt.as_mut().map(|prompt| &mut prompt.input)
    }

    /// The rows shown, newest first: while following, the head's newer rows above the window.
    fn list<'a>(&'a self, context: &TabContext<'a>) -> Vec<&'a InteractionRecord> {
        let mut rows = if self.following {
            self.newer(context)
        } else {
            Vec::new()
        };
        rows.extend(self.window.rows());
        rows
    }

    /// Matching rows of the snapshot's head newer than the window.
    fn newer<'a>(&self, context: &TabContext<'a>) -> Vec<&'a InteractionRecord> {
        let Some(snapshot) = context.snapshot else {
            return Vec::new();
        };
        let matcher = Matcher::new(self.window.filter());
        self.window.newer_in(
            snapshot
                .feed_head
                .iter()
                .filter(|record| matcher.matches(record)),
        )
    }

    /// Interactions that arrived while paused (shown on resuming).
    fn arrived(&self, context: &TabContext<'_>) -> usize {
        if self.following {
            0
        } else {
            self.newer(context).len()
        }
    }

    /// Reacts to `action`.
    pub fn handle(&mut self, action: Action, context: &TabContext<'_>) -> TabReply {
        if self.prompt.is_some() {
            return self.handle_prompt(action);
        }
        if let Some(activity) = &mut self.activity
            && action.is_movement()
        {
            let rows = match &activity.view {
                Some(Ok(view)) => view.rows.len(),
                _ => 0,
            };
            activity.scroll = scrolled(activity.scroll, action, rows.saturating_sub(1));
            return TabReply::Handled;
        }
        match action {
            Action::Filter => {
                self.prompt = Some(Prompt::filter(self.window.filter()));
                TabReply::Handled
            }
            Action::Export => {
                self.prompt = Some(Prompt::export(context.now));
                TabReply::Handled
            }
            Action::Activity => self.toggle_activity(),
            Action::Follow if self.following => {
                self.pause(context);
                TabReply::Handled
            }
            Action::Follow | Action::Top => self.follow(),
            Action::Open => {
                if self.list(context).is_empty() {
                    return TabReply::Notice("no interaction to open yet".into());
                }
                self.detail = !self.detail;
                TabReply::Handled
            }
            Action::Back if self.detail => {
                self.detail = false;
                TabReply::Handled
            }
            Action::Back if self.activity.is_some() => self.toggle_activity(),
            movement if movement.is_movement() => self.move_by(movement, context),
            _ => TabReply::Ignored,
        }
    }

    fn handle_prompt(&mut self, action: Action) -> TabReply {
        match action {
            Action::Back => {
                self.prompt = None;
                TabReply::Handled
            }
            Action::Open => {
                let Some(open) = self.prompt.as_mut() else {
                    return TabReply::Ignored;
                };
                match open.kind {
                    PromptKind::Filter => match filter::parse(open.input.value()) {
                        Ok(filter) => {
                            self.prompt = None;
                            self.apply_filter(filter)
                        }
                        Err(error) => {
                            open.error = Some(error.to_string());
                            TabReply::Notice(format!("filter not changed: {error}"))
                        }
                    },
                    PromptKind::Export => {
                        match prompt::export_command(open.input.value(), self.window.filter()) {
                            Ok((command, label)) => {
                                self.prompt = None;
                                TabReply::Command(command, label)
                            }
                            Err(error) => {
                                open.error = Some(error.clone());
                                TabReply::Notice(format!("not exported: {error}"))
                            }
                        }
                    }
                }
            }
            _ => TabReply::Handled,
        }
    }

    fn apply_filter(&mut self, filter: FeedFilter) -> TabReply {
        if &filter == self.window.filter() && self.window.loaded() {
            return TabReply::Handled;
        }
        self.window = Window::new(filter);
        self.detail = false;
        self.error = None;
        self.following = true;
        self.selected = 0;
        self.top = 0;
        match &mut self.activity {
            Some(activity) => {
                *activity = Activity::default();
                TabReply::Query(Query::Activity(self.window.filter().clone()))
            }
            None => TabReply::Query(self.first_page()),
        }
    }

    /// The newest page under the filter (the window starts over).
    fn first_page(&mut self) -> Query {
        Query::Feed(self.window.reset())
    }

    fn toggle_activity(&mut self) -> TabReply {
        if self.activity.take().is_some() {
            if self.window.loaded() || self.window.waiting() {
                return TabReply::Handled;
            }
            return TabReply::Query(Query::Feed(self.window.reset()));
        }
        self.activity = Some(Activity::default());
        TabReply::Query(Query::Activity(self.window.filter().clone()))
    }

    /// Stops the list moving: the rows shown become the window's.
    fn pause(&mut self, context: &TabContext<'_>) {
        if !self.following {
            return;
        }
        let newer: Vec<InteractionRecord> = self.newer(context).into_iter().cloned().collect();
        self.window.freeze(newer);
        self.following = false;
    }

    /// Back to the newest, following.
    fn follow(&mut self) -> TabReply {
        self.following = true;
        self.selected = 0;
        self.top = 0;
        self.window = Window::new(self.window.filter().clone());
        TabReply::Query(Query::Feed(self.window.reset()))
    }

    fn move_by(&mut self, movement: Action, context: &TabContext<'_>) -> TabReply {
        let downward = matches!(movement, Action::Down | Action::PageDown | Action::Bottom);
        if downward {
            self.pause(context);
        }
        let len = self.list(context).len();
        let last = len.saturating_sub(1);
        self.selected = scrolled(self.selected, movement, last);
        self.keep_visible();
        let query = if downward && len.saturating_sub(self.selected) <= PREFETCH {
            self.window.more_below()
        } else if !downward && self.selected <= PREFETCH {
            self.window.more_above()
        } else {
            None
        };
        match query {
            Some(query) => TabReply::Query(Query::Feed(query)),
            None => TabReply::Handled,
        }
    }

    fn keep_visible(&mut self) {
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + NOMINAL_ROWS {
            self.top = self.selected + 1 - NOMINAL_ROWS;
        }
    }

    /// The tab is shown: its first page, unless it has one.
    pub fn activated(&mut self, _context: &TabContext<'_>) -> Option<Query> {
        if self.activity.as_ref().is_some_and(|a| a.view.is_none()) {
            return Some(Query::Activity(self.window.filter().clone()));
        }
        if self.window.loaded() || self.window.waiting() {
            return None;
        }
        Some(self.first_page())
    }

    /// A snapshot arrived: following, the newest page again (late arrivals, retention);
    /// paused near the end of an open search, the search goes on.
    pub fn refreshed(&mut self, context: &TabContext<'_>) -> Option<Query> {
        if self.activity.is_some() {
            return Some(Query::Activity(self.window.filter().clone()));
        }
        if self.following {
            if self.window.waiting() {
                return None;
            }
            return Some(Query::Feed(self.window.reset()));
        }
        let near_end = self.list(context).len().saturating_sub(self.selected) <= PREFETCH;
        if near_end && self.window.searched() > 0 {
            return self.window.more_below().map(Query::Feed);
        }
        None
    }

    /// The collector answered. Returns whether anything shown changed.
    pub fn answer(&mut self, answer: Answer, context: &TabContext<'_>) -> bool {
        match answer {
            Answer::Feed(query, Ok(page)) => {
                let selected_id = self
                    .list(context)
                    .get(self.selected)
                    .map(|record| record.id.clone());
                if !self.window.apply(&query, page).accepted {
                    return false;
                }
                self.error = None;
                if !self.following {
                    let list = self.list(context);
                    let found =
                        selected_id.and_then(|id| list.iter().position(|record| record.id == id));
                    let last = list.len().saturating_sub(1);
                    let moved = found.unwrap_or(self.selected.min(last));
                    self.top = (self.top + moved).saturating_sub(self.selected);
                    self.selected = moved;
                    self.keep_visible();
                }
                true
            }
            Answer::Feed(query, Err(error)) => {
                self.window.abandon(&query);
                self.error = Some(format!("the feed could not be read: {error}"));
                true
            }
            Answer::Activity(filter, result) => match &mut self.activity {
                Some(activity) if &filter == self.window.filter() => {
                    activity.view = Some(result.map_err(|error| error.to_string()));
                    true
                }
                _ => false,
            },
            Answer::Latency(..) => false,
        }
    }
}

/// `at` moved by `movement`, within `0..=last`.
fn scrolled(at: usize, movement: Action, last: usize) -> usize {
    match movement {
        Action::Down => at.saturating_add(1).min(last),
        Action::Up => at.saturating_sub(1),
        Action::PageDown => at.saturating_add(PAGE).min(last),
        Action::PageUp => at.saturating_sub(PAGE),
        Action::Top => 0,
        Action::Bottom => last,
        _ => at,
    }
}

#[cfg(test)]
mod tests;
