//! The detail pane: every stored field of one interaction, labelled, with long values wrapped
//! under themselves; the body only when the collector stores bodies. Pure; depends on the
//! store's record type, the theme and ratatui.

use ratatui::text::{Line, Span};

use super::cells;
use crate::store::records::{InteractionRecord, InteractionSource};
use crate::terminal_text::printable_line;
use crate::tui::format::relative;
use crate::tui::tabs::TabContext;
use crate::tui::view::wrap::hanging;

/// Label column width.
const LABEL: usize = 18;

/// The pane's lines for `record` in `width` columns.
pub fn lines(
    record: &InteractionRecord,
    context: &TabContext<'_>,
    width: usize,
) -> Vec<Line<'static>> {
    let theme = context.theme;
    let optional = |value: &Option<String>| {
        value.as_deref().map_or_else(
            || "—".to_owned(),
            |value| printable_line(value).into_owned(),
        )
    };
    let source = match record.source {
        InteractionSource::Notification => "change notification",
        InteractionSource::Poll => "export API (poll or backfill)",
    };
    let fields: [(&str, String); 14] = [
        ("id", printable_line(&record.id).into_owned()),
        (
            "created",
            format!(
                "{} ({})",
                record.created_at.to_rfc3339(),
                relative(record.created_at, context.now)
            ),
        ),
        ("first seen", record.first_seen_at.to_rfc3339()),
        ("latency", cells::latency(record)),
        ("source", source.to_owned()),
        ("user id", optional(&record.user_id)),
        ("from", optional(&record.from_display_name)),
        ("app class", printable_line(&record.app_class).into_owned()),
        (
            "interaction type",
            printable_line(&record.interaction_type).into_owned(),
        ),
        ("conversation type", optional(&record.conversation_type)),
        ("session", optional(&record.session_id)),
        ("request", optional(&record.request_id)),
        (
            "attached",
            [
                (record.attachments, "attachment"),
                (record.links, "link"),
                (record.contexts, "context"),
            ]
            .iter()
            .map(|(n, what)| format!("{n} {what}{}", if *n == 1 { "" } else { "s" }))
            .collect::<Vec<_>>()
            .join(" · "),
        ),
        (
            "body",
            record.body.as_deref().map_or_else(
                || {
                    "not stored (the collector keeps bodies only with store_bodies = true)"
                        .to_owned()
                },
                |body| printable_line(body).into_owned(),
            ),
        ),
    ];
    let mut lines = Vec::new();
    for (label, value) in fields {
        let style = if value == "—" || (label == "body" && record.body.is_none()) {
            theme.muted
        } else {
            theme.text
        };
        lines.extend(hanging(
            vec![Span::styled(format!(" {label:<LABEL$}"), theme.title)],
            &value,
            style,
            width,
            LABEL + 1,
        ));
    }
    lines
}
