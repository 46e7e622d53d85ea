//! How Graph has been answering: every attempt [`GraphClient`](super::GraphClient) makes is
//! counted per minute of the injected clock — answered, throttled (429), failed (5xx or no
//! answer) — for the last [`KEPT_MINUTES`], with the start of the current run of trouble and
//! the latest `request-id` of a troubled answer (what a support case asks for). Diagnosis
//! reads a [`TrafficSummary`] to say "Graph is throttling / failing: it is not you".
//!
//! Depends on chrono only; the caller passes the times.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};

/// Minutes of counts kept.
pub const KEPT_MINUTES: u32 = 60;

/// One attempt's end, as the traffic log counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptEnd {
    /// Graph answered with this status.
    Answered {
        /// The HTTP status.
        status: u16,
        /// Graph's `request-id`, if it sent one.
        request_id: Option<String>,
    },
    /// No answer: connection failure or timeout.
    NoAnswer,
}

impl AttemptEnd {
    fn throttled(&self) -> bool {
        matches!(self, AttemptEnd::Answered { status: 429, .. })
    }

    fn failed(&self) -> bool {
        match self {
            AttemptEnd::Answered { status, .. } => *status >= 500,
            AttemptEnd::NoAnswer => true,
        }
    }
}

/// Counts over a window of minutes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrafficSummary {
    /// The window, in minutes.
    pub window_minutes: u32,
    /// Attempts made.
    pub requests: u64,
    /// Attempts answered 429.
    pub throttled: u64,
    /// Attempts answered 5xx or not answered.
    pub failed: u64,
    /// The first attempt of the current run of throttled or failed ones, if the latest attempt
    /// was one.
    pub trouble_since: Option<DateTime<Utc>>,
    /// The `request-id` of the latest throttled or failed answer that carried one.
    pub last_request_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Minute {
    /// Minutes since the Unix epoch.
    index: i64,
    requests: u64,
    throttled: u64,
    failed: u64,
}

#[derive(Debug, Default)]
struct Log {
    minutes: VecDeque<Minute>,
    trouble_since: Option<DateTime<Utc>>,
    last_request_id: Option<String>,
}

/// The per-minute counts; shared by a client's clones.
#[derive(Debug, Default)]
pub struct TrafficLog {
    log: Mutex<Log>,
}

impl TrafficLog {
    /// Counts one attempt that ended at `at`.
    pub fn record(&self, at: DateTime<Utc>, end: &AttemptEnd) {
        let index = at.timestamp().div_euclid(60);
        let mut log = self.lock();
        if log.minutes.back().is_none_or(|last| last.index < index) {
            log.minutes.push_back(Minute {
                index,
                ..Minute::default()
            });
        }
        while log
            .minutes
            .front()
            .is_some_and(|first| first.index <= index - i64::from(KEPT_MINUTES))
        {
            log.minutes.pop_front();
        }
        // An attempt dated before the newest minute (the clock went back) counts in the newest.
        if let Some(minute) = log.minutes.back_mut() {
            minute.requests += 1;
            minute.throttled += u64::from(end.throttled());
            minute.failed += u64::from(end.failed());
        }
        if end.throttled() || end.failed() {
            log.trouble_since.get_or_insert(at);
            if let AttemptEnd::Answered {
                request_id: Some(id),
                ..
            } = end
            {
                log.last_request_id = Some(id.clone());
            }
        } else {
            log.trouble_since = None;
        }
    }

    /// The counts of the `window_minutes` minutes up to `now` (at most [`KEPT_MINUTES`]).
    pub fn summary(&self, now: DateTime<Utc>, window_minutes: u32) -> TrafficSummary {
        let window_minutes = window_minutes.min(KEPT_MINUTES);
        let newest = now.timestamp().div_euclid(60);
        let oldest = newest - i64::from(window_minutes) + 1;
        let log = self.lock();
        let mut summary = TrafficSummary {
            window_minutes,
            trouble_since: log.trouble_since,
            last_request_id: log.last_request_id.clone(),
            ..TrafficSummary::default()
        };
        for minute in log.minutes.iter().filter(|m| m.index >= oldest) {
            summary.requests += minute.requests;
            summary.throttled += minute.throttled;
            summary.failed += minute.failed;
        }
        summary
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use chrono::Duration;

    fn at(minutes: i64, seconds: i64) -> DateTime<Utc> {
        "2026-11-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + Duration::minutes(minutes)
            + Duration::seconds(seconds)
    }

    fn answered(status: u16, id: &str) -> AttemptEnd {
        AttemptEnd::Answered {
            status,
            request_id: Some(id.to_owned()),
        }
    }

    #[test]
    fn counts_by_kind_within_the_window_only() {
        let log = TrafficLog::default();
        log.record(at(0, 5), &answered(200, "a"));
        log.record(at(0, 6), &answered(429, "b"));
        log.record(at(30, 0), &answered(503, "c"));
        log.record(at(30, 1), &AttemptEnd::NoAnswer);
        log.record(at(31, 0), &answered(404, "d"));

        let all = log.summary(at(31, 30), 60);
        assert_eq!((all.requests, all.throttled, all.failed), (5, 1, 2));
        let recent = log.summary(at(31, 30), 10);
        assert_eq!(
            (recent.requests, recent.throttled, recent.failed),
            (3, 0, 2)
        );
        assert_eq!(recent.window_minutes, 10);
        assert_eq!(recent.last_request_id.as_deref(), Some("c"));
        assert_eq!(
            recent.trouble_since, None,
            "the 404 ended the run of trouble"
        );
    }

    #[test]
    fn trouble_since_is_the_start_of_the_current_run() {
        let log = TrafficLog::default();
        log.record(at(0, 0), &answered(503, "x"));
        log.record(at(1, 0), &answered(200, "ok"));
        log.record(at(2, 0), &answered(429, "y"));
        log.record(at(3, 0), &AttemptEnd::NoAnswer);
        let summary = log.summary(at(3, 0), 60);
        assert_eq!(summary.trouble_since, Some(at(2, 0)));
        assert_eq!(summary.last_request_id.as_deref(), Some("y"));
    }

    #[test]
    fn minutes_older_than_the_kept_hour_are_dropped() {
        let log = TrafficLog::default();
        log.record(at(0, 0), &answered(500, "old"));
        log.record(at(61, 0), &answered(200, "new"));
        let summary = log.summary(at(61, 0), 600);
        assert_eq!(summary.window_minutes, KEPT_MINUTES);
        assert_eq!((summary.requests, summary.failed), (1, 0));
    }
}
