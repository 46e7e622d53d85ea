//! Gathers the [`CredentialFacts`] of one profile: loads its secret (keeping only the hint and
//! shape), requests a token, and reads the directory objects the diagnosis needs, all four
//! concurrently once the token is there.
//!
//! This is the only I/O of the credential report; judging the facts is `assess`'s job. Nothing
//! here returns an error: every failure becomes a fact (a refused token, a section that is "not
//! readable: grant X", a failed read with its reason), because the report must explain it.
//! Depends on the config, the secret sources, the clock and the Graph client.

use std::time::Duration;

use secrecy::SecretString;
use tokio::time::timeout_at;

use super::facts::{CredentialFacts, Readable, SecretFacts, SecretShape, ServerClock, TokenFacts};
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::auth::{AuthError, TokenProvider};
use crate::graph::directory;
use crate::graph::http::{GraphClient, RateBudget, RequestError, RetryPolicy, build_http_client};
use crate::graph::model::well_known::{
    APPLICATION_READ_ROLE, ORGANIZATION_READ_ROLE, USER_READ_ROLE,
};
use crate::secret::{self, SecretSource};

/// How a probe runs.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Users read to check per-user licences.
    pub user_sample: usize,
    /// Longest a secret source (a command) may take.
    pub secret_timeout: Duration,
    /// Retries of each Graph read. A report should come back quickly, so the default gives up
    /// sooner than the collector's policy would.
    pub retry: RetryPolicy,
    /// The whole probe's time limit after the secret is loaded: a monitoring system's check
    /// times out after some tens of seconds, and a late answer is worth less than a partial one.
    /// What has not answered by then is reported as timed out.
    pub deadline: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        Self {
            user_sample: 10,
            secret_timeout: secret::COMMAND_TIMEOUT,
            retry: RetryPolicy {
                max_attempts: 3,
                max_retry_after: Duration::from_secs(10),
                ..RetryPolicy::default()
            },
            deadline: Duration::from_secs(40),
        }
    }
}

/// Collects the facts about `profile`'s credentials. `budget` is the tenant's shared request
/// budget (see `graph::http::RateBudgets`).
pub async fn probe(
    profile: &Profile,
    clock: SharedClock,
    budget: RateBudget,
    options: &ProbeOptions,
) -> CredentialFacts {
    probe_keeping_client(profile, clock, budget, options)
        .await
        .0
}

/// [`probe`], also handing back the Graph client it read with once a token was granted, so a
/// caller with more to read reuses its cached token instead of asking for another (and
/// without loading the secret again).
pub async fn probe_keeping_client(
    profile: &Profile,
    clock: SharedClock,
    budget: RateBudget,
    options: &ProbeOptions,
) -> (CredentialFacts, Option<GraphClient>) {
    let checked_at = clock.now();
    let (secret_facts, secret) = load_secret(&profile.secret, options.secret_timeout).await;
    let mut facts = CredentialFacts::for_profile(profile, checked_at, secret_facts);
    let Some(secret) = secret else {
        return (facts, None);
    };
    let http = match build_http_client(profile.ca_file.as_deref()) {
        Ok(http) => http,
        Err(error) => {
            facts.token = TokenFacts::Refused(AuthError::Network {
                message: error.to_string(),
                tls_certificate: false,
            });
            return (facts, None);
        }
    };
    let tokens = match TokenProvider::for_profile(profile, secret, http.clone(), clock.clone()) {
        Ok(tokens) => tokens,
        Err(error) => {
            facts.token = TokenFacts::Refused(error);
            return (facts, None);
        }
    };
    let deadline = tokio::time::Instant::now() + options.deadline;
    let token = timeout_at(deadline, tokens.token())
        .await
        .unwrap_or_else(|_| {
            Err(AuthError::Network {
                message: timed_out(options.deadline),
                tls_certificate: false,
            })
        });
    // The token endpoint's Date is the only server time we get when the token is refused.
    let token_clock = tokens.last_server_date().map(|server| ServerClock {
        server,
        local: clock.now(),
    });
    let token = match token {
        Ok(token) => token,
        Err(error) => {
            facts.token = TokenFacts::Refused(error);
            facts.server_date = token_clock;
            return (facts, None);
        }
    };
    facts.token = TokenFacts::Granted {
        claims: token.claims().cloned(),
        expires_at: token.expires_at(),
    };
    let graph = GraphClient::new(
        profile.cloud.graph_root(),
        tokens,
        http,
        clock,
        budget,
        options.retry,
    );
    let app_id = profile.client_id.as_str();
    let (service_principal, application, skus, users) = tokio::join!(
        timeout_at(deadline, directory::service_principal(&graph, app_id)),
        timeout_at(deadline, directory::application(&graph, app_id)),
        timeout_at(deadline, directory::subscribed_skus(&graph)),
        timeout_at(
            deadline,
            directory::sample_users(&graph, options.user_sample)
        ),
    );
    let limit = options.deadline;
    facts.service_principal = readable(service_principal, APPLICATION_READ_ROLE, limit);
    facts.application = readable(application, APPLICATION_READ_ROLE, limit);
    facts.subscribed_skus = readable(skus, ORGANIZATION_READ_ROLE, limit);
    facts.sampled_users = readable(users, USER_READ_ROLE, limit);
    facts.server_date = graph
        .last_server_date()
        .map(|date| ServerClock {
            server: date.server,
            local: date.local,
        })
        .or(token_clock);
    (facts, Some(graph))
}

/// Loads the secret off the async runtime (files and commands block) and keeps only its shape
/// for the report; the secret itself goes back to the caller for the token request alone.
async fn load_secret(
    source: &SecretSource,
    timeout: Duration,
) -> (SecretFacts, Option<SecretString>) {
    let description = source.to_string();
    match source.load_off_runtime(timeout).await {
        Ok(secret) => {
            let shape = SecretShape::of(&secret);
            (
                SecretFacts {
                    source: description,
                    loaded: Ok(shape),
                },
                Some(secret),
            )
        }
        Err(error) => (
            SecretFacts {
                source: description,
                loaded: Err(error.to_string()),
            },
            None,
        ),
    }
}

/// A read's outcome as a report section: a 403 means the optional role `grant` is missing, not
/// that anything failed.
fn readable<T>(
    result: Result<Result<T, RequestError>, tokio::time::error::Elapsed>,
    grant: &str,
    limit: Duration,
) -> Readable<T> {
    match result {
        Ok(Ok(value)) => Readable::Read(value),
        Ok(Err(error)) if error.is_permission_denied() => Readable::NotReadable {
            grant: grant.to_owned(),
        },
        Ok(Err(error)) => Readable::Failed {
            reason: error.to_string(),
        },
        Err(_) => Readable::Failed {
            reason: timed_out(limit),
        },
    }
}

fn timed_out(limit: Duration) -> String {
    format!("no answer within the check's {} s limit", limit.as_secs())
}
