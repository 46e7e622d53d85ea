//! `GET /subscriptions` and `GET /subscriptions/{id}` (graph-facts §3.2, §7, §8): the calling
//! app's live subscriptions, `clientState` withheld, the list throttled at 40 requests per
//! 20 seconds per app as Graph's subscription service does.
//!
//! Depends on the subscription module's helpers, the registry and the state.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{REQUIRED_ROLES, api_version, entity, not_found, owned_by, wire};
use crate::sim::auth::Caller;
use crate::sim::http_error::{GraphFailure, RequestMeta};
use crate::sim::server::BaseUrl;
use crate::sim::state::SimState;
use crate::sim::throttle::retry_after_secs;

/// `GET /subscriptions`: this app's live subscriptions, `clientState: null` on each.
pub(super) async fn list(
    State(state): State<Arc<SimState>>,
    caller: Caller,
    meta: RequestMeta,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, GraphFailure> {
    caller.require_any(&meta, REQUIRED_ROLES)?;
    let identifier = format!("{}+{}", caller.tenant_id, caller.app_id);
    // Counted in real time: the budget is about how fast a client really calls (throttle.rs).
    if let Err(wait) = state.list_budget.check(&identifier, Instant::now()) {
        return Err(meta
            .error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                format!(
                    "Too many requests from Identifier:{identifier} under category:throttle.aad.ags.subscriptionservice.dc.list."
                ),
            )
            .retry_after(retry_after_secs(wait)));
    }
    let now = state.now();
    let value: Vec<serde_json::Value> = state
        .registry()
        .live(now)
        .filter(|record| owned_by(record, &caller))
        .map(|record| {
            let mut subscription = record.subscription.clone();
            subscription.client_state = None;
            wire(&subscription, None)
        })
        .collect();
    let context = format!("{base}/{}/$metadata#subscriptions", api_version(&uri));
    Ok(Json(json!({ "@odata.context": context, "value": value })).into_response())
}

/// `GET /subscriptions/{id}`. Graph documents withholding `clientState` for the list only
/// (graph-facts §3.1); the simulator withholds it here too, so a client never relies on
/// reading its secret back from Graph.
pub(super) async fn get_one(
    State(state): State<Arc<SimState>>,
    caller: Caller,
    meta: RequestMeta,
    BaseUrl(base): BaseUrl,
    OriginalUri(uri): OriginalUri,
    Path(id): Path<String>,
) -> Result<Response, GraphFailure> {
    caller.require_any(&meta, REQUIRED_ROLES)?;
    let now = state.now();
    let found = state
        .registry()
        .get(&id, now)
        .filter(|record| owned_by(record, &caller))
        .map(|record| record.subscription.clone());
    let Some(mut subscription) = found else {
        return Err(not_found(&meta, &id));
    };
    subscription.client_state = None;
    Ok(Json(entity(&base, &uri, &subscription)).into_response())
}
