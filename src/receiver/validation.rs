//! Checking one `validationTokens` JWT the way graph-facts §4 requires: RS256 only (anything
//! else — `none`, HS256 keyed with the public key, ES256 — is refused from the header, before
//! any key is looked up), signed by a key of the identity platform's JWKS found by `kid`, `aud`
//! = the subscribing app, issuer in the v1 (`https://sts.windows.net/{tid}/`) or v2
//! (`https://login.microsoftonline.com/{tid}/v2.0`) form for a tenant of the batch, caller =
//! the Microsoft Graph Change Tracking app (`appid` when `ver` is 1.0, `azp` when 2.0), and
//! `nbf`/`exp` against the injected clock with a small leeway (jsonwebtoken's own time checks,
//! which read the wall clock, are off).
//!
//! Pure: the key set and `now` are arguments; fetching and caching keys is `jwks`.
//! Depends on the wire model's constants and the store's `TokenRejection` record only.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::graph::model::well_known::CHANGE_TRACKING_APP_ID;
use crate::store::records::TokenRejection;

/// Clock skew tolerated on `nbf` and `exp`.
pub const LEEWAY: Duration = Duration::minutes(5);

/// Largest token examined; real ones are under 2 KiB.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The claims this module reads; others are ignored.
#[derive(Debug, Deserialize)]
struct Claims {
    aud: Audience,
    iss: String,
    tid: String,
    exp: i64,
    nbf: Option<i64>,
    ver: String,
    appid: Option<String>,
    azp: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, app_id: &str) -> bool {
        match self {
            Self::One(aud) => aud.eq_ignore_ascii_case(app_id),
            Self::Many(auds) => auds.iter().any(|aud| aud.eq_ignore_ascii_case(app_id)),
        }
    }
}

/// The header fields read before anything else, parsed by hand so that an algorithm
/// jsonwebtoken does not know (`none`) is refused as such rather than as a parse error.
#[derive(Debug, Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

/// A token that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidToken {
    /// The tenant it vouches for (`tid`, lower case).
    pub tenant_id: String,
}

/// The `kid` of a token whose header is acceptable (RS256 with a `kid`), so the caller can
/// tell whether its key set must be refreshed first.
pub fn key_id(token: &str) -> Result<String, TokenRejection> {
    let header = header(token)?;
    if header.alg != "RS256" {
        return Err(TokenRejection::AlgNotAllowed);
    }
    header.kid.ok_or(TokenRejection::UnknownKey)
}

fn header(token: &str) -> Result<Header, TokenRejection> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenRejection::Malformed);
    }
    let encoded = token.split('.').next().ok_or(TokenRejection::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|_| TokenRejection::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenRejection::Malformed)
}

/// Validates `token` for `app_id` against `keys` at `now`; `tenants` are the batch's
/// `tenantId`s (the token's `tid` must be one of them and its issuer must name it).
pub fn validate(
    token: &str,
    keys: &JwkSet,
    app_id: &str,
    tenants: &[&str],
    now: DateTime<Utc>,
) -> Result<ValidToken, TokenRejection> {
    let kid = key_id(token)?;
    let jwk = keys.find(&kid).ok_or(TokenRejection::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenRejection::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Lifetime, audience and issuer are checked below, against the injected clock and with
    // a reason each; jsonwebtoken checks the signature and the algorithm only.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenRejection::BadSignature,
            jsonwebtoken::errors::ErrorKind::InvalidAlgorithm => TokenRejection::AlgNotAllowed,
            _ => TokenRejection::Malformed,
        })?
        .claims;

    let now_secs = now.timestamp();
    let leeway = LEEWAY.num_seconds();
    if claims.exp.saturating_add(leeway) < now_secs {
        return Err(TokenRejection::Expired);
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf.saturating_sub(leeway) > now_secs)
    {
        return Err(TokenRejection::NotYetValid);
    }
    if !claims.aud.contains(app_id) {
        return Err(TokenRejection::WrongAudience);
    }
    let tenant = claims.tid.to_ascii_lowercase();
    let known_tenant = tenants.iter().any(|t| t.eq_ignore_ascii_case(&tenant));
    if !known_tenant || !issuer_names(&claims.iss, &tenant) {
        return Err(TokenRejection::WrongIssuer);
    }
    let caller = match claims.ver.as_str() {
        "1.0" => claims.appid.as_deref(),
        "2.0" => claims.azp.as_deref(),
        _ => return Err(TokenRejection::Malformed),
    };
    if !caller.is_some_and(|caller| caller.eq_ignore_ascii_case(CHANGE_TRACKING_APP_ID)) {
        return Err(TokenRejection::WrongAppId);
    }
    Ok(ValidToken { tenant_id: tenant })
}

/// True when `iss` is the v1 or v2 issuer of `tenant`. The identity platform issues these
/// strings in every cloud it serves webhooks from, and so does the simulator.
fn issuer_names(iss: &str, tenant: &str) -> bool {
    let v1 = format!("https://sts.windows.net/{tenant}/");
    let v2 = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    iss.eq_ignore_ascii_case(&v1) || iss.eq_ignore_ascii_case(&v2)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_header_is_judged_before_any_key() {
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"aud":"x"}"#)
        );
        assert_eq!(key_id(&none), Err(TokenRejection::AlgNotAllowed));
        let hs = format!(
            "{}.e30.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","kid":"k"}"#)
        );
        assert_eq!(
            validate(&hs, &JwkSet { keys: vec![] }, "a", &["t"], Utc::now()),
            Err(TokenRejection::AlgNotAllowed)
        );
        assert_eq!(key_id("not a jwt"), Err(TokenRejection::Malformed));
        let no_kid = format!("{}.e30.sig", URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#));
        assert_eq!(key_id(&no_kid), Err(TokenRejection::UnknownKey));
    }

    #[test]
    fn issuers_in_both_forms() {
        let tid = "2c9b8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d";
        assert!(issuer_names(
            &format!("https://sts.windows.net/{tid}/"),
            tid
        ));
        assert!(issuer_names(
            &format!("https://login.microsoftonline.com/{tid}/v2.0"),
            tid
        ));
        assert!(!issuer_names(
            &format!("https://evil.example/{tid}/v2.0"),
            tid
        ));
        assert!(!issuer_names("https://sts.windows.net/other/", tid));
    }
}
