//! The help overlay's lines: every binding of the table as key, context and text, narrowed by
//! the overlay's filter, and how a key is written there and in the footer.
//!
//! Pure; depends on the binding table and crossterm's key types only.

use crossterm::event::KeyCode::{
    self, BackTab, Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up,
};
use crossterm::event::KeyModifiers;

use super::BINDINGS;

/// How a key is written in help and hints.
pub fn key_label(key: KeyCode, modifiers: KeyModifiers) -> String {
    let name = match key {
        Char(' ') => "Space".to_owned(),
        Char(c) => c.to_string(),
        Esc => "Esc".to_owned(),
        Tab => "Tab".to_owned(),
        BackTab => "Shift-Tab".to_owned(),
        Enter => "Enter".to_owned(),
        Up => "↑".to_owned(),
        Down => "↓".to_owned(),
        Home => "Home".to_owned(),
        End => "End".to_owned(),
        PageUp => "PgUp".to_owned(),
        PageDown => "PgDn".to_owned(),
        other => other.to_string(),
    };
    if modifiers.contains(KeyModifiers::CONTROL) {
        format!("Ctrl-{name}")
    } else {
        name
    }
}

/// One line of the help overlay: key, context, what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLine {
    /// The key as written.
    pub key: String,
    /// Where it applies.
    pub context: &'static str,
    /// What it does.
    pub help: &'static str,
}

/// The help overlay's lines: every binding, narrowed to those whose key, context or text
/// contains `filter` (case-insensitive).
pub fn help_lines(filter: &str) -> Vec<HelpLine> {
    let needle = filter.trim().to_lowercase();
    BINDINGS
        .iter()
        .map(|binding| HelpLine {
            key: key_label(binding.key, binding.modifiers),
            context: binding.context.label(),
            help: binding.help,
        })
        .filter(|line| {
            needle.is_empty()
                || line.key.to_lowercase().contains(&needle)
                || line.context.to_lowercase().contains(&needle)
                || line.help.to_lowercase().contains(&needle)
        })
        .collect()
}
