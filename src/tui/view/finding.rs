//! One diagnosis finding as a tab draws it: its badge, title and code, the evidence, the cause
//! and the numbered fix, each wrapped with a hanging indent — the same wording `check` prints,
//! laid out for a pane. Pure; depends on the diagnosis types, the badge, the wrap helper and
//! the theme; never on a tab.

use ratatui::text::{Line, Span};

use super::badge;
use super::wrap::hanging;
use crate::diagnose::Finding;
use crate::terminal_text::printable_line;
use crate::tui::theme::Theme;

/// `finding` laid out in `width` columns, ending with a blank line. Evidence quotes the
/// network, so every text passes through [`printable_line`].
pub fn finding_lines(theme: &Theme, finding: &Finding, width: usize) -> Vec<Line<'static>> {
    let mut lines = hanging(
        vec![
            Span::raw(" "),
            badge::badge(theme, finding.severity),
            Span::raw(" "),
        ],
        &format!(
            "{} [{}]",
            printable_line(&finding.title),
            finding.code.as_str()
        ),
        theme.title,
        width,
        3,
    );
    for evidence in &finding.evidence {
        lines.extend(hanging(
            vec![Span::styled("   · ", theme.muted)],
            &printable_line(evidence),
            theme.muted,
            width,
            5,
        ));
    }
    lines.extend(hanging(
        vec![Span::styled("   cause: ", theme.muted)],
        &printable_line(&finding.cause),
        theme.text,
        width,
        5,
    ));
    for (number, step) in finding.fix.iter().enumerate() {
        lines.extend(hanging(
            vec![Span::styled(format!("   {}. ", number + 1), theme.key_hint)],
            &printable_line(step),
            theme.text,
            width,
            6,
        ));
    }
    lines.push(Line::default());
    lines
}
