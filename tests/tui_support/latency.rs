//! Latency fixtures for the Latency tab's snapshots: a healthy hour (deliveries 2–8 s, acks in
//! milliseconds) and an hour with a Graph-side incident (from 07:30 deliveries back up past
//! Microsoft's 60 min maximum while our own ack stays fast), both ending at [`now`].

use chrono::{DateTime, Duration, Utc};
use pilotwatch::console::{LatencyPoint, LatencyView, LatencyWindow};

use super::now;

/// Upper bounds of the collector's distribution buckets, in seconds.
const BOUNDS: [f64; 12] = [
    0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

fn point(at: DateTime<Utc>, count: u64, p50: f64, p95: f64, p99: f64, max: f64) -> LatencyPoint {
    LatencyPoint {
        at,
        count,
        p50,
        p95,
        p99,
        max,
    }
}

/// A healthy minute: a small, repeatable wobble around p50 2.4 s, p99 7.5 s.
fn healthy_minute(at: DateTime<Utc>, index: i64) -> LatencyPoint {
    let wobble = (index % 7) as f64 / 10.0;
    point(
        at,
        18 + (index % 5) as u64,
        2.1 + wobble,
        5.6 + wobble,
        7.1 + wobble,
        7.6 + wobble,
    )
}

fn apps(rows: &[(&str, u64, f64, f64, f64)]) -> Vec<(String, LatencyPoint)> {
    let start = now() - Duration::hours(1);
    rows.iter()
        .map(|(app, count, p50, p95, max)| {
            (
                format!("IPM.SkypeTeams.Message.Copilot.{app}"),
                point(start, *count, *p50, *p95, *p95, *max),
            )
        })
        .collect()
}

fn histogram(counts: [u64; 12]) -> Vec<(f64, u64)> {
    BOUNDS.into_iter().zip(counts).collect()
}

/// The last hour, healthy: deliveries 2–8 s, acks and processing in milliseconds.
pub fn healthy() -> LatencyView {
    let start = now() - Duration::hours(1);
    LatencyView {
        window: LatencyWindow::Hour,
        until: now(),
        series: (0..60)
            .map(|minute| healthy_minute(start + Duration::minutes(minute), minute))
            .collect(),
        overall: Some(point(start, 1204, 2.4, 6.1, 7.6, 8.4)),
        histogram: histogram([0, 12, 310, 420, 300, 162, 0, 0, 0, 0, 0, 0]),
        by_app: apps(&[
            ("Teams", 520, 2.3, 6.0, 8.2),
            ("BizChat", 380, 2.5, 6.2, 8.4),
            ("Word", 180, 2.4, 5.9, 7.7),
            ("Excel", 80, 2.6, 6.4, 7.9),
            ("Loop", 30, 2.2, 5.1, 6.0),
            ("WebChat", 14, 2.7, 6.6, 6.9),
        ]),
        ack: Some(point(start, 1210, 0.012, 0.041, 0.09, 0.21)),
        ours: Some(point(start, 1210, 0.004, 0.015, 0.03, 0.08)),
    }
}

/// The last hour with a Graph-side incident from 07:30: deliveries back up to 82 min (p99
/// past the documented 60 min maximum) while our ack and processing stay in milliseconds.
pub fn incident() -> LatencyView {
    let start = now() - Duration::hours(1);
    let series = (0..60)
        .map(|minute| {
            let at = start + Duration::minutes(minute);
            if minute < 30 {
                healthy_minute(at, minute)
            } else {
                // Held-back notifications arrive late, later the longer the incident runs.
                let backlog = (minute - 29) as f64 * 150.0;
                point(at, 6, backlog * 0.6, backlog * 0.95, backlog, backlog * 1.1)
            }
        })
        .collect();
    LatencyView {
        window: LatencyWindow::Hour,
        until: now(),
        series,
        overall: Some(point(start, 805, 4.1, 2460.0, 4080.0, 4920.0)),
        histogram: {
            let mut buckets = histogram([0, 6, 150, 210, 160, 84, 12, 8, 10, 20, 40, 80]);
            buckets.push((4920.0, 25));
            buckets
        },
        by_app: apps(&[
            ("Teams", 350, 3.9, 2400.0, 4920.0),
            ("BizChat", 260, 4.3, 2500.0, 4700.0),
            ("Word", 120, 4.0, 2300.0, 3500.0),
            ("Excel", 75, 4.2, 2200.0, 3400.0),
        ]),
        ack: Some(point(start, 810, 0.013, 0.044, 0.1, 0.3)),
        ours: Some(point(start, 810, 0.004, 0.016, 0.03, 0.09)),
    }
}

/// The last 15 minutes of a quiet tenant: nothing arrived, nothing was created.
pub fn quiet() -> LatencyView {
    LatencyView {
        window: LatencyWindow::FifteenMinutes,
        until: now(),
        series: Vec::new(),
        overall: None,
        histogram: Vec::new(),
        by_app: Vec::new(),
        ack: None,
        ours: None,
    }
}
