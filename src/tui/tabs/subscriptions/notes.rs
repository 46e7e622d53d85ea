//! The lines that stand in for data or speak about actions: why there is no subscription to
//! show (from the diagnosis, or that no verdict has come yet), and the line under the selected
//! subscription — the question waiting for yes or no, the command running, the last outcome
//! about the subscription, or the keys. Pure; depends on the tab's state and context, the
//! diagnosis types, the badge and the wrap helper.

use ratatui::text::{Line, Span};

use super::{State, TabContext, diagnosis_of};
use crate::console::{ProfileSnapshot, SubscriptionRow};
use crate::diagnose::{Area, Finding};
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::view::badge;
use crate::tui::view::wrap::hanging;

/// No subscription to show: why, from the diagnosis (the subscription finding, else the
/// headline), or that no verdict has come yet.
pub(super) fn empty_lines(
    context: &TabContext<'_>,
    profile: &ProfileSnapshot,
    width: usize,
) -> Vec<Line<'static>> {
    let theme = context.theme;
    let Some(diagnosis) = diagnosis_of(context) else {
        return hanging(
            vec![Span::raw(" ")],
            &format!(
                "profile {} has no subscription and no verdict yet: the collector's first \
                 diagnosis comes seconds after it starts",
                profile.name
            ),
            theme.muted,
            width,
            1,
        );
    };
    let why: Option<&Finding> = diagnosis
        .findings
        .iter()
        .find(|finding| finding.area() == Area::Subscriptions)
        .or(diagnosis.headline.as_ref());
    let (severity, text) = why.map_or_else(
        || {
            (
                Severity::Unknown,
                "no finding explains it yet: the keeper may still be creating one".to_owned(),
            )
        },
        |finding| {
            (
                finding.severity,
                printable_line(&finding.title).into_owned(),
            )
        },
    );
    hanging(
        vec![
            Span::raw(" "),
            badge::badge(theme, severity),
            Span::styled(
                format!(" no subscription for {}: ", profile.name),
                theme.title,
            ),
        ],
        &text,
        theme.text,
        width,
        3,
    )
}

/// The line under the details: the question waiting for yes or no, the command running, the
/// last outcome about the selected subscription, or the keys.
pub(super) fn action_lines(
    state: &State,
    context: &TabContext<'_>,
    row: Option<&SubscriptionRow>,
    width: usize,
) -> Vec<Line<'static>> {
    let theme = context.theme;
    if let Some(question) = &state.confirm {
        return hanging(
            vec![
                Span::raw(" "),
                badge::badge(theme, Severity::Warning),
                Span::styled(" confirm: ", theme.title),
            ],
            &format!("{} — y yes · n no", question.question()),
            theme.warning,
            width,
            3,
        );
    }
    let outcome = context.last_outcome.filter(|outcome| {
        state.sent.as_deref() == Some(outcome.what.as_str())
            || row.is_some_and(|row| outcome.what.contains(row.id.as_str()))
    });
    let sent_is_done = outcome.is_some_and(|o| state.sent.as_deref() == Some(o.what.as_str()));
    if context.pending
        && let Some(sent) = state.sent.as_deref()
        && !sent_is_done
    {
        return vec![Line::styled(format!(" running: {sent}…"), theme.info)];
    }
    if let Some(outcome) = outcome {
        let severity = if outcome.succeeded {
            Severity::Ok
        } else {
            Severity::Critical
        };
        return hanging(
            vec![
                Span::styled(format!(" last: {}: ", outcome.what), theme.muted),
                badge::badge(theme, severity),
                Span::raw(" "),
            ],
            &printable_line(&outcome.message),
            theme.text,
            width,
            3,
        );
    }
    if context.readonly {
        return vec![Line::styled(
            " read-only: renew, reauthorize, recreate and backfill are refused",
            theme.muted,
        )];
    }
    let keys = if row.is_some() {
        " R renew · a reauthorize · c recreate · b backfill — each asks first"
    } else {
        " b backfill — asks first"
    };
    vec![Line::styled(keys, theme.muted)]
}
