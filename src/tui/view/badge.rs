//! Severity badges: a symbol, a word and a style, so severity is never carried by colour alone
//! (a mono terminal, a colour-blind operator and a screenshot pasted into a ticket all read the
//! same thing). Pure; depends on the theme and `Severity` only.

use ratatui::style::Style;
use ratatui::text::Span;

use crate::severity::Severity;
use crate::tui::theme::Theme;

/// The symbol and word of a severity.
pub fn symbol_and_word(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Ok => ("✔", "OK"),
        Severity::Info => ("ℹ", "INFO"),
        Severity::Warning => ("▲", "WARN"),
        Severity::Critical => ("✖", "CRIT"),
        Severity::Unknown => ("?", "UNKN"),
    }
}

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
    let (symbol, word) = symbol_and_word(severity);
    Span::styled(format!("{symbol} {word}"), style(theme, severity))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_badge_has_a_distinct_word_and_symbol() {
        let mut seen = Vec::new();
        for severity in Severity::ALL {
            let (symbol, word) = symbol_and_word(severity);
            assert!(!word.is_empty() && !symbol.is_empty());
            assert!(!seen.contains(&word), "{word} twice");
            seen.push(word);
        }
    }
}
