//! Client-credentials token acquisition (`pilotwatch::graph::auth`) against the in-process
//! simulator: roles decoding, caching by the injected clock, single flight, AADSTS mapping per
//! scenario, HTTPS with the simulator's CA, connection failures, and no secret in Debug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{Duration, Utc};
use common::TestSim;
use pilotwatch::clock::{Clock, ManualClock, SharedClock, SystemClock};
use pilotwatch::graph::auth::{
    AadstsKind, AuthError, REFRESH_MARGIN_SECS, TokenProvider, token_endpoint,
};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

const HEALTHY_ROLES: [&str; 4] = [
    "AiEnterpriseInteraction.Read.All",
    "User.Read.All",
    "Application.Read.All",
    "Organization.Read.All",
];

fn provider_for(sim: &TestSim, tenant: &str, clock: SharedClock) -> TokenProvider {
    let state = &sim.sim.state;
    let authority: Url = sim.base.parse().unwrap();
    TokenProvider::new(
        token_endpoint(&authority, tenant).unwrap(),
        state.configured_client_id(),
        state.configured_secret(),
        sim.http.clone(),
        clock,
    )
}

fn system_provider(sim: &TestSim) -> TokenProvider {
    provider_for(sim, &sim.sim.state.tenant.id, Arc::new(SystemClock))
}

async fn rejection(scenario: &str, tenant: Option<&str>) -> (AuthError, TokenProvider, TestSim) {
    let sim = TestSim::start(scenario).await;
    let tenant = tenant.map_or_else(|| sim.sim.state.tenant.id.clone(), str::to_owned);
    let provider = provider_for(&sim, &tenant, Arc::new(SystemClock));
    let error = provider.token().await.unwrap_err();
    (error, provider, sim)
}

fn kind_of(error: &AuthError) -> (AadstsKind, Option<u64>, u16) {
    match error {
        AuthError::Rejected {
            kind, code, status, ..
        } => (*kind, *code, *status),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn assert_no_secret(text: &str, secret: &SecretString) {
    assert!(
        !text.contains(secret.expose_secret()),
        "secret leaked into: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_token_carries_the_four_roles_and_the_tenant() {
    let sim = TestSim::start("healthy").await;
    let provider = system_provider(&sim);
    let token = provider.token().await.unwrap();
    let state = &sim.sim.state;
    let mut roles = token.roles().to_vec();
    roles.sort();
    let mut expected: Vec<String> = HEALTHY_ROLES.iter().map(|r| (*r).to_owned()).collect();
    expected.sort();
    assert_eq!(roles, expected);
    let claims = token.claims().unwrap();
    assert_eq!(claims.tid, state.tenant.id);
    assert_eq!(
        claims.appid.as_deref(),
        Some(state.tenant.app.client_id.as_str())
    );
    assert_eq!(claims.idtyp.as_deref(), Some("app"));
    assert!(claims.scp.is_none());
    let life = token.expires_at() - Utc::now();
    assert!(
        life > Duration::minutes(50) && life <= Duration::minutes(60),
        "{life}"
    );
    let server_date = provider.last_server_date().expect("Date header kept");
    assert!((server_date - Utc::now()).num_seconds().abs() < 5);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_until_the_refresh_margin_then_refetched() {
    let sim = TestSim::start("healthy").await;
    let clock = ManualClock::new(Utc::now());
    let provider = provider_for(&sim, &sim.sim.state.tenant.id, Arc::new(clock.clone()));
    let first = provider.token().await.unwrap();
    let lifetime = first.expires_at() - clock.now();
    // Just before the margin: still the same token.
    clock.advance(lifetime - Duration::seconds(REFRESH_MARGIN_SECS + 1));
    let second = provider.token().await.unwrap();
    assert_eq!(
        first.secret().expose_secret(),
        second.secret().expose_secret()
    );
    assert_eq!(first.expires_at(), second.expires_at());
    // Inside the margin: a new fetch, with an expiry from the new request time.
    clock.advance(Duration::seconds(2));
    let third = provider.token().await.unwrap();
    assert!(third.expires_at() > first.expires_at());
    assert_eq!(third.expires_at(), clock.now() + lifetime);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_one_fetch() {
    let sim = TestSim::start("healthy").await;
    let clock = ManualClock::new(Utc::now());
    let provider = provider_for(&sim, &sim.sim.state.tenant.id, Arc::new(clock.clone()));
    let calls = (0..10).map(|_| {
        let provider = provider.clone();
        tokio::spawn(async move { provider.token().await.unwrap() })
    });
    let mut tokens = Vec::new();
    for call in calls {
        tokens.push(call.await.unwrap());
    }
    // With a stopped clock, two fetches would give equal expiries; the token strings tell
    // fetches apart only if the simulator varies them, so compare both and the expiry.
    let first = &tokens[0];
    for token in &tokens {
        assert_eq!(
            token.secret().expose_secret(),
            first.secret().expose_secret()
        );
        assert_eq!(token.expires_at(), first.expires_at());
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_client_id_is_unknown_client() {
    let (error, _, sim) = rejection("invalid-client-id", None).await;
    let (kind, code, _) = kind_of(&error);
    assert_eq!((kind, code), (AadstsKind::UnknownClient, Some(700_016)));
    if let AuthError::Rejected {
        error,
        trace_id,
        correlation_id,
        ..
    } = &error
    {
        assert_eq!(error, "unauthorized_client");
        assert!(trace_id.is_some() && correlation_id.is_some());
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_id_pasted_is_invalid_secret_and_never_echoed() {
    let (error, provider, sim) = rejection("secret-id-pasted", None).await;
    assert_eq!(
        kind_of(&error),
        (AadstsKind::InvalidSecret, Some(7_000_215), 401)
    );
    let configured = sim.sim.state.configured_secret();
    for text in [
        format!("{error:?}"),
        error.to_string(),
        format!("{provider:?}"),
    ] {
        assert_no_secret(&text, &configured);
        assert_no_secret(&text, &sim.sim.state.tenant.app.secret);
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_expired_is_expired_secret() {
    let (error, _, sim) = rejection("secret-expired", None).await;
    assert_eq!(
        kind_of(&error),
        (AadstsKind::ExpiredSecret, Some(7_000_222), 401)
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_tenant_guid_is_unknown_tenant() {
    let tenant = uuid::Uuid::new_v4().to_string();
    let (error, _, sim) = rejection("healthy", Some(&tenant)).await;
    let (kind, code, status) = kind_of(&error);
    assert_eq!(
        (kind, code, status),
        (AadstsKind::UnknownTenant, Some(90_002), 400)
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_tenant_is_malformed_tenant() {
    let (error, _, sim) = rejection("healthy", Some("not a tenant!")).await;
    let (kind, code, status) = kind_of(&error);
    assert_eq!(
        (kind, code, status),
        (AadstsKind::MalformedTenant, Some(900_023), 400)
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_admin_consent_still_gets_a_token_without_roles() {
    let sim = TestSim::start("missing-admin-consent").await;
    let token = system_provider(&sim).token().await.unwrap();
    assert!(token.roles().is_empty());
    let claims = token.claims().unwrap();
    assert!(claims.roles.is_none());
    assert_eq!(claims.tid, sim.sim.state.tenant.id);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_simulators_ca_and_refused_without_it() {
    let options = SimOptions {
        https_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..SimOptions::loopback(Scenario::load("healthy").unwrap())
    };
    let sim = TestSim::start_with(options).await;
    let state = &sim.sim.state;
    let port = sim.sim.https_addr.unwrap().port();
    let authority: Url = format!("https://localhost:{port}").parse().unwrap();
    let endpoint = token_endpoint(&authority, &state.tenant.id).unwrap();
    let ca = reqwest::Certificate::from_pem(sim.sim.ca_pem.as_bytes()).unwrap();
    let trusting = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let provider = TokenProvider::new(
        endpoint.clone(),
        state.configured_client_id(),
        state.configured_secret(),
        trusting,
        Arc::new(SystemClock),
    );
    let token = provider.token().await.unwrap();
    assert_eq!(token.roles().len(), 4);

    // The platform roots do not include the simulator's CA: a certificate problem, said so.
    let untrusting = reqwest::Client::builder().no_proxy().build().unwrap();
    let provider = TokenProvider::new(
        endpoint,
        state.configured_client_id(),
        state.configured_secret(),
        untrusting,
        Arc::new(SystemClock),
    );
    match provider.token().await.unwrap_err() {
        AuthError::Network {
            message,
            tls_certificate,
        } => {
            assert!(tls_certificate, "{message}");
            assert!(message.contains("certificate"), "{message}");
        }
        other => panic!("expected a network error, got {other:?}"),
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_a_network_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let authority: Url = format!("http://127.0.0.1:{port}").parse().unwrap();
    let secret = SecretString::from("s3cr3t-value-that-must-not-leak".to_owned());
    let provider = TokenProvider::new(
        token_endpoint(&authority, "contoso.onmicrosoft.com").unwrap(),
        "00000000-0000-0000-0000-000000000001",
        secret.clone(),
        reqwest::Client::builder().no_proxy().build().unwrap(),
        Arc::new(SystemClock),
    );
    let error = provider.token().await.unwrap_err();
    match &error {
        AuthError::Network {
            tls_certificate, ..
        } => assert!(!tls_certificate),
        other => panic!("expected a network error, got {other:?}"),
    }
    assert_no_secret(&format!("{error:?} {error} {provider:?}"), &secret);
    assert!(provider.last_server_date().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_of_token_and_provider_shows_neither_token_nor_secret() {
    let sim = TestSim::start("healthy").await;
    let provider = system_provider(&sim);
    let token = provider.token().await.unwrap();
    let printed = format!("{token:?} {provider:?}");
    assert_no_secret(&printed, token.secret());
    assert_no_secret(&printed, &sim.sim.state.tenant.app.secret);
    assert!(printed.contains("redacted"));
    sim.stop().await;
}

/// A stand-in token endpoint that counts requests and answers slowly, so overlapping fetches
/// would be visible: the simulator keeps no ledger of token requests.
async fn counting_endpoint(body: &'static str, status: u16) -> (Url, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/{tenant}/oauth2/v2.0/token",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                (
                    axum::http::StatusCode::from_u16(status).unwrap(),
                    body.replace("{n}", &n.to_string()),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let authority: Url = format!("http://{addr}").parse().unwrap();
    (
        token_endpoint(&authority, "contoso.onmicrosoft.com").unwrap(),
        hits,
    )
}

fn stub_provider(endpoint: Url) -> TokenProvider {
    TokenProvider::new(
        endpoint,
        "00000000-0000-0000-0000-000000000001",
        SecretString::from("stub-secret-value".to_owned()),
        reqwest::Client::builder().no_proxy().build().unwrap(),
        Arc::new(SystemClock),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_callers_cause_exactly_one_request() {
    let (endpoint, hits) = counting_endpoint(
        r#"{"token_type":"Bearer","expires_in":3599,"access_token":"opaque-token-{n}"}"#,
        200,
    )
    .await;
    let provider = stub_provider(endpoint);
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move { provider.token().await.unwrap() })
        })
        .collect();
    for call in calls {
        let token = call.await.unwrap();
        assert_eq!(token.secret().expose_secret(), "opaque-token-0");
        // Not a JWT: no claims, and no panic for it.
        assert!(token.claims().is_none());
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    provider.token().await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 1, "cached token reused");
    provider.invalidate().await;
    let again = provider.token().await.unwrap();
    assert_eq!(again.secret().expose_secret(), "opaque-token-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn neither_token_nor_oauth_error_is_an_unexpected_answer() {
    for (body, status) in [
        ("<html>proxy says no</html>", 502),
        (r#"{"token_type":"Bearer"}"#, 200),
    ] {
        let (endpoint, _) = counting_endpoint(body, status).await;
        match stub_provider(endpoint).token().await.unwrap_err() {
            AuthError::UnexpectedAnswer { status: got } => assert_eq!(got, status),
            other => panic!("expected an unexpected answer, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_token_graph_rejected_is_forgotten() {
    let sim = TestSim::start("healthy").await;
    let provider = system_provider(&sim);
    let rejected = provider.token().await.unwrap();
    provider.invalidate_if_current(&rejected).await;
    let fresh = provider.token().await.unwrap();
    assert_ne!(
        fresh.secret().expose_secret(),
        rejected.secret().expose_secret(),
        "the rejected token was served again"
    );
    // A late 401 for the old token must not throw the fresh one away.
    provider.invalidate_if_current(&rejected).await;
    let kept = provider.token().await.unwrap();
    assert_eq!(
        kept.secret().expose_secret(),
        fresh.secret().expose_secret()
    );
    sim.stop().await;
}
