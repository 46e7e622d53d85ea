//! Text that came from outside (Graph error messages, display names, identity-platform
//! descriptions, configuration values) made safe to print on an operator's terminal: C0 and C1
//! control characters are dropped, so an escape sequence in a display name cannot move the
//! cursor, clear the screen or retitle the window. Line breaks are kept only where asked.
//!
//! Depends on nothing else in the crate.

use std::borrow::Cow;

/// `text` without control characters, line breaks included: one printable line.
pub fn printable_line(text: &str) -> Cow<'_, str> {
    strip(text, false)
}

/// `text` without control characters except `\n`: printable lines.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    strip(text, true)
}

fn strip(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unwanted = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if text.chars().any(unwanted) {
        Cow::Owned(text.chars().filter(|c| !unwanted(*c)).collect())
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_lose_their_escape() {
        assert_eq!(printable_line("a\u{1b}[2Jb\u{9b}31mc"), "a[2Jb31mc");
        assert_eq!(printable_line("one\r\ntwo\ttab"), "onetwotab");
        assert_eq!(printable_lines("one\r\ntwo\u{7}"), "one\ntwo");
    }

    #[test]
    fn clean_text_is_not_copied() {
        assert!(matches!(
            printable_line("plain — ünïcode"),
            Cow::Borrowed(_)
        ));
    }
}
