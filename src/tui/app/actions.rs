//! What a key or an action does in the app: keys go to the prompt, form or overlay that has
//! them or through the keymap to an action; actions switch tabs and profiles, open the help,
//! the audit trail and the command line, or go to the shown tab, whose reply may send a
//! [`Command`] (refused when read-only, or when the same one is still running).
//!
//! Pure; part of [`App`]. Depends on the keymap, the command line and the tabs; never on the
//! terminal or the runner.

use crossterm::event::{Event as TermEvent, KeyEvent};
use tui_input::Input;
use tui_input::backend::crossterm::EventHandler as _;

use super::{App, Effect, Overlay, REFRESHING, describe};
use crate::console::Command;
use crate::tui::action::Action;
use crate::tui::command_line::{self, Parsed};
use crate::tui::keymap::{self, Context};
use crate::tui::tabs::{Query, TabContext, TabId, TabReply, Tabs};
use crate::tui::theme::Theme;

impl App {
    /// A key press: its action in the current context, or text for the prompt or form that
    /// has the keys.
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let context = self.key_context();
        if let Some(action) = keymap::action_for(key, context) {
            return self.on_action(action);
        }
        if matches!(context, Context::Prompt | Context::Form) {
            let event = TermEvent::Key(key);
            let input = match (&mut self.prompt, &mut self.overlay) {
                (Some(input), _) => Some(input),
                (None, Overlay::Help { filter, scroll, .. }) => {
                    *scroll = 0;
                    Some(filter)
                }
                (None, Overlay::None) => self.tabs.input_mut(self.tab),
                (None, Overlay::Audit { .. }) => None,
            };
            if let Some(input) = input
                && input.handle_event(&event).is_some()
            {
                self.dirty = true;
            }
        }
        Vec::new()
    }

    /// An action, by what has the keys: a prompt, a form, an overlay, or else the app and
    /// then the shown tab.
    pub(super) fn on_action(&mut self, action: Action) -> Vec<Effect> {
        match self.key_context() {
            Context::Prompt => return self.on_prompt_action(action),
            // A form is modal: every key it binds is the tab's to interpret.
            Context::Form => return self.route_to_tab(action),
            _ => {}
        }
        let help_open = matches!(self.overlay, Overlay::Help { .. });
        let audit_open = matches!(self.overlay, Overlay::Audit { .. });
        let effects = match action {
            Action::Quit => vec![Effect::Quit],
            Action::Help => {
                self.overlay.toggle_help();
                Vec::new()
            }
            Action::AuditTrail => {
                self.overlay.toggle_audit();
                Vec::new()
            }
            Action::CommandLine => {
                self.prompt = Some(Input::default());
                Vec::new()
            }
            Action::Back if help_open || audit_open => {
                self.overlay = Overlay::None;
                Vec::new()
            }
            Action::Back => {
                // The tab may have something to close (a detail pane) before the message.
                self.message = None;
                self.dirty = true;
                return self.route_to_tab(Action::Back);
            }
            Action::NextTab => self.show_tab(self.tab.next()),
            Action::PrevTab => self.show_tab(self.tab.previous()),
            Action::GoTab(tab) => self.show_tab(tab),
            Action::NextProfile => {
                self.next_profile();
                self.tab_query(Tabs::activated)
            }
            Action::Refresh => {
                self.message = Some(REFRESHING.into());
                vec![Effect::FetchSnapshot]
            }
            Action::Filter if help_open => {
                self.overlay.edit_filter();
                Vec::new()
            }
            movement if help_open && movement.is_movement() => {
                self.overlay.scroll(movement);
                Vec::new()
            }
            movement if audit_open && movement.is_movement() => {
                let rows = self.audit_trail().len();
                self.overlay.scroll_audit(movement, rows);
                Vec::new()
            }
            other => return self.route_to_tab(other),
        };
        self.dirty = true;
        effects
    }

    /// Shows `tab` and lets it ask for its data.
    pub(super) fn show_tab(&mut self, tab: TabId) -> Vec<Effect> {
        self.tab = tab;
        self.tab_query(Tabs::activated)
    }

    /// Lets the shown tab ask for its data at a moment (`activated`, `refreshed`).
    pub(super) fn tab_query(
        &mut self,
        moment: fn(&mut Tabs, TabId, &TabContext<'_>) -> Option<Query>,
    ) -> Vec<Effect> {
        let plain = Theme::plain();
        let mut tabs = std::mem::take(&mut self.tabs);
        let query = moment(&mut tabs, self.tab, &self.tab_context(&plain, self.now));
        self.tabs = tabs;
        query
            .map(|query| vec![Effect::Query(self.tab, query)])
            .unwrap_or_default()
    }

    /// Enter or Esc in a prompt: the help filter, the `:` command line, or the tab's own.
    pub(super) fn on_prompt_action(&mut self, action: Action) -> Vec<Effect> {
        self.dirty = true;
        if let Overlay::Help {
            editing, filter, ..
        } = &mut self.overlay
            && self.prompt.is_none()
        {
            *editing = false;
            if action == Action::Back {
                filter.reset();
            }
            return Vec::new();
        }
        let Some(input) = self.prompt.take() else {
            // The tab's own prompt: Enter and Esc are the tab's to interpret.
            return self.route_to_tab(action);
        };
        if action != Action::Open {
            return Vec::new();
        }
        match command_line::parse(input.value(), self.snapshot.as_ref(), self.profile()) {
            Ok(Parsed::Tab(tab)) => self.show_tab(tab),
            Ok(Parsed::Quit) => vec![Effect::Quit],
            Ok(Parsed::Command(command)) => self.send(command),
            Err(refusal) => {
                self.message = Some(refusal);
                Vec::new()
            }
        }
    }

    /// Hands `action` to the shown tab and carries out its reply.
    pub(super) fn route_to_tab(&mut self, action: Action) -> Vec<Effect> {
        // Tabs lay their content out to know how far they can scroll; styles do not matter.
        let plain = Theme::plain();
        // The tabs' state is lent out while they read the rest of the app.
        let mut tabs = std::mem::take(&mut self.tabs);
        let reply = tabs.handle(self.tab, action, &self.tab_context(&plain, self.now));
        self.tabs = tabs;
        match reply {
            TabReply::Handled => {
                self.dirty = true;
                Vec::new()
            }
            TabReply::Ignored => {
                if action == Action::Filter {
                    self.message = Some(format!(
                        "nothing to filter on the {} tab yet",
                        self.tab.title()
                    ));
                    self.dirty = true;
                }
                Vec::new()
            }
            TabReply::Notice(notice) => {
                self.message = Some(notice);
                self.dirty = true;
                Vec::new()
            }
            TabReply::Command(command, _) => self.send(command),
            TabReply::Query(query) => {
                self.dirty = true;
                vec![Effect::Query(self.tab, query)]
            }
        }
    }

    /// Sends `command` unless read-only access forbids it or the same one is still running.
    pub(super) fn send(&mut self, command: Command) -> Vec<Effect> {
        self.dirty = true;
        if self.readonly && command.writes() {
            self.message = Some(format!(
                "read-only: `{}` would change something",
                describe(&command)
            ));
            return Vec::new();
        }
        let what = describe(&command);
        if self.pending.iter().any(|running| describe(running) == what) {
            self.message = Some(format!("already running: {what}"));
            return Vec::new();
        }
        self.message = Some(format!("{what}…"));
        self.pending.push(command.clone());
        vec![Effect::Command(command)]
    }

    /// Shows the next profile (tab state starts afresh), or says there is no other.
    pub(super) fn next_profile(&mut self) {
        let count = self.snapshot.as_ref().map_or(0, |s| s.profiles.len());
        if count > 1 {
            self.profile = (self.profile + 1) % count;
            self.tabs = Tabs::default();
        } else {
            self.message = Some("only one profile is configured".into());
        }
    }
}
