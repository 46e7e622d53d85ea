//! The simulated Graph's `/subscriptions` API (graph-facts §2, §3.1–3.3, §8): create (with the
//! validation handshake), list, get, renew/update, reauthorize and delete, for the Copilot
//! interaction resources. The rules a request must pass live in the pure submodules
//! ([`properties`], [`validate`], [`resource`], [`filter`], [`certificate`]); the handlers in [`create`],
//! [`update`] and [`read`] apply them to the registry and answer in Graph's shapes.
//!
//! Depends on the simulator's state, registry, handshake and error plumbing and on
//! `graph::model`; never on the pusher or the lifecycle loop (they read the registry).

pub mod certificate;
mod create;
pub mod filter;
pub mod properties;
mod read;
pub mod resource;
mod update;
pub mod validate;

use std::sync::Arc;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::routing::{get, post};
use serde_json::Value;

use super::auth::Caller;
use super::http_error::{GraphFailure, RequestMeta};
use super::registry::SubscriptionRecord;
use super::state::SimState;
use crate::graph::model::Subscription;
use crate::graph::model::well_known::INTERACTION_EXPORT_ROLE;

/// Routes of the subscription API (nested under `/v1.0` and `/beta` by `server`).
pub fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/subscriptions", get(read::list).post(create::create))
        .route(
            "/subscriptions/{id}",
            get(read::get_one)
                .patch(update::update)
                .delete(update::delete),
        )
        .route("/subscriptions/{id}/reauthorize", post(update::reauthorize))
}

/// A request the subscription service refuses, before it is tied to a request's ids. The pure
/// rule modules return it; handlers turn it into Graph's error document with
/// [`Refusal::into_failure`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct Refusal {
    /// HTTP status.
    pub status: StatusCode,
    /// Graph's `error.code`.
    pub code: &'static str,
    /// Graph's `error.message`.
    pub message: String,
}

impl Refusal {
    /// `400 InvalidRequest`: a property is missing, malformed or not allowed.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "InvalidRequest",
            message: message.into(),
        }
    }

    /// A rule of the subscription service itself (lifetime, duplicates, quotas). Graph's
    /// subscription service answers those with `ExtensionError` (the 409 fixture); the code of
    /// the 400 and 403 cases is UNVERIFIED, so clients must branch on the status only.
    pub fn extension(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code: "ExtensionError",
            message: message.into(),
        }
    }

    /// `403 Forbidden`: licences or quotas.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "Forbidden",
            message: message.into(),
        }
    }

    /// Graph's error answer for this refusal of the request `meta` describes.
    pub fn into_failure(self, meta: &RequestMeta) -> GraphFailure {
        meta.error(self.status, self.code, self.message)
    }
}

/// `404 itemNotFound` for a subscription that does not exist (any more): expired, deleted,
/// removed, or another app's.
pub(crate) fn not_found(meta: &RequestMeta, id: &str) -> GraphFailure {
    let shown: String = id.chars().take(64).collect();
    meta.error(
        StatusCode::NOT_FOUND,
        "itemNotFound",
        format!("The object was not found: subscription '{shown}' does not exist or has expired."),
    )
}

/// Copilot subscriptions need `AiEnterpriseInteraction.Read.All`; listing them needs the same
/// permission as creating them (graph-facts §2, §3.2, §7). Use with [`Caller::require_any`].
pub(crate) const REQUIRED_ROLES: &[&str] = &[INTERACTION_EXPORT_ROLE];

/// True when `record` belongs to the calling app in the caller's tenant.
pub(crate) fn owned_by(record: &SubscriptionRecord, caller: &Caller) -> bool {
    record.app_id.eq_ignore_ascii_case(&caller.app_id)
        && record.tenant_id.eq_ignore_ascii_case(&caller.tenant_id)
}

/// `v1.0` or `beta`, whichever the request came in on.
pub(crate) fn api_version(uri: &Uri) -> &'static str {
    if uri.path().starts_with("/beta/") {
        "beta"
    } else {
        "v1.0"
    }
}

/// A subscription as Graph serialises it: every documented property present, with `null`
/// where it has no value (`notificationQueryOptions` is Universal Print only, so always null).
pub(crate) fn wire(subscription: &Subscription, context: Option<String>) -> Value {
    let mut subscription = subscription.clone();
    subscription.odata_context = context;
    let mut value = serde_json::to_value(&subscription).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.entry("notificationQueryOptions").or_insert(Value::Null);
    }
    value
}

/// A single subscription answer (`POST`, `GET {id}`, `PATCH`): `@odata.context` names the
/// entity on the version the request used.
pub(crate) fn entity(base: &str, uri: &Uri, subscription: &Subscription) -> Value {
    let context = format!(
        "{base}/{}/$metadata#subscriptions/$entity",
        api_version(uri)
    );
    wire(subscription, Some(context))
}
