//! Bearer-token checking for the simulated Graph: every Graph call needs an access token this
//! simulator issued, unexpired on its clock. [`Caller`] is the extractor routes take; it yields
//! who is calling and with which application permissions (`roles`).
//!
//! Depends on the simulator's state and `graph::model`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use jsonwebtoken::{Algorithm, Validation};

use super::http_error::{GraphFailure, RequestMeta};
use super::login::issuer_v1;
use super::state::SimState;
use crate::graph::model::AccessTokenClaims;
use crate::graph::model::well_known::GRAPH_AUDIENCE;

/// Leeway Graph allows on `nbf`/`exp`, in seconds.
const CLOCK_LEEWAY_SECS: i64 = 300;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The app's client id.
    pub app_id: String,
    /// The tenant.
    pub tenant_id: String,
    /// Application permissions in the token.
    pub roles: Vec<String>,
    /// The service principal's object id.
    pub object_id: String,
}

impl Caller {
    /// True when the token carries `role`.
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|held| held == role)
    }

    /// `Ok` when the token carries any of `roles`, else Graph's 403.
    pub fn require_any(&self, meta: &RequestMeta, roles: &[&str]) -> Result<(), GraphFailure> {
        if roles.iter().any(|role| self.has(role)) {
            Ok(())
        } else {
            Err(meta.missing_roles(roles, &self.roles))
        }
    }
}

impl FromRequestParts<Arc<SimState>> for Caller {
    type Rejection = GraphFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<SimState>,
    ) -> Result<Self, Self::Rejection> {
        let meta = RequestMeta::from_request_parts(parts, state)
            .await
            .map_err(|_| unauthenticated_without_meta())?;
        let unauthenticated = |message: &str| {
            meta.error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                message,
            )
        };
        let header_value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        let token = match header_value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(unauthenticated("Access token is empty.")),
        };
        if token.is_empty() {
            return Err(unauthenticated("Access token is empty."));
        }
        let malformed =
            || unauthenticated("IDX14100: JWT is not well formed, there are no dots (.).");
        let header = jsonwebtoken::decode_header(token).map_err(|_| malformed())?;
        if header.alg != Algorithm::RS256 {
            return Err(unauthenticated(
                "Access token validation failure. Invalid signature algorithm.",
            ));
        }
        let kid = header.kid.ok_or_else(malformed)?;
        let key = state.keys.decoding_key(&kid).ok_or_else(|| {
            unauthenticated("Access token validation failure. Invalid signature.")
        })?;
        let mut validation = Validation::new(Algorithm::RS256);
        // Expiry is checked below against the simulated clock, not the wall clock.
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        validation.set_audience(&[GRAPH_AUDIENCE, "00000003-0000-0000-c000-000000000000"]);
        validation.set_issuer(&[issuer_v1(&state.tenant.id)]);
        let claims = jsonwebtoken::decode::<AccessTokenClaims>(token, &key, &validation)
            .map_err(|_| {
                unauthenticated(
                    "Access token validation failure. Invalid audience, issuer or signature.",
                )
            })?
            .claims;
        let now = state.now().timestamp();
        if claims.exp + CLOCK_LEEWAY_SECS < now || claims.nbf - CLOCK_LEEWAY_SECS > now {
            return Err(unauthenticated(
                "Lifetime validation failed, the token is expired.",
            ));
        }
        Ok(Caller {
            app_id: claims.appid.or(claims.azp).unwrap_or_default(),
            tenant_id: claims.tid,
            roles: claims.roles.unwrap_or_default(),
            object_id: claims.oid.unwrap_or_default(),
        })
    }
}

fn unauthenticated_without_meta() -> GraphFailure {
    RequestMeta::detached().error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        "Access token is empty.",
    )
}
