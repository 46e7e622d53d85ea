//! `PATCH /subscriptions/{id}` (renew and/or move the notification URL),
//! `POST /subscriptions/{id}/reauthorize` and `DELETE /subscriptions/{id}` (graph-facts §3.1,
//! §3.2, §3.6). A renewal also reauthorizes; a reauthorize and a PATCH within 10 minutes of
//! each other are counted on the record (Graph warns against it) but not refused.
//!
//! Depends on the subscription rule modules, the handshake, the registry and the state.

use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::create::VALIDATION_FAILED;
use super::properties::check_patch_properties;
use super::validate::{Operation, check_endpoint_url, settle_expiry};
use super::{REQUIRED_ROLES, Refusal, entity, not_found, owned_by};
use crate::graph::model::SubscriptionPatch;
use crate::sim::auth::Caller;
use crate::sim::handshake::validate_endpoint;
use crate::sim::http_error::{GraphFailure, GraphJson, RequestMeta};
use crate::sim::registry::SubscriptionRecord;
use crate::sim::server::BaseUrl;
use crate::sim::state::SimState;

/// Graph's window for "do not reauthorize and PATCH the same subscription" (graph-facts §3.2).
const REAUTHORIZE_PATCH_WINDOW_MINUTES: i64 = 10;

fn within_window(earlier: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    earlier.is_some_and(|at| now - at < Duration::minutes(REAUTHORIZE_PATCH_WINDOW_MINUTES))
}

fn note_pair(record: &mut SubscriptionRecord, what: &str) {
    record.reauthorize_patch_pairs = record.reauthorize_patch_pairs.saturating_add(1);
    tracing::warn!(
        target: "pilotwatch::sim::subscriptions",
        subscription = %record.subscription.id,
        pairs = record.reauthorize_patch_pairs,
        "{what} within 10 minutes of the other; Graph warns this can leave the subscription inconsistent"
    );
}

/// `PATCH /subscriptions/{id}`.
pub(super) async fn update(
    State(state): State<Arc<SimState>>,
    caller: Caller,
    meta: RequestMeta,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
    body: Result<GraphJson<Value>, GraphFailure>,
) -> Result<Response, GraphFailure> {
    caller.require_any(&meta, REQUIRED_ROLES)?;
    let GraphJson(body) = body?;
    let patch = read_patch(body).map_err(|refusal| refusal.into_failure(&meta))?;
    let now = state.now();
    let has_lifecycle_url = {
        let registry = state.registry();
        let Some(record) = registry
            .get(&id, now)
            .filter(|record| owned_by(record, &caller))
        else {
            return Err(not_found(&meta, &id));
        };
        record.subscription.lifecycle_notification_url.is_some()
    };
    let expiry = patch
        .expiration_date_time
        .map(|requested| settle_expiry(requested, now, has_lifecycle_url, Operation::Update))
        .transpose()
        .map_err(|refusal| refusal.into_failure(&meta))?;
    if let Some(url) = &patch.notification_url {
        check_endpoint_url("notificationUrl", url)
            .map_err(|refusal| refusal.into_failure(&meta))?;
        // Whether Graph validates a new notificationUrl on PATCH is UNVERIFIED (graph-facts
        // §3.3 item 6); the simulator does, so a client that moves its endpoint learns at once
        // when the new one cannot answer.
        if validate_endpoint(&state, url, Some(&id)).await.is_err() {
            return Err(meta.error(
                StatusCode::BAD_REQUEST,
                "ValidationError",
                VALIDATION_FAILED,
            ));
        }
    }

    let now = state.now();
    let mut registry = state.registry();
    let Some(record) = registry
        .get_mut(&id, now)
        .filter(|record| owned_by(record, &caller))
    else {
        return Err(not_found(&meta, &id));
    };
    if let Some(expiry) = expiry {
        record.subscription.expiration_date_time = expiry;
    }
    if let Some(url) = patch.notification_url {
        record.subscription.notification_url = url;
    }
    if within_window(record.last_reauthorize_call, now) {
        note_pair(record, "PATCH");
    }
    // Renewing also reauthorizes (graph-facts §3.2).
    record.last_renewed = Some(now);
    record.last_reauthorized = Some(now);
    // The update example in Graph's documentation echoes clientState (unlike the list).
    Ok(Json(entity(&base, &uri, &record.subscription)).into_response())
}

fn read_patch(body: Value) -> Result<SubscriptionPatch, Refusal> {
    let Value::Object(body) = body else {
        return Err(Refusal::invalid(
            "The request body must be a JSON object with expirationDateTime and/or notificationUrl.",
        ));
    };
    check_patch_properties(&body)?;
    serde_json::from_value(Value::Object(body))
        .map_err(|error| Refusal::invalid(format!("Invalid request: {error}")))
}

/// `POST /subscriptions/{id}/reauthorize`: `204 No Content`, expiry unchanged.
pub(super) async fn reauthorize(
    State(state): State<Arc<SimState>>,
    caller: Caller,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> Result<Response, GraphFailure> {
    caller.require_any(&meta, REQUIRED_ROLES)?;
    let now = state.now();
    let mut registry = state.registry();
    let Some(record) = registry
        .get_mut(&id, now)
        .filter(|record| owned_by(record, &caller))
    else {
        return Err(not_found(&meta, &id));
    };
    if within_window(record.last_renewed, now) {
        note_pair(record, "reauthorize");
    }
    record.last_reauthorized = Some(now);
    record.last_reauthorize_call = Some(now);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /subscriptions/{id}`: `204 No Content`.
pub(super) async fn delete(
    State(state): State<Arc<SimState>>,
    caller: Caller,
    meta: RequestMeta,
    Path(id): Path<String>,
) -> Result<Response, GraphFailure> {
    caller.require_any(&meta, REQUIRED_ROLES)?;
    let now = state.now();
    let mut registry = state.registry();
    let owned = registry
        .get(&id, now)
        .is_some_and(|record| owned_by(record, &caller));
    if !owned {
        return Err(not_found(&meta, &id));
    }
    registry.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
