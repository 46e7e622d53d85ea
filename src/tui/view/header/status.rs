//! The header's second line: the overall badge with the headline finding, or the link's state
//! in words ("collector not answering", "disconnected — retrying in Ns", or why what is at the
//! socket would not take us, cut to the width before the retry is), the demo's simulated clock
//! and scenario — unless a collector task died, which takes the line over as CRIT with what
//! died, when, why and what to do: the collector no longer does its job, whatever the last
//! verdict says.
//!
//! Depends on the app's read accessors, the collector's task deaths, the theme, the badge, the
//! time formats and ratatui; pure.

use chrono::{DateTime, Utc};
use ratatui::text::Span;

use super::ellipsize;
use crate::collector::TaskDeath;
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::app::{App, Link};
use crate::tui::format;
use crate::tui::theme::Theme;
use crate::tui::view::badge;

/// What to do about a dead task, when the line has room for it.
const ADVICE: &str = " — restart pilotwatch; its log says more";

/// What to do about a dead task, in a narrow header.
const ADVICE_SHORT: &str = " — restart pilotwatch";

/// The wordings of a dead task's line, fullest first: (what died is called, the advice).
const DEAD_TASK_WORDINGS: [(&str, &str); 3] = [
    ("collector task ", ADVICE),
    ("collector task ", ADVICE_SHORT),
    ("task ", ADVICE_SHORT),
];

/// Fewest characters of the reason worth showing before the wording is shortened.
const REASON_MIN: usize = 16;

/// The second line when collector tasks died: the oldest (most likely the cause of the
/// others), how many more, why, and the advice — the fullest wording that leaves the reason
/// room within `width`, the reason cut to fit.
pub(super) fn dead_task_line(
    deaths: &[TaskDeath],
    theme: &Theme,
    now: DateTime<Utc>,
    width: usize,
) -> Option<Vec<Span<'static>>> {
    let first = deaths.first()?;
    let badge = badge::badge(theme, Severity::Critical);
    let what = printable_line(&first.label()).into_owned();
    let when = format::relative(first.ended_at, now);
    let more = match deaths.len() {
        1 => String::new(),
        n => format!(" (+{} more)", n - 1),
    };
    let reason = printable_line(&first.reason.to_string()).into_owned();
    let mut chosen = None;
    for (called, advice) in DEAD_TASK_WORDINGS {
        let head = format!(" {called}{what} died {when}: ");
        // One column of margin on the left, like the other lines.
        let fixed = 1 + badge.width() + head.chars().count() + more.chars().count();
        let room = width.saturating_sub(fixed + advice.chars().count());
        chosen = Some((head, advice, room));
        if room >= REASON_MIN {
            break;
        }
    }
    let (head, advice, room) = chosen?;
    Some(vec![
        Span::raw(" "),
        badge,
        Span::styled(head, theme.critical),
        Span::styled(ellipsize(&reason, room), theme.text),
        Span::styled(more, theme.text),
        Span::styled(advice, theme.critical),
    ])
}

/// The badge and headline (or the link's state), and the demo's clock and scenario.
pub(super) fn status_line(
    app: &App,
    theme: &Theme,
    now: DateTime<Utc>,
    width: usize,
) -> Vec<Span<'static>> {
    let mut second = vec![Span::raw(" ")];
    match app.link() {
        Link::NotAnswering(_) => {
            second.push(badge::badge(theme, Severity::Unknown));
            second.push(Span::styled(
                " collector not answering: showing the last state",
                theme.notice,
            ));
        }
        Link::Reconnecting {
            retry_in_secs,
            reason: None,
        } => {
            second.push(badge::badge(theme, Severity::Unknown));
            second.push(Span::styled(
                format!(" disconnected — retrying in {retry_in_secs}s: showing the last state"),
                theme.notice,
            ));
        }
        Link::Reconnecting {
            retry_in_secs,
            reason: Some(reason),
        } => {
            // The reason is what the operator must act on: it is cut, not the retry.
            let badge = badge::badge(theme, Severity::Unknown);
            let retry = format!(" — retrying in {retry_in_secs}s");
            let room = width.saturating_sub(2 + badge.width() + retry.chars().count());
            second.push(badge);
            second.push(Span::styled(
                format!(" {}", ellipsize(&printable_line(reason), room)),
                theme.notice,
            ));
            second.push(Span::styled(retry, theme.notice));
        }
        Link::Connecting => second.push(Span::styled("connecting to the collector…", theme.muted)),
        Link::Live => match app.profile().and_then(|p| p.verdict.as_ref()) {
            Some(verdict) => {
                let diagnosis = &verdict.diagnosis;
                second.push(badge::badge(theme, diagnosis.severity));
                let headline = match (&diagnosis.headline, diagnosis.severity) {
                    (Some(finding), _) => printable_line(&finding.title).into_owned(),
                    (None, Severity::Ok | Severity::Info) => "all good".to_owned(),
                    // Nothing wrong was seen, but a part could not be judged (yet).
                    (None, _) => "no problem seen; some parts not checked yet".to_owned(),
                };
                second.push(Span::styled(format!(" {headline}"), theme.text));
            }
            None => second.push(Span::styled(
                "no diagnosis yet (the first round runs seconds after start)",
                theme.muted,
            )),
        },
    }
    if let Some(simulation) = app.snapshot().and_then(|s| s.simulation.as_ref()) {
        second.push(Span::styled(
            format!(
                "  · demo {} ×{} · scenario {}",
                now.format("%H:%M:%S"),
                simulation.speed,
                printable_line(&simulation.scenario)
            ),
            theme.info,
        ));
    }
    second
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::collector::EndReason;

    fn text(spans: &[Span<'_>]) -> String {
        spans.iter().map(|span| span.content.as_ref()).collect()
    }

    fn death(task: &str, message: &str) -> TaskDeath {
        TaskDeath {
            task: task.into(),
            profile: Some("contoso".into()),
            ended_at: "2026-03-01T09:57:00Z".parse().unwrap(),
            reason: EndReason::Panicked {
                message: message.into(),
            },
        }
    }

    #[test]
    fn a_dead_task_says_what_when_why_and_what_to_do_within_the_width() {
        let now: DateTime<Utc> = "2026-03-01T10:00:00Z".parse().unwrap();
        let deaths = [death("poller", "index out of bounds"), death("keeper", "x")];
        let wide = text(&dead_task_line(&deaths, &Theme::plain(), now, 160).unwrap());
        assert_eq!(
            wide,
            " ✖ CRIT collector task poller (contoso) died 3m ago: panicked: index out of bounds \
             (+1 more) — restart pilotwatch; its log says more"
        );
        let long = [death("poller", &"a long panic message ".repeat(10))];
        let narrow = text(&dead_task_line(&long, &Theme::plain(), now, 80).unwrap());
        assert_eq!(narrow.chars().count(), 80, "{narrow:?}");
        assert!(
            narrow.starts_with(" ✖ CRIT task poller (contoso) died 3m ago: panicked: a"),
            "{narrow:?}"
        );
        assert!(narrow.contains('…'), "{narrow:?}");
        assert!(narrow.ends_with(" — restart pilotwatch"), "{narrow:?}");
        assert_eq!(dead_task_line(&[], &Theme::plain(), now, 80), None);
    }
}
