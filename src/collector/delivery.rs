//! What the receiver saw, per profile, kept per minute of the injected clock for the last hour
//! so diagnosis can be asked at any moment without scanning the notification log: items
//! received, accepted and rejected by reason, validation-token failures by check, decryption
//! failures by step, our time to acknowledge (and how many took longer than Graph's slow line),
//! and notification latency. Fed with every notification record as it is committed, and
//! seeded from the log at start-up.
//!
//! Depends on the store's record types, `diagnose::facts` (what it produces) and
//! hdrhistogram; no I/O.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use chrono::{DateTime, Utc};
use hdrhistogram::Histogram;

use crate::diagnose::facts::{DeliveryFacts, Spread};
use crate::diagnose::thresholds::GRAPH_SLOW_ACK_SECONDS;
use crate::store::records::{
    DecryptFailure, DecryptVerdict, NotificationRecord, RejectReason, TokenRejection, TokenVerdict,
};

/// Minutes kept.
pub const KEPT_MINUTES: u32 = 60;

/// Graph judges slowness over 10 minutes (graph-facts §3.5).
const SLOW_WINDOW_MINUTES: u32 = 10;

/// Largest duration the histograms hold, in milliseconds (a day; longer ones are clamped).
const MAX_TRACKED_MS: u64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone)]
struct Minute {
    index: i64,
    received: u64,
    accepted: u64,
    rejected: BTreeMap<RejectReason, u64>,
    token_failures: BTreeMap<TokenRejection, u64>,
    decrypt_failures: BTreeMap<DecryptFailure, u64>,
    unknown_certificates: BTreeSet<String>,
    acks: u64,
    slow_acks: u64,
    ack_ms: Option<Histogram<u32>>,
    latency_ms: Option<Histogram<u32>>,
}

impl Minute {
    fn new(index: i64) -> Self {
        Self {
            index,
            received: 0,
            accepted: 0,
            rejected: BTreeMap::new(),
            token_failures: BTreeMap::new(),
            decrypt_failures: BTreeMap::new(),
            unknown_certificates: BTreeSet::new(),
            acks: 0,
            slow_acks: 0,
            ack_ms: None,
            latency_ms: None,
        }
    }
}

/// One profile's delivery, minute by minute.
#[derive(Debug, Clone, Default)]
pub struct DeliveryStats {
    minutes: VecDeque<Minute>,
    last_received_at: Option<DateTime<Utc>>,
    last_accepted_at: Option<DateTime<Utc>>,
}

impl DeliveryStats {
    /// Counts one notification record (one per item, or one per reason for a batch refused in
    /// part; `items` says how many it stands for), in the minute it was received.
    pub fn record(&mut self, record: &NotificationRecord) {
        let items = u64::from(record.items.max(1));
        self.last_received_at = self.last_received_at.max(Some(record.received_at));
        if record.accepted {
            self.last_accepted_at = self.last_accepted_at.max(Some(record.received_at));
        }
        let Some(minute) = self.minute_for(record.received_at) else {
            return;
        };
        minute.received += items;
        if record.accepted {
            minute.accepted += items;
        }
        if let Some(reason) = record.rejected {
            *minute.rejected.entry(reason).or_default() += items;
        }
        if let TokenVerdict::Invalid { reason } = record.validation_tokens {
            *minute.token_failures.entry(reason).or_default() += items;
        }
        if let DecryptVerdict::Failed { reason } = record.decryption {
            *minute.decrypt_failures.entry(reason).or_default() += items;
        }
        if let Some(certificate) = &record.unknown_certificate {
            minute.unknown_certificates.insert(certificate.to_string());
        }
        if let Ok(ack_ms) = u64::try_from(record.ack_duration().num_milliseconds()) {
            minute.acks += items;
            if ack_ms as f64 > GRAPH_SLOW_ACK_SECONDS * 1000.0 {
                minute.slow_acks += items;
            }
            add(&mut minute.ack_ms, ack_ms, items);
        }
        if record.accepted
            && !record.duplicate
            && let Some(latency) = record.latency_ms.and_then(|ms| u64::try_from(ms).ok())
        {
            add(&mut minute.latency_ms, latency, 1);
        }
    }

    /// The facts of the last `window_minutes` (at most [`KEPT_MINUTES`]) up to `now`.
    pub fn facts(&self, now: DateTime<Utc>, window_minutes: u32) -> DeliveryFacts {
        let window_minutes = window_minutes.min(KEPT_MINUTES);
        let newest = minute_index(now);
        let in_window = |span: u32| {
            let oldest = newest - i64::from(span) + 1;
            self.minutes
                .iter()
                .filter(move |m| m.index >= oldest && m.index <= newest)
        };
        let mut facts = DeliveryFacts {
            window_minutes,
            received: 0,
            accepted: 0,
            rejected: BTreeMap::new(),
            token_failures: BTreeMap::new(),
            decrypt_failures: BTreeMap::new(),
            unknown_certificates: Vec::new(),
            current_certificate_id: None,
            last_received_at: self.last_received_at,
            last_accepted_at: self.last_accepted_at,
            ack: None,
            ack_slow_share: None,
            latency: None,
        };
        let mut ack: Option<Histogram<u32>> = None;
        let mut latency: Option<Histogram<u32>> = None;
        let mut unknown_certificates = BTreeSet::new();
        for minute in in_window(window_minutes) {
            unknown_certificates.extend(minute.unknown_certificates.iter().cloned());
            facts.received += minute.received;
            facts.accepted += minute.accepted;
            merge_counts(&mut facts.rejected, &minute.rejected);
            merge_counts(&mut facts.token_failures, &minute.token_failures);
            merge_counts(&mut facts.decrypt_failures, &minute.decrypt_failures);
            merge_histogram(&mut ack, minute.ack_ms.as_ref());
            merge_histogram(&mut latency, minute.latency_ms.as_ref());
        }
        let (acks, slow) = in_window(SLOW_WINDOW_MINUTES).fold((0, 0), |(acks, slow), m| {
            (acks + m.acks, slow + m.slow_acks)
        });
        facts.ack_slow_share = (acks > 0).then(|| slow as f64 / acks as f64);
        facts.ack = ack.as_ref().and_then(spread);
        facts.latency = latency.as_ref().and_then(spread);
        facts.unknown_certificates = unknown_certificates.into_iter().collect();
        facts
    }

    /// The bucket for `at`, creating it; `None` for a time older than the kept hour.
    fn minute_for(&mut self, at: DateTime<Utc>) -> Option<&mut Minute> {
        let index = minute_index(at);
        let newest = self.minutes.back().map_or(index, |m| m.index.max(index));
        while self
            .minutes
            .front()
            .is_some_and(|m| m.index <= newest - i64::from(KEPT_MINUTES))
        {
            self.minutes.pop_front();
        }
        if index <= newest - i64::from(KEPT_MINUTES) {
            return None;
        }
        let position = self.minutes.partition_point(|m| m.index < index);
        if self.minutes.get(position).is_none_or(|m| m.index != index) {
            self.minutes.insert(position, Minute::new(index));
        }
        self.minutes.get_mut(position)
    }
}

fn minute_index(at: DateTime<Utc>) -> i64 {
    at.timestamp().div_euclid(60)
}

fn add(histogram: &mut Option<Histogram<u32>>, value_ms: u64, count: u64) {
    if histogram.is_none() {
        *histogram = Histogram::new_with_bounds(1, MAX_TRACKED_MS, 2).ok();
    }
    if let Some(histogram) = histogram {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        histogram.saturating_record_n(value_ms.clamp(1, MAX_TRACKED_MS), count);
    }
}

fn merge_counts<K: Ord + Copy>(into: &mut BTreeMap<K, u64>, from: &BTreeMap<K, u64>) {
    for (key, count) in from {
        *into.entry(*key).or_default() += count;
    }
}

fn merge_histogram(into: &mut Option<Histogram<u32>>, from: Option<&Histogram<u32>>) {
    let Some(from) = from else {
        return;
    };
    match into {
        Some(into) => {
            // Same bounds on both sides, so adding cannot fail; a failure would only lose
            // samples from a diagnostic figure.
            let _ = into.add(from);
        }
        None => *into = Some(from.clone()),
    }
}

/// Percentiles in seconds; `None` for an empty histogram.
fn spread(histogram: &Histogram<u32>) -> Option<Spread> {
    let count = histogram.len();
    (count > 0).then(|| {
        let seconds = |ms: u64| ms as f64 / 1000.0;
        Spread {
            count,
            p50: seconds(histogram.value_at_quantile(0.50)),
            p95: seconds(histogram.value_at_quantile(0.95)),
            p99: seconds(histogram.value_at_quantile(0.99)),
            max: seconds(histogram.max()),
            mean: histogram.mean() / 1000.0,
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::store::records::Check;
    use chrono::Duration;

    fn t(minutes: i64, seconds: i64) -> DateTime<Utc> {
        "2026-11-22T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
            + Duration::minutes(minutes)
            + Duration::seconds(seconds)
    }

    fn accepted(at: DateTime<Utc>, ack_ms: i64, latency_ms: i64) -> NotificationRecord {
        NotificationRecord {
            received_at: at,
            acked_at: at + Duration::milliseconds(ack_ms),
            ack_ms: None,
            processed_at: at,
            profile: "p".into(),
            subscription_id: "s".into(),
            tenant_id: None,
            change_type: None,
            resource: None,
            client_state: Check::Ok,
            validation_tokens: TokenVerdict::Valid,
            decryption: DecryptVerdict::Ok,
            interaction_id: Some("i".into()),
            created_at: Some(at - Duration::milliseconds(latency_ms)),
            latency_ms: Some(latency_ms),
            duplicate: false,
            accepted: true,
            rejected: None,
            items: 1,
            unknown_certificate: None,
        }
    }

    fn rejected(at: DateTime<Utc>, reason: RejectReason, items: u32) -> NotificationRecord {
        NotificationRecord {
            accepted: false,
            rejected: Some(reason),
            items,
            latency_ms: None,
            validation_tokens: if reason == RejectReason::TokensInvalid {
                TokenVerdict::Invalid {
                    reason: TokenRejection::WrongAudience,
                }
            } else {
                TokenVerdict::Null
            },
            decryption: DecryptVerdict::Skipped,
            ..accepted(at, 5, 0)
        }
    }

    #[test]
    fn counts_by_outcome_within_the_window() {
        let mut stats = DeliveryStats::default();
        stats.record(&accepted(t(0, 0), 5, 4_000));
        stats.record(&rejected(t(0, 30), RejectReason::TokensNull, 3));
        stats.record(&rejected(t(50, 0), RejectReason::TokensInvalid, 1));
        stats.record(&accepted(t(55, 0), 3_500, 8_000));

        let hour = stats.facts(t(55, 10), 60);
        assert_eq!((hour.received, hour.accepted), (6, 2));
        assert_eq!(hour.rejected[&RejectReason::TokensNull], 3);
        assert_eq!(hour.token_failures[&TokenRejection::WrongAudience], 1);
        assert_eq!(hour.last_accepted_at, Some(t(55, 0)));
        let latency = hour.latency.unwrap();
        assert_eq!(latency.count, 2);
        assert!((7.9..=8.1).contains(&latency.max), "{latency:?}");

        let recent = stats.facts(t(55, 10), 10);
        assert_eq!((recent.received, recent.accepted), (2, 1));
        // Of the two acknowledgements in the last 10 minutes, one was past 2.9 s.
        assert_eq!(recent.ack_slow_share, Some(0.5));
    }

    #[test]
    fn the_acknowledgement_is_judged_in_real_time_when_it_was_measured() {
        // Under the simulator at 60x, a real 50 ms acknowledgement spans 3 s of its clock:
        // Graph times the response in real time, so the measured 50 ms is what counts.
        let mut stats = DeliveryStats::default();
        let stretched = NotificationRecord {
            ack_ms: Some(50),
            ..accepted(t(0, 0), 3_000, 1_000)
        };
        stats.record(&stretched);
        let facts = stats.facts(t(1, 0), 10);
        assert_eq!(facts.ack_slow_share, Some(0.0));
        let ack = facts.ack.unwrap();
        assert!((0.049..=0.051).contains(&ack.p95), "{ack:?}");
        // An entry acknowledged by an earlier run has no measurement: the clock span stands in.
        stats.record(&accepted(t(0, 10), 3_000, 1_000));
        assert_eq!(stats.facts(t(1, 0), 10).ack_slow_share, Some(0.5));
    }

    #[test]
    fn certificates_we_hold_no_key_for_are_named_once_within_the_window() {
        use crate::store::records::CertificateRef;
        let unknown = |at, id: &str, thumbprint: Option<&str>| NotificationRecord {
            decryption: DecryptVerdict::Failed {
                reason: DecryptFailure::UnknownCertificate,
            },
            unknown_certificate: Some(CertificateRef {
                id: id.into(),
                thumbprint: thumbprint.map(Into::into),
            }),
            ..rejected(at, RejectReason::DecryptFailed, 1)
        };
        let mut stats = DeliveryStats::default();
        stats.record(&unknown(t(0, 0), "pilotwatch-2024", None));
        stats.record(&unknown(t(50, 0), "pilotwatch-2025", Some("9F3AC2")));
        stats.record(&unknown(t(51, 0), "pilotwatch-2025", Some("9F3AC2")));

        let hour = stats.facts(t(55, 0), 60);
        assert_eq!(
            hour.unknown_certificates,
            ["pilotwatch-2024", "pilotwatch-2025 / 9F3AC2"]
        );
        assert_eq!(
            hour.decrypt_failures[&DecryptFailure::UnknownCertificate],
            3
        );
        let recent = stats.facts(t(55, 0), 10);
        assert_eq!(recent.unknown_certificates, ["pilotwatch-2025 / 9F3AC2"]);
    }

    #[test]
    fn minutes_older_than_the_hour_are_forgotten_and_late_records_are_ignored() {
        let mut stats = DeliveryStats::default();
        stats.record(&accepted(t(0, 0), 5, 100));
        stats.record(&accepted(t(90, 0), 5, 100));
        stats.record(&accepted(t(10, 0), 5, 100));
        let facts = stats.facts(t(90, 0), 60);
        assert_eq!(facts.received, 1);
        assert_eq!(stats.minutes.len(), 1);
    }

    #[test]
    fn records_out_of_order_land_in_their_own_minute() {
        let mut stats = DeliveryStats::default();
        stats.record(&accepted(t(5, 0), 5, 100));
        stats.record(&accepted(t(3, 0), 5, 100));
        stats.record(&accepted(t(4, 0), 5, 100));
        let indexes: Vec<i64> = stats.minutes.iter().map(|m| m.index).collect();
        assert!(indexes.windows(2).all(|w| w[0] < w[1]), "{indexes:?}");
        assert_eq!(stats.facts(t(5, 0), 2).received, 2);
    }

    #[test]
    fn nothing_seen_has_no_spread_and_no_share() {
        let facts = DeliveryStats::default().facts(t(0, 0), 60);
        assert_eq!(
            (facts.received, facts.ack, facts.ack_slow_share),
            (0, None, None)
        );
    }
}
