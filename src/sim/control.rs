//! The simulator's own control API under `/_sim/`: ground truth (interactions, delivery
//! attempts, subscriptions, the tenant), the simulated clock, scenario switching and key
//! rotation. It is for tests and demos; real Graph has nothing like it, so nothing outside the
//! simulator's callers should depend on it.
//!
//! Depends on the simulator's state and data modules.

use std::sync::{Arc, PoisonError};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::json;

use super::activity::{self, GenerateRequest};
use super::http_error::GraphJson;
use super::scenario::{EMBEDDED, Scenario};
use super::state::SimState;

/// The longest single clock jump accepted (simulated).
const MAX_JUMP_DAYS: i64 = 30;

/// Routes under `/_sim`.
pub fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance_clock))
        .route("/scenario", get(scenario).post(switch_scenario))
        .route("/scenarios", get(scenarios))
        .route("/tenant", get(tenant))
        .route("/interactions", get(interactions).post(generate))
        .route("/deliveries", get(deliveries))
        .route("/subscriptions", get(subscriptions))
        .route("/keys/rotate", post(rotate_keys))
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

async fn clock(State(state): State<Arc<SimState>>) -> Json<serde_json::Value> {
    Json(json!({
        "now": state.now(),
        "speed": state.clock.speed(),
        "skewSeconds": state.scenario().time.skew_seconds,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn advance_clock(
    State(state): State<Arc<SimState>>,
    GraphJson(advance): GraphJson<Advance>,
) -> Response {
    if advance.seconds <= 0 || advance.seconds > MAX_JUMP_DAYS * 86_400 {
        return bad_request(format!(
            "seconds must be between 1 and {} (the clock only moves forward)",
            MAX_JUMP_DAYS * 86_400
        ));
    }
    state.clock.jump(Duration::seconds(advance.seconds));
    Json(json!({ "now": state.now() })).into_response()
}

async fn scenario(State(state): State<Arc<SimState>>) -> Json<serde_json::Value> {
    let active = state.active();
    Json(json!({
        "name": active.scenario.name,
        "summary": active.scenario.summary,
        "since": active.since,
        "scenario": *active.scenario,
    }))
}

async fn scenarios() -> Json<serde_json::Value> {
    let list: Vec<_> = EMBEDDED
        .iter()
        .filter_map(|(name, text)| Scenario::parse(text, name).ok())
        .map(|scenario| json!({ "name": scenario.name, "summary": scenario.summary }))
        .collect();
    Json(json!({ "value": list }))
}

/// `{"name": "<embedded name>"}` or `{"toml": "<scenario file text>"}`. Files are not read from
/// a path given over HTTP.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Switch {
    name: Option<String>,
    toml: Option<String>,
}

async fn switch_scenario(
    State(state): State<Arc<SimState>>,
    GraphJson(switch): GraphJson<Switch>,
) -> Response {
    let parsed = match (switch.name, switch.toml) {
        (Some(name), None) => match EMBEDDED.iter().find(|(known, _)| *known == name) {
            Some((known, text)) => Scenario::parse(text, known),
            None => {
                let known: Vec<&str> = EMBEDDED.iter().map(|(known, _)| *known).collect();
                return bad_request(format!(
                    "unknown scenario {name:?}; known: {}",
                    known.join(", ")
                ));
            }
        },
        (None, Some(text)) => Scenario::parse(&text, "request body"),
        _ => return bad_request("give exactly one of \"name\" or \"toml\""),
    };
    match parsed {
        Ok(scenario) => {
            tracing::info!(scenario = %scenario.name, "scenario switched");
            state.set_scenario(scenario);
            let active = state.active();
            Json(json!({ "name": active.scenario.name, "since": active.since })).into_response()
        }
        Err(error) => bad_request(error.to_string()),
    }
}

async fn tenant(State(state): State<Arc<SimState>>) -> Json<serde_json::Value> {
    Json(state.tenant_document())
}

#[derive(Debug, Deserialize)]
struct Since {
    since: Option<DateTime<Utc>>,
}

async fn interactions(
    State(state): State<Arc<SimState>>,
    Query(since): Query<Since>,
) -> Json<serde_json::Value> {
    let log = state
        .interactions
        .read()
        .unwrap_or_else(PoisonError::into_inner);
    let value: Vec<_> = log
        .iter()
        .filter(|g| {
            since
                .since
                .is_none_or(|since| g.interaction.created_date_time > since)
        })
        .collect();
    Json(json!({ "count": value.len(), "value": value }))
}

async fn generate(
    State(state): State<Arc<SimState>>,
    GraphJson(request): GraphJson<GenerateRequest>,
) -> Response {
    match activity::generate_now(&state, &request) {
        Ok(created) => (StatusCode::CREATED, Json(json!({ "value": created }))).into_response(),
        Err(message) => bad_request(message),
    }
}

async fn deliveries(State(state): State<Arc<SimState>>) -> Json<serde_json::Value> {
    let log = state.deliveries();
    let value: Vec<_> = log.iter().collect();
    Json(json!({ "count": value.len(), "value": value }))
}

async fn subscriptions(State(state): State<Arc<SimState>>) -> Json<serde_json::Value> {
    let now = state.now();
    let registry = state.registry();
    let value: Vec<_> = registry
        .live(now)
        .map(|record| {
            json!({
                "subscription": record.subscription,
                "certificateThumbprint": record.certificate.as_ref().map(|c| c.thumbprint.clone()),
                "created": record.created,
                "lastRenewed": record.last_renewed,
                "lastReauthorized": record.last_reauthorized,
                "reauthorizePatchPairs": record.reauthorize_patch_pairs,
            })
        })
        .collect();
    Json(json!({ "value": value }))
}

async fn rotate_keys(State(state): State<Arc<SimState>>) -> Response {
    match state.keys.rotate_now(state.now()) {
        Ok(()) => Json(json!({ "kids": state.keys.kids() })).into_response(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
