//! `createdDateTime` windows for the export API (graph-facts §1.3): the `$filter` with both
//! bounds, the split of a long window into bounded chunks, the merging of queued gaps, where
//! the initial backfill starts and which windows a reconciliation reads.
//!
//! Graph's bounds are exclusive (`gt`, `lt`) and its timestamps have millisecond precision, so
//! `[from, to)` is asked as `gt from−1ms and lt ⌈to⌉ms`: adjacent windows overlap by at most a
//! millisecond (duplicates are removed by id) and never leave a hole. Pure: no I/O, no clock.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::options::PollOptions;
use super::report::Gap;

/// Everything but RFC 3986 unreserved characters is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value` escaped as one URL path segment (an id from Graph or the store): no value can add
/// a segment, a query or a fragment to the URL it is put in.
pub fn path_segment(value: &str) -> impl std::fmt::Display + '_ {
    utf8_percent_encode(value, SEGMENT)
}

/// The export path for `user_id` over `[from, to)`, `top` items per page.
pub fn export_path(user_id: &str, from: DateTime<Utc>, to: DateTime<Utc>, top: u32) -> String {
    let user = path_segment(user_id);
    format!(
        "/copilot/users/{user}/interactionHistory/getAllEnterpriseInteractions?$top={top}&$filter={}",
        created_filter(from, to)
    )
}

/// `createdDateTime gt … and createdDateTime lt …` covering `[from, to)` at millisecond
/// precision.
pub fn created_filter(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let lower = millis_floor(from) - Duration::milliseconds(1);
    let upper = millis_ceil(to);
    format!(
        "createdDateTime gt {} and createdDateTime lt {}",
        lower.to_rfc3339_opts(SecondsFormat::Millis, true),
        upper.to_rfc3339_opts(SecondsFormat::Millis, true)
    )
}

fn millis_floor(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

fn millis_ceil(at: DateTime<Utc>) -> DateTime<Utc> {
    let floor = millis_floor(at);
    if floor < at {
        floor + Duration::milliseconds(1)
    } else {
        floor
    }
}

/// `[from, to)` cut into consecutive chunks of at most `chunk` (newest first, so a long
/// backfill delivers the recent, most useful part first). Empty when `to <= from`.
pub fn chunks(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    chunk: Duration,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let chunk = chunk.max(Duration::minutes(1));
    let mut out = Vec::new();
    let mut end = to;
    while end > from {
        let start = (end - chunk).max(from);
        out.push((start, end));
        end = start;
    }
    out
}

/// `span` before `at`, or the earliest time there is when that is out of range.
fn before(at: DateTime<Utc>, span: Duration) -> DateTime<Utc> {
    at.checked_sub_signed(span)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Where the initial backfill at `now` starts: `initial_backfill` ago, or `downtime_overlap`
/// before the last accepted notification when that is earlier (the collector was down and
/// nothing was delivered since), never more than `max_lookback` ago.
pub fn backfill_start(
    now: DateTime<Utc>,
    last_accepted: Option<DateTime<Utc>>,
    options: &PollOptions,
) -> DateTime<Utc> {
    let usual = before(now, options.initial_backfill);
    let start = match last_accepted {
        Some(at) => usual.min(before(at, options.downtime_overlap)),
        None => usual,
    };
    start.max(before(now, options.max_lookback)).min(now)
}

/// The windows the reconciliation at `now` reads when the last one read up to `since`: from
/// `since` (or `reconcile_window` back, if that is earlier) to the settled present, never more
/// than `max_lookback` back, in windows of at most `reconcile_max_window`, newest first. Empty
/// when nothing has settled since.
pub fn reconcile_windows(
    since: DateTime<Utc>,
    now: DateTime<Utc>,
    options: &PollOptions,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let to = before(now, options.reconcile_settle);
    if to <= since {
        return Vec::new();
    }
    let from = since
        .min(before(to, options.reconcile_window))
        .max(before(now, options.max_lookback));
    chunks(from, to, options.reconcile_max_window)
}

/// Queued gaps with overlapping or touching windows merged (the earliest reason kept), oldest
/// first; empty windows dropped.
pub fn merge_gaps(mut gaps: Vec<Gap>) -> Vec<Gap> {
    gaps.retain(|gap| gap.to > gap.from);
    gaps.sort_by_key(|gap| gap.from);
    let mut merged: Vec<Gap> = Vec::with_capacity(gaps.len());
    for gap in gaps {
        match merged.last_mut() {
            Some(last) if gap.from <= last.to => last.to = last.to.max(gap.to),
            _ => merged.push(gap),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::super::report::GapReason;
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn both_bounds_are_given_and_cover_the_window_inclusively() {
        assert_eq!(
            created_filter(at("2025-11-24T00:00:00Z"), at("2025-11-25T00:00:00Z")),
            "createdDateTime gt 2025-11-23T23:59:59.999Z and createdDateTime lt 2025-11-25T00:00:00.000Z"
        );
        // Sub-millisecond bounds round outwards.
        assert_eq!(
            created_filter(
                at("2025-11-24T00:00:00.0005Z"),
                at("2025-11-24T00:00:01.0005Z")
            ),
            "createdDateTime gt 2025-11-23T23:59:59.999Z and createdDateTime lt 2025-11-24T00:00:01.001Z"
        );
    }

    #[test]
    fn the_path_escapes_the_user_and_carries_the_filter() {
        let path = export_path(
            "a/b",
            at("2025-11-24T00:00:00Z"),
            at("2025-11-25T00:00:00Z"),
            100,
        );
        assert!(path.starts_with("/copilot/users/a%2Fb/interactionHistory/getAllEnterpriseInteractions?$top=100&$filter=createdDateTime gt "), "{path}");
    }

    #[test]
    fn chunks_are_contiguous_newest_first_and_bounded() {
        let from = at("2025-11-20T00:00:00Z");
        let to = at("2025-11-22T12:00:00Z");
        let parts = chunks(from, to, Duration::days(1));
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], (at("2025-11-21T12:00:00Z"), to));
        assert_eq!(parts[2], (from, at("2025-11-20T12:00:00Z")));
        for pair in parts.windows(2) {
            assert_eq!(pair[0].0, pair[1].1, "no hole, no overlap");
        }
        assert!(chunks(to, from, Duration::days(1)).is_empty());
        assert!(chunks(from, from, Duration::days(1)).is_empty());
    }

    #[test]
    fn the_initial_backfill_reaches_back_to_the_last_notification_within_the_retention() {
        let now = at("2026-11-22T12:00:00Z");
        let options = PollOptions {
            initial_backfill: Duration::hours(24),
            downtime_overlap: Duration::minutes(15),
            max_lookback: Duration::days(7),
            ..PollOptions::default()
        };
        assert_eq!(
            backfill_start(now, None, &options),
            at("2026-11-21T12:00:00Z")
        );
        // Down for 40 hours: the 40 hours (and the overlap) are read.
        assert_eq!(
            backfill_start(now, Some(at("2026-11-20T20:00:00Z")), &options),
            at("2026-11-20T19:45:00Z")
        );
        // A recent notification never shortens the usual window.
        assert_eq!(
            backfill_start(now, Some(at("2026-11-22T11:00:00Z")), &options),
            at("2026-11-21T12:00:00Z")
        );
        // Down for a month: only what the store keeps.
        assert_eq!(
            backfill_start(now, Some(at("2026-10-22T12:00:00Z")), &options),
            at("2026-11-15T12:00:00Z")
        );
        let absurd = PollOptions {
            initial_backfill: Duration::MAX,
            max_lookback: Duration::MAX,
            ..options
        };
        assert_eq!(backfill_start(now, None, &absurd), DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn reconciliation_windows_advance_and_are_bounded() {
        let options = PollOptions {
            reconcile_window: Duration::hours(1),
            reconcile_settle: Duration::minutes(15),
            reconcile_max_window: Duration::hours(24),
            max_lookback: Duration::days(7),
            ..PollOptions::default()
        };
        let now = at("2026-11-22T12:00:00Z");
        // On time: the usual hour, settled.
        assert_eq!(
            reconcile_windows(at("2026-11-22T11:30:00Z"), now, &options),
            vec![(at("2026-11-22T10:45:00Z"), at("2026-11-22T11:45:00Z"))]
        );
        // Late: contiguous from where the last one ended.
        assert_eq!(
            reconcile_windows(at("2026-11-22T09:00:00Z"), now, &options),
            vec![(at("2026-11-22T09:00:00Z"), at("2026-11-22T11:45:00Z"))]
        );
        // Stalled for two days: no window longer than a day, none older than a week.
        let windows = reconcile_windows(at("2026-11-20T06:00:00Z"), now, &options);
        assert_eq!(windows.len(), 3);
        assert!(
            windows
                .iter()
                .all(|(from, to)| *to - *from <= Duration::hours(24))
        );
        assert_eq!(windows[0].1, at("2026-11-22T11:45:00Z"));
        assert_eq!(windows[2].0, at("2026-11-20T06:00:00Z"));
        let windows = reconcile_windows(at("2026-10-01T00:00:00Z"), now, &options);
        assert_eq!(windows.last().unwrap().0, at("2026-11-15T12:00:00Z"));
        // Nothing settled since the last one.
        assert!(reconcile_windows(at("2026-11-22T11:50:00Z"), now, &options).is_empty());
    }

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(path_segment("a/b?c#d e").to_string(), "a%2Fb%3Fc%23d%20e");
        assert_eq!(path_segment("7f10-c.d_e~").to_string(), "7f10-c.d_e~");
    }

    #[test]
    fn queued_gaps_merge_when_they_touch() {
        let gap = |from: &str, to: &str| Gap {
            from: at(from),
            to: at(to),
            reason: GapReason::Missed,
        };
        let merged = merge_gaps(vec![
            gap("2025-11-24T10:00:00Z", "2025-11-24T11:00:00Z"),
            gap("2025-11-24T08:00:00Z", "2025-11-24T09:00:00Z"),
            gap("2025-11-24T10:30:00Z", "2025-11-24T12:00:00Z"),
            gap("2025-11-24T09:00:00Z", "2025-11-24T09:30:00Z"),
            gap("2025-11-24T13:00:00Z", "2025-11-24T13:00:00Z"),
        ]);
        assert_eq!(
            merged,
            vec![
                gap("2025-11-24T08:00:00Z", "2025-11-24T09:30:00Z"),
                gap("2025-11-24T10:00:00Z", "2025-11-24T12:00:00Z"),
            ]
        );
    }
}
