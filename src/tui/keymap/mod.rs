//! The one keymap: a const table of bindings (key, modifiers, context, action, help text,
//! footer hint and its priority) that drives key handling, the `?` help overlay and the
//! footer hints alike, so the three can never disagree (gitui's `commands`, tokio-console's
//! `controls.rs`; `tui-anchors.md` §8.7).
//!
//! Only key *presses* count: crossterm 0.29 reports releases and repeats on terminals with the
//! kitty protocol, and acting on those would fire every action twice.
//!
//! Pure; depends on crossterm's key types and the action and tab identifiers only.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

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
}

const fn bind(
    key: KeyCode,
    context: Context,
    action: Action,
    help: &'static str,
    hint: Option<(&'static str, &'static str)>,
    priority: u8,
) -> Binding {
    Binding {
        key,
        modifiers: KeyModifiers::NONE,
        context,
        action,
        help,
        hint,
        priority,
        writes: false,
    }
}

use Context::{Form, Global, Help, Prompt};
use KeyCode::{BackTab, Char, Down, End, Enter, Esc, Home, PageDown, PageUp, Tab, Up};

/// Every binding pilotwatch has.
pub const BINDINGS: &[Binding] = &[
    bind(
        Char('?'),
        Global,
        Action::Help,
        "show or hide this help",
        Some(("?", "help")),
        0,
    ),
    bind(
        Char('q'),
        Global,
        Action::Quit,
        "quit pilotwatch",
        Some(("q", "quit")),
        1,
    ),
    Binding {
        modifiers: KeyModifiers::CONTROL,
        ..bind(Char('c'), Global, Action::Quit, "quit pilotwatch", None, 1)
    },
    bind(
        Char('A'),
        Global,
        Action::AuditTrail,
        "audit trail: who sent which command, when",
        // Listed in the help; the footer's room goes to the shown tab's keys.
        None,
        8,
    ),
    bind(
        Char(':'),
        Global,
        Action::CommandLine,
        "command line (:feed, :renew, :q…)",
        Some((":", "command")),
        3,
    ),
    bind(
        Char('/'),
        Global,
        Action::Filter,
        "filter the list",
        Some(("/", "filter")),
        6,
    ),
    bind(
        Esc,
        Global,
        Action::Back,
        "close an overlay or cancel",
        None,
        9,
    ),
    bind(
        Tab,
        Global,
        Action::NextTab,
        "next tab",
        Some(("Tab", "next tab")),
        4,
    ),
    bind(BackTab, Global, Action::PrevTab, "previous tab", None, 9),
    bind(
        Char('1'),
        Global,
        Action::GoTab(TabId::Credentials),
        "Credentials tab",
        Some(("1-4", "tabs")),
        2,
    ),
    bind(
        Char('2'),
        Global,
        Action::GoTab(TabId::Subscriptions),
        "Subscriptions tab",
        None,
        9,
    ),
    bind(
        Char('3'),
        Global,
        Action::GoTab(TabId::Latency),
        "Latency tab",
        None,
        9,
    ),
    bind(
        Char('4'),
        Global,
        Action::GoTab(TabId::Feed),
        "Feed tab",
        None,
        9,
    ),
    bind(
        Char('j'),
        Global,
        Action::Down,
        "down one line",
        Some(("j/k", "move")),
        5,
    ),
    bind(Down, Global, Action::Down, "down one line", None, 9),
    bind(Char('k'), Global, Action::Up, "up one line", None, 9),
    bind(Up, Global, Action::Up, "up one line", None, 9),
    bind(Char('g'), Global, Action::Top, "to the top", None, 9),
    bind(Home, Global, Action::Top, "to the top", None, 9),
    bind(Char('G'), Global, Action::Bottom, "to the bottom", None, 9),
    bind(End, Global, Action::Bottom, "to the bottom", None, 9),
    bind(PageUp, Global, Action::PageUp, "one page up", None, 9),
    bind(PageDown, Global, Action::PageDown, "one page down", None, 9),
    bind(
        Enter,
        Global,
        Action::Open,
        "open the selected item",
        None,
        9,
    ),
    bind(
        Char('r'),
        Global,
        Action::Refresh,
        "refresh from the collector now",
        Some(("r", "refresh")),
        7,
    ),
    bind(
        Char('p'),
        Global,
        Action::NextProfile,
        "next profile",
        Some(("p", "profile")),
        4,
    ),
    bind(
        Char('t'),
        Context::Tab(TabId::Credentials),
        Action::TestCredentials,
        "test this profile's credentials now",
        Some(("t", "test now")),
        2,
    ),
    Binding {
        writes: true,
        ..bind(
            Char('n'),
            Context::Tab(TabId::Credentials),
            Action::NewProfile,
            "add a profile (form)",
            Some(("n", "new")),
            4,
        )
    },
    Binding {
        writes: true,
        ..bind(
            Char('e'),
            Context::Tab(TabId::Credentials),
            Action::EditProfile,
            "edit this profile (form)",
            Some(("e", "edit")),
            5,
        )
    },
    Binding {
        writes: true,
        ..bind(
            Char('d'),
            Context::Tab(TabId::Credentials),
            Action::RemoveProfile,
            "remove this profile (asks first)",
            Some(("d", "remove")),
            6,
        )
    },
    bind(
        Char('y'),
        Context::Tab(TabId::Credentials),
        Action::Confirm,
        "yes: remove the profile asked about",
        None,
        9,
    ),
    bind(
        Char('R'),
        Context::Tab(TabId::Subscriptions),
        Action::Renew,
        "renew the selected subscription (asks first)",
        Some(("R", "renew")),
        2,
    ),
    bind(
        Char('a'),
        Context::Tab(TabId::Subscriptions),
        Action::Reauthorize,
        "reauthorize the selected one (asks first)",
        Some(("a", "reauth")),
        5,
    ),
    bind(
        Char('c'),
        Context::Tab(TabId::Subscriptions),
        Action::Recreate,
        "recreate the selected one (asks first)",
        Some(("c", "recreate")),
        6,
    ),
    bind(
        Char('b'),
        Context::Tab(TabId::Subscriptions),
        Action::Backfill,
        "backfill the last hour; again widens (asks)",
        Some(("b", "backfill")),
        5,
    ),
    bind(
        Char('y'),
        Context::Tab(TabId::Subscriptions),
        Action::Confirm,
        "yes: run the action asked about",
        None,
        9,
    ),
    bind(
        Char('n'),
        Context::Tab(TabId::Subscriptions),
        Action::Cancel,
        "no: drop the action asked about",
        None,
        9,
    ),
    bind(
        Char('w'),
        Context::Tab(TabId::Latency),
        Action::NextWindow,
        "next time window (15 min, 1 h, 24 h)",
        Some(("w", "window")),
        2,
    ),
    bind(
        Char(']'),
        Context::Tab(TabId::Latency),
        Action::NextWindow,
        "next time window",
        None,
        9,
    ),
    bind(
        Char('['),
        Context::Tab(TabId::Latency),
        Action::PreviousWindow,
        "previous time window",
        None,
        9,
    ),
    bind(
        Char('f'),
        Context::Tab(TabId::Feed),
        Action::Follow,
        "follow new interactions, or pause",
        Some(("f", "follow")),
        2,
    ),
    bind(
        Char('a'),
        Context::Tab(TabId::Feed),
        Action::Activity,
        "users × apps activity, or back to the feed",
        Some(("a", "activity")),
        3,
    ),
    bind(
        Char('e'),
        Context::Tab(TabId::Feed),
        Action::Export,
        "export the filtered interactions to a file",
        Some(("e", "export")),
        3,
    ),
    bind(
        Esc,
        Help,
        Action::Back,
        "close the help",
        Some(("Esc", "close")),
        1,
    ),
    bind(
        Char('/'),
        Help,
        Action::Filter,
        "filter the help",
        Some(("/", "filter")),
        2,
    ),
    bind(
        Tab,
        Form,
        Action::NextField,
        "next field",
        Some(("Tab", "next field")),
        2,
    ),
    bind(Down, Form, Action::NextField, "next field", None, 9),
    bind(
        BackTab,
        Form,
        Action::PreviousField,
        "previous field",
        None,
        9,
    ),
    bind(Up, Form, Action::PreviousField, "previous field", None, 9),
    bind(
        Enter,
        Form,
        Action::Open,
        "next field; on the last, validate then save",
        Some(("Enter", "validate")),
        1,
    ),
    Binding {
        modifiers: KeyModifiers::CONTROL,
        ..bind(
            Char('s'),
            Form,
            Action::SaveAnyway,
            "save anyway after a failed validation",
            Some(("Ctrl-s", "save anyway")),
            3,
        )
    },
    bind(
        Esc,
        Form,
        Action::Back,
        "close the form, changing nothing",
        Some(("Esc", "cancel")),
        1,
    ),
    bind(
        Enter,
        Prompt,
        Action::Open,
        "run the command / keep the filter",
        Some(("Enter", "run")),
        1,
    ),
    bind(
        Esc,
        Prompt,
        Action::Back,
        "cancel",
        Some(("Esc", "cancel")),
        1,
    ),
];

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
    if matches!(context, Prompt | Form) {
        return None;
    }
    BINDINGS
        .iter()
        .find(|binding| {
            binding.key == key.code && binding.modifiers == modifiers && binding.context == Global
        })
        .map(|binding| binding.action)
}

/// Shift is part of the character for printable keys (`G`, `?`) and of `BackTab`, and
/// terminals disagree on whether they report it; the table never spells it.
fn normalized(code: KeyCode, modifiers: KeyModifiers) -> KeyModifiers {
    match code {
        Char(_) | BackTab => modifiers - KeyModifiers::SHIFT,
        _ => modifiers,
    }
}

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

/// The separator between footer hints.
pub const HINT_SEPARATOR: &str = "  ";

/// The width a hint takes in the footer: `key word`.
fn hint_width((key, word): (&str, &str)) -> usize {
    key.chars().count() + 1 + word.chars().count()
}

/// The footer hints for `context` that fit in `width` columns, in table order. The least
/// important are dropped first; `? help` (priority 0) always stays, except in a prompt or a
/// form, where `?` is text and only their own keys are hinted.
pub fn footer_hints(context: Context, width: usize) -> Vec<(&'static str, &'static str)> {
    footer_hints_for(context, width, false)
}

/// [`footer_hints`] for a session that may be read-only: there, hints of actions that would
/// change something are not offered (the action is refused anyway).
pub fn footer_hints_for(
    context: Context,
    width: usize,
    readonly: bool,
) -> Vec<(&'static str, &'static str)> {
    let contexts: &[Context] = match context {
        Prompt => &[Prompt],
        Form => &[Form],
        Help => &[Help, Global],
        Context::Tab(_) => &[context, Global],
        Global => &[Global],
    };
    let mut candidates: Vec<(usize, &Binding)> = BINDINGS
        .iter()
        .enumerate()
        .filter(|(_, binding)| {
            binding.hint.is_some()
                && contexts.contains(&binding.context)
                && !(readonly && binding.writes)
        })
        .collect();
    candidates.sort_by_key(|&(index, binding)| (binding.priority, index));
    let mut chosen: Vec<(usize, (&'static str, &'static str))> = Vec::new();
    let mut used = 0;
    for (index, binding) in candidates {
        let Some(hint) = binding.hint else { continue };
        // A context's own hint shadows the global one for the same key (`/` in the help).
        if chosen.iter().any(|(_, (key, _))| *key == hint.0) {
            continue;
        }
        let separator = if chosen.is_empty() {
            0
        } else {
            HINT_SEPARATOR.len()
        };
        let extra = hint_width(hint) + separator;
        if binding.priority == 0 || used + extra <= width {
            used += extra;
            chosen.push((index, hint));
        }
    }
    chosen.sort_unstable_by_key(|&(index, _)| index);
    chosen.into_iter().map(|(_, hint)| hint).collect()
}

#[cfg(test)]
mod tests;
