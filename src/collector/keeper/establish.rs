//! Getting a subscription in place: resuming the registry's one after a restart (checked with
//! `GET /subscriptions/{id}`), creating one (`POST /subscriptions`), the 409 path (resume our
//! own; delete one that notifies our URL but whose `clientState` is unknown; never touch one
//! that notifies another deployment's URL), and retiring subscriptions that no longer serve
//! the configuration (a lifecycle URL cannot be PATCHed, graph-facts §3.1; one on an older
//! certificate is left to `rotate`).
//!
//! Part of the keeper; uses its seams and `api`, never the poller's internals.

use chrono::{DateTime, Utc};

use super::plan::{self, Desired};
use super::{CHANGE_TYPE, Keeper, Tracker};
use super::{api, failure};
use crate::clock::stamp;
use crate::collector::poller::GapReason;
use crate::graph::model::{Subscription, SubscriptionCreate};
use crate::store::records::{
    ClientState, KeeperAction, Outcome, SubscriptionRecord, SubscriptionState,
};

impl Keeper {
    /// Picks up the registry's subscription on this unit's resource after a restart, checking
    /// it with Graph; older duplicates are retired.
    pub(super) async fn restore(
        &self,
        mut registered: Vec<SubscriptionRecord>,
        desired: &Desired,
        tracker: &mut Tracker,
    ) {
        registered.sort_by_key(|record| std::cmp::Reverse(record.created_at));
        let mut records = registered.into_iter();
        let Some(mut record) = records.next() else {
            return;
        };
        for extra in records {
            self.retire(
                extra,
                SubscriptionState::Replaced,
                "a newer subscription is registered for this resource",
            )
            .await;
        }
        match api::get(&self.graph, &record.id).await {
            Ok(found) => {
                if plan::only_certificate_differs(&record, desired) {
                    // The keys rotated while pilotwatch was stopped: keep it until the
                    // replacement is in place (the loop does that at once).
                    record.expires_at = found.expiration_date_time;
                    self.save(&record);
                    self.note(
                        KeeperAction::Verify,
                        Outcome::Succeeded,
                        format!(
                            "resumed subscription {} from the registry; it encrypts for certificate {} but the current one is {}, so it is moved to it now",
                            record.id,
                            record.certificate_id.as_deref().unwrap_or("(none)"),
                            desired.certificate_id
                        ),
                    );
                    tracker.next_at = self.clock.now();
                    tracker.current = Some(record);
                    return;
                }
                if let Some(why) = plan::mismatch(&record, desired) {
                    let from = self.gap_from(record.created_at);
                    self.retire(record, SubscriptionState::Replaced, &why).await;
                    tracker.pending_gap = Some((from, GapReason::Replaced));
                    return;
                }
                record.expires_at = found.expiration_date_time;
                self.save(&record);
                let due = self.schedule(&record);
                self.note(
                    KeeperAction::Verify,
                    Outcome::Succeeded,
                    format!(
                        "resumed subscription {} from the registry; Graph has it expiring {}; renewal due {}",
                        record.id,
                        stamp(record.expires_at),
                        stamp(due)
                    ),
                );
                tracker.next_at = due;
                tracker.current = Some(record);
            }
            Err(error) if error.status() == Some(404) => {
                self.lost(
                    record,
                    tracker,
                    "no longer exists at Graph (it expired or was removed while pilotwatch was not running)",
                );
            }
            Err(error) => {
                self.note_with(
                    KeeperAction::Verify,
                    Outcome::Failed,
                    Some(failure::classify(&error)),
                    format!(
                        "cannot check subscription {} with Graph ({error}); keeping the registry's record and renewing it on schedule",
                        record.id
                    ),
                );
                tracker.next_at = self.schedule(&record);
                tracker.current = Some(record);
            }
        }
    }

    /// `POST /subscriptions`, with the 409 and handshake paths.
    pub(super) async fn establish(&self, desired: &Desired, tracker: &mut Tracker) {
        let client_state = match ClientState::random() {
            Ok(state) => state,
            Err(error) => {
                self.fail(tracker, KeeperAction::Create, None, error.to_string());
                return;
            }
        };
        let now = self.clock.now();
        let body = SubscriptionCreate {
            change_type: CHANGE_TYPE.to_owned(),
            notification_url: desired.notification_url.clone(),
            lifecycle_notification_url: Some(desired.lifecycle_url.clone()),
            resource: desired.resource.clone(),
            include_resource_data: Some(true),
            encryption_certificate: Some(self.certificates.current_certificate_base64()),
            encryption_certificate_id: Some(desired.certificate_id.clone()),
            expiration_date_time: self.options.requested_expiry(now),
            client_state: Some(client_state.expose().to_owned()),
            latest_supported_tls_version: None,
            notification_url_app_id: None,
        };
        match api::create(&self.graph, &body).await {
            Ok(created) => {
                let record = self.record_for(created, client_state, self.clock.now());
                self.save(&record);
                let due = self.schedule(&record);
                self.note(
                    KeeperAction::Create,
                    Outcome::Succeeded,
                    format!(
                        "created subscription {} on {}, expiring {}; renewal due {}",
                        record.id,
                        record.resource,
                        stamp(record.expires_at),
                        stamp(due)
                    ),
                );
                tracker.failures = 0;
                tracker.next_at = due;
                tracker.current = Some(record);
                if let Some((from, reason)) = tracker.pending_gap.take() {
                    self.request_gap(from, reason);
                }
            }
            Err(error) if error.status() == Some(409) => self.adopt(desired, tracker).await,
            Err(error) => {
                let why = if api::is_handshake_failure(&error) {
                    format!(
                        "Graph could not validate {} or {}: the receiver must answer Graph's validation request with 200, text/plain and the decoded token within 10 s ({error})",
                        desired.notification_url, desired.lifecycle_url
                    )
                } else if error.status() == Some(403) {
                    format!(
                        "Graph refused the subscription: a licence, quota or permission is missing ({error})"
                    )
                } else {
                    format!("cannot create the subscription: {error}")
                };
                self.fail(
                    tracker,
                    KeeperAction::Create,
                    Some(failure::classify(&error)),
                    why,
                );
            }
        }
    }

    /// After a 409: resume our own subscription, or delete one that notifies our URL but whose
    /// `clientState` we do not know and let the loop create a fresh one. One that notifies
    /// another URL belongs to someone else: recorded as a failure and retried with backoff.
    pub(super) async fn adopt(&self, desired: &Desired, tracker: &mut Tracker) {
        let listed = match api::list(&self.graph).await {
            Ok(listed) => listed,
            Err(error) => {
                self.fail(tracker, KeeperAction::Adopt, Some(failure::classify(&error)), format!("Graph answered 409 (a subscription already exists) but cannot list subscriptions: {error}"));
                return;
            }
        };
        let existing = listed.into_iter().find(|subscription| {
            plan::same_resource(&subscription.resource, &desired.resource)
                && subscription
                    .change_type
                    .split(',')
                    .any(|kind| kind.trim().eq_ignore_ascii_case(CHANGE_TYPE))
        });
        let Some(existing) = existing else {
            self.fail(tracker, KeeperAction::Adopt, None, format!("Graph answered 409 but lists no subscription on {}; it may just have expired, creating again", desired.resource));
            return;
        };
        if existing.notification_url != desired.notification_url {
            // Another collector sharing the app registration (or a profile of this one with
            // other URLs) owns it. Deleting it would make that collector delete ours in turn,
            // for ever; only an operator can settle who keeps the subscription.
            let owner = format!(
                "subscription {} on {} already exists for this app registration and notifies {}",
                existing.id, existing.resource, existing.notification_url
            );
            self.fail(
                tracker,
                KeeperAction::Adopt,
                Some(failure::held_elsewhere(&owner)),
                format!(
                    "Graph answered 409: {owner}, not this profile's {}. Another deployment sharing the app registration owns it, so pilotwatch leaves it alone; give each collector its own app registration, or stop the other collector and delete that subscription",
                    desired.notification_url
                ),
            );
            return;
        }
        let known = self
            .store
            .subscription(&existing.id)
            .ok()
            .flatten()
            .filter(|known| {
                known.profile == self.profile.name
                    && existing.notification_url == desired.notification_url
                    && plan::mismatch(known, desired).is_none()
            });
        if let Some(mut known) = known {
            known.state = SubscriptionState::Active;
            known.expires_at = existing.expiration_date_time;
            self.save(&known);
            let due = self.schedule(&known);
            self.note(
                KeeperAction::Adopt,
                Outcome::Succeeded,
                format!(
                    "resumed subscription {}: pilotwatch created it and knows its clientState; expiring {}, renewal due {}",
                    known.id,
                    stamp(known.expires_at),
                    stamp(due)
                ),
            );
            tracker.failures = 0;
            tracker.next_at = due;
            tracker.current = Some(known);
            return;
        }
        match api::delete(&self.graph, &existing.id).await {
            Ok(()) => {
                self.note(
                    KeeperAction::Delete,
                    Outcome::Succeeded,
                    format!(
                        "deleted subscription {} found after a 409: pilotwatch does not know its clientState (Graph never returns it), so its notifications could not be told from forgeries; creating one with a fresh clientState and backfilling the gap",
                        existing.id
                    ),
                );
                let from = self.gap_from(self.clock.now() - self.options.gap_overlap);
                tracker
                    .pending_gap
                    .get_or_insert((from, GapReason::Replaced));
                tracker.next_at = self.clock.now();
            }
            Err(error) => self.fail(
                tracker,
                KeeperAction::Delete,
                Some(failure::classify(&error)),
                format!(
                    "cannot delete subscription {} whose clientState is unknown: {error}",
                    existing.id
                ),
            ),
        }
    }

    /// Deletes `record` at Graph (best effort) and marks it `state` in the registry.
    pub(super) async fn retire(
        &self,
        mut record: SubscriptionRecord,
        state: SubscriptionState,
        why: &str,
    ) {
        let (outcome, failure, suffix) = match api::delete(&self.graph, &record.id).await {
            Ok(()) => (Outcome::Succeeded, None, String::new()),
            Err(error) => (
                Outcome::Failed,
                Some(failure::classify(&error)),
                format!(
                    " (Graph: {error}; it expires by itself on {})",
                    record.expires_at
                ),
            ),
        };
        record.state = state;
        self.save(&record);
        self.note_with(
            KeeperAction::Delete,
            outcome,
            failure,
            format!("retired subscription {}: {why}{suffix}", record.id),
        );
    }

    pub(super) fn record_for(
        &self,
        created: Subscription,
        client_state: ClientState,
        now: DateTime<Utc>,
    ) -> SubscriptionRecord {
        SubscriptionRecord {
            id: created.id,
            profile: self.profile.name.clone(),
            resource: created.resource,
            expires_at: created.expiration_date_time,
            created_at: now,
            client_state,
            notification_url: created.notification_url,
            lifecycle_url: created.lifecycle_notification_url,
            certificate_id: created.encryption_certificate_id,
            state: SubscriptionState::Active,
            last_renewed_at: None,
            last_reauthorized_at: None,
        }
    }
}
