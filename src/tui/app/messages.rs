//! What flows into the app ([`Msg`]) and what it asks the runner to do ([`Effect`]). Plain
//! data; depends on the console's types, the collector's update and the action only.

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use crate::collector::update::Update;
use crate::console::{Command, CommandOutcome, ConsoleError, LinkState, Snapshot};
use crate::tui::action::Action;
use crate::tui::tabs::{Answer, Query, TabId};

/// Something that happened, for [`App::update`].
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key was pressed (the keymap decides what it means, or a prompt takes it as text).
    Key(KeyEvent),
    /// An intent, however it arose.
    Action(Action),
    /// The collector reported something.
    Update(Update),
    /// Updates were lost (the receiver lagged): the view must be rebuilt from a snapshot.
    Lagged,
    /// The handle's link changed: the collector went away, or is back (or dropped updates
    /// for us), so the view must be rebuilt from a snapshot.
    Link(LinkState),
    /// The update stream ended: the collector is gone.
    UpdatesClosed,
    /// The answer to [`Effect::FetchSnapshot`].
    Snapshot(Result<Snapshot, ConsoleError>),
    /// The answer to [`Effect::Command`].
    Outcome(Command, Result<CommandOutcome, ConsoleError>),
    /// The answer to [`Effect::Query`], for the tab that asked.
    Answer(TabId, Answer),
    /// Time passed: the collector's "now".
    Tick(DateTime<Utc>),
    /// The terminal changed size.
    Resized,
}

/// What the runner must do for the app.
#[derive(Debug, Clone)]
pub enum Effect {
    /// Ask for a fresh snapshot; answer with [`Msg::Snapshot`].
    FetchSnapshot,
    /// Send a command; answer with [`Msg::Outcome`].
    Command(Command),
    /// Ask the collector for a tab's data; answer with [`Msg::Answer`].
    Query(TabId, Query),
    /// Leave.
    Quit,
}
