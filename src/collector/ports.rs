//! Where the collector's parts meet the real store and keys: the receiver's [`Ledger`], the
//! keeper's [`KeeperStore`] and [`CertificateSource`], and the poller's [`PollerStore`],
//! implemented for [`Store`] and [`EncryptionKeys`]. Each method is a one-line delegation; the
//! only decisions here are which subscriptions count as a profile's own and how an authentic
//! interaction is projected (the profile's `store_bodies`).
//!
//! The traits stay (tests implement them in memory to inject failures); this is the only file
//! that knows both a trait and the type behind it. Depends on the store, the receiver's
//! `Ledger` and `EncryptionKeys`, the keeper's and poller's seams and the config profile.

use chrono::{DateTime, Utc};
use secrecy::SecretString;

use super::keeper::{CertificateSource, KeeperStore};
use super::poller::PollerStore;
use crate::config::Profile;
use crate::graph::model::AiInteraction;
use crate::receiver::{EncryptionKeys, Ledger};
use crate::store::records::{
    Endpoint, Event, InteractionRecord, InteractionSource, NotificationRecord, RawBatch,
    SubscriptionRecord, SubscriptionState,
};
use crate::store::{Store, StoreError};

/// The store as one profile's receiver sees it: only that profile's active subscriptions are
/// its own, and interactions are kept with bodies only when the profile opted in.
#[derive(Debug, Clone)]
pub struct ProfileLedger {
    store: Store,
    profile: String,
    store_bodies: bool,
}

impl ProfileLedger {
    /// The ledger for the receiver of the profile named `profile`; interaction bodies are
    /// kept only when `store_bodies`.
    pub fn new(store: Store, profile: impl Into<String>, store_bodies: bool) -> Self {
        Self {
            store,
            profile: profile.into(),
            store_bodies,
        }
    }

    /// The ledger for `profile`'s receiver, as configured.
    pub fn for_profile(store: Store, profile: &Profile) -> Self {
        Self::new(store, profile.name.clone(), profile.store_bodies)
    }

    /// The store behind it.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl Ledger for ProfileLedger {
    type Error = StoreError;

    fn put(
        &self,
        profile: &str,
        endpoint: Endpoint,
        received_at: DateTime<Utc>,
        body: &[u8],
    ) -> Result<u64, StoreError> {
        self.store.inbox().put(profile, endpoint, received_at, body)
    }

    async fn commit(&self) -> Result<(), StoreError> {
        self.store.commit().await
    }

    fn pending(&self, after: Option<u64>, limit: usize) -> Result<Vec<RawBatch>, StoreError> {
        self.store
            .inbox()
            .pending_for_after(&self.profile, after, limit)
    }

    fn remove(&self, id: u64) -> Result<(), StoreError> {
        self.store.inbox().remove(id)
    }

    fn client_state(&self, subscription_id: &str) -> Result<Option<SecretString>, StoreError> {
        Ok(self
            .store
            .subscriptions()
            .get(subscription_id)?
            .filter(|record| record.profile == self.profile && still_delivers(record.state))
            .map(|record| SecretString::from(record.client_state.expose().to_owned())))
    }

    fn insert_interaction(
        &self,
        _profile: &str,
        interaction: &AiInteraction,
        seen_at: DateTime<Utc>,
    ) -> Result<Option<InteractionRecord>, StoreError> {
        let record = InteractionRecord::from_graph(
            interaction,
            InteractionSource::Notification,
            seen_at,
            self.store_bodies,
        )
        .map_err(|invalid| StoreError::Encode {
            what: "interaction",
            reason: invalid.to_string(),
        })?;
        Ok(self
            .store
            .interactions()
            .insert_if_absent(&record)?
            .then_some(record))
    }

    fn record_latency(&self, at: DateTime<Utc>, latency_ms: u64) -> Result<(), StoreError> {
        self.store.latency().record(at, latency_ms)
    }

    fn append_notification(&self, record: &NotificationRecord) -> Result<(), StoreError> {
        self.store.notifications().append(record).map(drop)
    }

    fn append_lifecycle(&self, event: &Event) -> Result<(), StoreError> {
        self.store.events().append(event).map(drop)
    }
}

/// True for a subscription whose notifications may still arrive: an active one, or one the
/// keeper replaced (a certificate rotation, a changed configuration) whose deliveries Graph may
/// still be retrying (up to four hours, graph-facts §3.5). Its `clientState` is a secret only
/// pilotwatch and Graph know, so honouring it stays safe; removed and deleted ones are not.
fn still_delivers(state: SubscriptionState) -> bool {
    matches!(
        state,
        SubscriptionState::Active | SubscriptionState::Replaced
    )
}

impl KeeperStore for Store {
    fn put_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError> {
        self.subscriptions().put(record)
    }

    fn subscription(&self, id: &str) -> Result<Option<SubscriptionRecord>, StoreError> {
        self.subscriptions().get(id)
    }

    fn active_subscriptions(&self, profile: &str) -> Result<Vec<SubscriptionRecord>, StoreError> {
        self.subscriptions().active(profile)
    }

    fn append_event(&self, event: &Event) -> Result<u64, StoreError> {
        self.events().append(event)
    }

    fn last_notification_at(&self, profile: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.notifications().last_accepted_at(profile)
    }
}

impl PollerStore for Store {
    fn insert_if_absent(&self, record: &InteractionRecord) -> Result<bool, StoreError> {
        self.interactions().insert_if_absent(record)
    }

    fn interaction(&self, id: &str) -> Result<Option<InteractionRecord>, StoreError> {
        self.interactions().get(id)
    }

    fn append_event(&self, event: &Event) -> Result<u64, StoreError> {
        self.events().append(event)
    }

    fn last_accepted_at(&self, profile: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.notifications().last_accepted_at(profile)
    }
}

impl CertificateSource for EncryptionKeys {
    fn current_certificate_base64(&self) -> String {
        EncryptionKeys::current_certificate_base64(self)
    }

    fn current_certificate_id(&self) -> String {
        EncryptionKeys::current_certificate_id(self)
    }
}
