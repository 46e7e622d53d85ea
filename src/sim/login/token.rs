//! `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant. Runs the checks in the
//! order the module documentation gives, answers the first failure with its AADSTS error, and
//! otherwise mints an RS256 app-only Graph access token (v1.0 claims, `roles` = the scenario's
//! consented permissions, absent when there are none).
//!
//! Depends on the simulator's state (tenant, scenario, clock, keys) and `graph::model`. Never
//! logs the form body or any credential.

use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use aws_lc_rs::digest::{SHA256, digest};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::Rng as _;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::authority::Authority;
use super::error::{Aadsts, Stamp, identity_headers};
use super::issuer::issuer_v1;
use super::request::{self, TokenRequest};
use super::scope::{self, ScopeVerdict};
use super::{echo, tenant_segment};
use crate::graph::model::AccessTokenClaims;
use crate::graph::model::well_known::GRAPH_AUDIENCE;
use crate::sim::http_error::RequestMeta;
use crate::sim::state::SimState;

/// Lifetime of an issued token, as `expires_in` reports it.
pub const TOKEN_LIFETIME_SECS: i64 = 3599;

/// The only grant this simulator issues.
const CLIENT_CREDENTIALS: &str = "client_credentials";

/// The success body (`token-success.json`), fields in the service's order.
#[derive(Serialize)]
struct TokenAnswer<'a> {
    token_type: &'static str,
    expires_in: i64,
    ext_expires_in: i64,
    access_token: &'a str,
}

/// The token endpoint.
pub(super) async fn token(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    state
        .token_requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let stamp = Stamp::new(&state, &meta);
    match issue(&state, &tenant_segment(&uri), &headers, body) {
        Ok(access_token) => {
            tracing::debug!(target: "pilotwatch::sim::login", "access token issued");
            let body = TokenAnswer {
                token_type: "Bearer",
                expires_in: TOKEN_LIFETIME_SECS,
                ext_expires_in: TOKEN_LIFETIME_SECS,
                access_token: access_token.expose_secret(),
            };
            let mut response = Json(body).into_response();
            identity_headers(response.headers_mut(), &stamp.trace_id);
            response
        }
        Err(refusal) => {
            tracing::info!(
                target: "pilotwatch::sim::login",
                code = refusal.code(), error = refusal.error(),
                "token request refused"
            );
            refusal.answer(&stamp).into_response()
        }
    }
}

/// Every check, in order; the signed token or the first failure.
fn issue(
    state: &SimState,
    tenant: &str,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<SecretString, Aadsts> {
    let authority = Authority::classify(tenant, &state.tenant);
    match &authority {
        Authority::Malformed(tenant) => {
            return Err(Aadsts::TenantMalformed {
                tenant: tenant.clone(),
            });
        }
        Authority::Unknown(tenant) => {
            return Err(Aadsts::TenantNotFound {
                tenant: tenant.clone(),
            });
        }
        _ => {}
    }

    let request = read_request(headers, body)?;
    let grant_type = request
        .grant_type
        .as_deref()
        .ok_or(Aadsts::MissingParameter { name: "grant_type" })?;
    if grant_type != CLIENT_CREDENTIALS {
        return Err(Aadsts::UnsupportedGrantType {
            grant_type: echo(grant_type),
        });
    }
    if matches!(authority, Authority::Common | Authority::Consumers) {
        return Err(Aadsts::GrantNotOnCommon);
    }
    if request.resource {
        return Err(Aadsts::ResourceParameter);
    }
    let client_id = request
        .client_id
        .as_deref()
        .ok_or(Aadsts::MissingParameter { name: "client_id" })?;
    let scope = request
        .scope
        .as_deref()
        .ok_or(Aadsts::MissingParameter { name: "scope" })?;

    let app = &state.tenant.app;
    if !client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(Aadsts::UnknownClient {
            client_id: echo(client_id),
            directory: state.tenant.display_name.clone(),
        });
    }
    let scenario = state.scenario();
    if !scenario.credentials.app_enabled {
        return Err(Aadsts::AppDisabled {
            client_id: app.client_id.clone(),
            name: app.display_name.clone(),
        });
    }

    let now = state.now();
    authenticate(state, &request, now)?;

    match scope::evaluate(scope) {
        ScopeVerdict::Graph => {}
        ScopeVerdict::NotDefault => {
            return Err(Aadsts::ScopeNotDefault { scope: echo(scope) });
        }
        ScopeVerdict::Invalid { bad_format } => {
            return Err(Aadsts::InvalidScope {
                scope: echo(scope),
                bad_format,
            });
        }
        ScopeVerdict::UnknownResource(resource) => {
            let tenant = match authority {
                Authority::Ours => echo(tenant),
                _ => state.tenant.display_name.clone(),
            };
            return Err(Aadsts::ResourceNotFound {
                resource: echo(&resource),
                tenant,
            });
        }
    }

    mint(state, now, &scenario.consent.roles).map_err(|error| {
        tracing::error!(target: "pilotwatch::sim::login", %error, "cannot sign an access token");
        Aadsts::Transient
    })
}

/// Reads the form and Basic credentials; a body that cannot be read counts as malformed.
fn read_request(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<TokenRequest, Aadsts> {
    let body = body.map_err(|rejection| {
        tracing::debug!(target: "pilotwatch::sim::login", status = %rejection.status(), "token request body unreadable");
        Aadsts::Malformed
    })?;
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    request::parse(
        text(header::CONTENT_TYPE),
        &body,
        text(header::AUTHORIZATION),
    )
    .map_err(|reason| {
        tracing::debug!(target: "pilotwatch::sim::login", %reason, "malformed token request");
        Aadsts::Malformed
    })
}

/// The client's credential: the secret must match (in constant time) and be unexpired. The
/// secret's keyId is not a secret of the app, so pasting it fails exactly like a wrong secret.
fn authenticate(
    state: &SimState,
    request: &TokenRequest,
    now: DateTime<Utc>,
) -> Result<(), Aadsts> {
    let client_id = state.tenant.app.client_id.clone();
    let Some(offered) = &request.client_secret else {
        return Err(if request.client_assertion.is_some() {
            // The simulated app has no certificate credential, so no assertion can verify.
            Aadsts::UnknownAssertionKey { client_id }
        } else {
            Aadsts::MissingCredential
        });
    };
    if !secrets_equal(offered, &state.tenant.app.secret) {
        return Err(Aadsts::InvalidSecret { client_id });
    }
    if state.secret_expires() <= now {
        return Err(Aadsts::SecretExpired { client_id });
    }
    Ok(())
}

/// Compares digests in constant time, so neither content nor length of the secret leaks.
fn secrets_equal(offered: &SecretString, actual: &SecretString) -> bool {
    let offered = digest(&SHA256, offered.expose_secret().as_bytes());
    let actual = digest(&SHA256, actual.expose_secret().as_bytes());
    verify_slices_are_equal(offered.as_ref(), actual.as_ref()).is_ok()
}

/// Signs the app-only Graph token for the registered app at `now`.
fn mint(
    state: &SimState,
    now: DateTime<Utc>,
    roles: &[String],
) -> Result<SecretString, crate::sim::signing_keys::KeyError> {
    let tenant = &state.tenant;
    let uti_bytes: [u8; 16] = state.rng().random();
    let claims = AccessTokenClaims {
        aud: GRAPH_AUDIENCE.to_owned(),
        iss: issuer_v1(&tenant.id),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: (now + Duration::seconds(TOKEN_LIFETIME_SECS)).timestamp(),
        appid: Some(tenant.app.client_id.clone()),
        azp: None,
        appidacr: Some("1".to_owned()),
        idtyp: Some("app".to_owned()),
        oid: Some(tenant.app.service_principal_id.clone()),
        roles: (!roles.is_empty()).then(|| roles.to_vec()),
        scp: None,
        tid: tenant.id.clone(),
        ver: "1.0".to_owned(),
        uti: Some(URL_SAFE_NO_PAD.encode(uti_bytes)),
    };
    state.keys.sign(&claims, now).map(SecretString::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_comparison_is_exact() {
        let actual = SecretString::from("abc~defghijklmnopqrstuvwxyz0123456789AB".to_owned());
        assert!(secrets_equal(&actual.clone(), &actual));
        for other in ["", "abc", "abc~defghijklmnopqrstuvwxyz0123456789AC"] {
            assert!(!secrets_equal(
                &SecretString::from(other.to_owned()),
                &actual
            ));
        }
    }
}
