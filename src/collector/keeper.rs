//! The subscription keeper: one per profile, it makes sure the tenant-wide Copilot
//! subscription exists and stays alive, and that every action and its outcome is an [`Event`]
//! in the store and an [`Update`] on the broadcast channel.
//!
//! What it does (graph-facts §2, §3.1–3.3, §3.6):
//! - **create** `changeType: created` (the only change type Copilot notifications are shown
//!   with) on [`TENANT_WIDE_RESOURCE`], with `lifecycleNotificationUrl` (mandatory beyond one
//!   hour), rich data and the receiver's certificate, a fresh 256-bit `clientState`, and the
//!   longest lifetime Graph allows minus a safety margin;
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
//!   exponential backoff, never in a tight loop.
//!
//! pilotwatch's registry of subscription ids lives in the store; Graph's list is used only to
//! find the subscription behind a 409. All times come from the injected clock; waits are the
//! clock's spans converted to real time, so the keeper follows the simulator's `--speed`.
//!
//! Files: this one holds the loop and the event plumbing; `establish` (restore, create, adopt,
//! retire), `upkeep` (renew, lifecycle, gaps, backoff), [`plan`] (pure decisions), `api` (the
//! `/subscriptions` calls), [`ports`] (store and certificate seams).
//!
//! Depends on the Graph client, the config profile, the clock, the poller's `Gap`, the store's
//! record types, the receiver's `LifecycleSignal` and the seams in [`ports`]; never on the
//! store's engine, the TUI or the simulator.

mod api;
mod establish;
pub mod plan;
pub mod ports;
mod upkeep;

use std::fmt;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use self::plan::Desired;
use super::poller::{Gap, GapReason};
use super::update::Update;
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::http::GraphClient;
use crate::graph::model::well_known::TENANT_WIDE_RESOURCE;
use crate::receiver::LifecycleSignal;
use crate::store::records::{Event, EventKind, KeeperAction, Outcome, SubscriptionRecord};

pub use plan::KeeperOptions;
pub use ports::{CertificateSource, KeeperStore};

/// The only change type the keeper subscribes to (graph-facts §2: Copilot notifications are
/// documented for `created` only).
const CHANGE_TYPE: &str = "created";

/// Keeps one profile's tenant-wide subscription alive.
pub struct Keeper {
    profile: Profile,
    graph: GraphClient,
    store: Arc<dyn KeeperStore>,
    certificates: Arc<dyn CertificateSource>,
    clock: SharedClock,
    updates: broadcast::Sender<Update>,
    gaps: mpsc::Sender<Gap>,
    options: KeeperOptions,
}

impl fmt::Debug for Keeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keeper")
            .field("profile", &self.profile.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// What the loop knows between actions.
#[derive(Debug)]
struct Tracker {
    /// The subscription kept alive, once there is one.
    current: Option<SubscriptionRecord>,
    /// When to act next: create when there is no subscription, else renew.
    next_at: DateTime<Utc>,
    /// Consecutive failures, for the backoff.
    failures: u32,
    /// A gap to request once a (new) subscription is in place.
    pending_gap: Option<(DateTime<Utc>, GapReason)>,
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
        Self {
            profile,
            graph,
            store: Arc::new(store),
            certificates,
            clock,
            updates,
            gaps,
            options: KeeperOptions::default(),
        }
    }

    /// Replaces the default options (tests shorten the lifetime to see renewals quickly).
    pub fn with_options(mut self, options: KeeperOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs until `shutdown`: restores the registry's subscription or creates one, then renews
    /// it and answers lifecycle signals. A profile without notification URLs records why and
    /// returns.
    pub async fn run(
        self,
        mut lifecycle: mpsc::Receiver<LifecycleSignal>,
        shutdown: CancellationToken,
    ) {
        let Some(desired) = self.desired() else {
            return;
        };
        let mut tracker = Tracker {
            current: None,
            next_at: self.clock.now(),
            failures: 0,
            pending_gap: None,
        };
        if shutdown
            .run_until_cancelled(self.restore(&desired, &mut tracker))
            .await
            .is_none()
        {
            return;
        }
        let mut lifecycle_open = true;
        loop {
            let now = self.clock.now();
            if tracker.next_at <= now {
                let step = async {
                    if tracker.current.is_some() {
                        self.renew(KeeperAction::Renew, &mut tracker).await;
                    } else {
                        self.establish(&desired, &mut tracker).await;
                    }
                };
                if shutdown.run_until_cancelled(step).await.is_none() {
                    return;
                }
                continue;
            }
            let nap = plan::nap(self.clock.real_duration(tracker.next_at - now));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(nap) => {}
                signal = lifecycle.recv(), if lifecycle_open => match signal {
                    Some(signal) => {
                        let handled = self.on_lifecycle(signal, &mut tracker);
                        if shutdown.run_until_cancelled(handled).await.is_none() {
                            return;
                        }
                    }
                    None => lifecycle_open = false,
                },
            }
        }
    }

    /// The subscription the configuration asks for, or `None` (recorded) when the profile has
    /// no URL Graph could notify.
    fn desired(&self) -> Option<Desired> {
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
        Some(Desired {
            resource: TENANT_WIDE_RESOURCE.to_owned(),
            notification_url: notification.to_string(),
            lifecycle_url: lifecycle.to_string(),
            certificate_id: self.certificates.current_certificate_id(),
        })
    }

    /// Writes a registry record; a store failure is recorded, and the keeper carries on with
    /// what it holds in memory (the subscription at Graph is what matters for delivery).
    fn save(&self, record: &SubscriptionRecord) {
        if let Err(error) = self.store.put_subscription(record) {
            self.note(
                KeeperAction::Verify,
                Outcome::Failed,
                format!(
                    "cannot write subscription {} to the registry: {error}",
                    record.id
                ),
            );
        }
    }

    fn note(&self, action: KeeperAction, outcome: Outcome, message: String) {
        let event = self.event(EventKind::Keeper { action, outcome }, message);
        tracing::info!(target: "pilotwatch::collector::keeper", profile = %self.profile.name, ?action, ?outcome, "{}", event.message);
        let _ = self.updates.send(Update::Keeper(event));
    }

    /// Tells watchers about a lifecycle event. Not appended: the receiver logged it before
    /// signalling, and the keeper's answer is a keeper event of its own.
    fn note_lifecycle(&self, signal: &LifecycleSignal, message: String) {
        let event = Event {
            at: self.clock.now(),
            profile: self.profile.name.clone(),
            kind: EventKind::lifecycle(signal.event, signal.subscription_id.clone()),
            message,
        };
        tracing::info!(target: "pilotwatch::collector::keeper", profile = %self.profile.name, "{}", event.message);
        let _ = self.updates.send(Update::Lifecycle(event));
    }

    /// Builds and appends an event (a store failure is logged; the broadcast still goes out).
    fn event(&self, kind: EventKind, message: String) -> Event {
        let event = Event {
            at: self.clock.now(),
            profile: self.profile.name.clone(),
            kind,
            message,
        };
        if let Err(error) = self.store.append_event(&event) {
            tracing::warn!(%error, "cannot append a keeper event to the store");
        }
        event
    }
}

/// A simulated span for people, e.g. `4m 30s`.
fn span(span: Duration) -> String {
    let seconds = span.num_seconds().max(0).unsigned_abs();
    humantime::format_duration(StdDuration::from_secs(seconds)).to_string()
}
