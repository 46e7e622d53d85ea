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
//!   pilotwatch's own registry holds it (a restart), resume it; otherwise its `clientState` is
//!   unknown — Graph never returns it — and its notifications could not be told from forgeries,
//!   so delete it, recreate with a fresh `clientState` and backfill the gap;
//! - a failed **handshake** (400 `ValidationError`: the receiver did not answer Graph's
//!   validation request in 10 s) and every other failure are retried with jittered
//!   exponential backoff, never in a tight loop.
//!
//! pilotwatch's registry of subscription ids lives in the store; Graph's list is used only to
//! find the subscription behind a 409. All times come from the injected clock; waits are the
//! clock's spans converted to real time, so the keeper follows the simulator's `--speed`.
//!
//! Depends on the Graph client, the config profile, the clock, the poller's `Gap` and the
//! store/receiver seams in [`ports`]; never on the TUI or the simulator.

mod api;
pub mod plan;
pub mod ports;
pub mod records;

use std::fmt;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use self::plan::{ChallengeResponse, Desired};
use self::records::{
    ClientState, Event, EventKind, KeeperAction, LifecycleSignal, Outcome, SubscriptionRecord,
    SubscriptionState,
};
use super::poller::{Gap, GapReason};
use super::update::Update;
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::http::GraphClient;
use crate::graph::model::well_known::TENANT_WIDE_RESOURCE;
use crate::graph::model::{LifecycleEvent, Subscription, SubscriptionCreate};

pub use plan::KeeperOptions;
pub use ports::{CertificateSource, KeeperStore};

/// The only change type the keeper subscribes to (graph-facts §2: Copilot notifications are
/// documented for `created` only).
const CHANGE_TYPE: &str = "created";

/// Shortest real pause between two looks at the clock (a manual clock converts every span to
/// zero; this keeps the loop from spinning).
const MIN_NAP: StdDuration = StdDuration::from_millis(10);

/// Longest real pause: the clock may jump (the simulator's control API), so it is re-read at
/// least this often.
const MAX_NAP: StdDuration = StdDuration::from_secs(1);

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
            let nap = self
                .clock
                .real_duration(tracker.next_at - now)
                .clamp(MIN_NAP, MAX_NAP);
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

    /// Picks up the registry's active subscription after a restart, checking it with Graph.
    async fn restore(&self, desired: &Desired, tracker: &mut Tracker) {
        let mut active = match self.store.active_subscriptions(&self.profile.name) {
            Ok(active) => active,
            Err(error) => {
                self.note(
                    KeeperAction::Verify,
                    Outcome::Failed,
                    format!("cannot read the subscription registry ({error}); creating a subscription as if none existed"),
                );
                return;
            }
        };
        active.sort_by_key(|record| std::cmp::Reverse(record.created_at));
        let mut records = active.into_iter();
        let Some(mut record) = records.next() else {
            return;
        };
        for extra in records {
            self.retire(
                extra,
                SubscriptionState::Replaced,
                "a newer subscription is registered for this profile",
            )
            .await;
        }
        match api::get(&self.graph, &record.id).await {
            Ok(found) => {
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
                        record.id, record.expires_at, due
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
                self.note(
                    KeeperAction::Verify,
                    Outcome::Failed,
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
    async fn establish(&self, desired: &Desired, tracker: &mut Tracker) {
        let client_state = match api::new_client_state() {
            Ok(state) => state,
            Err(_) => {
                self.fail(
                    tracker,
                    KeeperAction::Create,
                    "the system random generator failed; no clientState could be made".to_owned(),
                );
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
            client_state: Some(client_state.clone()),
            latest_supported_tls_version: None,
            notification_url_app_id: None,
        };
        match api::create(&self.graph, &body).await {
            Ok(created) => {
                let record =
                    self.record_for(created, ClientState::new(client_state), self.clock.now());
                self.save(&record);
                let due = self.schedule(&record);
                self.note(
                    KeeperAction::Create,
                    Outcome::Succeeded,
                    format!(
                        "created subscription {} on {}, expiring {}; renewal due {}",
                        record.id, record.resource, record.expires_at, due
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
                self.fail(tracker, KeeperAction::Create, why);
            }
        }
    }

    /// After a 409: resume our own subscription, or delete one whose `clientState` we do not
    /// know and let the loop create a fresh one.
    async fn adopt(&self, desired: &Desired, tracker: &mut Tracker) {
        let listed = match api::list(&self.graph).await {
            Ok(listed) => listed,
            Err(error) => {
                self.fail(tracker, KeeperAction::Adopt, format!("Graph answered 409 (a subscription already exists) but cannot list subscriptions: {error}"));
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
            self.fail(tracker, KeeperAction::Adopt, format!("Graph answered 409 but lists no subscription on {}; it may just have expired, creating again", desired.resource));
            return;
        };
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
                    known.id, known.expires_at, due
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
                format!(
                    "cannot delete subscription {} whose clientState is unknown: {error}",
                    existing.id
                ),
            ),
        }
    }

    /// PATCH a new expiry (on schedule, or answering a challenge).
    async fn renew(&self, action: KeeperAction, tracker: &mut Tracker) {
        let Some(mut record) = tracker.current.clone() else {
            return;
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
                        "renewed subscription {} (which also reauthorizes it) until {}; next renewal due {}",
                        record.id, record.expires_at, due
                    ),
                );
                tracker.failures = 0;
                tracker.next_at = due;
                tracker.current = Some(record);
            }
            Err(error) if error.status() == Some(404) => {
                self.lost(
                    record,
                    tracker,
                    "answered 404 to the renewal: it expired or was removed",
                );
            }
            Err(error) => self.fail(
                tracker,
                action,
                format!(
                    "cannot renew subscription {} (expiring {}): {error}",
                    record.id, record.expires_at
                ),
            ),
        }
    }

    /// Acts on one lifecycle notification.
    async fn on_lifecycle(&self, signal: LifecycleSignal, tracker: &mut Tracker) {
        if signal.profile != self.profile.name {
            tracing::debug!(profile = %signal.profile, "lifecycle signal for another profile ignored");
            return;
        }
        let name = lifecycle_name(signal.event);
        let current = tracker
            .current
            .as_ref()
            .filter(|record| record.id == signal.subscription_id)
            .cloned();
        self.note_lifecycle(
            &signal,
            format!(
                "Graph sent {name} for subscription {}",
                signal.subscription_id
            ),
        );
        match (signal.event, current) {
            (LifecycleEvent::ReauthorizationRequired, Some(record)) => {
                match plan::challenge_response(&record, self.clock.now()) {
                    ChallengeResponse::Patch => {
                        self.renew(KeeperAction::Reauthorize, tracker).await
                    }
                    ChallengeResponse::Skip(why) => self.note(
                        KeeperAction::Reauthorize,
                        Outcome::Skipped,
                        format!("no PATCH for subscription {}: {why}", record.id),
                    ),
                }
            }
            (LifecycleEvent::SubscriptionRemoved, Some(record)) => {
                self.lost(
                    record,
                    tracker,
                    "was removed by Graph (subscriptionRemoved)",
                );
            }
            (LifecycleEvent::Missed, Some(record)) => {
                let now = self.clock.now();
                let from = self
                    .gap_from(record.created_at)
                    .min(now - self.options.missed_lookback)
                    .max(record.created_at - self.options.gap_overlap);
                self.request_gap(from, GapReason::Missed);
            }
            (LifecycleEvent::SubscriptionRemoved, None) => {
                if let Ok(Some(mut old)) = self.store.subscription(&signal.subscription_id)
                    && old.profile == self.profile.name
                    && old.state == SubscriptionState::Active
                {
                    old.state = SubscriptionState::Removed;
                    self.save(&old);
                }
            }
            (event, None) => self.note(
                KeeperAction::Reauthorize,
                Outcome::Skipped,
                format!(
                    "{} for {} ignored: it is not the subscription pilotwatch keeps for profile {}",
                    lifecycle_name(event),
                    signal.subscription_id,
                    self.profile.name
                ),
            ),
            (LifecycleEvent::Unknown, Some(record)) => self.note(
                KeeperAction::Reauthorize,
                Outcome::Skipped,
                format!(
                    "unknown lifecycle event for subscription {}; nothing to do",
                    record.id
                ),
            ),
        }
    }

    /// The subscription is gone: mark it, create a new one at once, backfill afterwards.
    fn lost(&self, mut record: SubscriptionRecord, tracker: &mut Tracker, why: &str) {
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

    /// Deletes `record` at Graph (best effort) and marks it `state` in the registry.
    async fn retire(&self, mut record: SubscriptionRecord, state: SubscriptionState, why: &str) {
        let outcome = match api::delete(&self.graph, &record.id).await {
            Ok(()) => (Outcome::Succeeded, String::new()),
            Err(error) => (
                Outcome::Failed,
                format!(
                    " (Graph: {error}; it expires by itself on {})",
                    record.expires_at
                ),
            ),
        };
        record.state = state;
        self.save(&record);
        self.note(
            KeeperAction::Delete,
            outcome.0,
            format!("retired subscription {}: {why}{}", record.id, outcome.1),
        );
    }

    /// Asks the poller to backfill `[from, now)`; never blocks the keeper.
    fn request_gap(&self, from: DateTime<Utc>, reason: GapReason) {
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
    fn gap_from(&self, fallback: DateTime<Utc>) -> DateTime<Utc> {
        let last = self
            .store
            .last_notification_at(&self.profile.name)
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "cannot read the last notification time; backfilling from the subscription's creation");
                None
            });
        plan::gap_start(last, fallback, self.options.gap_overlap, self.clock.now())
    }

    /// A failed action: count it, schedule the retry, record both.
    fn fail(&self, tracker: &mut Tracker, action: KeeperAction, why: String) {
        tracker.failures = tracker.failures.saturating_add(1);
        let wait = self.options.backoff(tracker.failures, &mut rand::rng());
        tracker.next_at = self.clock.now() + wait;
        self.note(
            action,
            Outcome::Failed,
            format!(
                "{why}; retrying in {} (failure {} in a row)",
                span(wait),
                tracker.failures
            ),
        );
    }

    /// The next renewal of `record`.
    fn schedule(&self, record: &SubscriptionRecord) -> DateTime<Utc> {
        let fraction = self.options.renewal_fraction(&mut rand::rng());
        plan::renewal_due(
            plan::lifetime_base(record),
            record.expires_at,
            fraction,
            record.last_reauthorized_at,
        )
    }

    fn record_for(
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

    fn note_lifecycle(&self, signal: &LifecycleSignal, message: String) {
        let kind = EventKind::Lifecycle {
            event: lifecycle_name(signal.event).to_owned(),
            subscription_id: signal.subscription_id.clone(),
        };
        let event = self.event(kind, message);
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

/// Graph's name for a lifecycle event.
fn lifecycle_name(event: LifecycleEvent) -> &'static str {
    match event {
        LifecycleEvent::ReauthorizationRequired => "reauthorizationRequired",
        LifecycleEvent::SubscriptionRemoved => "subscriptionRemoved",
        LifecycleEvent::Missed => "missed",
        LifecycleEvent::Unknown => "unknown",
    }
}

/// A simulated span for people, e.g. `4m 30s`.
fn span(span: Duration) -> String {
    let seconds = span.num_seconds().max(0).unsigned_abs();
    humantime::format_duration(StdDuration::from_secs(seconds)).to_string()
}
