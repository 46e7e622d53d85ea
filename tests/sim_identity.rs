//! The simulated identity platform over HTTP(S): client-credentials tokens and every AADSTS
//! refusal, discovery documents, JWKS, key rotation and clock skew.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use pilotwatch::graph::model::well_known::CONNECTOR_ROLES;
use pilotwatch::graph::model::{AccessTokenClaims, TokenError};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use common::TestSim;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const FORM: &str = "application/x-www-form-urlencoded";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../shared/graph-fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn keys_of(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn encode(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// The registered app's id and secret value.
fn credentials(sim: &TestSim) -> (String, String) {
    let app = &sim.sim.state.tenant.app;
    (app.client_id.clone(), app.secret.expose_secret().to_owned())
}

/// A token request with an explicit body, content type and optional `Authorization`.
struct Call<'a> {
    tenant: String,
    content_type: &'a str,
    body: String,
    authorization: Option<String>,
}

impl<'a> Call<'a> {
    fn form(tenant: &str, pairs: &[(&str, &str)]) -> Self {
        Self {
            tenant: tenant.to_owned(),
            content_type: FORM,
            body: encode(pairs),
            authorization: None,
        }
    }

    fn with_authorization(mut self, value: String) -> Self {
        self.authorization = Some(value);
        self
    }

    async fn send(&self, sim: &TestSim) -> reqwest::Response {
        self.send_with(sim, &sim.http).await
    }

    /// Sends on a client of its own that keeps no idle connections. For bodies the server
    /// refuses before reading them: it then closes the connection, which a pooled client may
    /// otherwise try to reuse for the next request.
    async fn send_alone(&self, sim: &TestSim) -> reqwest::Response {
        let http = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        self.send_with(sim, &http).await
    }

    async fn send_with(&self, sim: &TestSim, http: &reqwest::Client) -> reqwest::Response {
        let mut request = http
            .post(sim.url(&format!("/{}/oauth2/v2.0/token", self.tenant)))
            .header("content-type", self.content_type)
            .body(self.body.clone());
        if let Some(value) = &self.authorization {
            request = request.header("authorization", value);
        }
        request.send().await.unwrap()
    }
}

/// The healthy request: form secret, tenant GUID.
fn good_call(sim: &TestSim) -> Call<'static> {
    let (client_id, secret) = credentials(sim);
    Call::form(
        &sim.sim.state.tenant.id,
        &[
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("scope", GRAPH_SCOPE),
            ("grant_type", "client_credentials"),
        ],
    )
}

/// Asserts an identity-platform refusal: status, `error`, `error_codes`, the fixture's exact
/// field set, the description's layout, headers; returns the parsed error.
async fn expect_refusal(
    response: reqwest::Response,
    status: StatusCode,
    error: &str,
    code: u64,
) -> TokenError {
    assert_eq!(response.status(), status, "status for AADSTS{code}");
    let headers = response.headers().clone();
    assert_eq!(headers["cache-control"], "no-store, no-cache");
    assert_eq!(headers["pragma"], "no-cache");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        keys_of(&body),
        keys_of(&fixture("token-error-7000215.json")),
        "field set of {body}"
    );
    let parsed: TokenError = serde_json::from_value(body).unwrap();
    assert_eq!(parsed.error, error, "{parsed:?}");
    assert_eq!(parsed.error_codes, vec![code], "{parsed:?}");
    let trace = parsed.trace_id.clone().unwrap();
    let correlation = parsed.correlation_id.clone().unwrap();
    let timestamp = parsed.timestamp.clone().unwrap();
    assert!(uuid::Uuid::try_parse(&trace).is_ok());
    assert!(uuid::Uuid::try_parse(&correlation).is_ok());
    assert!(
        chrono::NaiveDateTime::parse_from_str(&timestamp, "%Y-%m-%d %H:%M:%SZ").is_ok(),
        "{timestamp}"
    );
    assert!(
        parsed
            .error_description
            .starts_with(&format!("AADSTS{code}: ")),
        "{}",
        parsed.error_description
    );
    assert!(
        parsed.error_description.ends_with(&format!(
            "\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}"
        )),
        "{}",
        parsed.error_description
    );
    assert_eq!(
        parsed.error_uri.as_deref(),
        Some(format!("https://login.microsoftonline.com/error?code={code}").as_str())
    );
    assert_eq!(headers["x-ms-request-id"].to_str().unwrap(), trace);
    parsed
}

/// A JWKS fetched over HTTP.
async fn fetch_jwks(http: &reqwest::Client, url: &str) -> JwkSet {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    response.json().await.unwrap()
}

/// Verifies `token` against `jwks` (signature, audience, issuer; lifetime checked by callers)
/// and returns its raw claims.
fn verify(token: &str, jwks: &JwkSet, tenant_id: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("kid in the header");
    let jwk = jwks.find(&kid).expect("token kid is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    validation.set_audience(&["https://graph.microsoft.com"]);
    validation.set_issuer(&[format!("https://sts.windows.net/{tenant_id}/")]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

/// Requests a token with the healthy call and returns the JWT.
async fn access_token(sim: &TestSim) -> String {
    let response = good_call(sim).send(sim).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_with_the_secret_in_the_form_verifies_against_the_jwks() {
    let sim = TestSim::start("healthy").await;
    let state = sim.sim.state.clone();
    let before = state.now().timestamp();
    let response = good_call(&sim).send(&sim).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store, no-cache");
    assert_eq!(response.headers()["pragma"], "no-cache");
    let body: Value = response.json().await.unwrap();
    assert_eq!(keys_of(&body), keys_of(&fixture("token-success.json")));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3599);
    assert_eq!(body["ext_expires_in"], 3599);

    let token = body["access_token"].as_str().unwrap();
    let jwks = fetch_jwks(&sim.http, &sim.url("/common/discovery/v2.0/keys")).await;
    let raw = verify(token, &jwks, &state.tenant.id);
    let fixture_keys = keys_of(&fixture("access-token-claims.json"));
    let token_keys = keys_of(&raw);
    assert!(token_keys.is_superset(&fixture_keys), "{token_keys:?}");
    let extra: Vec<_> = token_keys.difference(&fixture_keys).collect();
    assert_eq!(extra, ["uti"], "only uti beyond the fixture");

    let claims: AccessTokenClaims = serde_json::from_value(raw).unwrap();
    assert_eq!(claims.aud, "https://graph.microsoft.com");
    assert_eq!(
        claims.iss,
        format!("https://sts.windows.net/{}/", state.tenant.id)
    );
    assert_eq!(claims.tid, state.tenant.id);
    assert_eq!(
        claims.appid.as_deref(),
        Some(state.tenant.app.client_id.as_str())
    );
    assert_eq!(claims.appidacr.as_deref(), Some("1"));
    assert_eq!(claims.idtyp.as_deref(), Some("app"));
    assert_eq!(
        claims.oid.as_deref(),
        Some(state.tenant.app.service_principal_id.as_str())
    );
    assert_eq!(claims.ver, "1.0");
    assert_eq!(claims.uti.as_ref().map(String::len), Some(22));
    assert_eq!(claims.iat, claims.nbf);
    assert_eq!(claims.exp - claims.iat, 3599);
    assert!(
        (before..=before + 5).contains(&claims.iat),
        "iat is simulated now"
    );
    assert_eq!(
        claims.roles.unwrap(),
        [
            "AiEnterpriseInteraction.Read.All",
            "User.Read.All",
            "Application.Read.All",
            "Organization.Read.All"
        ]
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_authentication_and_the_tenant_domain_in_any_case() {
    let sim = TestSim::start("healthy").await;
    let (client_id, secret) = credentials(&sim);
    let domain = sim.sim.state.tenant.domain.to_uppercase();
    let scope_only = [("scope", GRAPH_SCOPE), ("grant_type", "client_credentials")];

    // Credentials as most clients send them (not form-encoded), tenant by upper-case domain.
    let plain = Call::form(&domain, &scope_only).with_authorization(basic(&client_id, &secret));
    let response = plain.send(&sim).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let jwks = fetch_jwks(&sim.http, &sim.url("/common/discovery/keys")).await;
    let claims = verify(
        body["access_token"].as_str().unwrap(),
        &jwks,
        &sim.sim.state.tenant.id,
    );
    assert_eq!(claims["tid"], sim.sim.state.tenant.id.as_str());

    // RFC 6749 §2.3.1: form-encoded before base64 (`~` becomes %7E), client_id also in the form.
    let encoded_secret = encode(&[("s", &secret)])
        .trim_start_matches("s=")
        .to_owned();
    assert!(encoded_secret.contains("%7E"), "{encoded_secret}");
    let form_too = Call::form(
        &sim.sim.state.tenant.id.to_uppercase(),
        &[
            ("client_id", &client_id.to_uppercase()),
            ("scope", GRAPH_SCOPE),
            ("grant_type", "client_credentials"),
        ],
    )
    .with_authorization(basic(&client_id, &encoded_secret));
    assert_eq!(form_too.send(&sim).await.status(), StatusCode::OK);

    // The Graph appId names the same resource.
    let by_app_id = Call::form(
        &sim.sim.state.tenant.domain,
        &[
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("scope", "00000003-0000-0000-c000-000000000000/.default"),
            ("grant_type", "client_credentials"),
        ],
    );
    assert_eq!(by_app_id.send(&sim).await.status(), StatusCode::OK);

    // `/organizations` resolves to the app's home tenant.
    let organizations = Call::form(
        "organizations",
        &[
            ("client_id", &client_id),
            ("client_secret", &secret),
            ("scope", GRAPH_SCOPE),
            ("grant_type", "client_credentials"),
        ],
    );
    let response = organizations.send(&sim).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let claims = verify(
        body["access_token"].as_str().unwrap(),
        &jwks,
        &sim.sim.state.tenant.id,
    );
    assert_eq!(claims["tid"], sim.sim.state.tenant.id.as_str());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_are_exactly_the_consented_permissions() {
    let sim = TestSim::start("missing-admin-consent").await;
    let token = access_token(&sim).await;
    let jwks = fetch_jwks(&sim.http, &sim.url("/common/discovery/v2.0/keys")).await;
    let raw = verify(&token, &jwks, &sim.sim.state.tenant.id);
    assert!(raw.get("roles").is_none(), "no roles claim at all: {raw}");
    sim.stop().await;

    let sim = TestSim::start("wrong-permissions").await;
    let token = access_token(&sim).await;
    let jwks = fetch_jwks(&sim.http, &sim.url("/common/discovery/v2.0/keys")).await;
    let raw = verify(&token, &jwks, &sim.sim.state.tenant.id);
    assert_eq!(raw["roles"], json!(CONNECTOR_ROLES));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenant_and_request_shape_refusals() {
    let sim = TestSim::start("healthy").await;
    let (client_id, secret) = credentials(&sim);
    let tid = sim.sim.state.tenant.id.clone();
    let full = |grant: &'static str| {
        vec![
            ("client_id", client_id.clone()),
            ("client_secret", secret.clone()),
            ("scope", GRAPH_SCOPE.to_owned()),
            ("grant_type", grant.to_owned()),
        ]
    };
    let without = |name: &str| -> Vec<(&'static str, String)> {
        full("client_credentials")
            .into_iter()
            .filter(|(key, _)| *key != name)
            .collect()
    };
    let call = |tenant: &str, pairs: &[(&'static str, String)]| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Call::form(tenant, &pairs)
    };
    let good = full("client_credentials");

    let refusal = expect_refusal(
        call("contoso", &good).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900_023,
    )
    .await;
    assert!(
        refusal
            .error_description
            .contains("Specified tenant identifier 'contoso' is neither a valid DNS name")
    );
    let refusal = expect_refusal(
        call("contoso-typo.onmicrosoft.com", &good).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90_002,
    )
    .await;
    assert!(
        refusal
            .error_description
            .contains("Tenant 'contoso-typo.onmicrosoft.com' not found.")
    );
    // The tenant is judged before anything else, even an empty body.
    let unknown_guid = "00000000-0000-4000-8000-000000000001";
    expect_refusal(
        call(unknown_guid, &[]).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "invalid_tenant",
        90_002,
    )
    .await;

    for (missing, pairs) in [
        ("grant_type", without("grant_type")),
        ("client_id", without("client_id")),
        ("scope", without("scope")),
    ] {
        let refusal = expect_refusal(
            call(&tid, &pairs).send(&sim).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900_144,
        )
        .await;
        assert!(
            refusal.error_description.contains(&format!(
                "The request body must contain the following parameter: '{missing}'."
            )),
            "{}",
            refusal.error_description
        );
    }
    let empty_value = call(&tid, &[("grant_type", String::new())]);
    expect_refusal(
        empty_value.send(&sim).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900_144,
    )
    .await;

    let refusal = expect_refusal(
        call(&tid, &full("password")).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70_003,
    )
    .await;
    assert!(refusal.error_description.contains("'password'"));

    // A JSON body, a body without a content type, binary garbage: no parameters at all.
    let json_body = Call {
        tenant: tid.clone(),
        content_type: "application/json",
        body: json!({"grant_type": "client_credentials", "client_id": client_id}).to_string(),
        authorization: None,
    };
    let garbage = Call {
        tenant: tid.clone(),
        content_type: FORM,
        body: String::from_utf8_lossy(&[0xff, 0x00, 0x3d, 0x26, 0xfe]).into_owned(),
        authorization: None,
    };
    for shapeless in [json_body, garbage] {
        let refusal = expect_refusal(
            shapeless.send(&sim).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900_144,
        )
        .await;
        assert!(refusal.error_description.contains("'grant_type'"));
    }

    // Malformed (AADSTS9002313): disagreeing client ids, duplicates, a broken Basic header,
    // a body over the router's limit.
    let other_id = "11111111-2222-4333-8444-555555555555";
    let mismatch = call(&tid, &good).with_authorization(basic(other_id, &secret));
    let duplicate = Call {
        body: format!("{}&scope=openid", call(&tid, &good).body),
        ..call(&tid, &good)
    };
    let broken_basic = call(&tid, &good).with_authorization("Basic %%%".to_owned());
    let oversized = Call {
        body: format!(
            "{}&pad={}",
            call(&tid, &good).body,
            "x".repeat(2 * 1024 * 1024)
        ),
        ..call(&tid, &good)
    };
    for malformed in [mismatch, duplicate, broken_basic, oversized] {
        expect_refusal(
            malformed.send_alone(&sim).await,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            9_002_313,
        )
        .await;
    }

    // Client credentials are not issued over /common; the v1 `resource` parameter is refused.
    expect_refusal(
        call("common", &good).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        9_001_023,
    )
    .await;
    let mut with_resource = good.clone();
    with_resource.push(("resource", "https://graph.microsoft.com".to_owned()));
    expect_refusal(
        call(&tid, &with_resource).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        901_002,
    )
    .await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_and_secret_refusals_in_order() {
    let sim = TestSim::start("healthy").await;
    let (client_id, secret) = credentials(&sim);
    let state = sim.sim.state.clone();
    let tid = state.tenant.id.clone();
    let call = |id: &str, secret: Option<&str>, scope: &str| {
        let mut pairs = vec![
            ("client_id", id),
            ("scope", scope),
            ("grant_type", "client_credentials"),
        ];
        if let Some(secret) = secret {
            pairs.push(("client_secret", secret));
        }
        Call::form(&tid, &pairs)
    };

    // Unknown client: judged before the (missing) secret.
    let stranger = "5f0c3c1e-7a55-4d4b-9a0e-3b1f2d9c8e71";
    let refusal = expect_refusal(
        call(stranger, None, GRAPH_SCOPE).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700_016,
    )
    .await;
    assert!(refusal.error_description.contains(&format!(
        "Application with identifier '{stranger}' was not found in the directory '{}'",
        state.tenant.display_name
    )));

    expect_refusal(
        call(&client_id, None, GRAPH_SCOPE).send(&sim).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        7_000_218,
    )
    .await;
    let assertion = Call::form(
        &tid,
        &[
            ("client_id", &client_id),
            ("scope", GRAPH_SCOPE),
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"),
        ],
    );
    expect_refusal(
        assertion.send(&sim).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        700_027,
    )
    .await;

    // Wrong secret and the Secret ID fail alike; the secret is judged before a bad scope.
    let wrong = format!("{secret}x");
    for offered in [wrong.as_str(), state.tenant.app.secret_key_id.as_str()] {
        let refusal = expect_refusal(
            call(&client_id, Some(offered), "User.Read.All")
                .send(&sim)
                .await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7_000_215,
        )
        .await;
        assert!(refusal.error_description.contains(&format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
        )));
        assert!(!refusal.error_description.contains(&secret));
    }

    // Scope refusals, with the right secret.
    let cases: [(&str, &str, u64); 6] = [
        (
            "https://graph.microsoft.com/User.Read",
            "invalid_scope",
            1_002_012,
        ),
        ("User.Read.All", "invalid_scope", 1_002_012),
        (
            "https://management.azure.com/.default",
            "invalid_resource",
            500_011,
        ),
        ("<script>", "invalid_scope", 70_011),
        (
            "https://graph.microsoft.com/.default https://management.azure.com/.default",
            "invalid_scope",
            70_011,
        ),
        ("/.default", "invalid_scope", 70_011),
    ];
    for (scope, error, code) in cases {
        let refusal = expect_refusal(
            call(&client_id, Some(&secret), scope).send(&sim).await,
            StatusCode::BAD_REQUEST,
            error,
            code,
        )
        .await;
        let quoted = scope.trim_end_matches("/.default");
        assert!(refusal.error_description.contains(quoted), "{scope}");
    }
    let refusal = expect_refusal(
        call(
            &client_id,
            Some(&secret),
            "https://graph.microsoft.com/User.Read",
        )
        .send(&sim)
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        1_002_012,
    )
    .await;
    assert!(refusal.error_description.contains(
        "Client credential flows must have a scope value with /.default suffixed to the resource identifier"
    ));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_credentials_meet_their_aadsts_codes() {
    // (scenario, status, error, code): the operator's configured id and secret as given.
    let cases = [
        (
            "secret-id-pasted",
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7_000_215,
        ),
        (
            "secret-expired",
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7_000_222,
        ),
        (
            "invalid-client-id",
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700_016,
        ),
    ];
    for (scenario, status, error, code) in cases {
        let sim = TestSim::start(scenario).await;
        let state = sim.sim.state.clone();
        let client_id = state.configured_client_id();
        let secret = state.configured_secret();
        let call = Call::form(
            &state.tenant.id,
            &[
                ("client_id", &client_id),
                ("client_secret", secret.expose_secret()),
                ("scope", GRAPH_SCOPE),
                ("grant_type", "client_credentials"),
            ],
        );
        let refusal = expect_refusal(call.send(&sim).await, status, error, code).await;
        assert!(
            refusal.error_description.contains(&client_id),
            "{scenario}: {}",
            refusal.error_description
        );
        sim.stop().await;
    }

    let mut disabled = Scenario::load("healthy").unwrap();
    disabled.credentials.app_enabled = false;
    let sim = TestSim::start_with(SimOptions::loopback(disabled)).await;
    let (client_id, _) = credentials(&sim);
    let refusal = expect_refusal(
        good_call(&sim).send(&sim).await,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        7_000_112,
    )
    .await;
    assert!(refusal.error_description.contains(&format!(
        "Application '{client_id}'({}) is disabled.",
        sim.sim.state.tenant.app.display_name
    )));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlation_id_follows_client_request_id() {
    let sim = TestSim::start("healthy").await;
    let correlation = "0f9e8d7c-6b5a-4493-8271-605f4e3d2c1b";
    let response = sim
        .http
        .post(sim.url("/contoso-typo.onmicrosoft.com/oauth2/v2.0/token"))
        .header("client-request-id", correlation)
        .send()
        .await
        .unwrap();
    let refusal = expect_refusal(response, StatusCode::BAD_REQUEST, "invalid_tenant", 90_002).await;
    assert_eq!(refusal.correlation_id.as_deref(), Some(correlation));
    assert_ne!(refusal.trace_id.as_deref(), Some(correlation));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_points_back_at_each_listener_and_tokens_flow_over_https() {
    let scenario = Scenario::load("healthy").unwrap();
    let options = SimOptions {
        https_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..SimOptions::loopback(scenario)
    };
    let sim = TestSim::start_with(options).await;
    let state = sim.sim.state.clone();
    let tid = state.tenant.id.clone();
    let https_port = sim.sim.https_addr.unwrap().port();
    let ca = reqwest::Certificate::from_pem(sim.sim.ca_pem.as_bytes()).unwrap();
    let https = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .build()
        .unwrap();
    let listeners = [
        (sim.http.clone(), sim.base.clone()),
        (https, format!("https://localhost:{https_port}")),
    ];
    for (client, base) in listeners {
        let get = |path: String| {
            let client = client.clone();
            let url = format!("{base}{path}");
            async move {
                let response = client.get(&url).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::OK, "{url}");
                response.json::<Value>().await.unwrap()
            }
        };
        let domain = state.tenant.domain.clone();
        let v2 = get(format!("/{domain}/v2.0/.well-known/openid-configuration")).await;
        assert_eq!(
            v2["token_endpoint"],
            format!("{base}/{tid}/oauth2/v2.0/token")
        );
        assert_eq!(v2["jwks_uri"], format!("{base}/{tid}/discovery/v2.0/keys"));
        assert_eq!(
            v2["authorization_endpoint"],
            format!("{base}/{tid}/oauth2/v2.0/authorize")
        );
        assert_eq!(
            v2["device_authorization_endpoint"],
            format!("{base}/{tid}/oauth2/v2.0/devicecode")
        );
        assert_eq!(
            v2["issuer"],
            format!("https://login.microsoftonline.com/{tid}/v2.0")
        );
        assert_eq!(
            v2["id_token_signing_alg_values_supported"],
            json!(["RS256"])
        );
        assert_eq!(
            v2["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic"
            ])
        );
        assert_eq!(v2["tenant_region_scope"], "NA");
        assert_eq!(v2["cloud_instance_name"], "microsoftonline.com");
        for field in [
            "response_types_supported",
            "subject_types_supported",
            "scopes_supported",
            "claims_supported",
            "end_session_endpoint",
        ] {
            assert!(v2.get(field).is_some(), "{field}");
        }

        let v1 = get(format!("/{tid}/.well-known/openid-configuration")).await;
        assert_eq!(v1["issuer"], format!("https://sts.windows.net/{tid}/"));
        assert_eq!(v1["token_endpoint"], format!("{base}/{tid}/oauth2/token"));
        assert_eq!(v1["jwks_uri"], format!("{base}/common/discovery/keys"));

        let common = get("/common/v2.0/.well-known/openid-configuration".to_owned()).await;
        assert_eq!(
            common["issuer"],
            "https://login.microsoftonline.com/{tenantid}/v2.0"
        );
        assert_eq!(
            common["jwks_uri"],
            format!("{base}/common/discovery/v2.0/keys")
        );
        assert!(common["tenant_region_scope"].is_null());
        let organizations = get("/organizations/.well-known/openid-configuration".to_owned()).await;
        assert_eq!(
            organizations["issuer"],
            "https://sts.windows.net/{tenantid}/"
        );
        assert_eq!(
            organizations["token_endpoint"],
            format!("{base}/organizations/oauth2/token")
        );

        // A client that knows only the discovery URL gets a token and verifies it.
        let (client_id, secret) = credentials(&sim);
        let response = client
            .post(v2["token_endpoint"].as_str().unwrap())
            .form(&[
                ("client_id", client_id.as_str()),
                ("client_secret", secret.as_str()),
                ("scope", GRAPH_SCOPE),
                ("grant_type", "client_credentials"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{base}");
        let body: Value = response.json().await.unwrap();
        let jwks: JwkSet = serde_json::from_value(
            get(v2["jwks_uri"]
                .as_str()
                .unwrap()
                .trim_start_matches(&base)
                .to_owned())
            .await,
        )
        .unwrap();
        let claims = verify(body["access_token"].as_str().unwrap(), &jwks, &tid);
        assert_eq!(claims["iss"], v1["issuer"]);
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_refuses_unknown_and_malformed_tenants_and_unknown_paths_404() {
    let sim = TestSim::start("healthy").await;
    for path in [
        "/contoso-typo.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        "/00000000-0000-4000-8000-000000000001/.well-known/openid-configuration",
        "/contoso-typo.onmicrosoft.com/discovery/v2.0/keys",
    ] {
        let response = sim.http.get(sim.url(path)).send().await.unwrap();
        expect_refusal(response, StatusCode::BAD_REQUEST, "invalid_tenant", 90_002).await;
    }
    let response = sim
        .http
        .get(sim.url("/not_a_tenant/v2.0/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    expect_refusal(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900_023,
    )
    .await;

    let tid = &sim.sim.state.tenant.id;
    for path in [
        format!("/{tid}/oauth2/v2.0/authorize"),
        format!("/{tid}/v2.0/.well-known/other"),
        "/common/discovery/v3.0/keys".to_owned(),
    ] {
        let response = sim.http.get(sim.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = sim
        .http
        .get(sim.url(&format!("/{tid}/oauth2/v2.0/token")))
        .send()
        .await
        .unwrap();
    // A GET on the token endpoint is the identity platform's 400, not a Graph 405.
    expect_refusal(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900_561,
    )
    .await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_jwks_path_publishes_the_same_keys() {
    let sim = TestSim::start("healthy").await;
    let tid = &sim.sim.state.tenant.id;
    let domain = &sim.sim.state.tenant.domain;
    let mut kid_sets = Vec::new();
    for (path, issuer) in [
        (
            "/common/discovery/v2.0/keys".to_owned(),
            Some("https://login.microsoftonline.com/{tenantid}/v2.0".to_owned()),
        ),
        (
            format!("/{domain}/discovery/v2.0/keys"),
            Some(format!("https://login.microsoftonline.com/{tid}/v2.0")),
        ),
        ("/common/discovery/keys".to_owned(), None),
        (format!("/{tid}/discovery/keys"), None),
    ] {
        let response = sim.http.get(sim.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let jwks: Value = response.json().await.unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert!(!keys.is_empty());
        for key in keys {
            assert_eq!(key["kty"], "RSA");
            assert_eq!(key["use"], "sig");
            assert_eq!(key["e"], "AQAB");
            assert_eq!(key["x5t"], key["kid"]);
            assert!(key["n"].as_str().unwrap().len() > 300, "2048-bit modulus");
            assert_eq!(key["x5c"].as_array().unwrap().len(), 1);
            assert_eq!(key.get("issuer").cloned(), issuer.clone().map(Value::from));
        }
        let kids: BTreeSet<String> = keys
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect();
        kid_sets.push(kids);
    }
    assert!(kid_sets.windows(2).all(|pair| pair[0] == pair[1]));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_discovery_knows_this_listener_only() {
    let sim = TestSim::start("healthy").await;
    let tid = &sim.sim.state.tenant.id;
    let host = sim.base.trim_start_matches("http://").to_owned();
    let authorize = format!("{}/{tid}/oauth2/v2.0/authorize", sim.base);
    let response = sim
        .http
        .get(sim.url("/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", &authorize),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["tenant_discovery_endpoint"],
        format!("{}/{tid}/v2.0/.well-known/openid-configuration", sim.base)
    );
    assert_eq!(body["metadata"][0]["aliases"], json!([host]));

    let response = sim
        .http
        .get(sim.url("/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            (
                "authorization_endpoint",
                "https://login.example.net/common/oauth2/v2.0/authorize",
            ),
        ])
        .send()
        .await
        .unwrap();
    expect_refusal(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_instance",
        50_049,
    )
    .await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_daily_and_the_previous_key_stays_published() {
    let sim = TestSim::start("healthy").await;
    let tid = sim.sim.state.tenant.id.clone();
    let before = access_token(&sim).await;
    let old_kid = kid_of(&before);

    let response = sim
        .http
        .post(sim.url("/_sim/clock/advance"))
        .json(&json!({"seconds": 90_000}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let after = access_token(&sim).await;
    let new_kid = kid_of(&after);
    assert_ne!(
        new_kid, old_kid,
        "a new signing key after 25 simulated hours"
    );
    let jwks = fetch_jwks(&sim.http, &sim.url("/common/discovery/v2.0/keys")).await;
    let published: BTreeSet<String> = jwks
        .keys
        .iter()
        .filter_map(|key| key.common.key_id.clone())
        .collect();
    assert_eq!(published, BTreeSet::from([old_kid, new_kid]));
    let old_claims = verify(&before, &jwks, &tid);
    let new_claims = verify(&after, &jwks, &tid);
    let (old_iat, new_iat) = (
        old_claims["iat"].as_i64().unwrap(),
        new_claims["iat"].as_i64().unwrap(),
    );
    assert!(
        (90_000..90_010).contains(&(new_iat - old_iat)),
        "iat follows the simulated clock"
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_puts_token_times_ahead_of_real_time() {
    let sim = TestSim::start("clock-skew").await;
    let token = access_token(&sim).await;
    let real_now = Utc::now().timestamp();
    let jwks = fetch_jwks(&sim.http, &sim.url("/common/discovery/v2.0/keys")).await;
    let claims = verify(&token, &jwks, &sim.sim.state.tenant.id);
    let ahead = claims["iat"].as_i64().unwrap() - real_now;
    assert!(
        (415..=425).contains(&ahead),
        "iat {ahead} s ahead of real time"
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_methods_get_the_identity_platforms_answer() {
    let sim = TestSim::start("healthy").await;
    let tid = sim.sim.state.tenant.id.clone();
    let token_url = sim.url(&format!("/{tid}/oauth2/v2.0/token"));
    for method in [
        reqwest::Method::GET,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let response = sim
            .http
            .request(method.clone(), &token_url)
            .send()
            .await
            .unwrap();
        let refusal = expect_refusal(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900_561,
        )
        .await;
        assert!(
            refusal.error_description.starts_with(&format!(
                "AADSTS900561: The endpoint only accepts POST, OPTIONS requests. Received a {method} request.\r\n"
            )),
            "{}",
            refusal.error_description
        );
    }
    // A CORS preflight is accepted and names the methods.
    let response = sim
        .http
        .request(reqwest::Method::OPTIONS, &token_url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(response.headers()["allow"], "POST, OPTIONS");
    // Discovery endpoints take GET only, and say so in the same shape.
    for path in [
        format!("/{tid}/v2.0/.well-known/openid-configuration"),
        format!("/{tid}/discovery/v2.0/keys"),
        "/common/discovery/instance".to_owned(),
    ] {
        let response = sim.http.post(sim.url(&path)).send().await.unwrap();
        let refusal = expect_refusal(
            response,
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900_561,
        )
        .await;
        assert!(
            refusal.error_description.contains(
                "The endpoint only accepts GET, OPTIONS requests. Received a POST request."
            ),
            "{path}: {}",
            refusal.error_description
        );
    }
    // Graph keeps its own shape for a wrong method.
    let response = sim
        .http
        .put(sim.url("/v1.0/subscriptions"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BadRequest", "{body}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_discovery_answers_an_unreadable_query_as_the_identity_platform() {
    let sim = TestSim::start("healthy").await;
    let authorize = format!("{}/common/oauth2/v2.0/authorize", sim.base);
    let response = sim
        .http
        .get(sim.url("/common/discovery/instance"))
        .query(&[
            ("api-version", "1.1"),
            ("authorization_endpoint", &authorize),
            ("authorization_endpoint", &authorize),
        ])
        .send()
        .await
        .unwrap();
    expect_refusal(
        response,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        9_002_313,
    )
    .await;
    sim.stop().await;
}
