//! Severity badges on screen: the shared symbol and word ([`crate::console::badge`]) in the
//! theme's slot for that severity. The words are judged once for every view; this file owns
//! only the styling. Pure; depends on the theme and `Severity` only.

use ratatui::style::Style;
use ratatui::text::Span;

pub use crate::console::badge::symbol_and_word;
use crate::severity::Severity;
use crate::tui::theme::Theme;

/// The theme slot of a severity.
pub fn style(theme: &Theme, severity: Severity) -> Style {
    match severity {
        Severity::Ok => theme.ok,
        Severity::Info => theme.info,
        Severity::Warning => theme.warning,
        Severity::Critical => theme.critical,
        Severity::Unknown => theme.unknown,
    }
}

/// `✖ CRIT` in the severity's style.
pub fn badge(theme: &Theme, severity: Severity) -> Span<'static> {
    Span::styled(
        crate::console::badge::text(severity),
        style(theme, severity),
    )
}
