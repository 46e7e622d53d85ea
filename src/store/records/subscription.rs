//! pilotwatch's own registry entry for a Graph subscription (Graph's list is not trusted and
//! never returns `clientState`), and the `clientState` secret it was created with.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::graph::model::well_known::MAX_CLIENT_STATE_LEN;

/// One subscription pilotwatch created or adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionRecord {
    /// Graph's subscription id.
    pub id: String,
    /// The profile that owns it.
    pub profile: String,
    /// The subscribed resource.
    pub resource: String,
    /// `expirationDateTime` as Graph last confirmed it.
    pub expires_at: DateTime<Utc>,
    /// When pilotwatch created or adopted it.
    pub created_at: DateTime<Utc>,
    /// The `clientState` every notification must echo.
    pub client_state: ClientState,
    /// `notificationUrl`.
    pub notification_url: String,
    /// `lifecycleNotificationUrl`.
    pub lifecycle_url: Option<String>,
    /// `encryptionCertificateId` of rich subscriptions.
    pub certificate_id: Option<String>,
    /// Where it is in its life.
    pub state: SubscriptionState,
    /// Last successful renewal (PATCH).
    pub last_renewed_at: Option<DateTime<Utc>>,
    /// Last successful reauthorization.
    pub last_reauthorized_at: Option<DateTime<Utc>>,
}

/// Where a subscription is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionState {
    /// Expected to deliver notifications.
    Active,
    /// Graph removed it (`subscriptionRemoved` or a 404).
    Removed,
    /// A newer subscription took its place.
    Replaced,
    /// pilotwatch deleted it.
    Deleted,
}

/// A subscription's `clientState`: a shared secret between pilotwatch and Graph.
///
/// It never appears in `Debug` output and is compared in constant time. It is persisted (the
/// receiver needs it after a restart, and Graph will not return it), so it is serialized as
/// plain text inside the store only.
#[derive(Clone)]
pub struct ClientState(SecretString);

/// The operating system's random generator failed, so no `clientState` could be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system random generator failed; no clientState could be made")]
pub struct RandomUnavailable;

impl ClientState {
    /// Graph's documented maximum length of `clientState` (graph-facts §3.1).
    pub const MAX_LEN: usize = MAX_CLIENT_STATE_LEN;

    /// Random bytes in a fresh value: 256 bits, as base64url (43 characters).
    const RANDOM_BYTES: usize = 32;

    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// A fresh random value from the operating system's CSPRNG, base64url (43 characters:
    /// within Graph's limit and safe in JSON). Fails, rather than panics, when the generator
    /// does.
    pub fn random() -> Result<Self, RandomUnavailable> {
        let mut bytes = [0_u8; Self::RANDOM_BYTES];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| RandomUnavailable)?;
        Ok(Self::new(
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        ))
    }

    /// True when `offered` (as echoed in a notification) equals this value, in constant time.
    pub fn matches(&self, offered: &str) -> bool {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            self.0.expose_secret().as_bytes(),
            offered.as_bytes(),
        )
        .is_ok()
    }

    /// The value, for the subscription request body.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl PartialEq for ClientState {
    fn eq(&self, other: &Self) -> bool {
        self.matches(other.expose())
    }
}

impl Eq for ClientState {}

impl fmt::Debug for ClientState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientState([redacted])")
    }
}

impl Serialize for ClientState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for ClientState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_state_is_redacted_and_compared_by_value() {
        let state = ClientState::new("s3cret-client-state");
        assert!(!format!("{state:?}").contains("s3cret"));
        assert!(state.matches("s3cret-client-state"));
        assert!(!state.matches("s3cret-client-statf"));
        assert!(!state.matches(""));
        let json = serde_json::to_string(&state).unwrap();
        assert_eq!(serde_json::from_str::<ClientState>(&json).unwrap(), state);
    }

    #[test]
    fn random_client_states_fit_graph_and_differ() {
        let (a, b) = (
            ClientState::random().unwrap(),
            ClientState::random().unwrap(),
        );
        assert_eq!(a.expose().len(), 43);
        assert!(a.expose().len() <= ClientState::MAX_LEN);
        assert!(
            a.expose()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a, b);
    }
}
