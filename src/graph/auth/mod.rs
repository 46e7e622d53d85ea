//! Client-credentials token acquisition (graph-facts §6): one [`TokenProvider`] per profile,
//! caching its app-only Graph token and refreshing it [`REFRESH_MARGIN_SECS`] before expiry.
//!
//! All time comes from the injected [`SharedClock`]; the HTTP client is built by the caller (it
//! may trust an extra CA). Errors are typed by AADSTS code number, never by description text,
//! and neither the client secret nor the access token ever appears in `Debug` or `Display`.
//! This module depends only on the wire model, the clock, the config (for URLs), the secret
//! helpers and the transport-error diagnosis it shares with Graph requests; it knows nothing of
//! the simulator.

use std::fmt;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::http::{MAX_TOKEN_BODY_BYTES, diagnose_transport, parse_http_date, read_capped};
use crate::graph::model::well_known::GRAPH_DEFAULT_SCOPE;
use crate::graph::model::{AccessTokenClaims, TokenError, TokenResponse};
use crate::secret::redact;

mod error;

pub use error::{AadstsKind, AuthError};

/// A cached token is replaced once it has this many seconds of life left or fewer, so that a
/// request started with it does not meet an expired token at Graph (and small clock skew is
/// absorbed).
pub const REFRESH_MARGIN_SECS: i64 = 5 * 60;

/// The refresh margin as a duration.
pub fn refresh_margin() -> Duration {
    Duration::seconds(REFRESH_MARGIN_SECS)
}

/// `{authority}/{tenant}/oauth2/v2.0/token`, with the tenant percent-encoded as one path segment.
pub fn token_endpoint(authority: &Url, tenant: &str) -> Result<Url, AuthError> {
    let mut url = authority.clone();
    {
        let mut segments = url
            .path_segments_mut()
            .map_err(|()| AuthError::InvalidAuthority {
                authority: authority.to_string(),
            })?;
        segments
            .pop_if_empty()
            .extend([tenant, "oauth2", "v2.0", "token"]);
    }
    Ok(url)
}

/// An app-only Graph access token and when it expires by the provider's clock.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    expires_at: DateTime<Utc>,
    claims: Option<AccessTokenClaims>,
}

impl AccessToken {
    /// The bearer token. Expose it only to put it into an `Authorization` header.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// When the token expires: the request time plus `expires_in`, by the provider's clock.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// The token's claims, decoded **without any signature check**, for diagnosis only (which
    /// roles were consented, which tenant and app the token is for). Never trust them for a
    /// security decision. `None` when the token is not a decodable JWT.
    pub fn claims(&self) -> Option<&AccessTokenClaims> {
        self.claims.as_ref()
    }

    /// The application permissions in the (untrusted) `roles` claim; empty when absent.
    pub fn roles(&self) -> &[String] {
        self.claims
            .as_ref()
            .and_then(|c| c.roles.as_deref())
            .unwrap_or_default()
    }

    fn fresh_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at - now > refresh_margin()
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .field("roles", &self.roles())
            .finish()
    }
}

/// Longest lifetime believed from `expires_in`: a nonsense value must not overflow the date
/// arithmetic (real tokens live about an hour).
const MAX_BELIEVED_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// `requested_at + expires_in`, with `expires_in` capped at [`MAX_BELIEVED_LIFETIME_SECS`].
fn expiry(requested_at: DateTime<Utc>, expires_in: u64) -> DateTime<Utc> {
    let secs = expires_in.min(MAX_BELIEVED_LIFETIME_SECS);
    let lifetime = Duration::seconds(i64::try_from(secs).unwrap_or(0));
    requested_at
        .checked_add_signed(lifetime)
        .unwrap_or(requested_at)
}

/// Decodes a JWT's payload without verifying it (diagnosis only).
fn decode_claims_unverified(jwt: &str) -> Option<AccessTokenClaims> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Obtains and caches client-credentials tokens for one profile. Cheap to clone: clones share
/// the cache and the single in-flight refresh.
#[derive(Clone)]
pub struct TokenProvider {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Url,
    client_id: String,
    client_secret: SecretString,
    http: reqwest::Client,
    clock: SharedClock,
    /// Held across a refresh so concurrent callers wait for the same request.
    cache: tokio::sync::Mutex<Option<AccessToken>>,
    last_server_date: StdMutex<Option<DateTime<Utc>>>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    /// A provider posting to `endpoint` (see [`token_endpoint`]).
    pub fn new(
        endpoint: Url,
        client_id: impl Into<String>,
        client_secret: SecretString,
        http: reqwest::Client,
        clock: SharedClock,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                endpoint,
                client_id: client_id.into(),
                client_secret,
                http,
                clock,
                cache: tokio::sync::Mutex::new(None),
                last_server_date: StdMutex::new(None),
            }),
        }
    }

    /// A provider for a profile, given its already loaded secret.
    pub fn for_profile(
        profile: &Profile,
        client_secret: SecretString,
        http: reqwest::Client,
        clock: SharedClock,
    ) -> Result<Self, AuthError> {
        let endpoint = token_endpoint(&profile.cloud.authority(), &profile.tenant)?;
        Ok(Self::new(
            endpoint,
            profile.client_id.clone(),
            client_secret,
            http,
            clock,
        ))
    }

    /// The token endpoint this provider posts to.
    pub fn endpoint(&self) -> &Url {
        &self.inner.endpoint
    }

    /// The server `Date` of the last answer from the token endpoint, for clock-skew diagnosis.
    pub fn last_server_date(&self) -> Option<DateTime<Utc>> {
        *self
            .inner
            .last_server_date
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached token while it has more than the refresh margin left, else a new one.
    /// Only one request is in flight per provider; concurrent callers share its result.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        let mut cache = self.inner.cache.lock().await;
        if let Some(token) = cache.as_ref()
            && token.fresh_at(self.inner.clock.now())
        {
            return Ok(token.clone());
        }
        let token = self.fetch().await?;
        *cache = Some(token.clone());
        Ok(token)
    }

    /// Forgets the cached token.
    pub async fn invalidate(&self) {
        *self.inner.cache.lock().await = None;
    }

    /// Forgets the cached token if it is still `rejected` (Graph answered 401 with it). Many
    /// requests can meet the same 401 at once: the first one's refresh must not be thrown away
    /// by the others, or each would fetch a token of its own.
    pub async fn invalidate_if_current(&self, rejected: &AccessToken) {
        let mut cache = self.inner.cache.lock().await;
        let still_cached = cache.as_ref().is_some_and(|cached| {
            cached.expires_at == rejected.expires_at
                && cached.secret.expose_secret() == rejected.secret.expose_secret()
        });
        if still_cached {
            *cache = None;
        }
    }

    async fn fetch(&self) -> Result<AccessToken, AuthError> {
        let inner = &self.inner;
        let requested_at = inner.clock.now();
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", inner.client_id.as_str()),
            ("client_secret", inner.client_secret.expose_secret()),
            ("scope", GRAPH_DEFAULT_SCOPE),
        ];
        let response = inner
            .http
            .post(inner.endpoint.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| self.network_error(&e))?;
        let status = response.status();
        self.remember_server_date(response.headers());
        let body = read_capped(response, MAX_TOKEN_BODY_BYTES)
            .await
            .map_err(|e| self.network_error(&e))?
            .ok_or(AuthError::UnexpectedAnswer {
                status: status.as_u16(),
            })?;
        if status.is_success() {
            let answer: TokenResponse =
                serde_json::from_slice(&body).map_err(|_| AuthError::UnexpectedAnswer {
                    status: status.as_u16(),
                })?;
            let claims = decode_claims_unverified(answer.access_token.expose_secret());
            Ok(AccessToken {
                secret: answer.access_token,
                expires_at: expiry(requested_at, answer.expires_in),
                claims,
            })
        } else {
            Err(self.rejection(status, &body))
        }
    }

    fn rejection(&self, status: StatusCode, body: &[u8]) -> AuthError {
        let Ok(error) = serde_json::from_slice::<TokenError>(body) else {
            return AuthError::UnexpectedAnswer {
                status: status.as_u16(),
            };
        };
        let code = error.code();
        AuthError::Rejected {
            status: status.as_u16(),
            code,
            kind: AadstsKind::from_code(code),
            error: redact(&error.error, &self.inner.client_secret),
            description: redact(&error.error_description, &self.inner.client_secret).into(),
            trace_id: error.trace_id,
            correlation_id: error.correlation_id,
        }
    }

    fn remember_server_date(&self, headers: &reqwest::header::HeaderMap) {
        let date = headers
            .get(reqwest::header::DATE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date);
        if let Some(date) = date {
            *self
                .inner
                .last_server_date
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(date);
        }
    }

    fn network_error(&self, error: &reqwest::Error) -> AuthError {
        let diagnosis = diagnose_transport(error);
        AuthError::Network {
            message: redact(&diagnosis.message, &self.inner.client_secret),
            tls_certificate: diagnosis.tls_certificate,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn endpoint_appends_tenant_segments() {
        let authority: Url = "https://login.microsoftonline.com".parse().unwrap();
        let url = token_endpoint(&authority, "contoso.onmicrosoft.com").unwrap();
        assert_eq!(
            url.as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        let with_slash: Url = "http://127.0.0.1:9/".parse().unwrap();
        let url = token_endpoint(&with_slash, "not a tenant!").unwrap();
        assert_eq!(url.path(), "/not%20a%20tenant!/oauth2/v2.0/token");
    }

    #[test]
    fn absurd_lifetimes_are_capped_not_overflowed() {
        let now: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        assert_eq!(expiry(now, 3599), now + Duration::seconds(3599));
        assert_eq!(expiry(now, u64::MAX), now + Duration::days(1));
    }

    #[test]
    fn codes_map_to_kinds() {
        assert_eq!(
            AadstsKind::from_code(Some(7_000_215)),
            AadstsKind::InvalidSecret
        );
        assert_eq!(AadstsKind::from_code(Some(70_011)), AadstsKind::BadScope);
        assert_eq!(AadstsKind::from_code(Some(1_002_012)), AadstsKind::BadScope);
        assert_eq!(
            AadstsKind::from_code(Some(50_196)),
            AadstsKind::Other(50_196)
        );
        assert_eq!(AadstsKind::from_code(None), AadstsKind::NoCode);
    }

    #[test]
    fn claims_decode_without_verification_and_garbage_is_none() {
        let payload = URL_SAFE_NO_PAD.encode(
            br#"{"aud":"a","iss":"i","iat":1,"nbf":1,"exp":2,"tid":"t","ver":"1.0","roles":["R"]}"#,
        );
        let claims = decode_claims_unverified(&format!("x.{payload}.sig")).unwrap();
        assert_eq!(claims.roles, Some(vec!["R".to_owned()]));
        assert!(decode_claims_unverified("opaque-token").is_none());
        assert!(decode_claims_unverified("a.!!!.b").is_none());
    }
}
