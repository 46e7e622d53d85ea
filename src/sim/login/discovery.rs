//! Metadata the identity platform publishes: the OpenID Connect discovery documents (v2.0 and
//! v1.0), the signing keys (JWKS, both paths), and MSAL's instance discovery. Endpoints in the
//! documents point back at the listener the document was fetched from; `issuer` values are
//! Microsoft's, equal to the `iss` of the tokens this simulator signs.
//!
//! Depends on the simulator's state (tenant, clock, keys) and the server's `BaseUrl`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::authority::Authority;
use super::error::{Aadsts, Stamp};
use super::tenant_segment;
use crate::sim::http_error::RequestMeta;
use crate::sim::server::BaseUrl;
use crate::sim::state::SimState;

/// The region Microsoft reports for the simulated tenant.
const TENANT_REGION: &str = "NA";

/// Real seconds discovery metadata may be cached: a simulated day.
const CACHE_SIMULATED_SECS: f64 = 86_400.0;

/// The authority a discovery request names, the path segment its endpoints use and the tenant
/// its issuer names; or the identity platform's refusal.
fn resolve(
    state: &SimState,
    meta: &RequestMeta,
    uri: &Uri,
) -> Result<(Authority, String, String), Box<Response>> {
    let authority =
        known_authority(state, uri).map_err(|refusal| Box::new(refuse(state, meta, &refusal)))?;
    let tenant = &state.tenant;
    match (
        authority.endpoint_segment(tenant),
        authority.issuer_tenant(tenant),
    ) {
        (Some(segment), Some(tid)) => {
            let (segment, tid) = (segment.to_string(), tid.to_string());
            Ok((authority, segment, tid))
        }
        _ => Err(Box::new(not_a_tenant(state, meta, uri))),
    }
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub(super) async fn openid_v2(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    BaseUrl(base): BaseUrl,
    uri: Uri,
) -> Response {
    let (authority, segment, tid) = match resolve(&state, &meta, &uri) {
        Ok(resolved) => resolved,
        Err(refusal) => return *refusal,
    };
    let document = json!({
        "token_endpoint": format!("{base}/{segment}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "jwks_uri": format!("{base}/{segment}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer_v2(&tid),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{base}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/{segment}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{segment}/oauth2/v2.0/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
            "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
            "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email",
        ],
        "kerberos_endpoint": format!("{base}/{segment}/kerberos"),
        "tenant_region_scope": region(&authority),
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": host_of(&base),
        "rbac_url": "https://pas.windows.net",
    });
    metadata(&state, document)
}

/// `GET /{tenant}/.well-known/openid-configuration` (v1.0 endpoints and issuer).
pub(super) async fn openid_v1(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    BaseUrl(base): BaseUrl,
    uri: Uri,
) -> Response {
    let (authority, segment, tid) = match resolve(&state, &meta, &uri) {
        Ok(resolved) => resolved,
        Err(refusal) => return *refusal,
    };
    let document = json!({
        "token_endpoint": format!("{base}/{segment}/oauth2/token"),
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "jwks_uri": format!("{base}/common/discovery/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "token id_token", "token"],
        "scopes_supported": ["openid"],
        "issuer": issuer_v1(&tid),
        "microsoft_multi_refresh_token": true,
        "authorization_endpoint": format!("{base}/{segment}/oauth2/authorize"),
        "device_authorization_endpoint": format!("{base}/{segment}/oauth2/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/{segment}/oauth2/logout"),
        "claims_supported": [
            "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
            "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr",
            "amr", "nonce", "email", "given_name", "family_name", "nickname",
        ],
        "check_session_iframe": format!("{base}/{segment}/oauth2/checksession"),
        "userinfo_endpoint": format!("{base}/{segment}/openid/userinfo"),
        "kerberos_endpoint": format!("{base}/{segment}/kerberos"),
        "tenant_region_scope": region(&authority),
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": host_of(&base),
        "rbac_url": "https://pas.windows.net",
    });
    metadata(&state, document)
}

/// `GET /{tenant}/discovery/v2.0/keys`: every published key, each naming its v2 issuer.
pub(super) async fn keys_v2(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    uri: Uri,
) -> Response {
    let authority = match known_authority(&state, &uri) {
        Ok(authority) => authority,
        Err(refusal) => return refuse(&state, &meta, &refusal),
    };
    let Some(tid) = authority.issuer_tenant(&state.tenant) else {
        return not_a_tenant(&state, &meta, &uri);
    };
    match state.keys.jwks(state.now(), &issuer_v2(tid)) {
        Ok(jwks) => metadata(&state, jwks),
        Err(error) => key_failure(&state, &meta, &error),
    }
}

/// `GET /{tenant}/discovery/keys`: the same keys in the v1 form, without `issuer`.
pub(super) async fn keys_v1(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    uri: Uri,
) -> Response {
    if let Err(refusal) = known_authority(&state, &uri) {
        return refuse(&state, &meta, &refusal);
    }
    match state.keys.jwks(state.now(), "") {
        Ok(mut jwks) => {
            if let Some(keys) = jwks.get_mut("keys").and_then(Value::as_array_mut) {
                for key in keys.iter_mut().filter_map(Value::as_object_mut) {
                    key.remove("issuer");
                }
            }
            metadata(&state, jwks)
        }
        Err(error) => key_failure(&state, &meta, &error),
    }
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=…`: MSAL's check
/// that an authority is a known cloud instance. This listener knows itself only.
pub(super) async fn instance(
    State(state): State<Arc<SimState>>,
    meta: RequestMeta,
    BaseUrl(base): BaseUrl,
    uri: Uri,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Err(refusal) = known_authority(&state, &uri) {
        return refuse(&state, &meta, &refusal);
    }
    let host = host_of(&base);
    let tenant = match query.get("authorization_endpoint") {
        None => "common".to_owned(),
        Some(endpoint) => {
            let parsed = url::Url::parse(endpoint).ok();
            let same_host = parsed.as_ref().is_some_and(|url| {
                url.host_str().is_some_and(|endpoint_host| {
                    let authority = match url.port() {
                        Some(port) => format!("{endpoint_host}:{port}"),
                        None => endpoint_host.to_owned(),
                    };
                    authority.eq_ignore_ascii_case(&host)
                })
            });
            let first_segment = parsed
                .as_ref()
                .and_then(|url| url.path_segments())
                .and_then(|mut segments| segments.next().map(str::to_owned))
                .filter(|segment| !segment.is_empty());
            match (same_host, first_segment) {
                (true, Some(segment)) => segment,
                _ => return refuse(&state, &meta, &Aadsts::UnknownInstance),
            }
        }
    };
    let document = json!({
        "tenant_discovery_endpoint": format!("{base}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{
            "preferred_network": host,
            "preferred_cache": host,
            "aliases": [host],
        }],
    });
    metadata(&state, document)
}

const AUTH_METHODS: [&str; 3] = [
    "client_secret_post",
    "private_key_jwt",
    "client_secret_basic",
];

/// The v2.0 issuer for a tenant id (or the `{tenantid}` template).
pub fn issuer_v2(tid: &str) -> String {
    format!("https://login.microsoftonline.com/{tid}/v2.0")
}

/// The v1.0 issuer for a tenant id (or the `{tenantid}` template).
pub fn issuer_v1(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

/// The authority the request's `{tenant}` names, or why the identity platform refuses it.
fn known_authority(state: &SimState, uri: &Uri) -> Result<Authority, Aadsts> {
    match Authority::classify(&tenant_segment(uri), &state.tenant) {
        Authority::Malformed(tenant) => Err(Aadsts::TenantMalformed { tenant }),
        Authority::Unknown(tenant) => Err(Aadsts::TenantNotFound { tenant }),
        known => Ok(known),
    }
}

/// The identity platform's error answer for this request.
fn refuse(state: &SimState, meta: &RequestMeta, refusal: &Aadsts) -> Response {
    refusal.answer(&Stamp::new(state, meta)).into_response()
}

/// Cannot happen once `known_authority` has passed; answered as an unknown tenant anyway.
fn not_a_tenant(state: &SimState, meta: &RequestMeta, uri: &Uri) -> Response {
    let tenant = tenant_segment(uri);
    refuse(state, meta, &Aadsts::TenantNotFound { tenant })
}

fn key_failure(
    state: &SimState,
    meta: &RequestMeta,
    error: &crate::sim::signing_keys::KeyError,
) -> Response {
    tracing::error!(target: "pilotwatch::sim::login", %error, "cannot publish signing keys");
    refuse(state, meta, &Aadsts::Transient)
}

fn region(authority: &Authority) -> Value {
    match authority {
        Authority::Ours => Value::from(TENANT_REGION),
        _ => Value::Null,
    }
}

/// `host[:port]` of a `scheme://host[:port]` base URL.
fn host_of(base: &str) -> String {
    base.split_once("://")
        .map_or(base, |(_, host)| host)
        .to_owned()
}

/// A metadata answer: JSON, cacheable for a simulated day, readable cross-origin.
fn metadata(state: &SimState, document: Value) -> Response {
    let mut response = Json(document).into_response();
    // Saturating float-to-int conversion; the speed range keeps this between 1 and 86 400 000.
    let real_secs = (CACHE_SIMULATED_SECS / state.clock.speed())
        .round()
        .max(1.0) as u64;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&format!("max-age={real_secs}, private")) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_follow_microsoft() {
        assert_eq!(
            issuer_v2("{tenantid}"),
            "https://login.microsoftonline.com/{tenantid}/v2.0"
        );
        assert_eq!(issuer_v1("abc"), "https://sts.windows.net/abc/");
    }

    #[test]
    fn host_of_strips_the_scheme() {
        assert_eq!(host_of("https://localhost:8443"), "localhost:8443");
        assert_eq!(host_of("http://127.0.0.1:1"), "127.0.0.1:1");
    }
}
