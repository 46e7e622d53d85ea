//! The diagnosis under the subscriptions: the empty-dashboard ladder (every rung with its
//! state, the first broken one marked in words and style, not colour alone) and every finding
//! by severity with its evidence, cause and numbered fix, worded as `check` words them. Wide:
//! one rung a line; compact: the rungs as a wrapped chain, to leave room for the findings.
//!
//! Pure; depends on the diagnosis types, the shared finding and badge views and the theme.

use ratatui::style::Modifier;
use ratatui::text::{Line, Span};

use crate::diagnose::{Diagnosis, Ladder, RungState};
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::theme::Theme;
use crate::tui::view::badge;
use crate::tui::view::finding::finding_lines;

/// How a rung stands, as a severity (a broken rung is critical).
fn severity(state: &RungState) -> Severity {
    match state {
        RungState::Ok => Severity::Ok,
        RungState::Info { .. } => Severity::Info,
        RungState::Warning { .. } => Severity::Warning,
        RungState::Broken { .. } => Severity::Critical,
        RungState::Unknown { .. } => Severity::Unknown,
    }
}

/// What the rung's state adds: the finding's code, or why it could not be judged.
fn note(state: &RungState) -> Option<String> {
    match state {
        RungState::Ok => None,
        RungState::Info { code } | RungState::Warning { code } | RungState::Broken { code } => {
            Some(code.as_str().to_owned())
        }
        RungState::Unknown { reason } => Some(printable_line(reason).into_owned()),
    }
}

/// The line above the rungs: which rung to fix first.
fn summary(theme: &Theme, ladder: &Ladder) -> Line<'static> {
    let text = match ladder.first_broken {
        Some(rung) => format!(" first broken rung: {} — fix it first", rung.title()),
        None => " no rung is broken".to_owned(),
    };
    Line::from(vec![
        Span::styled(" Empty-dashboard ladder:", theme.title),
        Span::styled(text, theme.text),
    ])
}

/// The ladder, one rung a line.
pub fn ladder_lines(theme: &Theme, ladder: &Ladder) -> Vec<Line<'static>> {
    let mut lines = vec![summary(theme, ladder)];
    for (rung, state) in &ladder.rungs {
        let first = ladder.first_broken == Some(*rung);
        let severity = severity(state);
        let (symbol, word) = badge::symbol_and_word(severity);
        let title_style = if first {
            badge::style(theme, severity).add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            theme.text
        };
        let mut spans = vec![
            Span::styled(
                format!(" {symbol} {word:<4} "),
                badge::style(theme, severity),
            ),
            Span::styled(format!("{:<22}", rung.title()), title_style),
        ];
        if let Some(note) = note(state) {
            spans.push(Span::styled(format!(" {note}"), theme.muted));
        }
        if first {
            spans.push(Span::styled(
                "  ◀ first broken",
                badge::style(theme, severity),
            ));
        }
        lines.push(Line::from(spans));
    }
    lines
}

/// The ladder as a chain of rungs wrapped to `width`, then the first broken rung in words.
pub fn ladder_chain(theme: &Theme, ladder: &Ladder, width: usize) -> Vec<Line<'static>> {
    let mut lines = vec![summary(theme, ladder)];
    let mut spans: Vec<Span<'static>> = vec![Span::raw(" ")];
    let mut used = 1;
    for (index, (rung, state)) in ladder.rungs.iter().enumerate() {
        let severity = severity(state);
        let (symbol, _) = badge::symbol_and_word(severity);
        let first = ladder.first_broken == Some(*rung);
        let text = if first {
            format!("{symbol} [{}]", rung.title())
        } else {
            format!("{symbol} {}", rung.title())
        };
        let arrow = if index + 1 < ladder.rungs.len() {
            " › "
        } else {
            ""
        };
        let needed = text.chars().count() + arrow.chars().count();
        if used + needed > width && used > 1 {
            lines.push(Line::from(std::mem::take(&mut spans)));
            spans.push(Span::raw(" "));
            used = 1;
        }
        let style = if first {
            badge::style(theme, severity).add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            badge::style(theme, severity)
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::styled(arrow, theme.muted));
        used += needed;
    }
    lines.push(Line::from(spans));
    lines
}

/// Every finding, most urgent first, or a line saying there is none.
pub fn finding_list(theme: &Theme, diagnosis: &Diagnosis, width: usize) -> Vec<Line<'static>> {
    if diagnosis.findings.is_empty() {
        return vec![Line::from(vec![
            Span::raw(" "),
            badge::badge(theme, Severity::Ok),
            Span::styled(" nothing needs attention", theme.text),
        ])];
    }
    diagnosis
        .findings
        .iter()
        .flat_map(|finding| finding_lines(theme, finding, width))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{FindingCode, Rung};

    fn text(lines: &[Line<'_>]) -> String {
        lines
            .iter()
            .map(|line| {
                line.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn ladder() -> Ladder {
        let rungs = Rung::ALL
            .iter()
            .map(|&rung| {
                let state = match rung {
                    Rung::SubscriptionAlive => RungState::Broken {
                        code: FindingCode::SubscriptionExpired,
                    },
                    Rung::Authentic => RungState::Warning {
                        code: FindingCode::ValidationTokensNull,
                    },
                    Rung::RecentActivity => RungState::Unknown {
                        reason: "the export API was not read".into(),
                    },
                    _ => RungState::Ok,
                };
                (rung, state)
            })
            .collect();
        Ladder {
            rungs,
            first_broken: Some(Rung::SubscriptionAlive),
        }
    }

    #[test]
    fn every_rung_shows_with_its_state_and_the_first_broken_is_named() {
        let theme = Theme::plain();
        let wide = text(&ladder_lines(&theme, &ladder()));
        for title in Rung::ALL.map(Rung::title) {
            assert!(wide.contains(title), "{title} missing:\n{wide}");
        }
        assert!(wide.contains("✖ CRIT subscription alive"), "{wide}");
        assert!(
            wide.contains("subscription-expired  ◀ first broken"),
            "{wide}"
        );
        assert!(wide.contains("the export API was not read"), "{wide}");
        assert_eq!(wide.matches("first broken").count(), 2, "{wide}");

        let chain = ladder_chain(&theme, &ladder(), 80);
        assert!(chain.iter().all(|line| line.width() <= 80));
        let chain = text(&chain);
        assert!(chain.contains("✖ [subscription alive]"), "{chain}");
        assert!(chain.contains("▲ authentic"), "{chain}");
    }
}
