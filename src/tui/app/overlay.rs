//! The overlays drawn over the body: the `?` help, with its filter (tui-input) and scroll
//! offset, and the `A` audit trail with its scroll offset. Pure; depends on the keymap (to
//! know how long the help is) and tui-input.

use tui_input::Input;

use crate::tui::action::Action;
use crate::tui::keymap;

/// Lines a page key moves in the help.
const PAGE: usize = 10;

/// An open overlay.
#[derive(Debug, Clone, Default)]
pub enum Overlay {
    /// None.
    #[default]
    None,
    /// The help: its filter, whether the filter is being typed, and its scroll offset.
    Help {
        /// The filter text.
        filter: Input,
        /// Whether keys go to the filter.
        editing: bool,
        /// First line shown.
        scroll: usize,
    },
    /// The collector's recent audit trail.
    Audit {
        /// First record shown.
        scroll: usize,
    },
}

impl Overlay {
    /// Opens the help, or closes it.
    pub fn toggle_help(&mut self) {
        *self = match self {
            Overlay::Help { .. } => Overlay::None,
            Overlay::None | Overlay::Audit { .. } => Overlay::Help {
                filter: Input::default(),
                editing: false,
                scroll: 0,
            },
        };
    }

    /// Opens the audit trail, or closes it.
    pub fn toggle_audit(&mut self) {
        *self = match self {
            Overlay::Audit { .. } => Overlay::None,
            Overlay::None | Overlay::Help { .. } => Overlay::Audit { scroll: 0 },
        };
    }

    /// Scrolls the audit trail of `rows` records by `movement`.
    pub fn scroll_audit(&mut self, movement: Action, rows: usize) {
        let Overlay::Audit { scroll } = self else {
            return;
        };
        *scroll = moved(*scroll, movement, rows.saturating_sub(1));
    }

    /// Starts typing the help's filter.
    pub fn edit_filter(&mut self) {
        if let Overlay::Help { editing, .. } = self {
            *editing = true;
        }
    }

    /// Scrolls the help by `movement` (up, down, top, bottom, a page).
    pub fn scroll(&mut self, movement: Action) {
        let Overlay::Help { filter, scroll, .. } = self else {
            return;
        };
        let last = keymap::help_lines(filter.value()).len().saturating_sub(1);
        *scroll = moved(*scroll, movement, last);
    }
}

/// A scroll offset after `movement`, within `0..=last`.
fn moved(scroll: usize, movement: Action, last: usize) -> usize {
    match movement {
        Action::Up => scroll.saturating_sub(1),
        Action::Down => (scroll + 1).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        Action::PageUp => scroll.saturating_sub(PAGE),
        Action::PageDown => (scroll + PAGE).min(last),
        _ => scroll,
    }
}
