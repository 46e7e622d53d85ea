//! The identity platform's signing keys (JWKS) for validation tokens: fetched from the
//! authority's `common/discovery/v2.0/keys` (graph-facts §4; the Node sample's URL), cached,
//! re-fetched when older than [`MAX_AGE`] (Microsoft rotates daily), and refreshed early when a
//! token names an unknown `kid` — at most once per [`MIN_REFRESH_INTERVAL`], so a flood of
//! forged `kid`s cannot turn the receiver into a load generator against the identity platform.
//! When the platform is unreachable the cached set keeps serving (a stale set is re-tried at
//! most once per [`MIN_REFRESH_INTERVAL`]); only with no set at all is there an error, and the
//! fetch is then retried at most once per [`RETRY_INTERVAL`]. Concurrent callers share one fetch.
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

/// A cached set is re-fetched (stale, or for an unknown `kid`) at most this often.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// With no set cached, a failed fetch is retried at most this often.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(5);

/// Largest key-set document read.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The key set could not be fetched.
#[derive(Debug, Clone, thiserror::Error)]
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
    last_error: Option<JwksError>,
}

/// How long a set is fresh and how often fetches may be attempted.
#[derive(Debug, Clone, Copy)]
struct Intervals {
    max_age: Duration,
    min_refresh: Duration,
    retry: Duration,
}

const INTERVALS: Intervals = Intervals {
    max_age: MAX_AGE,
    min_refresh: MIN_REFRESH_INTERVAL,
    retry: RETRY_INTERVAL,
};

/// A cached JWKS document.
pub struct JwksCache {
    url: Url,
    http: reqwest::Client,
    intervals: Intervals,
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
            intervals: INTERVALS,
            cached: Mutex::new(Cached::default()),
        }
    }

    /// The key set, fetched first when there is none or it is older than [`MAX_AGE`]. A stale
    /// set is answered when the re-fetch fails, and without trying when one was attempted
    /// within [`MIN_REFRESH_INTERVAL`]: keys are published days ahead, and an unreachable
    /// identity platform must not cost a timeout per batch. With no set at all, a failed fetch
    /// is retried at most once per [`RETRY_INTERVAL`] (the error is answered meanwhile).
    pub async fn keys(&self) -> Result<Arc<JwkSet>, JwksError> {
        let mut cached = self.cached.lock().await;
        let fresh = cached
            .fetched
            .is_some_and(|fetched| fetched.elapsed() < self.intervals.max_age);
        let since_attempt = cached.last_attempt.map(|attempt| attempt.elapsed());
        match (cached.keys.clone(), fresh) {
            (Some(keys), true) => Ok(keys),
            (Some(stale), false) => {
                if since_attempt.is_some_and(|since| since < self.intervals.min_refresh) {
                    return Ok(stale);
                }
                Ok(self.fetch_into(&mut cached).await.unwrap_or(stale))
            }
            (None, _) => {
                if since_attempt.is_some_and(|since| since < self.intervals.retry)
                    && let Some(error) = cached.last_error.clone()
                {
                    return Err(error);
                }
                self.fetch_into(&mut cached).await
            }
        }
    }

    /// The key set when it is cached and fresh, without waiting or fetching: `None` when there
    /// is none, it is older than [`MAX_AGE`], or a fetch is under way. Synchronous code judges
    /// with it and falls back to [`Self::keys`] on `None`.
    pub fn cached(&self) -> Option<Arc<JwkSet>> {
        let cached = self.cached.try_lock().ok()?;
        let fresh = cached
            .fetched
            .is_some_and(|fetched| fetched.elapsed() < self.intervals.max_age);
        cached.keys.clone().filter(|_| fresh)
    }

    /// The key set after a refresh for an unknown `kid`, unless one was attempted within
    /// [`MIN_REFRESH_INTERVAL`]; the cached set (which the caller already searched) when the
    /// refresh is not due or fails — an unknown `kid` is then judged unknown, never a reason
    /// to hold the batch back. An error only when no set was ever fetched.
    pub async fn refresh_for_unknown_kid(&self) -> Result<Arc<JwkSet>, JwksError> {
        let mut cached = self.cached.lock().await;
        let recently = cached
            .last_attempt
            .is_some_and(|attempt| attempt.elapsed() < self.intervals.min_refresh);
        match cached.keys.clone() {
            Some(keys) if recently => Ok(keys),
            Some(keys) => Ok(self.fetch_into(&mut cached).await.unwrap_or(keys)),
            None => self.fetch_into(&mut cached).await,
        }
    }

    async fn fetch_into(&self, cached: &mut Cached) -> Result<Arc<JwkSet>, JwksError> {
        cached.last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                let keys = Arc::new(keys);
                cached.keys = Some(Arc::clone(&keys));
                cached.fetched = Some(Instant::now());
                cached.last_error = None;
                Ok(keys)
            }
            Err(error) => {
                cached.last_error = Some(error.clone());
                Err(error)
            }
        }
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
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// A key-set endpoint on loopback that counts fetches and can be made to fail.
    struct Endpoint {
        url: Url,
        fetches: Arc<AtomicUsize>,
        down: Arc<AtomicBool>,
    }

    async fn endpoint() -> Endpoint {
        let fetches = Arc::new(AtomicUsize::new(0));
        let down = Arc::new(AtomicBool::new(false));
        let (count, fail) = (Arc::clone(&fetches), Arc::clone(&down));
        let router = axum::Router::new().route(
            "/keys",
            axum::routing::get(move || {
                count.fetch_add(1, Ordering::SeqCst);
                let fail = fail.load(Ordering::SeqCst);
                async move {
                    if fail {
                        (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down").into_response()
                    } else {
                        r#"{"keys":[]}"#.into_response()
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = Url::parse(&format!("http://{}/keys", listener.local_addr().unwrap())).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Endpoint { url, fetches, down }
    }

    fn cache(endpoint: &Endpoint, intervals: Intervals) -> JwksCache {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        JwksCache {
            intervals,
            ..JwksCache::new(endpoint.url.clone(), http)
        }
    }

    use axum::response::IntoResponse as _;

    #[tokio::test]
    async fn a_stale_set_is_refetched_at_most_once_per_interval() {
        let endpoint = endpoint().await;
        let always_stale = Intervals {
            max_age: Duration::ZERO,
            min_refresh: Duration::from_secs(3600),
            retry: Duration::from_secs(3600),
        };
        let cache = cache(&endpoint, always_stale);
        cache.keys().await.unwrap();
        for _ in 0..5 {
            cache.keys().await.unwrap();
        }
        assert_eq!(endpoint.fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn an_unknown_kid_falls_back_to_the_cached_set_when_the_refresh_fails() {
        let endpoint = endpoint().await;
        let eager = Intervals {
            max_age: Duration::from_secs(3600),
            min_refresh: Duration::ZERO,
            retry: Duration::ZERO,
        };
        let cache = cache(&endpoint, eager);
        cache.keys().await.unwrap();
        endpoint.down.store(true, Ordering::SeqCst);
        let keys = cache.refresh_for_unknown_kid().await.unwrap();
        assert!(keys.keys.is_empty());
        assert_eq!(endpoint.fetches.load(Ordering::SeqCst), 2, "it did try");
    }

    #[tokio::test]
    async fn with_no_set_a_failed_fetch_is_not_retried_before_the_interval() {
        let endpoint = endpoint().await;
        endpoint.down.store(true, Ordering::SeqCst);
        let patient = Intervals {
            max_age: Duration::from_secs(3600),
            min_refresh: Duration::from_secs(3600),
            retry: Duration::from_secs(3600),
        };
        let cache = cache(&endpoint, patient);
        for _ in 0..3 {
            assert!(matches!(cache.keys().await, Err(JwksError::Fetch { .. })));
        }
        assert_eq!(endpoint.fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_synchronous_view_answers_only_a_fresh_cached_set_and_never_fetches() {
        let endpoint = endpoint().await;
        let fresh_for_an_hour = Intervals {
            max_age: Duration::from_secs(3600),
            min_refresh: Duration::from_secs(3600),
            retry: Duration::from_secs(3600),
        };
        let fresh = cache(&endpoint, fresh_for_an_hour);
        assert!(fresh.cached().is_none(), "nothing fetched yet");
        assert_eq!(
            endpoint.fetches.load(Ordering::SeqCst),
            0,
            "asking did not fetch"
        );
        fresh.keys().await.unwrap();
        assert!(fresh.cached().is_some());

        let stale_at_once = Intervals {
            max_age: Duration::ZERO,
            ..fresh_for_an_hour
        };
        let stale = cache(&endpoint, stale_at_once);
        stale.keys().await.unwrap();
        assert!(stale.cached().is_none(), "a stale set goes the async way");
        assert_eq!(endpoint.fetches.load(Ordering::SeqCst), 2);
    }

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
