//! How the app takes the collector's answers: a snapshot (which also says the collector is
//! answering again), a command's outcome (and the step the credentials form takes on it), and
//! the loss of the link and the socket's link going down and coming back. Pure; part of
//! [`App`].

use super::{
    App, Effect, Link, OUTCOMES_KEPT, OutcomeLine, REFRESHING, describe, model, profile_of,
};
use crate::console::{Command, CommandOutcome, Connection, ConsoleError, LinkState, Snapshot};

impl App {
    pub(super) fn on_snapshot(&mut self, result: Result<Snapshot, ConsoleError>) {
        let snapshot = match result {
            Ok(snapshot) => snapshot,
            Err(ConsoleError::Disconnected) => {
                self.lose_link(ConsoleError::Disconnected.to_string());
                return;
            }
            Err(error) => {
                self.message = Some(format!("could not refresh: {error}"));
                self.dirty = true;
                return;
            }
        };
        if self.link != Link::Live {
            self.link = Link::Live;
            self.dirty = true;
        }
        if self.message.as_deref() == Some(REFRESHING) {
            self.message = None;
            self.dirty = true;
        }
        let shown = self.profile().map(|profile| profile.name.clone());
        let wanted = self.wanted_profile.take().or(shown);
        if let Some(name) = wanted {
            match snapshot
                .profiles
                .iter()
                .position(|profile| profile.name == name)
            {
                Some(index) => self.profile = index,
                None => {
                    self.profile = 0;
                    self.message = Some(format!("no profile named `{name}`; showing the first"));
                    self.dirty = true;
                }
            }
        }
        if self
            .snapshot
            .as_ref()
            .is_none_or(|old| model::differs(old, &snapshot))
        {
            self.dirty = true;
        }
        self.snapshot = Some(snapshot);
    }

    /// Records a command's outcome; the credentials form may answer it with its next step
    /// (a validated draft is saved), which is sent like any other command.
    pub(super) fn on_outcome(
        &mut self,
        command: &Command,
        result: Result<CommandOutcome, ConsoleError>,
    ) -> Vec<Effect> {
        let follow_up = self.tabs.credentials.outcome(command, &result);
        let what = describe(command);
        if let Some(index) = self.pending.iter().position(|c| describe(c) == what) {
            self.pending.remove(index);
        }
        let (succeeded, message) = match result {
            Ok(outcome) => (outcome.succeeded, outcome.message),
            Err(ConsoleError::Disconnected) => {
                self.lose_link(ConsoleError::Disconnected.to_string());
                (false, ConsoleError::Disconnected.to_string())
            }
            Err(error) => (false, error.to_string()),
        };
        self.message = None;
        self.outcomes.push_front(OutcomeLine {
            profile: profile_of(command).map(str::to_owned),
            what,
            succeeded,
            message,
        });
        self.outcomes.truncate(OUTCOMES_KEPT);
        self.dirty = true;
        follow_up
            .map(|command| self.send(command))
            .unwrap_or_default()
    }

    /// The handle's link changed. Connected again (or a gap in the updates): fetch a fresh
    /// snapshot, which makes the link live. Disconnected: keep the last state, say when the
    /// next attempt is.
    pub(super) fn on_link(&mut self, state: LinkState) -> Vec<Effect> {
        match state {
            LinkState::Connected(connection) => {
                self.set_connection(connection);
                if matches!(self.link, Link::Reconnecting { .. }) {
                    self.link = Link::Connecting;
                    self.dirty = true;
                }
                vec![Effect::FetchSnapshot]
            }
            LinkState::Disconnected {
                last,
                retry_in,
                reason,
                ..
            } => {
                self.set_connection(last);
                let secs = retry_in.as_secs() + u64::from(retry_in.subsec_nanos() > 0);
                let link = Link::Reconnecting {
                    retry_in_secs: secs,
                    reason,
                };
                if self.link != link {
                    self.link = link;
                    self.dirty = true;
                }
                Vec::new()
            }
        }
    }

    /// A (re)attached collector may grant other access than before.
    fn set_connection(&mut self, connection: Connection) {
        if self.connection != connection {
            let read_only_link = matches!(
                connection,
                Connection::Attached {
                    read_write: false,
                    ..
                }
            );
            self.readonly = self.asked_readonly || read_only_link;
            self.connection = connection;
            self.dirty = true;
        }
    }

    pub(super) fn lose_link(&mut self, why: String) {
        // While the socket is down the link's own state says more (and when it retries).
        if matches!(self.link, Link::Reconnecting { .. }) {
            return;
        }
        if self.link != Link::NotAnswering(why.clone()) {
            self.link = Link::NotAnswering(why);
            self.dirty = true;
        }
    }
}
