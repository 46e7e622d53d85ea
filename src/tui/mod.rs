//! The terminal console: the frame (header, tab bar, body, status line, key hints), the four
//! tabs, the help overlay and the `:` command line, driven by one keymap table and one theme.
//!
//! Architecture (`tui-anchors.md` §8): the [`runner`] owns the terminal and a
//! [`CollectorHandle`](crate::console::CollectorHandle); it turns terminal events, collector
//! updates, replies and frame ticks into [`app::Msg`]s, feeds them to the pure [`app::App`],
//! carries out the [`app::Effect`]s it returns through the handle, and redraws with the pure
//! [`view::render`] only when something on screen changed.
//!
//! Talks to the collector only through the handle: never imports the receiver, the Graph
//! client or the store's trees, and does no network or disk I/O of its own (a theme file named
//! on the command line is read before the loop starts).

pub mod action;
pub mod app;
pub mod command_line;
pub mod keymap;
pub mod model;
pub mod runner;
pub mod tabs;
pub mod terminal;
pub mod theme;
pub mod view;

/// The shared text formats, where the tabs have always found them.
pub use crate::console::format;
pub use runner::{drive, run};
pub use theme::{Theme, ThemeError};

/// How the console is to run (from `pilotwatch`'s or `pilotwatch demo`'s flags).
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// Start on this profile.
    pub profile: Option<String>,
    /// The styles.
    pub theme: Theme,
    /// Capture the mouse (off by default so the terminal's copy and paste work).
    pub mouse: bool,
    /// Refuse commands that change anything.
    pub readonly: bool,
}

impl TuiOptions {
    /// Options with the theme `--theme` names (`NO_COLOR` non-empty forces mono).
    pub fn new(
        profile: Option<String>,
        theme: Option<&str>,
        no_color: bool,
        mouse: bool,
        readonly: bool,
    ) -> Result<Self, ThemeError> {
        Ok(Self {
            profile,
            theme: Theme::select(theme, no_color)?,
            mouse,
            readonly,
        })
    }
}

/// Whether `NO_COLOR` asks for no colour: set and not empty (<https://no-color.org>).
pub fn no_color(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|value| !value.is_empty())
}

/// Why the console stopped other than by the user's choice.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    /// The terminal could not be set up, read or drawn to.
    #[error("terminal error")]
    Terminal(#[from] std::io::Error),
    /// The theme could not be loaded.
    #[error(transparent)]
    Theme(#[from] ThemeError),
}
