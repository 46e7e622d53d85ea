//! Notification latency as one HDR histogram per minute (three significant digits, serialized
//! in HdrHistogram's V2 format), keyed by the minute's start. A day of minutes costs a few
//! hundred KiB whatever the notification rate, and any range's percentiles come from merging
//! the minutes in it.
//!
//! Depends on sled, hdrhistogram and the records only.

use std::sync::{Arc, PoisonError};

use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2Serializer};

use super::Inner;
use super::error::StoreError;
use super::keys;
use super::records::LatencySummary;

const TREE: &str = "latency";
const SIGNIFICANT_DIGITS: u8 = 3;

/// Handle on the latency histograms.
#[derive(Debug, Clone)]
pub struct LatencyHistograms {
    inner: Arc<Inner>,
}

impl LatencyHistograms {
    pub(super) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    /// Adds one latency to the histogram of the minute holding `at`.
    pub fn record(&self, at: DateTime<Utc>, latency_ms: u64) -> Result<(), StoreError> {
        let key = keys::time(keys::minute_floor(at))?;
        let tree = &self.inner.trees.latency;
        // One writer at a time: the read-modify-write below must not lose a concurrent record.
        let _guard = self
            .inner
            .latency_writes
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut histogram = match tree.get(key)? {
            Some(bytes) => deserialize(&bytes)?,
            None => empty()?,
        };
        histogram
            .record(latency_ms)
            .map_err(|error| StoreError::Encode {
                what: "latency",
                reason: format!("{error:?}"),
            })?;
        let mut bytes = Vec::new();
        V2Serializer::new()
            .serialize(&histogram, &mut bytes)
            .map_err(|error| StoreError::Encode {
                what: "latency histogram",
                reason: format!("{error:?}"),
            })?;
        tree.insert(key, bytes)?;
        Ok(())
    }

    /// Hands the histogram of each minute from the one holding `from` up to (not including)
    /// `to` that recorded anything to `visit`, oldest first, with the minute's start: for
    /// series, where the caller merges minutes into stretches of its choosing. One minute is
    /// held at a time (a day of histograms would be tens of MiB).
    pub fn visit_minutes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        mut visit: impl FnMut(DateTime<Utc>, Histogram<u64>),
    ) -> Result<(), StoreError> {
        let range = keys::time_bound(keys::minute_floor(from))..keys::time_bound(to);
        for entry in self.inner.trees.latency.range(range) {
            let (key, bytes) = entry?;
            let minute = keys::time_of(&key)
                .ok_or_else(|| StoreError::corrupt(TREE, "a minute key is too short"))?;
            visit(minute, deserialize(&bytes)?);
        }
        Ok(())
    }

    /// Latency of everything recorded in the minutes from the one holding `from` up to (not
    /// including) `to`.
    pub fn summary(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<LatencySummary, StoreError> {
        let mut total = empty()?;
        let range = keys::time_bound(keys::minute_floor(from))..keys::time_bound(to);
        for entry in self.inner.trees.latency.range(range) {
            let (_, bytes) = entry?;
            total
                .add(deserialize(&bytes)?)
                .map_err(|error| StoreError::corrupt(TREE, format!("{error:?}")))?;
        }
        let count = total.len();
        let at = |quantile| {
            if count == 0 {
                0
            } else {
                total.value_at_quantile(quantile)
            }
        };
        Ok(LatencySummary {
            from,
            to,
            count,
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: if count == 0 { 0 } else { total.max() },
        })
    }
}

fn empty() -> Result<Histogram<u64>, StoreError> {
    Histogram::new(SIGNIFICANT_DIGITS).map_err(|error| StoreError::Encode {
        what: "latency histogram",
        reason: format!("{error:?}"),
    })
}

fn deserialize(bytes: &[u8]) -> Result<Histogram<u64>, StoreError> {
    let mut histogram: Histogram<u64> = Deserializer::new()
        .deserialize(&mut &bytes[..])
        .map_err(|error| StoreError::corrupt(TREE, format!("{error:?}")))?;
    histogram.auto(true);
    Ok(histogram)
}
