//! Key encodings. Every key is big-endian so that sled's byte order is the order the store
//! needs: time order for the logs (`time ++ sequence`), creation order for the interaction
//! index (`created_at ++ id`), minute order for latency and rejection counters.
//!
//! Times are nanoseconds since the epoch as an `i64` with the sign bit flipped, which maps the
//! signed range onto unsigned bytes without changing order. Depends on chrono only.

use chrono::{DateTime, TimeZone as _, Utc};

use super::error::StoreError;

/// Length of an encoded time.
pub(crate) const TIME_LEN: usize = 8;

const SIGN: u64 = 1 << 63;

/// The order-preserving encoding of `at`.
pub(crate) fn time(at: DateTime<Utc>) -> Result<[u8; TIME_LEN], StoreError> {
    let nanos = at
        .timestamp_nanos_opt()
        .ok_or_else(|| StoreError::TimeOutOfRange {
            at: at.to_rfc3339(),
        })?;
    Ok(((nanos as u64) ^ SIGN).to_be_bytes())
}

/// Like [`time`], but clamps out-of-range times to the first or last representable instant.
/// For range bounds, where "everything before 3000" is a sensible question.
pub(crate) fn time_bound(at: DateTime<Utc>) -> [u8; TIME_LEN] {
    time(at).unwrap_or(if at.timestamp() < 0 {
        [0; TIME_LEN]
    } else {
        [0xff; TIME_LEN]
    })
}

/// Decodes the leading time of a key.
pub(crate) fn time_of(key: &[u8]) -> Option<DateTime<Utc>> {
    let bytes: [u8; TIME_LEN] = key.get(..TIME_LEN)?.try_into().ok()?;
    let nanos = (u64::from_be_bytes(bytes) ^ SIGN) as i64;
    Some(Utc.timestamp_nanos(nanos))
}

/// `time ++ sequence`: log keys, unique even for equal times.
pub(crate) fn time_sequence(at: DateTime<Utc>, sequence: u64) -> Result<[u8; 16], StoreError> {
    let mut key = [0; 16];
    key[..TIME_LEN].copy_from_slice(&time(at)?);
    key[TIME_LEN..].copy_from_slice(&sequence.to_be_bytes());
    Ok(key)
}

/// `time ++ suffix`: index keys.
pub(crate) fn time_then(at: DateTime<Utc>, suffix: &[u8]) -> Result<Vec<u8>, StoreError> {
    let mut key = Vec::with_capacity(TIME_LEN + suffix.len());
    key.extend_from_slice(&time(at)?);
    key.extend_from_slice(suffix);
    Ok(key)
}

/// The start of the minute holding `at`.
pub(crate) fn minute_floor(at: DateTime<Utc>) -> DateTime<Utc> {
    let seconds = at.timestamp().div_euclid(60) * 60;
    Utc.timestamp_opt(seconds, 0).single().unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn byte_order_is_time_order_across_the_epoch() {
        let times = [
            at("1900-01-01T00:00:00Z"),
            at("1969-12-31T23:59:59.999999999Z"),
            at("1970-01-01T00:00:00Z"),
            at("2026-11-22T08:00:00Z"),
            at("2026-11-22T08:00:00.000000001Z"),
        ];
        let keys: Vec<_> = times.iter().map(|t| time(*t).unwrap()).collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        for (t, key) in times.iter().zip(&keys) {
            assert_eq!(time_of(key), Some(*t));
        }
    }

    #[test]
    fn sequences_break_ties_and_round_trip() {
        let t = at("2026-11-22T08:00:00Z");
        let (a, b) = (time_sequence(t, 1).unwrap(), time_sequence(t, 2).unwrap());
        assert!(a < b);
        assert_eq!(time_of(&b), Some(t));
    }

    #[test]
    fn out_of_range_times_are_refused_or_clamped() {
        let far = at("2300-01-01T00:00:00Z");
        assert!(matches!(time(far), Err(StoreError::TimeOutOfRange { .. })));
        assert_eq!(time_bound(far), [0xff; TIME_LEN]);
        assert_eq!(time_bound(at("1000-01-01T00:00:00Z")), [0; TIME_LEN]);
        assert_eq!(time_of(&[1, 2]), None);
    }

    #[test]
    fn minutes_round_down() {
        assert_eq!(
            minute_floor(at("2026-11-22T08:07:59.9Z")),
            at("2026-11-22T08:07:00Z")
        );
        assert_eq!(
            minute_floor(at("1969-12-31T23:59:30Z")),
            at("1969-12-31T23:59:00Z")
        );
    }
}
