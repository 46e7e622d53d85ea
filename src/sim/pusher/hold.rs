//! Holding change notifications of subscriptions Graph is not authorized to notify
//! (graph-facts §3.5, §3.6): Graph's access token for a subscription's endpoint lasts about an
//! hour and is refreshed by creation, renewal (PATCH) and `reauthorize`; when it lapses, or the
//! admin revokes the export permission, notifications stop without any throttling penalty and
//! are retried for up to four hours, so reauthorizing in time recovers them (late). After that
//! they are lost and recorded as dropped.
//!
//! Part of the pusher's loop (`impl Pusher`); asks `lifecycle::is_authorized` whether a
//! subscription may be notified.

use chrono::{DateTime, Duration, Utc};

use super::{PendingChange, Pusher, Work};
use crate::sim::ledger::DeliveryKind;
use crate::sim::lifecycle::is_authorized;

/// How long held notifications wait for a reauthorization, from when they were due.
pub const REAUTHORIZATION_HOLD: Duration = Duration::hours(4);

/// What to do with a held notification now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Authorized again: send.
    Release,
    /// Still waiting.
    Keep,
    /// Lost: the reason to record.
    Drop(String),
}

/// The verdict for a notification due at `due`, whose subscription is `authorized` (or gone:
/// `None`), at `now`.
pub fn verdict(authorized: Option<bool>, due: DateTime<Utc>, now: DateTime<Utc>) -> Verdict {
    match authorized {
        None => Verdict::Drop(
            "the subscription was deleted or expired while its notifications were held".into(),
        ),
        Some(true) => Verdict::Release,
        Some(false) if now > due + REAUTHORIZATION_HOLD => Verdict::Drop(format!(
            "subscription not reauthorized within {} h of the notification being due: dropped",
            REAUTHORIZATION_HOLD.num_hours()
        )),
        Some(false) => Verdict::Keep,
    }
}

impl Pusher {
    /// Releases held notifications whose subscription is authorized again and drops those
    /// held too long.
    pub(super) fn review_held(&mut self, now: DateTime<Utc>) {
        if self.held.is_empty() {
            return;
        }
        let scenario = self.state.scenario();
        let decided: Vec<(PendingChange, Verdict)> = {
            let registry = self.state.registry();
            std::mem::take(&mut self.held)
                .into_iter()
                .map(|pending| {
                    let authorized = registry
                        .get(&pending.subscription_id, now)
                        .map(|record| is_authorized(record, &scenario, now));
                    let verdict = verdict(authorized, pending.due, now);
                    (pending, verdict)
                })
                .collect()
        };
        for (pending, verdict) in decided {
            match verdict {
                Verdict::Release => self.queue.push(now, Work::Change(pending)),
                Verdict::Keep => self.held.push(pending),
                Verdict::Drop(reason) => self.record_dropped(
                    DeliveryKind::Change,
                    &pending.url,
                    1,
                    vec![pending.subscription_id],
                    vec![pending.generated.interaction.id.clone()],
                    reason,
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_notifications_are_released_kept_or_dropped_after_four_hours() {
        let due: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        assert_eq!(
            verdict(Some(true), due, due + Duration::hours(3)),
            Verdict::Release
        );
        assert_eq!(
            verdict(Some(false), due, due + Duration::hours(4)),
            Verdict::Keep
        );
        let Verdict::Drop(reason) = verdict(Some(false), due, due + Duration::minutes(241)) else {
            panic!("not dropped after four hours");
        };
        assert!(reason.contains("not reauthorized"), "{reason}");
        assert!(matches!(verdict(None, due, due), Verdict::Drop(_)));
    }
}
