//! The subscription keeper: one per profile, it makes sure the profile's Copilot
//! subscriptions exist and stay alive, and that every action and its outcome is an [`Event`]
//! in the store and an [`Update`] on the broadcast channel.
//!
//! It keeps one *unit* per subscribed resource: the tenant-wide resource, or, with
//! `subscription_scope = "per-user"`, one per user whose Copilot Chat plan is enabled (the
//! list the poller reads, refreshed periodically: a user who gains the licence gets a
//! subscription, one who loses it has it deleted). Every unit gets the same treatment:
//! - **create** `changeType: created` (the only change type Copilot notifications are shown
//!   with) on its resource, with `lifecycleNotificationUrl` (mandatory beyond one hour), rich
//!   data and the receiver's certificate, a fresh 256-bit `clientState`, and the longest
//!   lifetime Graph allows minus a safety margin; creations are spaced in real time so a
//!   thousand users do not spend the tenant's request budget in one burst;
//! - **renew** with a PATCH at a random point 50–75 % into each lifetime;
//! - answer **`reauthorizationRequired`** with a PATCH, which renews and reauthorizes in one
//!   call, so a reauthorize and a PATCH are never sent within 10 minutes of each other;
//! - on **404** or **`subscriptionRemoved`**, recreate, then ask the poller for a gap backfill
//!   from just before the last notification; on **`missed`**, ask for one at once;
//! - on **409** (one tenant-wide subscription per app): find it with `GET /subscriptions`. If
//!   pilotwatch's own registry holds it (a restart), resume it. If it notifies another URL,
//!   another deployment sharing the app registration owns it: record a failure naming that URL
//!   and retry later, never delete it (two collectors would delete each other's in a loop).
//!   Otherwise its `clientState` is unknown — Graph never returns it — and its notifications
//!   could not be told from forgeries, so delete it, recreate with a fresh `clientState` and
//!   backfill the gap;
//! - a failed **handshake** (400 `ValidationError`: the receiver did not answer Graph's
//!   validation request in 10 s) and every other failure are retried with jittered
//!   exponential backoff, never in a tight loop;
//! - an operator may order a subscription **renewed**, **reauthorized** (`POST /reauthorize`,
//!   kept 10 minutes from any PATCH) or **recreated** now ([`KeeperOrders`]); orders reach this
//!   task over a channel, so the keeper stays the only writer of subscriptions;
//! - a subscription whose `encryptionCertificateId` is not the current certificate's is
//!   **moved to it** (an invariant, checked on restore and whenever [`KeeperWaker::wake`] says
//!   the keys rotated): Graph cannot PATCH a certificate, and allows one subscription per
//!   resource and app, so the old one is deleted and a new one created at once, then the gap
//!   between them backfilled; the previous key stays loaded, so notifications already
//!   encrypted for the old certificate still decrypt.
//!
//! pilotwatch's registry of subscription ids lives in the store; Graph's list is used only to
//! find the subscription behind a 409. All times come from the injected clock; waits are the
//! clock's spans converted to real time, so the keeper follows the simulator's `--speed`.
//!
//! Files: this one holds the loop; `journal` (events and registry writes), `units` (which
//! resources, the licensed users, scheduling), `establish` (restore, create, adopt, retire),
//! `upkeep` (renew, lifecycle, gaps, backoff), `rotate` (the certificate invariant),
//! `failure` (a failed action typed by Graph's answer, for diagnosis), [`plan`] (pure
//! decisions; what a subscription must look like is `plan::desired`), `spacing` (the 10-minute
//! rule between a reauthorize and a PATCH), `orders` (the operator's channel to the loop) and
//! `operator` (carrying orders out), `api` (the `/subscriptions` calls), [`ports`] (store and
//! certificate seams).
//!
//! Depends on the Graph client, the config profile, the clock, the poller's `Gap`, the store's
//! record types, the receiver's `LifecycleSignal` and the seams in [`ports`]; never on the
//! store's engine, the TUI or the simulator.

mod api;
mod establish;
mod failure;
mod journal;
mod operator;
mod orders;
pub mod plan;
pub mod ports;
mod rotate;
mod spacing;
mod units;
mod upkeep;

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use self::journal::span;
use self::orders::{Order, Origin, next_order};
use self::plan::Desired;
use self::units::Units;
use super::poller::{Gap, GapReason};
use super::update::Update;
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::http::GraphClient;
use crate::receiver::LifecycleSignal;
use crate::store::records::{KeeperAction, KeeperFailure, Outcome, SubscriptionRecord};

pub use orders::KeeperOrders;
pub use plan::KeeperOptions;
pub use ports::{CertificateSource, KeeperStore};
pub use spacing::REAUTHORIZE_PATCH_SPACING;

/// The only change type the keeper subscribes to (graph-facts §2: Copilot notifications are
/// documented for `created` only).
const CHANGE_TYPE: &str = "created";

/// Keeps one profile's Copilot subscriptions alive.
pub struct Keeper {
    profile: Profile,
    graph: GraphClient,
    store: Arc<dyn KeeperStore>,
    certificates: Arc<dyn CertificateSource>,
    clock: SharedClock,
    updates: broadcast::Sender<Update>,
    gaps: mpsc::Sender<Gap>,
    options: KeeperOptions,
    wake: KeeperWaker,
    /// Hands out [`KeeperOrders`]; held for the keeper's life, so the channel stays open
    /// while it runs.
    orders_tx: mpsc::Sender<Order>,
    /// Served by [`Keeper::run`], which takes it.
    orders_rx: Option<mpsc::Receiver<Order>>,
}

impl fmt::Debug for Keeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keeper")
            .field("profile", &self.profile.name)
            .field("scope", &self.profile.subscription_scope)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Makes a running keeper look at its subscriptions' certificate now rather than at its next
/// timer: call [`KeeperWaker::wake`] after rotating the keys it was given. A wake while the
/// keeper is busy is kept and seen when it next waits.
#[derive(Debug, Clone, Default)]
pub struct KeeperWaker(Arc<Notify>);

impl KeeperWaker {
    /// Tells the keeper the certificate may have changed.
    pub fn wake(&self) {
        self.0.notify_one();
    }
}

/// The URLs every subscription of the profile notifies.
#[derive(Debug, Clone)]
struct Endpoints {
    notification: String,
    lifecycle: String,
}

/// One unit: the subscription kept on one resource, and what the loop knows between actions.
#[derive(Debug)]
struct Tracker {
    /// The subscribed resource.
    resource: String,
    /// Registry records for this resource not yet checked with Graph (after a start), or
    /// `None` once restored.
    registered: Option<Vec<SubscriptionRecord>>,
    /// The subscription kept alive, once there is one.
    current: Option<SubscriptionRecord>,
    /// When to act next: restore, create when there is no subscription, else renew.
    next_at: DateTime<Utc>,
    /// Consecutive failures, for the backoff.
    failures: u32,
    /// A gap to request once a (new) subscription is in place.
    pending_gap: Option<(DateTime<Utc>, GapReason)>,
    /// Graph's answer to the last failed action, typed, for an operator's order waiting on
    /// the unit's outcome.
    last_failure: Option<KeeperFailure>,
}

impl Tracker {
    fn new(resource: String, registered: Vec<SubscriptionRecord>, now: DateTime<Utc>) -> Self {
        Self {
            resource,
            registered: Some(registered),
            current: None,
            next_at: now,
            failures: 0,
            pending_gap: None,
            last_failure: None,
        }
    }

    /// True when its next action creates a subscription (plain, or replacing one on an old
    /// certificate): those are spaced out.
    fn creates(&self, certificate_id: &str) -> bool {
        self.registered.is_none()
            && self
                .current
                .as_ref()
                .is_none_or(|record| record.certificate_id.as_deref() != Some(certificate_id))
    }
}

impl Keeper {
    /// A keeper for `profile`. `gaps` goes to the profile's poller.
    pub fn new(
        profile: Profile,
        graph: GraphClient,
        store: impl KeeperStore,
        certificates: Arc<dyn CertificateSource>,
        clock: SharedClock,
        updates: broadcast::Sender<Update>,
        gaps: mpsc::Sender<Gap>,
    ) -> Self {
        let (orders_tx, orders_rx) = orders::channel();
        Self {
            profile,
            graph,
            store: Arc::new(store),
            certificates,
            clock,
            updates,
            gaps,
            options: KeeperOptions::default(),
            wake: KeeperWaker::default(),
            orders_tx,
            orders_rx: Some(orders_rx),
        }
    }

    /// Replaces the default options (tests shorten the lifetime to see renewals quickly).
    pub fn with_options(mut self, options: KeeperOptions) -> Self {
        self.options = options;
        self
    }

    /// The handle that wakes this keeper after a certificate rotation; take it before
    /// [`Keeper::run`].
    pub fn waker(&self) -> KeeperWaker {
        self.wake.clone()
    }

    /// The handle that sends this keeper operator orders (renew, reauthorize, recreate now);
    /// take it before [`Keeper::run`]. Orders sent before the keeper runs wait for it; once it
    /// has stopped they are answered `NotRunning`.
    pub fn orders(&self) -> KeeperOrders {
        KeeperOrders::new(self.profile.name.clone(), self.orders_tx.clone())
    }

    /// Runs until `shutdown`: works out which resources to keep subscriptions on, restores the
    /// registry's subscriptions or creates them, then renews them, answers lifecycle signals and
    /// follows certificate rotations and licence changes. Operator orders are served between
    /// actions, ahead of the plan's next one, once the registry's subscriptions are restored.
    /// A profile without notification URLs records why and returns.
    pub async fn run(
        mut self,
        mut lifecycle: mpsc::Receiver<LifecycleSignal>,
        shutdown: CancellationToken,
    ) {
        let mut orders = self.orders_rx.take();
        let Some(endpoints) = self.endpoints() else {
            return;
        };
        let mut units = Units::new(self.clock.now());
        let mut lifecycle_open = true;
        let mut next_creation = Instant::now();
        loop {
            let now = self.clock.now();
            if units.refresh_due(now) {
                let refreshed = self.refresh_units(&mut units);
                if shutdown.run_until_cancelled(refreshed).await.is_none() {
                    return;
                }
                continue;
            }
            let settled = !units.restoring();
            if settled && let Some(order) = orders.as_mut().and_then(|rx| rx.try_recv().ok()) {
                let obeyed = self.obey(order, &endpoints, &mut units);
                if shutdown.run_until_cancelled(obeyed).await.is_none() {
                    return;
                }
                continue;
            }
            let certificate_id = self.certificates.current_certificate_id();
            let may_create = Instant::now() >= next_creation;
            if let Some(tracker) = units.due(now, &certificate_id, may_create) {
                let creates = tracker.creates(&certificate_id);
                let acted = self.act(&endpoints, tracker);
                if shutdown.run_until_cancelled(acted).await.is_none() {
                    return;
                }
                if creates {
                    next_creation = Instant::now() + self.options.create_spacing;
                }
                continue;
            }
            let until_due = self.clock.real_duration(units.next_wake(now) - now);
            let mut wait = plan::nap(until_due);
            if units.creation_waiting(now, &certificate_id) {
                wait = wait.min(
                    next_creation
                        .saturating_duration_since(Instant::now())
                        .max(plan::MIN_NAP),
                );
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
                () = self.wake.0.notified() => self.certificate_changed(&mut units),
                order = next_order(&mut orders), if settled => match order {
                    Some(order) => {
                        let obeyed = self.obey(order, &endpoints, &mut units);
                        if shutdown.run_until_cancelled(obeyed).await.is_none() {
                            return;
                        }
                    }
                    None => orders = None,
                },
                signal = lifecycle.recv(), if lifecycle_open => match signal {
                    Some(signal) => {
                        let handled = self.on_lifecycle(signal, &mut units);
                        if shutdown.run_until_cancelled(handled).await.is_none() {
                            return;
                        }
                    }
                    None => lifecycle_open = false,
                },
            }
        }
    }

    /// One due action of one unit.
    async fn act(&self, endpoints: &Endpoints, tracker: &mut Tracker) {
        let desired = self.desired(endpoints, &tracker.resource);
        if let Some(registered) = tracker.registered.take() {
            self.restore(registered, &desired, tracker).await;
            return;
        }
        match &tracker.current {
            None => self.establish(&desired, tracker).await,
            Some(record) if record.certificate_id.as_deref() != Some(&desired.certificate_id) => {
                self.replace_for_certificate(&desired, tracker).await;
            }
            Some(_) => {
                self.renew(KeeperAction::Renew, Origin::Plan, tracker).await;
            }
        }
    }

    /// The profile's notification URLs, or `None` (recorded) when it has none Graph could
    /// notify.
    fn endpoints(&self) -> Option<Endpoints> {
        let urls = self
            .profile
            .notification_url
            .as_ref()
            .zip(self.profile.lifecycle_notification_url.as_ref());
        let Some((notification, lifecycle)) = urls else {
            self.note(
                KeeperAction::Create,
                Outcome::Skipped,
                format!(
                    "profile {} has no notification_url and lifecycle_notification_url: Graph has nowhere to send notifications, so no subscription is kept. Set both to the public HTTPS URLs of the receiver.",
                    self.profile.name
                ),
            );
            return None;
        };
        Some(Endpoints {
            notification: notification.to_string(),
            lifecycle: lifecycle.to_string(),
        })
    }

    /// What the subscription on `resource` must look like now (the certificate is read anew:
    /// it may have rotated).
    fn desired(&self, endpoints: &Endpoints, resource: &str) -> Desired {
        Desired {
            resource: resource.to_owned(),
            notification_url: endpoints.notification.clone(),
            lifecycle_url: endpoints.lifecycle.clone(),
            certificate_id: self.certificates.current_certificate_id(),
        }
    }
}
