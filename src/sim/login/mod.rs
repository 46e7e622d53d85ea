//! The simulated Microsoft identity platform (`login.microsoftonline.com`): the v2.0 token
//! endpoint for the client-credentials grant, OpenID Connect discovery (v2.0 and v1.0), the
//! signing keys, and MSAL's instance discovery. It follows graph-facts §4 and §6 and the
//! `token-*.json` / `access-token-claims.json` fixtures. It owns no state of its own: tenant,
//! scenario, clock and keys come from [`SimState`]; it must not depend on the Graph routes.
//!
//! # Token endpoint: checks, in order
//!
//! The first failing check answers; later ones are not evaluated.
//!
//! 1. **Tenant** (`{tenant}` path segment, percent-decoded): not a GUID nor a DNS name →
//!    400 `invalid_request` AADSTS900023; well formed but not ours → 400 `invalid_tenant`
//!    AADSTS90002. Our GUID or domain match in any case; `common`, `organizations`,
//!    `consumers` pass here.
//! 2. **Request shape.** Parameters are read only from an `application/x-www-form-urlencoded`
//!    body, so a JSON or garbage body has none. Duplicate parameters, an undecodable
//!    `Authorization: Basic`, a form and a Basic header naming different clients or secrets, or
//!    a body over the router's 1 MiB limit → 400 `invalid_request` AADSTS9002313. Then: no `grant_type` → 900144; a grant other than
//!    `client_credentials` → 400 `unsupported_grant_type` AADSTS70003; `/common` or
//!    `/consumers` → 400 `invalid_request` AADSTS9001023; a v1 `resource` parameter → 400
//!    AADSTS901002; no `client_id` (form or Basic) → 900144; no `scope` → 900144.
//! 3. **Client id**: not the registered app (case-insensitive) → 400 `unauthorized_client`
//!    AADSTS700016 naming the directory.
//! 4. **App disabled** (`credentials.app_enabled = false`) → 400 `unauthorized_client`
//!    AADSTS7000112.
//! 5. **Secret** (form `client_secret` or Basic password, form-urlencoded per RFC 6749 §2.3.1):
//!    none → 401 `invalid_client` AADSTS7000218 (a `client_assertion` instead → 401 AADSTS700027,
//!    the app has no certificate); not the secret's value — the Secret ID included — → 401
//!    AADSTS7000215; the value but expired (`secret_expires() <= now`) → 401 AADSTS7000222.
//!    Compared as SHA-256 digests in constant time.
//! 6. **Scope** (one value, whitespace-separated list): more than one value → 400
//!    `invalid_scope` AADSTS70011; one value without `/.default` (`User.Read.All`,
//!    `https://graph.microsoft.com/User.Read`) → 400 `invalid_scope` AADSTS1002012; a
//!    `/.default` of a well-formed resource that is not Graph → 400 `invalid_resource`
//!    AADSTS500011; anything not in URI or GUID form → 400 `invalid_scope` AADSTS70011 with
//!    Microsoft's format note.
//!
//! Success: 200 `{"token_type","expires_in":3599,"ext_expires_in":3599,"access_token"}` with
//! `Cache-Control: no-store, no-cache` and `Pragma: no-cache`; the JWT is RS256 with `kid`,
//! claims as `access-token-claims.json` plus `uti`, `iat = nbf = now`, `exp = now + 3599`
//! (simulated clock), `roles` = the scenario's consent, absent when empty.
//!
//! # What is verified and what is chosen
//!
//! VERIFIED (graph-facts §6, issue transcripts [S20]): the error body shape and
//! `error_description` layout; 700016 `unauthorized_client`; 7000215 and 7000222
//! `invalid_client` with 401; 7000218 401; 90002 `invalid_tenant`; the 900023, 900144, 70003,
//! 1002012, 70011 (also for two `/.default` scopes), 500011 (`invalid_resource`) and 9001023
//! message texts; `Cache-Control: no-store, no-cache` and `Pragma: no-cache` on token answers;
//! v1 access tokens with `iss = https://sts.windows.net/{tid}/`; roles-less tokens without
//! admin consent; the v1/v2 issuers and JWKS paths.
//!
//! Simulator choices (UNVERIFIED against a live tenant): the check order between steps 2–6;
//! HTTP 400 for 700016, 7000112, 900023 and 1002012; `invalid_request` AADSTS9002313 for
//! duplicate or conflicting credentials; `/organizations` resolving to the app's home tenant
//! (the service guesses it); a single `/.default` of an unknown resource answered 500011 rather
//! than 70011; OIDC scopes next to `/.default` counted as a second scope; `iat`/`nbf` not
//! back-dated (the fixture's `exp - iat` of 3899 s suggests the service back-dates by 300 s);
//! `aud` always the Graph URI even when the scope names Graph by appId; the correlation id
//! echoing a GUID `client-request-id`; `x-ms-request-id` = trace id; the v1.0 token endpoint
//! (`/oauth2/token`) and interactive endpoints are advertised by discovery but not served.
//!
//! # Discovery
//!
//! `/{tenant}/v2.0/.well-known/openid-configuration` and `/{tenant}/.well-known/…` for our
//! tenant (GUID or domain; endpoints use the GUID), `common`, `organizations` and `consumers`;
//! endpoints point at the listener the document came from ([`BaseUrl`]), `issuer` is
//! Microsoft's (`{tenantid}` template for the aliases). Keys: `/{tenant}/discovery/v2.0/keys`
//! (each key names its v2 issuer) and `/{tenant}/discovery/keys` (v1, no issuer), from
//! `SigningKeys` (rotated daily in simulated time, previous keys published 48 h). MSAL's
//! instance discovery (`/common/discovery/instance`) accepts this listener as the only known
//! instance and answers any other `authorization_endpoint` host with 400 `invalid_instance`
//! AADSTS50049. Unknown or malformed tenants get the same 90002 / 900023 answers as the token
//! endpoint.
//!
//! [`BaseUrl`]: crate::sim::server::BaseUrl

mod authority;
mod discovery;
mod error;
mod request;
mod scope;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::http::Uri;
use axum::routing::{get, post};

use super::state::SimState;

pub use authority::{Authority, CONSUMERS_TENANT_ID, is_dns_name};
pub use discovery::{issuer_v1, issuer_v2};
pub use error::Aadsts;
pub use scope::GRAPH_APP_ID;
pub use token::TOKEN_LIFETIME_SECS;

/// The identity-platform routes, served at the root of every listener.
pub fn routes() -> Router<Arc<SimState>> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token::token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(discovery::openid_v2),
        )
        .route(
            "/{tenant}/.well-known/openid-configuration",
            get(discovery::openid_v1),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(discovery::keys_v2))
        .route("/{tenant}/discovery/keys", get(discovery::keys_v1))
        .route("/{tenant}/discovery/instance", get(discovery::instance))
}

/// The `{tenant}` segment of an identity URL, percent-decoded (lossily: a segment that is not
/// UTF-8 is malformed either way).
fn tenant_segment(uri: &Uri) -> String {
    let raw = uri
        .path()
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    percent_encoding::percent_decode_str(raw)
        .decode_utf8_lossy()
        .into_owned()
}
