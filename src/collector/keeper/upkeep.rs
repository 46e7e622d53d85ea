//! Keeping a subscription alive and reacting to Graph: scheduled renewals (PATCH), answers to
//! lifecycle notifications (`reauthorizationRequired` → one PATCH; `subscriptionRemoved` →
//! recreate and backfill; `missed` → backfill), gap requests to the poller, and the backoff
//! after failures.
//!
//! Part of the keeper; uses its seams and `api`, never the poller's internals.

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::orders::Origin;
use super::plan::{self, ChallengeResponse};
use super::units::Units;
use super::{Keeper, Tracker, span};
use super::{api, failure, spacing};
use crate::clock::stamp;
use crate::collector::poller::{Gap, GapReason};
use crate::graph::model::LifecycleEvent;
use crate::receiver::LifecycleSignal;
use crate::store::records::{
    KeeperAction, KeeperFailure, Outcome, SubscriptionRecord, SubscriptionState,
    lifecycle_event_name,
};

/// How a renewal went.
#[derive(Debug)]
pub(super) enum Renewal {
    /// Graph granted a new expiry; `due` is the next planned renewal.
    Renewed {
        record: SubscriptionRecord,
        due: DateTime<Utc>,
    },
    /// Graph answered 404: the subscription is gone and is being recreated.
    Lost(KeeperFailure),
    /// Graph refused or failed; `why` is the recorded message.
    Failed { failure: KeeperFailure, why: String },
    /// The unit keeps no subscription (nothing was sent).
    NoSubscription,
}

impl Keeper {
    /// PATCH a new expiry (on schedule, answering a challenge, or on an operator's order).
    /// A failure of the plan's renewal is retried with backoff; an operator's is only
    /// recorded and answered (the plan's own renewal stays as scheduled).
    pub(super) async fn renew(
        &self,
        action: KeeperAction,
        origin: Origin,
        tracker: &mut Tracker,
    ) -> Renewal {
        let Some(mut record) = tracker.current.clone() else {
            return Renewal::NoSubscription;
        };
        let expiry = self.options.requested_expiry(self.clock.now());
        match api::renew(&self.graph, &record.id, expiry).await {
            Ok(renewed) => {
                record.expires_at = renewed.expiration_date_time;
                record.last_renewed_at = Some(self.clock.now());
                self.save(&record);
                let due = self.schedule(&record);
                self.note(
                    action,
                    Outcome::Succeeded,
                    format!(
                        "{}renewed subscription {} (which also reauthorizes it) until {}; next renewal due {}",
                        origin.prefix(),
                        record.id,
                        stamp(record.expires_at),
                        stamp(due)
                    ),
                );
                tracker.failures = 0;
                tracker.next_at = due;
                tracker.current = Some(record.clone());
                Renewal::Renewed { record, due }
            }
            Err(error) if error.status() == Some(404) => {
                let failure = failure::classify(&error);
                self.lost(
                    record,
                    tracker,
                    "answered 404 to the renewal: it expired or was removed",
                );
                Renewal::Lost(failure)
            }
            Err(error) => {
                let failure = failure::classify(&error);
                let why = format!(
                    "{}cannot renew subscription {} (expiring {}): {error}",
                    origin.prefix(),
                    record.id,
                    stamp(record.expires_at)
                );
                match origin {
                    Origin::Plan => self.fail(tracker, action, Some(failure.clone()), why.clone()),
                    Origin::Operator => {
                        self.note_with(action, Outcome::Failed, Some(failure.clone()), why.clone());
                    }
                }
                Renewal::Failed { failure, why }
            }
        }
    }

    /// Acts on one lifecycle notification, for the unit keeping its subscription.
    pub(super) async fn on_lifecycle(&self, signal: LifecycleSignal, units: &mut Units) {
        if signal.profile != self.profile.name {
            tracing::debug!(profile = %signal.profile, "lifecycle signal for another profile ignored");
            return;
        }
        self.note_lifecycle(
            &signal,
            format!(
                "Graph sent {} for subscription {}",
                lifecycle_event_name(signal.event),
                signal.subscription_id
            ),
        );
        let Some(tracker) = units.by_subscription(&signal.subscription_id) else {
            self.on_unknown_lifecycle(&signal);
            return;
        };
        let Some(record) = tracker.current.clone() else {
            return;
        };
        match signal.event {
            LifecycleEvent::ReauthorizationRequired => {
                match plan::challenge_response(&record, self.clock.now()) {
                    ChallengeResponse::Patch => {
                        self.renew(KeeperAction::Reauthorize, Origin::Plan, tracker)
                            .await;
                    }
                    ChallengeResponse::Skip(why) => self.note(
                        KeeperAction::Reauthorize,
                        Outcome::Skipped,
                        format!("no PATCH for subscription {}: {why}", record.id),
                    ),
                }
            }
            LifecycleEvent::SubscriptionRemoved => {
                self.lost(
                    record,
                    tracker,
                    "was removed by Graph (subscriptionRemoved)",
                );
            }
            LifecycleEvent::Missed => {
                let now = self.clock.now();
                let from = self
                    .gap_from(record.created_at)
                    .min(now - self.options.missed_lookback)
                    .max(record.created_at - self.options.gap_overlap);
                self.request_gap(from, GapReason::Missed);
            }
            LifecycleEvent::Unknown => self.note(
                KeeperAction::Reauthorize,
                Outcome::Skipped,
                format!(
                    "unknown lifecycle event for subscription {}; nothing to do",
                    record.id
                ),
            ),
        }
    }

    /// A lifecycle notification for a subscription no unit keeps: a removal is noted in the
    /// registry, anything else is recorded as ignored.
    fn on_unknown_lifecycle(&self, signal: &LifecycleSignal) {
        if signal.event == LifecycleEvent::SubscriptionRemoved {
            if let Ok(Some(mut old)) = self.store.subscription(&signal.subscription_id)
                && old.profile == self.profile.name
                && old.state == SubscriptionState::Active
            {
                old.state = SubscriptionState::Removed;
                self.save(&old);
            }
            return;
        }
        self.note(
            KeeperAction::Reauthorize,
            Outcome::Skipped,
            format!(
                "{} for {} ignored: it is not a subscription pilotwatch keeps for profile {}",
                lifecycle_event_name(signal.event),
                signal.subscription_id,
                self.profile.name
            ),
        );
    }

    /// The subscription is gone: mark it, create a new one at once, backfill afterwards.
    pub(super) fn lost(&self, mut record: SubscriptionRecord, tracker: &mut Tracker, why: &str) {
        record.state = SubscriptionState::Removed;
        self.save(&record);
        let from = self.gap_from(record.created_at);
        self.note(
            KeeperAction::Create,
            Outcome::Skipped,
            format!(
                "subscription {} {why}; creating a new one now, then backfilling from {from}",
                record.id
            ),
        );
        tracker.current = None;
        tracker.pending_gap = Some((from, GapReason::SubscriptionRemoved));
        tracker.next_at = self.clock.now();
    }

    /// Asks the poller to backfill `[from, now)`; never blocks the keeper.
    pub(super) fn request_gap(&self, from: DateTime<Utc>, reason: GapReason) {
        let gap = Gap {
            from,
            to: self.clock.now(),
            reason,
        };
        let message = format!(
            "asked the poller to backfill {} to {} ({reason})",
            gap.from, gap.to
        );
        match self.gaps.try_send(gap) {
            Ok(()) => self.note(KeeperAction::RequestBackfill, Outcome::Succeeded, message),
            Err(mpsc::error::TrySendError::Full(gap)) => {
                // The poller is busy: hand the gap over as soon as it takes one, without
                // holding up renewals.
                let gaps = self.gaps.clone();
                tokio::spawn(async move {
                    let _ = gaps.send(gap).await;
                });
                self.note(KeeperAction::RequestBackfill, Outcome::Succeeded, message);
            }
            Err(mpsc::error::TrySendError::Closed(_)) => self.note(
                KeeperAction::RequestBackfill,
                Outcome::Failed,
                format!("{message}: no poller is running for this profile"),
            ),
        }
    }

    /// Where a backfill after losing a subscription created at `fallback` starts.
    pub(super) fn gap_from(&self, fallback: DateTime<Utc>) -> DateTime<Utc> {
        let last = self
            .store
            .last_notification_at(&self.profile.name)
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot read the last notification time; backfilling from the subscription's creation");
                None
            });
        plan::gap_start(last, fallback, self.options.gap_overlap, self.clock.now())
    }

    /// A failed action: count it, schedule the retry, record both (and keep the failure for
    /// whoever waits on the unit's outcome).
    /// `failure` is Graph's answer typed, when Graph's answer is why.
    pub(super) fn fail(
        &self,
        tracker: &mut Tracker,
        action: KeeperAction,
        failure: Option<KeeperFailure>,
        why: String,
    ) {
        tracker.failures = tracker.failures.saturating_add(1);
        tracker.last_failure.clone_from(&failure);
        let wait = self.options.backoff(tracker.failures, &mut rand::rng());
        tracker.next_at = self.clock.now() + wait;
        self.note_with(
            action,
            Outcome::Failed,
            failure,
            format!(
                "{why}; retrying in {} (failure {} in a row)",
                span(wait),
                tracker.failures
            ),
        );
    }

    /// The next renewal of `record`.
    pub(super) fn schedule(&self, record: &SubscriptionRecord) -> DateTime<Utc> {
        let fraction = self.options.renewal_fraction(&mut rand::rng());
        let due = plan::renewal_due(plan::lifetime_base(record), record.expires_at, fraction);
        spacing::renewal_after_reauthorize(record, due)
    }
}
