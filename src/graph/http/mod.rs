//! The Graph request layer: [`GraphClient`] sends every Microsoft Graph call pilotwatch makes,
//! under `/v1.0` of a configured Graph root, with a bearer token from the profile's
//! [`TokenProvider`].
//!
//! What every call gets (graph-facts §1.6, §8): a budget slot before each attempt
//! ([`RateBudget`]), `Retry-After` honoured and jittered backoff ([`RetryPolicy`]), one token
//! refresh after a 401, a fresh `client-request-id` per logical request, Graph's ids kept for
//! support tickets, error bodies parsed and typed by status and `error.code`
//! ([`RequestError`]), `@odata.nextLink` paging that never leaves the Graph origin, and the
//! server `Date` of every answer recorded for clock-skew diagnosis, and every attempt counted
//! per minute ([`TrafficLog`]) for diagnosing throttling and outages.
//!
//! The access token is exposed only into the `Authorization` header; it is never logged or put
//! into an error. This module depends on `graph::auth`, `graph::model` and the clock; it knows
//! nothing of the simulator, the store or the UI.

mod budget;
mod error;
mod exchange;
mod retry;
mod traffic;
mod transport;

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::clock::SharedClock;
use crate::graph::auth::TokenProvider;
use crate::graph::model::Collection;

pub use budget::{EXPORT_REQUESTS_PER_SECOND, RateBudget, RateBudgets};
pub use error::RequestError;
pub use retry::{Decision, Outcome, RetryAfter, RetryPolicy, parse_http_date};
pub use traffic::{AttemptEnd, KEPT_MINUTES, TrafficLog, TrafficSummary};
pub use transport::{
    CONNECT_TIMEOUT, MAX_GRAPH_BODY_BYTES, MAX_TOKEN_BODY_BYTES, REQUEST_TIMEOUT,
    TransportDiagnosis, TransportError, build_http_client, diagnose_transport, read_capped,
};

/// The API version every path is relative to.
const API_VERSION: &str = "v1.0";

/// A Graph answer's `Date` and the local clock's reading when it arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerDate {
    /// The server's `Date` header.
    pub server: DateTime<Utc>,
    /// The injected clock when the answer arrived.
    pub local: DateTime<Utc>,
}

impl ServerDate {
    /// How far the local clock is ahead of the server's (negative: behind). `Date` has
    /// one-second resolution and the answer took time to arrive, so differences of a few
    /// seconds are noise.
    pub fn local_ahead_by(&self) -> chrono::Duration {
        self.local - self.server
    }
}

/// What Graph said about one logical request besides its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseMeta {
    /// HTTP status of the final answer.
    pub status: u16,
    /// Graph's `request-id`, for support tickets.
    pub request_id: Option<String>,
    /// The `client-request-id` (Graph's echo, or the one sent); the same for every attempt.
    pub client_request_id: String,
    /// The answer's `Date` header.
    pub server_date: Option<DateTime<Utc>>,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

/// A typed Graph answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse<T> {
    /// The decoded body.
    pub body: T,
    /// Status, ids and attempts.
    pub meta: ResponseMeta,
}

/// The items of a paged collection.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// Items of every page fetched, in order.
    pub items: Vec<T>,
    /// True when the page limit stopped paging while Graph still offered a next page.
    pub truncated: bool,
    /// Pages fetched.
    pub pages: usize,
}

/// Sends Graph requests for one profile. Clones share the token provider, the budget and the
/// last server date.
#[derive(Debug, Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The Graph root with query and fragment removed and no trailing `/`.
    root: Url,
    tokens: TokenProvider,
    http: reqwest::Client,
    clock: SharedClock,
    budget: RateBudget,
    policy: RetryPolicy,
    last_server_date: Mutex<Option<ServerDate>>,
    traffic: TrafficLog,
}

impl GraphClient {
    /// A client for `graph_root`, e.g. `https://graph.microsoft.com` (no `/v1.0`:
    /// [`Cloud::graph_root`](crate::config::Cloud::graph_root)).
    pub fn new(
        graph_root: Url,
        tokens: TokenProvider,
        http: reqwest::Client,
        clock: SharedClock,
        budget: RateBudget,
        policy: RetryPolicy,
    ) -> Self {
        let mut root = graph_root;
        root.set_query(None);
        root.set_fragment(None);
        Self {
            inner: Arc::new(Inner {
                root,
                tokens,
                http,
                clock,
                budget,
                policy,
                last_server_date: Mutex::new(None),
                traffic: TrafficLog::default(),
            }),
        }
    }

    /// `GET {root}/v1.0{path}`, decoded as `T`. `path` starts with `/` and may carry a query:
    /// `client.get::<ServicePrincipal>("/servicePrincipals(appId='…')?$select=id")`.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<GraphResponse<T>, RequestError> {
        let url = self.resolve(path)?;
        self.exchange(Method::GET, url, None).await?.decode()
    }

    /// Reads a collection, following `@odata.nextLink` verbatim for up to `max_pages` pages
    /// (at least one is always fetched). A next link to another origin than the Graph root is
    /// refused with [`RequestError::ForeignNextLink`]: the bearer token goes nowhere else.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        max_pages: usize,
    ) -> Result<Paged<T>, RequestError> {
        let max_pages = max_pages.max(1);
        let mut url = self.resolve(path)?;
        let mut paged = Paged {
            items: Vec::new(),
            truncated: false,
            pages: 0,
        };
        loop {
            let page: GraphResponse<Collection<T>> =
                self.exchange(Method::GET, url, None).await?.decode()?;
            paged.pages += 1;
            paged.items.extend(page.body.value);
            let Some(link) = page.body.next_link else {
                return Ok(paged);
            };
            if paged.pages >= max_pages {
                paged.truncated = true;
                return Ok(paged);
            }
            url = same_origin_link(&self.inner.root, &link)?;
        }
    }

    /// Sends `method` with `body` as JSON (none for `None`), decoding the answer as `T`. An
    /// empty answer (204) decodes as JSON `null`: use `serde::de::IgnoredAny`, `()` or an
    /// `Option` for it.
    ///
    /// POST is never replayed after an answer that leaves open whether it took effect (500,
    /// 502, 504, a timeout); 429 and 503 are retried for every method.
    pub async fn send<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<GraphResponse<T>, RequestError> {
        let url = self.resolve(path)?;
        let body =
            body.map(serde_json::to_vec)
                .transpose()
                .map_err(|e| RequestError::InvalidBody {
                    detail: e.to_string(),
                })?;
        self.exchange(method, url, body).await?.decode()
    }

    /// `DELETE`, expecting no body.
    pub async fn delete(&self, path: &str) -> Result<ResponseMeta, RequestError> {
        let url = self.resolve(path)?;
        Ok(self.exchange(Method::DELETE, url, None).await?.meta)
    }

    /// The `Date` of the latest Graph answer (errors included) and the local clock's reading
    /// when it arrived, for clock-skew diagnosis.
    pub fn last_server_date(&self) -> Option<ServerDate> {
        *self
            .inner
            .last_server_date
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// How Graph answered this client's attempts (and its clones') over the last
    /// `window_minutes` up to `now`.
    pub fn traffic(&self, now: DateTime<Utc>, window_minutes: u32) -> TrafficSummary {
        self.inner.traffic.summary(now, window_minutes)
    }

    /// The token provider this client authenticates with.
    pub fn tokens(&self) -> &TokenProvider {
        &self.inner.tokens
    }

    /// The Graph root requests go to.
    pub fn graph_root(&self) -> &Url {
        &self.inner.root
    }

    /// `{root}/v1.0{path}`, refusing anything that would leave `/v1.0` of the root's origin.
    fn resolve(&self, path: &str) -> Result<Url, RequestError> {
        resolve(&self.inner.root, path)
    }
}

/// `{root}/v1.0{path}` for a `/`-rooted `path` (with an optional query); the result must stay
/// on the root's origin and under its `/v1.0/` (no dot segments climbing out, no `//host`).
fn resolve(root: &Url, path: &str) -> Result<Url, RequestError> {
    let invalid = || RequestError::InvalidPath {
        path: path.to_owned(),
    };
    if !path.starts_with('/')
        || path.starts_with("//")
        || path.contains('#')
        || path.chars().any(char::is_control)
    {
        return Err(invalid());
    }
    let base = root.as_str().trim_end_matches('/');
    let url = Url::parse(&format!("{base}/{API_VERSION}{path}")).map_err(|_| invalid())?;
    let prefix = format!("{}/{API_VERSION}/", root.path().trim_end_matches('/'));
    if url.origin() != root.origin() || !url.path().starts_with(&prefix) {
        return Err(invalid());
    }
    Ok(url)
}

/// `link` as a URL, when it is absolute and on the same scheme, host and port as `root`.
fn same_origin_link(root: &Url, link: &str) -> Result<Url, RequestError> {
    let foreign = || RequestError::ForeignNextLink {
        link: link.to_owned(),
    };
    let url = Url::parse(link).map_err(|_| foreign())?;
    if !url.origin().is_tuple() || url.origin() != root.origin() {
        return Err(foreign());
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Url {
        text.parse().unwrap()
    }

    #[test]
    fn paths_resolve_under_v1_of_the_root() {
        let graph = root("https://graph.microsoft.com");
        let url = resolve(
            &graph,
            "/servicePrincipals(appId='6c1f0e2a')?$select=id,appId",
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://graph.microsoft.com/v1.0/servicePrincipals(appId='6c1f0e2a')?$select=id,appId"
        );
        let prefixed = root("http://127.0.0.1:8080/graph/");
        let url = resolve(&prefixed, "/users?$top=2").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/graph/v1.0/users?$top=2"
        );
        // Spaces in a $filter are encoded, not refused.
        let url = resolve(&graph, "/x?$filter=a gt 1").unwrap();
        assert_eq!(url.query(), Some("$filter=a%20gt%201"));
    }

    #[test]
    fn paths_that_escape_or_are_malformed_are_refused() {
        let graph = root("https://graph.microsoft.com");
        for bad in [
            "",
            "users",
            "//evil.example/v1.0/users",
            "/../beta/users",
            "/%2e%2e/beta/users",
            "/users#frag",
            "/users\r\nX-Injected: 1",
            "@evil.example/users",
        ] {
            match resolve(&graph, bad) {
                Err(RequestError::InvalidPath { path }) => assert_eq!(path, bad),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn next_links_must_stay_on_the_graph_origin() {
        let graph = root("http://127.0.0.1:8080");
        assert!(same_origin_link(&graph, "http://127.0.0.1:8080/v1.0/users?$skiptoken=x").is_ok());
        for foreign in [
            "http://127.0.0.1:8081/v1.0/users",
            "https://127.0.0.1:8080/v1.0/users",
            "http://localhost:8080/v1.0/users",
            "http://127.0.0.1:8080@evil.example/v1.0/users",
            "/v1.0/users?$skiptoken=relative",
            "data:text/plain,hi",
            "not a url",
        ] {
            match same_origin_link(&graph, foreign) {
                Err(RequestError::ForeignNextLink { link }) => assert_eq!(link, foreign),
                other => panic!("{foreign:?} gave {other:?}"),
            }
        }
        // Default ports are the same origin written two ways.
        let public = root("https://graph.microsoft.com");
        assert!(same_origin_link(&public, "https://graph.microsoft.com:443/v1.0/x").is_ok());
    }

    #[test]
    fn server_date_skew_is_local_minus_server() {
        let server: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        let date = ServerDate {
            server,
            local: server + chrono::Duration::minutes(7),
        };
        assert_eq!(date.local_ahead_by(), chrono::Duration::minutes(7));
    }
}
