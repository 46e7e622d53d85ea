//! Carrying out an operator's order in the keeper's own task: renew (one PATCH), reauthorize
//! (`POST /subscriptions/{id}/reauthorize`, graph-facts §3.2) or recreate (delete, create with
//! the current certificate and lifecycle URL, backfill the gap — what a certificate rotation
//! does, `rotate`). The subscription id selects the unit, so in per-user scope an order acts on
//! exactly one user's subscription.
//!
//! Bad input changes nothing and reaches no Graph endpoint: an id no unit keeps is refused from
//! what the keeper holds and the registry says of it (another profile's, retired, unknown), and
//! an order the 10-minute rule forbids (`spacing`) is refused with the time it would be
//! accepted. Every action is recorded as the keeper records its own, its message saying it was
//! the operator's; the plan then carries on from the new state (a renewal reschedules, a
//! reauthorize pushes the next PATCH past the spacing).
//!
//! Part of the keeper; uses its seams, `api`, `establish` and `upkeep`, never the poller's
//! internals.

use super::orders::Origin;
use super::orders::{Order, OrderKind};
use super::units::Units;
use super::upkeep::Renewal;
use super::{Endpoints, Keeper, Tracker};
use super::{api, failure, spacing};
use crate::clock::stamp;
use crate::collector::command::{ActionReport, CollectorCommandError};
use crate::collector::poller::GapReason;
use crate::store::records::{
    KeeperAction, KeeperFailure, KeeperFailureKind, Outcome, SubscriptionState,
};

impl Keeper {
    /// Carries out `order` and answers it. An asker that stopped waiting does not undo the
    /// action: it stands, and is in the event log.
    pub(super) async fn obey(&self, order: Order, endpoints: &Endpoints, units: &mut Units) {
        let Order {
            kind,
            subscription,
            reply,
        } = order;
        let answer = match units.by_subscription(&subscription) {
            None => Err(self.not_kept(&subscription)),
            Some(tracker) => match kind {
                OrderKind::Renew => self.renew_now(tracker).await,
                OrderKind::Reauthorize => self.reauthorize_now(tracker).await,
                OrderKind::Recreate => self.recreate_now(endpoints, tracker).await,
            },
        };
        if let Err(error) = &answer
            && error.is_refusal()
        {
            tracing::info!(target: "pilotwatch::collector::keeper", profile = %self.profile.name, %error, "operator order refused");
        }
        let _ = reply.send(answer);
    }

    /// Why no unit keeps `subscription`, from the registry.
    fn not_kept(&self, subscription: &str) -> CollectorCommandError {
        let known = self.store.subscription(subscription).unwrap_or_else(|error| {
            tracing::warn!(%error, "cannot read the subscription registry; the order names an unknown subscription");
            None
        });
        match known {
            Some(record) if record.profile != self.profile.name => {
                CollectorCommandError::OtherProfile {
                    profile: self.profile.name.clone(),
                    subscription: subscription.to_owned(),
                    owner: record.profile,
                }
            }
            Some(record) if record.state != SubscriptionState::Active => {
                CollectorCommandError::NotKept {
                    profile: self.profile.name.clone(),
                    subscription: subscription.to_owned(),
                    state: record.state,
                }
            }
            _ => self.unknown(subscription),
        }
    }

    fn unknown(&self, subscription: &str) -> CollectorCommandError {
        CollectorCommandError::UnknownSubscription {
            profile: self.profile.name.clone(),
            subscription: subscription.to_owned(),
        }
    }

    /// One PATCH now, unless an explicit reauthorize was under 10 minutes ago.
    async fn renew_now(
        &self,
        tracker: &mut Tracker,
    ) -> Result<ActionReport, CollectorCommandError> {
        if let Some(record) = &tracker.current
            && let Some(until) = spacing::patch_blocked_until(record, self.clock.now())
        {
            return Err(CollectorCommandError::TooSoon {
                subscription: record.id.clone(),
                action: "renewal (PATCH)",
                previous: "reauthorized",
                at: until - spacing::REAUTHORIZE_PATCH_SPACING,
                retry_after: until,
            });
        }
        match self
            .renew(KeeperAction::Renew, Origin::Operator, tracker)
            .await
        {
            Renewal::Renewed { record, due } => Ok(ActionReport::Renewed {
                profile: self.profile.name.clone(),
                subscription: record.id,
                expires_at: record.expires_at,
                next_renewal: due,
            }),
            Renewal::Lost(failure) => Err(gone(failure)),
            Renewal::Failed { failure, why } => Err(CollectorCommandError::Graph {
                message: why,
                failure,
            }),
            Renewal::NoSubscription => Err(self.unknown("(none)")),
        }
    }

    /// `POST /reauthorize` now, unless a PATCH was under 10 minutes ago or the expiry leaves no
    /// room for the renewal that must then wait 10 minutes.
    async fn reauthorize_now(
        &self,
        tracker: &mut Tracker,
    ) -> Result<ActionReport, CollectorCommandError> {
        let Some(mut record) = tracker.current.clone() else {
            return Err(self.unknown("(none)"));
        };
        let now = self.clock.now();
        if let Some(until) = spacing::reauthorize_blocked_until(&record, now) {
            return Err(CollectorCommandError::TooSoon {
                subscription: record.id,
                action: "reauthorize",
                previous: "renewed (PATCH)",
                at: until - spacing::REAUTHORIZE_PATCH_SPACING,
                retry_after: until,
            });
        }
        if spacing::too_close_to_expiry(&record, now) {
            return Err(CollectorCommandError::ExpiresTooSoon {
                subscription: record.id,
                expires_at: record.expires_at,
            });
        }
        match api::reauthorize(&self.graph, &record.id).await {
            Ok(()) => {
                record.last_reauthorized_at = Some(self.clock.now());
                self.save(&record);
                let on_current_certificate = record.certificate_id.as_deref()
                    == Some(self.certificates.current_certificate_id().as_str());
                if on_current_certificate {
                    // The unit's next action is a PATCH: keep it 10 minutes away.
                    tracker.next_at = spacing::renewal_after_reauthorize(&record, tracker.next_at);
                }
                self.note(
                    KeeperAction::Reauthorize,
                    Outcome::Succeeded,
                    format!(
                        "{}reauthorized subscription {} (POST /reauthorize); it still expires {}; next renewal due {}",
                        Origin::Operator.prefix(),
                        record.id,
                        stamp(record.expires_at),
                        stamp(tracker.next_at)
                    ),
                );
                let report = ActionReport::Reauthorized {
                    profile: self.profile.name.clone(),
                    subscription: record.id.clone(),
                    expires_at: record.expires_at,
                };
                tracker.current = Some(record);
                Ok(report)
            }
            Err(error) if error.status() == Some(404) => {
                let failure = failure::classify(&error);
                self.lost(
                    record,
                    tracker,
                    "answered 404 to the reauthorize: it expired or was removed",
                );
                Err(gone(failure))
            }
            Err(error) => {
                let failure = failure::classify(&error);
                let message = format!(
                    "{}cannot reauthorize subscription {}: {error}",
                    Origin::Operator.prefix(),
                    record.id
                );
                self.note_with(
                    KeeperAction::Reauthorize,
                    Outcome::Failed,
                    Some(failure.clone()),
                    message.clone(),
                );
                Err(CollectorCommandError::Graph { message, failure })
            }
        }
    }

    /// Delete, then create at once on the same resource with the current certificate and
    /// lifecycle URL, then backfill from just before the last notification (as a certificate
    /// rotation does: Graph allows one subscription per resource and app, so there is no
    /// make-before-break).
    async fn recreate_now(
        &self,
        endpoints: &Endpoints,
        tracker: &mut Tracker,
    ) -> Result<ActionReport, CollectorCommandError> {
        let Some(mut old) = tracker.current.clone() else {
            return Err(self.unknown("(none)"));
        };
        let desired = self.desired(endpoints, &tracker.resource);
        if let Err(error) = api::delete(&self.graph, &old.id).await {
            let failure = failure::classify(&error);
            let message = format!(
                "{}cannot delete subscription {} to recreate it: {error}; it stays as it was",
                Origin::Operator.prefix(),
                old.id
            );
            self.note_with(
                KeeperAction::Delete,
                Outcome::Failed,
                Some(failure.clone()),
                message.clone(),
            );
            return Err(CollectorCommandError::Graph { message, failure });
        }
        let from = self.gap_from(old.created_at);
        old.state = SubscriptionState::Replaced;
        self.save(&old);
        self.note(
            KeeperAction::Delete,
            Outcome::Succeeded,
            format!(
                "{}deleted subscription {} to recreate it with certificate {} and lifecycle URL {}; the gap is backfilled from {from}",
                Origin::Operator.prefix(),
                old.id,
                desired.certificate_id,
                desired.lifecycle_url
            ),
        );
        tracker.current = None;
        tracker.last_failure = None;
        tracker
            .pending_gap
            .get_or_insert((from, GapReason::Replaced));
        self.establish(&desired, tracker).await;
        match &tracker.current {
            Some(new) => Ok(ActionReport::Recreated {
                profile: self.profile.name.clone(),
                replaced: old.id,
                subscription: new.id.clone(),
                expires_at: new.expires_at,
            }),
            None => {
                let failure = tracker.last_failure.clone().unwrap_or(KeeperFailure {
                    kind: KeeperFailureKind::Other,
                    status: None,
                    code: None,
                    detail: "Graph answered 409 and the subscription in the way was deleted"
                        .to_owned(),
                });
                Err(CollectorCommandError::Graph {
                    message: format!(
                        "deleted subscription {} but its replacement is not created yet ({}); the keeper keeps trying, and backfills the gap once it is in place",
                        old.id, failure.detail
                    ),
                    failure,
                })
            }
        }
    }
}

/// The answer when Graph says the subscription is gone (404): the keeper is already creating
/// a new one.
fn gone(failure: KeeperFailure) -> CollectorCommandError {
    CollectorCommandError::Graph {
        message: format!(
            "Graph no longer has the subscription (404: {}); the keeper is creating a new one and backfilling the gap",
            failure.detail
        ),
        failure,
    }
}
