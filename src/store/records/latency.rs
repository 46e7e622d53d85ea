//! Notification latency over a time range, read from the per-minute histograms.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Count and percentiles of notification latency (received − `createdDateTime`) in a range.
///
/// Percentiles are HDR-histogram values (three significant digits); all are zero when `count`
/// is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Start of the range (inclusive, rounded down to the minute).
    pub from: DateTime<Utc>,
    /// End of the range (exclusive).
    pub to: DateTime<Utc>,
    /// Number of latencies recorded.
    pub count: u64,
    /// Median, in milliseconds.
    pub p50_ms: u64,
    /// 95th percentile, in milliseconds.
    pub p95_ms: u64,
    /// 99th percentile, in milliseconds.
    pub p99_ms: u64,
    /// Largest, in milliseconds.
    pub max_ms: u64,
}
