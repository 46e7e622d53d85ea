//! The latency tab's numbers over a window ending now (the collector's clock): delivery latency
//! (`createdDateTime` → our receipt) as a series of stretches (a minute for 15 min and 1 h, ten
//! minutes for 24 h), over the whole window and as a distribution; the same per Copilot app;
//! and our own acknowledgement and processing times.
//!
//! Sources, so nothing is loaded whole: for every profile, the store's per-minute histograms
//! (merged minute by minute); for one profile, its notification records (the histograms are
//! not per profile), which also give acknowledgement (timed in real time, as Graph times it) and
//! processing (`processed_at − received_at`, turned into real time by the clock: it is our own
//! work, which the simulator's faster clock would otherwise stretch) times; per app, the
//! interactions created in the window that came by notification (`first_seen_at −
//! createdDateTime`; a backfilled one's first sighting is the poll, not a delivery), read newest
//! first and bounded. Interactions do not know their profile, so the per-app figures cover
//! every profile.
//!
//! Depends on the store, hdrhistogram (through `percentiles`) and the console's query types.

use std::collections::{BTreeMap, HashMap};
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use hdrhistogram::Histogram;

use super::percentiles::{self, distribution, merge, point};
use super::{Backend, read_store};
use crate::console::{ConsoleError, LatencyPoint, LatencyQuery, LatencyView, LatencyWindow};
use crate::store::records::InteractionSource;
use crate::store::{Store, StoreError};

/// Most notification records one view reads.
pub const MAX_NOTIFICATIONS: usize = 1_000_000;

/// Most interactions examined for the per-app figures.
pub const MAX_INTERACTIONS: u64 = 200_000;

/// The length of one point of the series.
pub fn stretch(window: LatencyWindow) -> Duration {
    match window {
        LatencyWindow::FifteenMinutes | LatencyWindow::Hour => Duration::minutes(1),
        LatencyWindow::Day => Duration::minutes(10),
    }
}

/// Answers a latency request.
pub(super) async fn latency(
    backend: Arc<Backend>,
    query: LatencyQuery,
) -> Result<LatencyView, ConsoleError> {
    let until = backend.options.clock.now();
    read_store(&backend, move |backend| {
        let clock = &backend.options.clock;
        let real =
            |span: Duration| Duration::from_std(clock.real_duration(span)).unwrap_or(Duration::MAX);
        latency_view(&backend.store, &query, until, real)
    })
    .await
}

/// The view of `query` for the window ending at `until`.
pub fn latency_view(
    store: &Store,
    query: &LatencyQuery,
    until: DateTime<Utc>,
    real: impl Fn(Duration) -> Duration,
) -> Result<LatencyView, StoreError> {
    let from = until - Duration::minutes(query.window.minutes());
    let mut delivery = Series::new(stretch(query.window));
    let mut ack = percentiles::millis();
    let mut ours = percentiles::millis();
    if query.profile.is_none() {
        store
            .latency()
            .visit_minutes(from, until, |minute, histogram| {
                delivery.add(minute, &histogram);
            })?;
    }
    let mut sample = percentiles::millis();
    store
        .notifications()
        .visit_between(from, until, MAX_NOTIFICATIONS, |record| {
            if query
                .profile
                .as_ref()
                .is_some_and(|profile| *profile != record.profile)
            {
                return;
            }
            if let Some(ack) = ack.as_mut() {
                percentiles::record(ack, record.ack_duration());
            }
            if let Some(ours) = ours.as_mut() {
                percentiles::record(ours, real(record.processed_at - record.received_at));
            }
            // What the receiver records in the store's histograms: the first delivery of each
            // accepted interaction.
            if query.profile.is_some()
                && record.accepted
                && !record.duplicate
                && let (Some(latency), Some(sample)) = (record.latency_ms, sample.as_mut())
                && latency >= 0
            {
                sample.reset();
                percentiles::record(sample, Duration::milliseconds(latency));
                delivery.add(record.received_at, sample);
            }
        })?;
    let by_app = by_app(store, from, until)?;
    Ok(LatencyView {
        window: query.window,
        until,
        series: delivery.points(),
        overall: delivery.total.as_ref().and_then(|total| point(from, total)),
        histogram: delivery
            .total
            .as_ref()
            .map(distribution)
            .unwrap_or_default(),
        by_app,
        ack: ack.as_ref().and_then(|h| point(from, h)),
        ours: ours.as_ref().and_then(|h| point(from, h)),
    })
}

/// Delivery latency per `appClass` of the interactions created in `[from, until]`, most samples
/// first.
fn by_app(
    store: &Store,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(String, LatencyPoint)>, StoreError> {
    let mut apps: HashMap<String, Histogram<u64>> = HashMap::new();
    let Some(empty) = percentiles::millis() else {
        return Ok(Vec::new());
    };
    store
        .interactions()
        .visit_newest_first(None, MAX_INTERACTIONS, |record| {
            if record.created_at < from {
                return ControlFlow::Break(());
            }
            if record.created_at <= until && record.source == InteractionSource::Notification {
                let histogram = apps
                    .entry(record.app_class.clone())
                    .or_insert_with(|| empty.clone());
                percentiles::record(histogram, record.first_seen_at - record.created_at);
            }
            ControlFlow::Continue(())
        })?;
    let mut points: Vec<(String, LatencyPoint)> = apps
        .into_iter()
        .filter_map(|(app, histogram)| Some((app, point(from, &histogram)?)))
        .collect();
    points.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
    Ok(points)
}

/// Histograms merged into stretches of equal length aligned on the epoch, and in total.
struct Series {
    stretch_seconds: i64,
    stretches: BTreeMap<DateTime<Utc>, Histogram<u64>>,
    total: Option<Histogram<u64>>,
}

impl Series {
    fn new(stretch: Duration) -> Self {
        Self {
            stretch_seconds: stretch.num_seconds().max(1),
            stretches: BTreeMap::new(),
            total: None,
        }
    }

    /// Adds `histogram`, whose samples belong to the moment `at`.
    fn add(&mut self, at: DateTime<Utc>, histogram: &Histogram<u64>) {
        let seconds = at.timestamp().div_euclid(self.stretch_seconds) * self.stretch_seconds;
        let start = DateTime::from_timestamp(seconds, 0).unwrap_or(at);
        let mut slot = self.stretches.remove(&start);
        merge(&mut slot, histogram);
        if let Some(slot) = slot {
            self.stretches.insert(start, slot);
        }
        merge(&mut self.total, histogram);
    }

    /// One point per stretch with samples, oldest first.
    fn points(&self) -> Vec<LatencyPoint> {
        self.stretches
            .iter()
            .filter_map(|(at, histogram)| point(*at, histogram))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn histogram(millis: &[i64]) -> Histogram<u64> {
        let mut histogram = percentiles::millis().unwrap();
        for ms in millis {
            percentiles::record(&mut histogram, Duration::milliseconds(*ms));
        }
        histogram
    }

    #[test]
    fn minutes_merge_into_ten_minute_stretches() {
        let mut series = Series::new(stretch(LatencyWindow::Day));
        series.add(at("2026-11-22T08:01:00Z"), &histogram(&[1000]));
        series.add(at("2026-11-22T08:09:00Z"), &histogram(&[3000, 3000]));
        series.add(at("2026-11-22T08:10:00Z"), &histogram(&[500]));
        let points = series.points();
        assert_eq!(points.len(), 2, "{points:?}");
        assert_eq!(points[0].at, at("2026-11-22T08:00:00Z"));
        assert_eq!(points[0].count, 3);
        assert!((points[0].max - 3.0).abs() < 0.01);
        assert_eq!(points[1].at, at("2026-11-22T08:10:00Z"));
        assert_eq!(series.total.as_ref().map(Histogram::len), Some(4));
    }

    #[test]
    fn the_day_is_drawn_in_ten_minute_stretches_and_the_rest_by_minute() {
        assert_eq!(stretch(LatencyWindow::Day), Duration::minutes(10));
        assert_eq!(stretch(LatencyWindow::Hour), Duration::minutes(1));
        assert_eq!(stretch(LatencyWindow::FifteenMinutes), Duration::minutes(1));
    }
}
