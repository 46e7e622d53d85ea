//! What the running collector knows about each profile, gathered as `diagnose::Facts`: the
//! subscription registry and the keeper's recent actions ([`keeper`]), what the receiver saw
//! (`collector::delivery::DeliveryStats`, fed by the forwarding task), what the export API said
//! ([`export`]), how Graph answered and how full the store is ([`store`]), and the latest
//! credential report ([`credentials`], probed off the hot path). [`periodic`] diagnoses every
//! profile on a timer, keeps the latest verdicts on a [`VerdictBoard`] and records the findings
//! history.
//!
//! The builders are pure; this file holds the per-profile sources and the one read of the store
//! each round shares between profiles. Depends on the store, the Graph client's traffic
//! summary, the receiver's keys, the credential probe and `diagnose`; never on `commands` or
//! `tui`.

pub mod credentials;
pub mod export;
pub mod keeper;
mod periodic;
pub mod store;
mod verdicts;

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Duration, Utc};

use super::delivery::{DeliveryStats, KEPT_MINUTES};
use crate::config::{Profile, SubscriptionScope};
use crate::creds::CredentialReport;
use crate::diagnose::Facts;
use crate::diagnose::facts::{DeadTask, FactSource};
use crate::graph::http::GraphClient;
use crate::graph::model::well_known::TENANT_WIDE_RESOURCE;
use crate::receiver::EncryptionKeys;
use crate::store::records::Event;
use crate::store::{Retention, Store, StoreError};

pub use periodic::DiagnosisOptions;
pub(crate) use periodic::{DiagnosisRound, spawn_diagnosis};
pub use verdicts::VerdictBoard;

/// The lookback window of delivery, Graph traffic, lifecycle and export facts, in minutes.
pub const WINDOW_MINUTES: u32 = KEPT_MINUTES;

/// How far back the event log is read each round: the keeper's runs of failures and the latest
/// reconciliation are older than the window.
pub const EVENT_LOOKBACK: Duration = Duration::hours(24);

/// Most events read per round (a day of a thousand per-user subscriptions is ~15 000).
const MAX_EVENTS: usize = 100_000;

/// Most notification records read to seed the delivery statistics at start.
const MAX_SEED_RECORDS: usize = 1_000_000;

/// The resource a per-user profile's subscriptions are for, as diagnosis names it.
const PER_USER_RESOURCE: &str =
    "/copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions";

/// One profile's live sources of facts.
#[derive(Debug)]
pub struct ProfileSources {
    profile: Profile,
    graph: GraphClient,
    keys: Arc<EncryptionKeys>,
    delivery: Arc<Mutex<DeliveryStats>>,
    credentials: Arc<Mutex<Option<CredentialReport>>>,
}

impl ProfileSources {
    /// The sources of `profile`, with the receiver's delivery statistics (fed elsewhere).
    pub(crate) fn new(
        profile: Profile,
        graph: GraphClient,
        keys: Arc<EncryptionKeys>,
        delivery: Arc<Mutex<DeliveryStats>>,
    ) -> Self {
        Self {
            profile,
            graph,
            keys,
            delivery,
            credentials: Arc::new(Mutex::new(None)),
        }
    }

    /// The profile.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The profile's Graph client.
    pub(crate) fn graph(&self) -> &GraphClient {
        &self.graph
    }

    /// Where the credential probe leaves its latest report.
    pub(crate) fn credentials_slot(&self) -> Arc<Mutex<Option<CredentialReport>>> {
        Arc::clone(&self.credentials)
    }

    /// Whether credentials have been checked at least once.
    fn credentials_checked(&self) -> bool {
        lock(&self.credentials).is_some()
    }

    /// The facts of this profile as of `now`, from one round's store read.
    fn facts(
        &self,
        round: &StoreRound,
        dead: &[DeadTask],
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Facts {
        let name = &self.profile.name;
        let lookback = Duration::minutes(i64::from(WINDOW_MINUTES));
        let setup = keeper::SubscriptionSetup {
            resource: match self.profile.subscription_scope {
                SubscriptionScope::Tenant => TENANT_WIDE_RESOURCE.to_owned(),
                SubscriptionScope::PerUser => PER_USER_RESOURCE.to_owned(),
            },
            notification_url: self
                .profile
                .notification_url
                .as_ref()
                .map(|u| u.to_string()),
            lifecycle_url_configured: self.profile.lifecycle_notification_url.is_some(),
        };
        let subscriptions = round.active.as_ref().map(|active| {
            let mine: Vec<_> = active
                .iter()
                .filter(|record| &record.profile == name)
                .cloned()
                .collect();
            keeper::subscription_facts(name, &setup, &mine, &round.events, now, lookback)
        });
        let mut delivery = lock(&self.delivery).facts(now, WINDOW_MINUTES);
        delivery.current_certificate_id = Some(self.keys.current_certificate_id());
        Facts {
            profile: name.clone(),
            client_id: Some(self.profile.client_id.clone()),
            thresholds: self.profile.thresholds.diagnosis(),
            source: FactSource::Collector {
                pid: std::process::id(),
                since,
            },
            credentials: lock(&self.credentials).clone(),
            subscriptions,
            delivery: Some(delivery),
            export: round
                .read_ok
                .then(|| export::export_facts(name, &round.events, now, lookback)),
            graph: Some(store::graph_traffic(
                self.graph.traffic(now, WINDOW_MINUTES),
            )),
            store: round
                .counts
                .map(|counts| store::store_facts(counts, &round.retention, &round.events)),
            dead_tasks: dead
                .iter()
                .filter(|death| death.profile.as_ref().is_none_or(|profile| profile == name))
                .cloned()
                .collect(),
        }
    }
}

/// What one round read from the store, shared by every profile. A part that could not be read
/// is `None` (and diagnosis says it could not tell).
#[derive(Debug)]
struct StoreRound {
    events: Vec<Event>,
    read_ok: bool,
    active: Option<Vec<crate::store::records::SubscriptionRecord>>,
    counts: Option<store::StoreCounts>,
    retention: Retention,
}

impl StoreRound {
    /// Reads the store (blocking: call off the runtime).
    fn read(store: &Store, retention: Retention, now: DateTime<Utc>) -> Self {
        let warn = |what: &str, error: &StoreError| {
            tracing::warn!(%error, "cannot read {what} for diagnosis");
        };
        let events = store.events().since(now - EVENT_LOOKBACK, MAX_EVENTS);
        let active = store.subscriptions().all().map(|all| {
            all.into_iter()
                .filter(|record| record.state == crate::store::records::SubscriptionState::Active)
                .collect()
        });
        let interactions = store.interactions();
        let counts = interactions.count().and_then(|count| {
            Ok(store::StoreCounts {
                interactions: count,
                oldest_created_at: interactions.oldest()?.map(|record| record.created_at),
            })
        });
        let read_ok = events.is_ok();
        Self {
            events: events.unwrap_or_else(|error| {
                warn("the event log", &error);
                Vec::new()
            }),
            read_ok,
            active: active
                .map_err(|error| warn("the subscription registry", &error))
                .ok(),
            counts: counts
                .map_err(|error| warn("the interaction counts", &error))
                .ok(),
            retention,
        }
    }
}

/// Locks a mutex whose data stays usable if a holder panicked (plain counters and a report).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Seeds `stats` with `profile`'s notifications of the last [`WINDOW_MINUTES`] in the store, so
/// a restart does not forget the last hour.
pub(crate) fn seed_delivery(
    store: &Store,
    profile: &str,
    now: DateTime<Utc>,
) -> Result<DeliveryStats, StoreError> {
    let mut stats = DeliveryStats::default();
    let from = now - Duration::minutes(i64::from(WINDOW_MINUTES));
    for record in store
        .notifications()
        .between(from, now + Duration::seconds(1), MAX_SEED_RECORDS)?
        .iter()
        .filter(|record| record.profile == profile)
    {
        stats.record(record);
    }
    Ok(stats)
}
