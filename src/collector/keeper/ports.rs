//! What the keeper needs from the rest of the collector, as two small traits: [`KeeperStore`]
//! (its subscription registry, the event log, the time of the last notification) and
//! [`CertificateSource`] (the certificate Graph encrypts rich notifications for).
//!
//! The real `Store` and the receiver's `EncryptionKeys` implement them in
//! `collector::ports`; tests may implement them in memory to inject failures. Depends on the
//! store's record types and error only.

use chrono::{DateTime, Utc};

use crate::store::StoreError;
use crate::store::records::{Event, SubscriptionRecord};

/// The keeper's view of the store.
pub trait KeeperStore: Send + Sync + 'static {
    /// Inserts or replaces a registry record (keyed by subscription id).
    fn put_subscription(&self, record: &SubscriptionRecord) -> Result<(), StoreError>;

    /// The registry record with this id.
    fn subscription(&self, id: &str) -> Result<Option<SubscriptionRecord>, StoreError>;

    /// The profile's records in state `Active`.
    fn active_subscriptions(&self, profile: &str) -> Result<Vec<SubscriptionRecord>, StoreError>;

    /// Appends to the event log; returns the event's sequence number.
    fn append_event(&self, event: &Event) -> Result<u64, StoreError>;

    /// When the profile last received a genuine change notification (its `received_at`), if
    /// ever.
    fn last_notification_at(&self, profile: &str) -> Result<Option<DateTime<Utc>>, StoreError>;
}

/// The current encryption certificate for `includeResourceData` subscriptions.
pub trait CertificateSource: Send + Sync + 'static {
    /// Base64 of the DER certificate: the subscription's `encryptionCertificate`.
    fn current_certificate_base64(&self) -> String;

    /// The app's id for it: the subscription's `encryptionCertificateId` (≤128 characters).
    fn current_certificate_id(&self) -> String;
}
