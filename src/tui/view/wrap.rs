//! Word wrapping with a hanging indent: a labelled line whose text continues under itself
//! rather than at the left edge, so long summaries, causes and fixes stay readable at 80
//! columns. Pure; depends on ratatui's text types only.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// `prefix` then `text` (in `style`) laid out in `width` columns; continuation lines start with
/// `indent` spaces. A word longer than a line is left whole (the frame clips it).
pub fn hanging(
    prefix: Vec<Span<'static>>,
    text: &str,
    style: Style,
    width: usize,
    indent: usize,
) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let mut spans = prefix;
    let mut used: usize = spans.iter().map(Span::width).sum();
    let mut current = String::new();
    let mut fresh = true;
    for word in text.split_whitespace() {
        let word_width = Span::raw(word).width();
        let gap = usize::from(!fresh);
        if !fresh && used + gap + word_width > width {
            spans.push(Span::styled(std::mem::take(&mut current), style));
            lines.push(Line::from(std::mem::take(&mut spans)));
            spans.push(Span::raw(" ".repeat(indent)));
            used = indent;
            fresh = true;
        }
        if !fresh {
            current.push(' ');
            used += 1;
        }
        current.push_str(word);
        used += word_width;
        fresh = false;
    }
    spans.push(Span::styled(current, style));
    lines.push(Line::from(spans));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(line: &Line<'_>) -> String {
        line.spans
            .iter()
            .map(|span| span.content.as_ref())
            .collect()
    }

    #[test]
    fn continuation_lines_hang_under_the_indent_and_fit() {
        let lines = hanging(
            vec![Span::raw(" cause: ")],
            "the secret configured for the app has passed its expiry date",
            Style::default(),
            30,
            4,
        );
        let texts: Vec<String> = lines.iter().map(text).collect();
        assert_eq!(
            texts,
            [
                " cause: the secret configured",
                "    for the app has passed its",
                "    expiry date",
            ]
        );
        assert!(texts.iter().all(|line| line.chars().count() <= 30));
    }

    #[test]
    fn short_text_stays_on_one_line_and_empty_text_keeps_the_prefix() {
        let lines = hanging(vec![Span::raw("a ")], "b c", Style::default(), 80, 2);
        assert_eq!(lines.len(), 1);
        assert_eq!(text(&lines[0]), "a b c");
        let lines = hanging(vec![Span::raw("label")], "", Style::default(), 80, 2);
        assert_eq!(text(&lines[0]), "label");
    }
}
