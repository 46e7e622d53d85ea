//! The subscription table: a header and one line per subscription, the selected one marked
//! (`▸` and the selection style, so it shows without colour). Compact below the tab's wide
//! width (resource, expiry gauge, next renewal, received, tokens, ack p95); wide adds the last
//! renewal and a longer gauge. The rest of a subscription is in the details under the table.
//!
//! Pure; depends on the subscription rows, the shared marks, the cells and the theme.

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};

use super::cells::{fit, gauge, mark};
use crate::console::SubscriptionRow;
use crate::console::marks::{
    ack_severity, ack_text, countdown, expiry_severity, short_resource, tokens_severity,
    tokens_text, when,
};
use crate::tui::theme::Theme;

/// Column widths of one layout.
struct Columns {
    resource: usize,
    gauge: usize,
    countdown: usize,
    last_renewal: Option<usize>,
    next_renewal: usize,
    received: usize,
}

/// 79 columns: fits the 80-column terminal.
const COMPACT: Columns = Columns {
    resource: 11,
    gauge: 8,
    countdown: 18,
    last_renewal: None,
    next_renewal: 10,
    received: 5,
};

/// 120 columns: fits the tab's wide width.
const WIDE: Columns = Columns {
    resource: 16,
    gauge: 24,
    countdown: 18,
    last_renewal: Some(14),
    next_renewal: 14,
    received: 6,
};

/// The header and one line per row; `selected` is the index of the marked row.
pub fn lines(
    theme: &Theme,
    rows: &[SubscriptionRow],
    selected: usize,
    now: DateTime<Utc>,
    wide: bool,
) -> Vec<Line<'static>> {
    let columns = if wide { &WIDE } else { &COMPACT };
    let renewed = columns
        .last_renewal
        .map(|width| format!("{} ", fit("renewed", width)))
        .unwrap_or_default();
    let header = format!(
        "   {} {} {renewed}{} {:>recv$} {:>7} {:>9}",
        fit("resource", columns.resource),
        fit(
            "expiry, of the 3-day cap",
            columns.gauge + 3 + columns.countdown
        ),
        fit(
            if wide { "next renewal" } else { "renews" },
            columns.next_renewal
        ),
        "recv",
        "tokens",
        "ack p95",
        recv = columns.received,
    );
    let mut lines = vec![Line::styled(header, theme.muted)];
    for (index, row) in rows.iter().enumerate() {
        lines.push(row_line(theme, row, index == selected, now, columns));
    }
    lines
}

fn row_line(
    theme: &Theme,
    row: &SubscriptionRow,
    selected: bool,
    now: DateTime<Utc>,
    columns: &Columns,
) -> Line<'static> {
    let text = if selected {
        theme.selection
    } else {
        theme.text
    };
    let mut spans = vec![
        Span::styled(if selected { " ▸ " } else { "   " }, text),
        Span::styled(
            format!("{} ", fit(&short_resource(&row.resource), columns.resource)),
            text,
        ),
    ];
    spans.extend(gauge(theme, row, now, columns.gauge));
    spans.push(Span::raw(" "));
    spans.push(mark(theme, expiry_severity(row, now)));
    spans.push(Span::styled(
        format!(" {} ", fit(&countdown(row, now), columns.countdown)),
        text,
    ));
    if let Some(width) = columns.last_renewal {
        spans.push(Span::styled(
            format!("{} ", fit(&when(row.last_renewed_at, now), width)),
            text,
        ));
    }
    spans.push(Span::styled(
        format!(
            "{} {:>recv$} ",
            fit(&when(row.next_renewal_at, now), columns.next_renewal),
            row.received,
            recv = columns.received,
        ),
        text,
    ));
    spans.push(mark(theme, tokens_severity(row)));
    spans.push(Span::styled(format!("{:>6} ", tokens_text(row)), text));
    spans.push(mark(theme, ack_severity(row)));
    spans.push(Span::styled(format!("{:>8}", ack_text(row)), text));
    Line::from(spans)
}
