//! Which resources the keeper keeps a subscription on, and when each unit acts next.
//!
//! Tenant scope: one unit, the tenant-wide resource. Per-user scope: one unit per user whose
//! Microsoft 365 Copilot Chat plan is enabled (graph-facts §2: the user in a per-user resource
//! must hold it), read from `/users` as the poller reads them and refreshed every
//! `users_refresh_every`; a user who is no longer licensed has the subscription deleted, a new
//! one gets a unit. A failed read changes nothing (the last list stands) and is retried with
//! backoff. On the first successful read, registry records on resources no unit keeps (a scope
//! switched, a user unlicensed while pilotwatch was stopped) are retired.
//!
//! Part of the keeper; uses the poller's user list and the keeper's seams, never the poller's
//! loop.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::plan::{self, resource_key};
use super::{Keeper, Tracker, failure};
use crate::collector::poller::licensed_users;
use crate::config::SubscriptionScope;
use crate::graph::model::well_known::TENANT_WIDE_RESOURCE;
use crate::store::records::{KeeperAction, Outcome, SubscriptionRecord, SubscriptionState};

/// The keeper's units, by resource key.
#[derive(Debug)]
pub(super) struct Units {
    trackers: BTreeMap<String, Tracker>,
    /// When to read the resources again; `None`: never (the tenant scope, once read).
    refresh_at: Option<DateTime<Utc>>,
    /// Consecutive failed reads of the user list.
    failures: u32,
    /// The registry has been read into the first units (and what no unit keeps retired).
    restored: bool,
}

impl Units {
    pub(super) fn new(now: DateTime<Utc>) -> Self {
        Self {
            trackers: BTreeMap::new(),
            refresh_at: Some(now),
            failures: 0,
            restored: false,
        }
    }

    pub(super) fn refresh_due(&self, now: DateTime<Utc>) -> bool {
        self.refresh_at.is_some_and(|at| at <= now)
    }

    /// The unit to act on now: renewals, restores and lifecycle work first; a creation only
    /// when `may_create` (creations are spaced out).
    pub(super) fn due(
        &mut self,
        now: DateTime<Utc>,
        certificate_id: &str,
        may_create: bool,
    ) -> Option<&mut Tracker> {
        self.trackers
            .values_mut()
            .filter(|tracker| tracker.next_at <= now)
            .filter(|tracker| may_create || !tracker.creates(certificate_id))
            .min_by_key(|tracker| tracker.next_at)
    }

    /// True when a creation is due but held back by the spacing.
    pub(super) fn creation_waiting(&self, now: DateTime<Utc>, certificate_id: &str) -> bool {
        self.trackers
            .values()
            .any(|tracker| tracker.next_at <= now && tracker.creates(certificate_id))
    }

    /// The earliest time anything is due (at least `now`).
    pub(super) fn next_wake(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.trackers
            .values()
            .map(|tracker| tracker.next_at)
            .chain(self.refresh_at)
            .min()
            .unwrap_or(now + chrono::Duration::hours(1))
            .max(now)
    }

    /// True while a unit's registry records are not yet checked with Graph (just after a
    /// start): operator orders wait until the subscriptions they name are known.
    pub(super) fn restoring(&self) -> bool {
        self.trackers
            .values()
            .any(|tracker| tracker.registered.is_some())
    }

    /// The unit keeping subscription `id`.
    pub(super) fn by_subscription(&mut self, id: &str) -> Option<&mut Tracker> {
        self.trackers.values_mut().find(|tracker| {
            tracker
                .current
                .as_ref()
                .is_some_and(|record| record.id == id)
        })
    }

    /// Every unit.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Tracker> {
        self.trackers.values_mut()
    }
}

impl Keeper {
    /// Reads which resources to keep (the licensed users, in per-user scope), adds units for
    /// new ones and retires the subscriptions of those no longer wanted.
    pub(super) async fn refresh_units(&self, units: &mut Units) {
        let now = self.clock.now();
        let wanted: Vec<String> = match self.profile.subscription_scope {
            SubscriptionScope::Tenant => {
                units.refresh_at = None;
                vec![TENANT_WIDE_RESOURCE.to_owned()]
            }
            SubscriptionScope::PerUser => match licensed_users(&self.graph).await {
                Ok(users) => {
                    units.failures = 0;
                    units.refresh_at = Some(now + self.options.users_refresh_every);
                    users.iter().map(|user| plan::user_resource(user)).collect()
                }
                Err(error) => {
                    units.failures = units.failures.saturating_add(1);
                    let wait = self.options.backoff(units.failures, &mut rand::rng());
                    units.refresh_at = Some(now + wait);
                    self.note_with(
                        KeeperAction::ReadUsers,
                        Outcome::Failed,
                        Some(failure::classify(&error)),
                        format!(
                            "cannot read the licensed users for per-user subscriptions: {error}; the {} subscription(s) kept stay as they are; retrying in {}",
                            units.trackers.len(),
                            super::span(wait)
                        ),
                    );
                    return;
                }
            },
        };
        let wanted: BTreeMap<String, String> = wanted
            .into_iter()
            .map(|resource| (resource_key(&resource), resource))
            .collect();
        let mut registered = if units.restored {
            BTreeMap::new()
        } else {
            self.registered_by_resource()
        };

        let gone: Vec<String> = units
            .trackers
            .keys()
            .filter(|key| !wanted.contains_key(*key))
            .cloned()
            .collect();
        let added: BTreeSet<&String> = wanted
            .keys()
            .filter(|key| !units.trackers.contains_key(*key))
            .collect();
        if self.profile.subscription_scope == SubscriptionScope::PerUser
            && (!gone.is_empty() || !added.is_empty() || !units.restored)
        {
            self.note(
                KeeperAction::ReadUsers,
                Outcome::Succeeded,
                format!(
                    "{} user(s) hold the Copilot Chat licence: {} new, {} no longer licensed; one subscription is kept per licensed user",
                    wanted.len(),
                    added.len(),
                    gone.len()
                ),
            );
        }
        for key in &gone {
            if let Some(tracker) = units.trackers.remove(key)
                && let Some(record) = tracker.current
            {
                self.retire(
                    record,
                    SubscriptionState::Deleted,
                    "its user no longer holds the Copilot Chat licence a per-user subscription needs",
                )
                .await;
            }
        }
        for (key, resource) in &wanted {
            if !units.trackers.contains_key(key) {
                let records = registered.remove(key).unwrap_or_default();
                units
                    .trackers
                    .insert(key.clone(), Tracker::new(resource.clone(), records, now));
            }
        }
        if !units.restored {
            units.restored = true;
            let why = match self.profile.subscription_scope {
                SubscriptionScope::Tenant => {
                    "the profile keeps the tenant-wide subscription (subscription_scope = \"tenant\")"
                }
                SubscriptionScope::PerUser => {
                    "its resource is not a licensed user's (subscription_scope = \"per-user\")"
                }
            };
            for record in registered.into_values().flatten() {
                self.retire(record, SubscriptionState::Deleted, why).await;
            }
        }
    }

    /// The profile's active registry records, by resource key. A failed read is recorded and
    /// treated as an empty registry: the keeper then creates (and adopts on 409) as if new.
    fn registered_by_resource(&self) -> BTreeMap<String, Vec<SubscriptionRecord>> {
        let active = match self.store.active_subscriptions(&self.profile.name) {
            Ok(active) => active,
            Err(error) => {
                self.note(
                    KeeperAction::Verify,
                    Outcome::Failed,
                    format!("cannot read the subscription registry ({error}); creating subscriptions as if none existed"),
                );
                Vec::new()
            }
        };
        let mut by_resource: BTreeMap<String, Vec<SubscriptionRecord>> = BTreeMap::new();
        for record in active {
            by_resource
                .entry(resource_key(&record.resource))
                .or_default()
                .push(record);
        }
        by_resource
    }
}
