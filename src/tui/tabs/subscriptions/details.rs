//! The selected subscription in full, under the table: its identity and lifetime (id,
//! resource, expiry, renewals, lifecycle URL and last lifecycle event, handshake, rich data and
//! certificate) and how its notifications fared over the diagnosis window (received, validation
//! tokens present, decrypt failures, `clientState` mismatches, ack p95 against Graph's 3 s).
//! Compact packs both into a few lines for 80 columns; wide gives each value its own line.
//!
//! Pure; depends on the subscription row, the shared marks, the cells, the shared formats and
//! the theme.

use chrono::{DateTime, Utc};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::cells::{ACK_DEADLINE_LABEL, mark};
use crate::console::SubscriptionRow;
use crate::console::marks::{
    ack_severity, ack_text, countdown, expiry_severity, failures_severity, tokens_severity,
    tokens_text,
};
use crate::severity::Severity;
use crate::terminal_text::printable_line;
use crate::tui::format::{minute, relative};
use crate::tui::theme::Theme;
use crate::tui::view::wrap::hanging;

/// Width of the labels, with the space after the longest ("lifecycle URL").
const LABEL: usize = 14;

fn ago_or(at: Option<DateTime<Utc>>, now: DateTime<Utc>, none: &str) -> String {
    at.map_or_else(|| none.to_owned(), |at| relative(at, now))
}

fn lifecycle_text(row: &SubscriptionRow) -> (Severity, String) {
    match &row.lifecycle_url {
        Some(url) => (Severity::Ok, printable_line(url).into_owned()),
        // graph-facts §2: a lifecycle URL cannot be added by PATCH.
        None => (
            Severity::Critical,
            "none: Graph cannot warn before it ends, and one cannot be added later (recreate)"
                .to_owned(),
        ),
    }
}

fn last_event_text(row: &SubscriptionRow, now: DateTime<Utc>) -> String {
    row.last_lifecycle.as_ref().map_or_else(
        || "none yet".to_owned(),
        |(at, event)| format!("{} {}", printable_line(event), relative(*at, now)),
    )
}

fn rich_text(row: &SubscriptionRow, now: DateTime<Utc>) -> String {
    if !row.rich {
        return "no: basic notifications, content fetched separately".to_owned();
    }
    let certificate = row.certificate_id.as_deref().map_or_else(
        || "no certificate id".to_owned(),
        |id| format!("certificate {}", printable_line(id)),
    );
    let expiry = row
        .certificate_expires_at
        .map(|at| {
            if at <= now {
                format!(", EXPIRED {}", relative(at, now))
            } else {
                format!(", expires {}", relative(at, now))
            }
        })
        .unwrap_or_default();
    format!("yes · {certificate}{expiry}")
}

/// The subscription's identity and lifetime, one value a line (wide) or packed (compact).
pub fn subscription_lines(
    theme: &Theme,
    row: &SubscriptionRow,
    now: DateTime<Utc>,
    width: usize,
    wide: bool,
) -> Vec<Line<'static>> {
    let expiry = format!("{} ({})", countdown(row, now), minute(row.expires_at));
    let renewals = format!(
        "last {} · next {}",
        ago_or(row.last_renewed_at, now, "never"),
        ago_or(row.next_renewal_at, now, "not planned")
    );
    let (lifecycle_severity, lifecycle) = lifecycle_text(row);
    let mut lines = Vec::new();
    let mut put = |label: &str, severity: Option<Severity>, text: String, style: Style| {
        let mut prefix = vec![Span::styled(format!(" {label:<LABEL$}"), theme.muted)];
        let mut indent = LABEL + 1;
        if let Some(severity) = severity {
            prefix.push(mark(theme, severity));
            prefix.push(Span::raw(" "));
            indent += 2;
        }
        lines.extend(hanging(prefix, &text, style, width, indent));
    };
    if wide {
        put("id", None, printable_line(&row.id).into_owned(), theme.text);
        put(
            "resource",
            None,
            printable_line(&row.resource).into_owned(),
            theme.text,
        );
        put(
            "expires",
            Some(expiry_severity(row, now)),
            expiry,
            theme.text,
        );
        put("created", None, relative(row.created_at, now), theme.text);
        put("renewal", None, renewals, theme.text);
        put(
            "lifecycle URL",
            Some(lifecycle_severity),
            lifecycle,
            theme.text,
        );
        put("last event", None, last_event_text(row, now), theme.text);
        put(
            "handshake",
            None,
            ago_or(row.last_handshake_at, now, "never seen"),
            theme.text,
        );
        put("rich data", None, rich_text(row, now), theme.text);
    } else {
        put(
            "id",
            None,
            format!(
                "{} · handshake {}",
                printable_line(&row.id),
                ago_or(row.last_handshake_at, now, "never seen")
            ),
            theme.text,
        );
        put(
            "renewal",
            None,
            format!("{renewals} · ends {}", minute(row.expires_at)),
            theme.text,
        );
        put(
            "lifecycle",
            Some(lifecycle_severity),
            format!("{lifecycle} · last event {}", last_event_text(row, now)),
            theme.text,
        );
        put("rich data", None, rich_text(row, now), theme.text);
    }
    lines
}

/// How the subscription's notifications fared over the last `window_minutes`.
pub fn delivery_lines(
    theme: &Theme,
    row: &SubscriptionRow,
    window_minutes: u32,
    wide: bool,
) -> Vec<Line<'static>> {
    let received = format!("{} in the last {window_minutes} min", row.received);
    let tokens = format!("{} carried validationTokens", tokens_text(row));
    let decrypt = format!("{} decrypt failures", row.decrypt_failures);
    let mismatches = format!("{} clientState mismatches", row.client_state_mismatches);
    let ack = format!(
        "{} against Graph's {ACK_DEADLINE_LABEL} (slow past 2.9 s)",
        ack_text(row)
    );
    let decrypt_severity = failures_severity(row.decrypt_failures, row.received);
    let mismatch_severity = failures_severity(row.client_state_mismatches, row.received);
    let item = |severity: Severity, text: String| {
        vec![
            mark(theme, severity),
            Span::styled(format!(" {text}"), theme.text),
        ]
    };
    if wide {
        let labelled = |label: &str, spans: Vec<Span<'static>>| {
            let mut line = vec![Span::styled(format!(" {label:<LABEL$}"), theme.muted)];
            line.extend(spans);
            Line::from(line)
        };
        return vec![
            labelled("received", vec![Span::styled(received, theme.text)]),
            labelled("tokens", item(tokens_severity(row), tokens)),
            labelled("decryption", item(decrypt_severity, decrypt)),
            labelled("clientState", item(mismatch_severity, mismatches)),
            labelled("ack p95", item(ack_severity(row), ack)),
        ];
    }
    let separator = || Span::styled(" · ", theme.muted);
    let mut first = vec![
        Span::styled(format!(" {:<LABEL$}", "delivery"), theme.muted),
        Span::styled(received, theme.text),
        separator(),
    ];
    first.extend(item(
        tokens_severity(row),
        format!("tokens {}", tokens_text(row)),
    ));
    first.push(separator());
    first.extend(item(
        ack_severity(row),
        format!("ack p95 {} / {ACK_DEADLINE_LABEL}", ack_text(row)),
    ));
    let mut second = vec![Span::raw(" ".repeat(LABEL + 1))];
    second.extend(item(decrypt_severity, decrypt));
    second.push(separator());
    second.extend(item(mismatch_severity, mismatches));
    vec![Line::from(first), Line::from(second)]
}
