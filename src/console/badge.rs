//! How a severity reads as text: a symbol and a short word (`✖ CRIT`), so severity is never
//! carried by colour alone and a mono terminal, a colour-blind operator and a twin's output
//! pasted into a ticket all read the same thing. The TUI adds only its theme's style.
//!
//! Pure; depends on `Severity` only, never on the terminal or a theme.

use crate::severity::Severity;

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

/// `✖ CRIT`: the symbol and word together.
pub fn text(severity: Severity) -> String {
    let (symbol, word) = symbol_and_word(severity);
    format!("{symbol} {word}")
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
        assert_eq!(text(Severity::Critical), "✖ CRIT");
    }
}
