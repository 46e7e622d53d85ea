//! The bodies Graph POSTs: change notification batches (graph-facts §2, §3.4; fixtures
//! `notification-rich.json`, `notification-rich-null-tokens.json`) and lifecycle batches
//! (§3.6; fixture `lifecycle-reauthorization-required.json`), built once when a batch first
//! goes out and resent byte for byte on every retry.
//!
//! Rich subscriptions (`includeResourceData` with an uploaded certificate) get each item's
//! aiInteraction JSON encrypted for their certificate and one validation token per distinct
//! (app, tenant) pair; basic ones get neither. The resource path of a tenant-wide subscription
//! is the documented `copilot/interactionHistory/interactions('<id>')`. For per-user
//! subscriptions the path is not documented (graph-facts §10.2, UNVERIFIED); the simulator uses
//! `copilot/users('<user-id>')/interactionHistory/interactions('<id>')`, following Graph's
//! `Users('…')/Messages('…')` convention for user-scoped resources, so receivers must not
//! assume a single fixed prefix.
//!
//! Depends on the simulator's state (keys, rng, scenario), `graph::model` and the sibling
//! encryption and token modules.

use std::sync::Arc;

use axum::body::Bytes;
use tokio::sync::OnceCell;

use super::encrypt::{EncryptError, ForeignCertificate, Recipient, encrypt_content};
use super::validation_token::{claims, pick_version, token_mode};
use crate::graph::model::{
    AiInteraction, ChangeNotification, ChangeNotificationCollection, LifecycleEvent, ResourceData,
    ValidationTokens,
};
use crate::sim::ledger::{DeliveryKind, Generated};
use crate::sim::outbound::without_query;
use crate::sim::registry::SubscriptionRecord;
use crate::sim::scenario::{EncryptFor, Scenario, TokenMode};
use crate::sim::state::SimState;

/// `@odata.type` of Copilot interactions in `resourceData`, as the docs spell it.
pub const AI_INTERACTION_ODATA_TYPE: &str = "#Microsoft.Graph.aiInteraction";

/// A batch could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// An item could not be encrypted.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// Serialization failed.
    #[error("cannot serialize the notification: {0}")]
    Json(#[from] serde_json::Error),
    /// The stand-in certificate's generation task died.
    #[error("stand-in certificate generation did not finish: {0}")]
    Background(String),
}

/// A built batch: where it goes and the exact bytes every attempt sends.
#[derive(Clone)]
pub struct Batch {
    /// Change or lifecycle.
    pub kind: DeliveryKind,
    /// The notification (or lifecycle) URL, query string included.
    pub url: String,
    /// The JSON body.
    pub body: Bytes,
    /// Subscriptions with items in it, in order, without repeats.
    pub subscription_ids: Vec<String>,
    /// Interactions it notifies about, in order, without repeats.
    pub interaction_ids: Vec<String>,
}

impl std::fmt::Debug for Batch {
    // The body holds clientState secrets: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("kind", &self.kind)
            .field("url", &without_query(&self.url))
            .field("body_bytes", &self.body.len())
            .field("subscription_ids", &self.subscription_ids)
            .field("interaction_ids", &self.interaction_ids)
            .finish()
    }
}

/// One change to notify one subscription about.
#[derive(Clone)]
pub struct ChangeEntry {
    /// The subscription as it is when the batch goes out.
    pub record: SubscriptionRecord,
    /// The interaction.
    pub generated: Generated,
}

/// One lifecycle event for one subscription.
#[derive(Clone)]
pub struct LifecycleEntry {
    /// The subscription as it was when the event fired.
    pub record: Box<SubscriptionRecord>,
    /// The event.
    pub event: LifecycleEvent,
}

// Records carry clientState: show only ids.
impl std::fmt::Debug for ChangeEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeEntry")
            .field("subscription_id", &self.record.subscription.id)
            .field("interaction_id", &self.generated.interaction.id)
            .finish()
    }
}

impl std::fmt::Debug for LifecycleEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LifecycleEntry")
            .field("subscription_id", &self.record.subscription.id)
            .field("event", &self.event)
            .finish()
    }
}

/// True when the subscription gets rich notifications.
pub fn is_rich(record: &SubscriptionRecord) -> bool {
    record.subscription.include_resource_data == Some(true) && record.certificate.is_some()
}

/// The `resource` (and `@odata.id`) of an interaction for this subscription.
pub fn resource_path(record: &SubscriptionRecord, interaction_id: &str) -> String {
    match &record.user_id {
        None => format!("copilot/interactionHistory/interactions('{interaction_id}')"),
        Some(user) => {
            format!("copilot/users('{user}')/interactionHistory/interactions('{interaction_id}')")
        }
    }
}

/// The app a validation token is addressed to: `notificationUrlAppId` when the subscription
/// names one, else the creating app.
pub fn token_audience(record: &SubscriptionRecord) -> &str {
    record
        .subscription
        .notification_url_app_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .unwrap_or(&record.app_id)
}

/// A change notification item, with `encryptedContent` when given.
pub fn change_item(
    record: &SubscriptionRecord,
    interaction: &AiInteraction,
    encrypted_content: Option<crate::graph::model::EncryptedContent>,
) -> ChangeNotification {
    let resource = resource_path(record, &interaction.id);
    ChangeNotification {
        id: None,
        subscription_id: record.subscription.id.clone(),
        subscription_expiration_date_time: record.subscription.expiration_date_time,
        tenant_id: record.tenant_id.clone(),
        client_state: record.subscription.client_state.clone(),
        change_type: Some("created".to_owned()),
        lifecycle_event: None,
        resource: Some(resource.clone()),
        resource_data: Some(ResourceData {
            id: interaction.id.clone(),
            odata_type: AI_INTERACTION_ODATA_TYPE.to_owned(),
            odata_id: resource,
            odata_etag: None,
        }),
        encrypted_content,
    }
}

/// A lifecycle notification item: no resource information (graph-facts §3.6).
pub fn lifecycle_item(record: &SubscriptionRecord, event: LifecycleEvent) -> ChangeNotification {
    ChangeNotification {
        id: None,
        subscription_id: record.subscription.id.clone(),
        subscription_expiration_date_time: record.subscription.expiration_date_time,
        tenant_id: record.tenant_id.clone(),
        client_state: record.subscription.client_state.clone(),
        change_type: None,
        lifecycle_event: Some(event),
        resource: None,
        resource_data: None,
        encrypted_content: None,
    }
}

/// An item that could not be built and is left out of its POST.
#[derive(Debug)]
pub struct FailedItem {
    /// Its subscription.
    pub subscription_id: String,
    /// Its interaction.
    pub interaction_id: String,
    /// Why.
    pub error: BuildError,
}

/// A change batch and the items that could not go in it.
#[derive(Debug)]
pub struct BuiltChanges {
    /// The POST, unless every item failed.
    pub batch: Option<Batch>,
    /// Items left out; the others still go (one bad item never drops a shared POST).
    pub failed: Vec<FailedItem>,
}

/// Builds a change batch for `url`: encrypts rich items and mints the validation tokens now.
/// An item that cannot be encrypted is left out and reported in [`BuiltChanges::failed`].
pub async fn change_batch(
    state: &SimState,
    url: String,
    entries: &[ChangeEntry],
    foreign: &Arc<OnceCell<ForeignCertificate>>,
) -> Result<BuiltChanges, BuildError> {
    let scenario = state.scenario();
    let any_rich = entries.iter().any(|entry| is_rich(&entry.record));
    let stand_in = if any_rich && scenario.delivery.encrypt_for == EncryptFor::UnknownCertificate {
        Some(
            foreign_certificate(foreign)
                .await
                .map_err(|e| e.to_string()),
        )
    } else {
        None
    };
    let mut value = Vec::with_capacity(entries.len());
    let mut sent: Vec<&ChangeEntry> = Vec::with_capacity(entries.len());
    let mut failed = Vec::new();
    for entry in entries {
        let interaction = &entry.generated.interaction;
        let content = match (&entry.record.certificate, is_rich(&entry.record)) {
            (Some(uploaded), true) => encrypt_item(interaction, uploaded, stand_in.as_ref()),
            _ => Ok(None),
        };
        match content {
            Ok(content) => {
                value.push(change_item(&entry.record, interaction, content));
                sent.push(entry);
            }
            Err(error) => failed.push(FailedItem {
                subscription_id: entry.record.subscription.id.clone(),
                interaction_id: interaction.id.clone(),
                error,
            }),
        }
    }
    if sent.is_empty() {
        return Ok(BuiltChanges {
            batch: None,
            failed,
        });
    }
    let validation_tokens = if sent.iter().any(|entry| is_rich(&entry.record)) {
        validation_tokens(state, &scenario, &sent)
    } else {
        ValidationTokens::Absent
    };
    let body = serde_json::to_vec(&ChangeNotificationCollection {
        value,
        validation_tokens,
    })?;
    Ok(BuiltChanges {
        batch: Some(Batch {
            kind: DeliveryKind::Change,
            url,
            body: Bytes::from(body),
            subscription_ids: distinct(sent.iter().map(|e| e.record.subscription.id.as_str())),
            interaction_ids: distinct(sent.iter().map(|e| e.generated.interaction.id.as_str())),
        }),
        failed,
    })
}

/// The `encryptedContent` of one rich item, for its uploaded certificate or the stand-in.
fn encrypt_item(
    interaction: &AiInteraction,
    uploaded: &crate::sim::registry::UploadedCertificate,
    stand_in: Option<&Result<&ForeignCertificate, String>>,
) -> Result<Option<crate::graph::model::EncryptedContent>, BuildError> {
    let plaintext = serde_json::to_vec(interaction)?;
    let mut stand_in_id = String::new();
    let recipient = match stand_in {
        Some(Ok(stand_in)) => stand_in.recipient(&uploaded.id, &mut stand_in_id),
        Some(Err(error)) => return Err(BuildError::Background(error.clone())),
        None => Recipient {
            certificate_id: &uploaded.id,
            thumbprint: &uploaded.thumbprint,
            public_key_spki: &uploaded.public_key_spki,
        },
    };
    Ok(Some(encrypt_content(&plaintext, recipient)?))
}

/// Builds a lifecycle batch for `url`.
pub fn lifecycle_batch(url: String, entries: &[LifecycleEntry]) -> Result<Batch, BuildError> {
    let value = entries
        .iter()
        .map(|entry| lifecycle_item(&entry.record, entry.event))
        .collect();
    let body = serde_json::to_vec(&ChangeNotificationCollection {
        value,
        validation_tokens: ValidationTokens::Absent,
    })?;
    Ok(Batch {
        kind: DeliveryKind::Lifecycle,
        url,
        body: Bytes::from(body),
        subscription_ids: distinct(entries.iter().map(|e| e.record.subscription.id.as_str())),
        interaction_ids: Vec::new(),
    })
}

/// One token per distinct (app, tenant) pair among the rich items, in the scenario's shape.
fn validation_tokens(
    state: &SimState,
    scenario: &Scenario,
    entries: &[&ChangeEntry],
) -> ValidationTokens {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for entry in entries.iter().filter(|entry| is_rich(&entry.record)) {
        let pair = (
            token_audience(&entry.record),
            entry.record.tenant_id.as_str(),
        );
        if !pairs.contains(&pair) {
            pairs.push(pair);
        }
    }
    match token_mode(scenario) {
        TokenMode::Null => ValidationTokens::Null,
        TokenMode::NullEntry => ValidationTokens::Tokens(vec![None; pairs.len().max(1)]),
        TokenMode::Signed => {
            let now = state.now();
            let tokens = pairs
                .into_iter()
                .map(|(audience, tenant_id)| {
                    let claims = {
                        let mut rng = state.rng();
                        let version = pick_version(&mut *rng);
                        claims(&mut *rng, version, audience, tenant_id, now)
                    };
                    match state.keys.sign(&claims, now) {
                        Ok(token) => Some(token),
                        Err(error) => {
                            tracing::error!(%error, "cannot sign a validation token; sending null");
                            None
                        }
                    }
                })
                .collect();
            ValidationTokens::Tokens(tokens)
        }
    }
}

async fn foreign_certificate(
    cell: &OnceCell<ForeignCertificate>,
) -> Result<&ForeignCertificate, BuildError> {
    cell.get_or_try_init(|| async {
        match tokio::task::spawn_blocking(ForeignCertificate::generate).await {
            Ok(generated) => Ok(generated?),
            Err(join) => Err(BuildError::Background(join.to_string())),
        }
    })
    .await
}

/// The ids in their first-seen order, without repeats.
pub fn distinct<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        let id = id.as_ref();
        if !out.iter().any(|seen| seen == id) {
            out.push(id.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests;
