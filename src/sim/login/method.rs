//! What the identity platform answers for an HTTP method an endpoint does not take: its own
//! `TokenError` (400 `invalid_request` AADSTS900561, "The endpoint only accepts POST, OPTIONS
//! requests. Received a GET request."), never the Graph error shape the rest of the router
//! uses; and the token endpoint's `OPTIONS` (CORS preflight) answer.
//!
//! VERIFIED for the token endpoint (graph-facts §6); the same answer for the discovery
//! endpoints, naming `GET, OPTIONS`, is a simulator choice (UNVERIFIED).
//!
//! Depends on the login error module, the request metadata and the state; never on routes.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::echo;
use super::error::{Aadsts, Stamp};
use crate::sim::http_error::RequestMeta;
use crate::sim::state::SimState;

/// Methods the token endpoint accepts.
const TOKEN_METHODS: &str = "POST, OPTIONS";

/// Methods the discovery endpoints accept.
const DISCOVERY_METHODS: &str = "GET, OPTIONS";

/// Method fallback of the token endpoint.
pub(super) async fn not_token_method(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    method: Method,
) -> Response {
    refuse(&state, &meta, TOKEN_METHODS, &method)
}

/// Method fallback of the discovery endpoints (`GET` only, plus preflight).
pub(super) async fn not_discovery_method(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    method: Method,
) -> Response {
    if method == Method::OPTIONS {
        return preflight(DISCOVERY_METHODS);
    }
    refuse(&state, &meta, DISCOVERY_METHODS, &method)
}

/// `OPTIONS` on the token endpoint: a CORS preflight answer naming what it accepts.
pub(super) async fn token_preflight() -> Response {
    preflight(TOKEN_METHODS)
}

fn refuse(
    state: &SimState,
    meta: &RequestMeta,
    accepted: &'static str,
    method: &Method,
) -> Response {
    Aadsts::MethodNotAccepted {
        accepted,
        method: echo(method.as_str()),
    }
    .answer(&Stamp::new(state, meta))
    .into_response()
}

fn preflight(accepted: &'static str) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    let methods = HeaderValue::from_static(accepted);
    headers.insert(header::ALLOW, methods.clone());
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
