//! Graph's opinion of each notification endpoint (graph-facts §3.5), tracked per host of the
//! notification URL so every subscription sharing a host shares the penalty: over a rolling
//! 10-minute window, more than 10 % slow responses put the host in the *delay* state (new
//! notifications go out 10 minutes late), more than 15 % in the *drop* state (new notifications
//! are dropped for 10 minutes, then the host is probed again).
//!
//! A response is slow when it took over 2,900 ms or never came. Judging needs at least
//! [`MIN_SAMPLES`] responses in the window: Microsoft's older text said 100, which a demo tenant
//! never reaches; 20 keeps demos responsive while one slow answer in a quiet hour still cannot
//! penalize a host. Connection failures are not responses and do not count either way.
//!
//! Pure bookkeeping over simulated time: no I/O, no clock reads.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

/// The rolling window over which responses are judged.
pub const WINDOW: Duration = Duration::minutes(10);

/// How long a delay or drop state lasts before the host is judged again.
pub const PENALTY: Duration = Duration::minutes(10);

/// Responses slower than this count as slow.
pub const SLOW_RESPONSE_MS: u64 = 2_900;

/// Above this share of slow responses, new notifications are delayed.
pub const DELAY_ABOVE: f64 = 0.10;

/// Above this share of slow responses, new notifications are dropped.
pub const DROP_ABOVE: f64 = 0.15;

/// Fewest responses in the window before a host is judged at all.
pub const MIN_SAMPLES: usize = 20;

/// What the counts in a window say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Deliver normally.
    Healthy,
    /// Delay new notifications.
    Delay,
    /// Drop new notifications.
    Drop,
}

/// Judges `slow` slow responses out of `total`.
pub fn judge(total: usize, slow: usize) -> Verdict {
    if total < MIN_SAMPLES || total == 0 {
        return Verdict::Healthy;
    }
    let share = slow as f64 / total as f64;
    if share > DROP_ABOVE {
        Verdict::Drop
    } else if share > DELAY_ABOVE {
        Verdict::Delay
    } else {
        Verdict::Healthy
    }
}

/// A host's state at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthState {
    /// Deliver normally.
    Healthy,
    /// New notifications go out [`PENALTY`] late, until `until`.
    Delaying {
        /// End of the penalty.
        until: DateTime<Utc>,
    },
    /// New notifications are dropped until `until`.
    Dropping {
        /// End of the penalty.
        until: DateTime<Utc>,
    },
}

/// One host's recent responses and current penalty.
#[derive(Debug, Default)]
pub struct EndpointHealth {
    samples: VecDeque<(DateTime<Utc>, bool)>,
    penalty: Option<HealthState>,
}

impl EndpointHealth {
    /// Notes a response (or a missing one) seen at `at`.
    pub fn record(&mut self, at: DateTime<Utc>, slow: bool) {
        self.samples.push_back((at, slow));
    }

    /// The state at `now`: a running penalty, else a fresh judgement of the window.
    pub fn state(&mut self, now: DateTime<Utc>) -> HealthState {
        while self
            .samples
            .front()
            .is_some_and(|(at, _)| *at <= now - WINDOW)
        {
            self.samples.pop_front();
        }
        if let Some(penalty) = self.penalty {
            let until = match penalty {
                HealthState::Delaying { until } | HealthState::Dropping { until } => until,
                HealthState::Healthy => now,
            };
            if until > now {
                return penalty;
            }
            self.penalty = None;
        }
        let slow = self.samples.iter().filter(|(_, slow)| *slow).count();
        let until = now + PENALTY;
        let state = match judge(self.samples.len(), slow) {
            Verdict::Healthy => return HealthState::Healthy,
            Verdict::Delay => HealthState::Delaying { until },
            Verdict::Drop => HealthState::Dropping { until },
        };
        self.penalty = Some(state);
        state
    }
}

/// Every host's health.
#[derive(Debug, Default)]
pub struct HealthBook {
    hosts: HashMap<String, EndpointHealth>,
}

impl HealthBook {
    /// Notes a response for the host of `url`.
    pub fn record(&mut self, url: &str, at: DateTime<Utc>, slow: bool) {
        self.hosts.entry(host_of(url)).or_default().record(at, slow);
    }

    /// The state of the host of `url` at `now` (logs when it changes).
    pub fn state(&mut self, url: &str, now: DateTime<Utc>) -> HealthState {
        let host = host_of(url);
        let health = self.hosts.entry(host.clone()).or_default();
        let before = health.penalty;
        let state = health.state(now);
        if before != health.penalty {
            match state {
                HealthState::Healthy => {
                    tracing::info!(%host, "notification endpoint judged healthy again");
                }
                HealthState::Delaying { until } => {
                    tracing::warn!(%host, %until, "notification endpoint slow: delaying new notifications");
                }
                HealthState::Dropping { until } => {
                    tracing::warn!(%host, %until, "notification endpoint too slow: dropping new notifications");
                }
            }
        }
        state
    }
}

/// The host part of a notification URL (lower case), or the whole text when it does not parse.
pub fn host_of(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|parsed| parsed.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_else(|| url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn judgement_needs_enough_samples_and_uses_strict_thresholds() {
        assert_eq!(judge(0, 0), Verdict::Healthy);
        assert_eq!(judge(MIN_SAMPLES - 1, MIN_SAMPLES - 1), Verdict::Healthy);
        assert_eq!(
            judge(100, 10),
            Verdict::Healthy,
            "exactly 10 % is not more than 10 %"
        );
        assert_eq!(judge(100, 11), Verdict::Delay);
        assert_eq!(
            judge(100, 15),
            Verdict::Delay,
            "exactly 15 % is not more than 15 %"
        );
        assert_eq!(judge(100, 16), Verdict::Drop);
        assert_eq!(judge(20, 20), Verdict::Drop);
    }

    #[test]
    fn a_slow_host_is_delayed_then_dropped_then_probed_again() {
        let t0 = at("2026-11-22T08:00:00Z");
        let mut health = EndpointHealth::default();
        for i in 0..18 {
            health.record(t0 + Duration::seconds(i), false);
        }
        health.record(t0 + Duration::seconds(18), true);
        health.record(t0 + Duration::seconds(19), true);
        // 2 of 20 = 10 %: not more than 10 %.
        assert_eq!(
            health.state(t0 + Duration::seconds(20)),
            HealthState::Healthy
        );

        health.record(t0 + Duration::seconds(21), true);
        // 3 of 21 ≈ 14 %: delay for ten minutes.
        let now = t0 + Duration::seconds(22);
        let delaying = HealthState::Delaying {
            until: now + PENALTY,
        };
        assert_eq!(health.state(now), delaying);
        health.record(now, true);
        health.record(now, true);
        assert_eq!(
            health.state(now + Duration::minutes(5)),
            delaying,
            "a penalty runs its course"
        );

        // Every sample behind the penalty has aged out of the window: healthy again.
        let later = now + PENALTY;
        assert_eq!(health.state(later), HealthState::Healthy);

        // Twenty responses, four slow (20 %): drop.
        for i in 0..16 {
            health.record(later + Duration::seconds(i), false);
        }
        for i in 16..20 {
            health.record(later + Duration::seconds(i), true);
        }
        let judged = later + Duration::seconds(30);
        let dropping = HealthState::Dropping {
            until: judged + PENALTY,
        };
        assert_eq!(health.state(judged), dropping);
        assert_eq!(health.state(judged + Duration::minutes(9)), dropping);
        // Nothing is sent while dropping, so after the penalty the window is empty: probe.
        assert_eq!(health.state(judged + PENALTY), HealthState::Healthy);
    }

    #[test]
    fn hosts_are_tracked_separately_and_share_state_across_paths_and_ports() {
        let t0 = at("2026-11-22T08:00:00Z");
        let mut book = HealthBook::default();
        for i in 0..20 {
            book.record(
                "https://slow.example/a?x=1",
                t0 + Duration::seconds(i),
                true,
            );
        }
        let now = t0 + Duration::seconds(30);
        assert!(matches!(
            book.state("https://SLOW.example:8443/other", now),
            HealthState::Dropping { .. }
        ));
        assert_eq!(
            book.state("https://fast.example/a", now),
            HealthState::Healthy
        );
        assert_eq!(host_of("not a url"), "not a url");
    }
}
