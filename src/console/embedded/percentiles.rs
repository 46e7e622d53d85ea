//! Durations in HDR histograms of milliseconds, and the [`LatencyPoint`]s (seconds) views get
//! from them. Every percentile the console shows comes from `hdrhistogram`; nothing here sorts
//! samples by hand.
//!
//! Pure; depends on hdrhistogram and the console's query types only.

use chrono::{DateTime, Duration, Utc};
use hdrhistogram::Histogram;

use crate::console::LatencyPoint;

/// Three significant digits, as the store's per-minute histograms.
const SIGNIFICANT_DIGITS: u8 = 3;

/// An empty histogram of milliseconds that grows as needed. `None` only if hdrhistogram
/// refused its fixed, valid settings.
pub(super) fn millis() -> Option<Histogram<u64>> {
    let mut histogram = Histogram::new(SIGNIFICANT_DIGITS).ok()?;
    histogram.auto(true);
    Some(histogram)
}

/// Records `span` (negative spans, from clock skew, count as zero).
pub(super) fn record(histogram: &mut Histogram<u64>, span: Duration) {
    let millis = u64::try_from(span.num_milliseconds()).unwrap_or(0);
    // An auto-resizing histogram takes any u64; a failure would only lose one sample.
    let _ = histogram.record(millis);
}

/// Adds `other` into `total`, creating `total` on first use.
pub(super) fn merge(total: &mut Option<Histogram<u64>>, other: &Histogram<u64>) {
    match total {
        // Both grow as needed; a failure would only lose the samples being added.
        Some(total) => {
            let _ = total.add(other);
        }
        None => {
            let mut copy = other.clone();
            copy.auto(true);
            *total = Some(copy);
        }
    }
}

/// The percentiles of `histogram` as a point starting at `at`; `None` without samples.
pub(super) fn point(at: DateTime<Utc>, histogram: &Histogram<u64>) -> Option<LatencyPoint> {
    if histogram.is_empty() {
        return None;
    }
    let seconds = |millis: u64| millis as f64 / 1000.0;
    Some(LatencyPoint {
        at,
        count: histogram.len(),
        p50: seconds(histogram.value_at_quantile(0.50)),
        p95: seconds(histogram.value_at_quantile(0.95)),
        p99: seconds(histogram.value_at_quantile(0.99)),
        max: seconds(histogram.max()),
    })
}

/// Upper bounds of the latency tab's distribution, in seconds: Graph's own slow line (about
/// 3 s) and the minutes an operator thinks in both fall on a bound.
pub(super) const BUCKET_BOUNDS_SECONDS: [f64; 12] = [
    0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0,
];

/// The distribution of `histogram` over [`BUCKET_BOUNDS_SECONDS`]: (bound, samples at or below
/// it and above the previous bound). Samples beyond the last bound get a final bucket bounded
/// by the largest sample. Empty buckets are kept so every window draws the same axis.
pub(super) fn distribution(histogram: &Histogram<u64>) -> Vec<(f64, u64)> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let mut buckets: Vec<(f64, u64)> = BUCKET_BOUNDS_SECONDS
        .iter()
        .map(|bound| (*bound, 0))
        .collect();
    let mut beyond = 0;
    for value in histogram.iter_recorded() {
        let seconds = histogram.highest_equivalent(value.value_iterated_to()) as f64 / 1000.0;
        let count = value.count_at_value();
        match buckets.iter_mut().find(|(bound, _)| seconds <= *bound) {
            Some((_, samples)) => *samples += count,
            None => beyond += count,
        }
    }
    if beyond > 0 {
        buckets.push((histogram.max() as f64 / 1000.0, beyond));
    }
    buckets
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn percentiles_come_out_in_seconds() {
        let mut histogram = millis().unwrap();
        for ms in 1..=1000 {
            record(&mut histogram, Duration::milliseconds(ms));
        }
        let at = "2026-11-22T08:00:00Z".parse().unwrap();
        let point = point(at, &histogram).unwrap();
        assert_eq!(point.count, 1000);
        assert!((point.p50 - 0.5).abs() < 0.01, "{point:?}");
        assert!((point.p95 - 0.95).abs() < 0.01, "{point:?}");
        assert!((point.max - 1.0).abs() < 0.01, "{point:?}");
        assert_eq!(super::point(at, &millis().unwrap()), None);
    }

    #[test]
    fn the_distribution_counts_every_sample_once() {
        let mut histogram = millis().unwrap();
        for seconds in [0, 1, 2, 4, 4, 7200] {
            record(&mut histogram, Duration::seconds(seconds));
        }
        record(&mut histogram, Duration::seconds(-5));
        let buckets = distribution(&histogram);
        let total: u64 = buckets.iter().map(|(_, n)| n).sum();
        assert_eq!(total, 7);
        assert_eq!(buckets.first(), Some(&(0.5, 2)), "{buckets:?}");
        assert_eq!(buckets.get(4), Some(&(5.0, 2)), "{buckets:?}");
        let last = buckets.last().unwrap();
        assert!(last.0 >= 7200.0 && last.1 == 1, "{buckets:?}");
    }
}
