//! The identity platform's signing keys (JWKS) for validation tokens: fetched from the
//! authority's `common/discovery/v2.0/keys` (graph-facts §4; the Node sample's URL), cached,
//! re-fetched when older than [`MAX_AGE`] (Microsoft rotates daily), and refreshed early when a
//! token names an unknown `kid` — at most once per [`MIN_REFRESH_INTERVAL`], so a flood of
//! forged `kid`s cannot turn the receiver into a load generator against the identity platform.
//! Concurrent callers share one fetch.
//!
//! Depends on reqwest and jsonwebtoken's JWK types; knows nothing of notifications.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;
use url::Url;

/// A cached key set older than this is fetched again before use.
pub const MAX_AGE: Duration = Duration::from_secs(60 * 60);

/// An unknown `kid` refreshes the cache at most this often.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// Largest key-set document read.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The key set could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// No answer, or an HTTP error.
    #[error("cannot fetch the signing keys from {url}: {reason}")]
    Fetch {
        /// The JWKS URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The answer is not a JWKS document.
    #[error("{url} did not answer a JWKS document")]
    NotJwks {
        /// The JWKS URL.
        url: String,
    },
}

/// `{authority}/common/discovery/v2.0/keys` for a login authority root such as
/// `https://login.microsoftonline.com` (or the simulator's).
pub fn keys_url(authority: &Url) -> Result<Url, url::ParseError> {
    let mut base = authority.clone();
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base.join("common/discovery/v2.0/keys")
}

#[derive(Default)]
struct Cached {
    keys: Option<Arc<JwkSet>>,
    fetched: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// A cached JWKS document.
pub struct JwksCache {
    url: Url,
    http: reqwest::Client,
    cached: Mutex<Cached>,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache for `url`, fetched with `http` (which carries the profile's CA file, if any).
    pub fn new(url: Url, http: reqwest::Client) -> Self {
        Self {
            url,
            http,
            cached: Mutex::new(Cached::default()),
        }
    }

    /// The key set, fetched first when there is none or it is older than [`MAX_AGE`]. A stale
    /// set is still answered when the re-fetch fails: keys are published days ahead.
    pub async fn keys(&self) -> Result<Arc<JwkSet>, JwksError> {
        let mut cached = self.cached.lock().await;
        let fresh = cached
            .fetched
            .is_some_and(|fetched| fetched.elapsed() < MAX_AGE);
        match (&cached.keys, fresh) {
            (Some(keys), true) => Ok(Arc::clone(keys)),
            (stale, _) => {
                let stale = stale.clone();
                match self.fetch_into(&mut cached).await {
                    Ok(keys) => Ok(keys),
                    Err(error) => stale.ok_or(error),
                }
            }
        }
    }

    /// The key set after a refresh for an unknown `kid`, unless one happened within
    /// [`MIN_REFRESH_INTERVAL`] (then the cached set, which the caller already searched).
    pub async fn refresh_for_unknown_kid(&self) -> Result<Arc<JwkSet>, JwksError> {
        let mut cached = self.cached.lock().await;
        let recently = cached
            .last_attempt
            .is_some_and(|attempt| attempt.elapsed() < MIN_REFRESH_INTERVAL);
        match (&cached.keys, recently) {
            (Some(keys), true) => Ok(Arc::clone(keys)),
            _ => self.fetch_into(&mut cached).await,
        }
    }

    async fn fetch_into(&self, cached: &mut Cached) -> Result<Arc<JwkSet>, JwksError> {
        cached.last_attempt = Some(Instant::now());
        let keys = Arc::new(self.fetch().await?);
        cached.keys = Some(Arc::clone(&keys));
        cached.fetched = Some(Instant::now());
        Ok(keys)
    }

    async fn fetch(&self) -> Result<JwkSet, JwksError> {
        let url = self.url.to_string();
        let failed = |reason: String| JwksError::Fetch {
            url: url.clone(),
            reason,
        };
        let response = self
            .http
            .get(self.url.clone())
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|error| failed(error.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!("HTTP {status}")));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(JwksError::NotJwks { url });
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| failed(error.without_url().to_string()))?;
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(JwksError::NotJwks { url });
        }
        serde_json::from_slice(&body).map_err(|_| JwksError::NotJwks { url })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn keys_url_keeps_any_authority_path() {
        let public = Url::parse("https://login.microsoftonline.com").unwrap();
        assert_eq!(
            keys_url(&public).unwrap().as_str(),
            "https://login.microsoftonline.com/common/discovery/v2.0/keys"
        );
        let nested = Url::parse("http://127.0.0.1:9/login").unwrap();
        assert_eq!(
            keys_url(&nested).unwrap().as_str(),
            "http://127.0.0.1:9/login/common/discovery/v2.0/keys"
        );
    }
}
