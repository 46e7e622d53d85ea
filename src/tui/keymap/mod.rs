//! The one keymap: a const table of bindings (key, modifiers, context, action, help text,
//! footer hint and its priority) that drives key handling, the `?` help overlay and the
//! footer hints alike, so the three can never disagree (gitui's `commands`, tokio-console's
//! `controls.rs`; `tui-anchors.md` §8.7).
//!
//! Only key *presses* count: crossterm 0.29 reports releases and repeats on terminals with the
//! kitty protocol, and acting on those would fire every action twice.
//!
//! This file owns the binding types and key handling; the table is `table`, the help
//! overlay's lines `help`, and footer hint fitting `footer`. Pure; depends on crossterm's
//! key types and the action and tab identifiers only.

mod footer;
mod help;
mod table;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

pub use footer::{HINT_SEPARATOR, WIDE_FOOTER, footer_hints, footer_hints_for};
pub use help::{HelpLine, help_lines, key_label};
pub use table::BINDINGS;

use super::action::Action;
use super::tabs::TabId;

/// Where keys are being read: decides which bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// Anywhere, unless a more specific binding or a prompt takes the key.
    Global,
    /// The help overlay is open.
    Help,
    /// A text prompt (the `:` command line, a filter) has the keys; only its own bindings
    /// apply, every other key edits the text.
    Prompt,
    /// A form (the Credentials tab's profile form) has the keys: like a prompt, only its own
    /// bindings apply and every other key edits the focused field.
    Form,
    /// A tab's own keys.
    Tab(TabId),
}

impl Context {
    /// How the help overlay names the context.
    pub fn label(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Help => "help",
            Context::Prompt => "prompt",
            Context::Form => "form",
            Context::Tab(tab) => tab.title(),
        }
    }
}

/// One key binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// The key.
    pub key: KeyCode,
    /// Modifiers that must be held (Shift is implied by the character for printable keys).
    pub modifiers: KeyModifiers,
    /// Where it applies.
    pub context: Context,
    /// What it means.
    pub action: Action,
    /// One line for the help overlay.
    pub help: &'static str,
    /// A footer hint (keys as shown, word), on one binding of each family.
    pub hint: Option<(&'static str, &'static str)>,
    /// Footer priority: lower survives a narrow terminal longer; 0 is never dropped.
    pub priority: u8,
    /// Whether the action changes something: read-only sessions refuse it, so its footer
    /// hint is not offered there.
    pub writes: bool,
    /// Whether the hint is offered only on a wide footer ([`WIDE_FOOTER`] columns and up):
    /// the 80-column terminal's footer keeps its room for the keys of the tab it shows.
    pub hint_wide_only: bool,
}

impl Binding {
    /// This binding with its footer hint kept for wide footers.
    pub const fn hint_when_wide(self) -> Self {
        Self {
            hint_wide_only: true,
            ..self
        }
    }
}

/// The action a key press means in `context`, or `None` (unbound, or not a press).
///
/// A prompt takes every key it does not bind itself; elsewhere the context's own bindings win
/// over the global ones.
pub fn action_for(key: KeyEvent, context: Context) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    let modifiers = normalized(key.code, key.modifiers);
    let matching = |binding: &&Binding| {
        binding.key == key.code && binding.modifiers == modifiers && binding.context == context
    };
    if let Some(binding) = BINDINGS.iter().find(matching) {
        return Some(binding.action);
    }
    if matches!(context, Context::Prompt | Context::Form) {
        return None;
    }
    BINDINGS
        .iter()
        .find(|binding| {
            binding.key == key.code
                && binding.modifiers == modifiers
                && binding.context == Context::Global
        })
        .map(|binding| binding.action)
}

/// Shift is part of the character for printable keys (`G`, `?`) and of `BackTab`, and
/// terminals disagree on whether they report it; the table never spells it.
fn normalized(code: KeyCode, modifiers: KeyModifiers) -> KeyModifiers {
    match code {
        KeyCode::Char(_) | KeyCode::BackTab => modifiers - KeyModifiers::SHIFT,
        _ => modifiers,
    }
}

#[cfg(test)]
mod tests;
