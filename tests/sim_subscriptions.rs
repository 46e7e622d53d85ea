//! The simulated Graph's subscription API against the rules of graph-facts §2, §3.1–3.3 and §8:
//! one test per rule, a tiny receiver on 127.0.0.1 answering validation handshakes correctly
//! or wrongly on demand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use common::TestSim;
use pilotwatch::graph::model::well_known::CONNECTOR_ROLES;
use pilotwatch::graph::model::{Collection, Subscription};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use serde_json::{Value, json};

const LIFECYCLE_REQUIRED: &str = "lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour";

const TENANT_WIDE: &str = "/copilot/interactionHistory/getAllEnterpriseInteractions";

/// A self-signed certificate with a 1024-bit RSA key (made with openssl: rcgen and aws-lc-rs
/// refuse to generate keys that small).
const RSA_1024_CERT_B64: &str = concat!(
    "MIICIjCCAYugAwIBAgIUIVQSd+mUFweSg6XNkLEajOYOpZgwDQYJKoZIhvcNAQELBQAwIzEhMB8GA1UEAwwYcGlsb3R3YXRj",
    "aCB0ZXN0IFJTQS0xMDI0MB4XDTI2MTEyMjA0NDIxOFoXDTM2MTExOTA0NDIxOFowIzEhMB8GA1UEAwwYcGlsb3R3YXRjaCB0",
    "ZXN0IFJTQS0xMDI0MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCyxHkyzVPdbZezKnbBGQauK/E7QewpkDuY2y+LCtBD",
    "DboTO14ytqocbaD9VbjS6Bx5uBY8XJdvhkOv331+EV8GCnXWsZ9rQvwA9HOvFhr8BVCXRlHX/aaM/j2m3JB1ZlwwLwtqzv9g",
    "8x3WkDNzRFrQv5mrroVzm6KgO/z762vmZwIDAQABo1MwUTAdBgNVHQ4EFgQUfLf4IY5kkyNRn+KCYSELJPuYq9AwHwYDVR0j",
    "BBgwFoAUfLf4IY5kkyNRn+KCYSELJPuYq9AwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOBgQCm/o+4vl9Mmi1D",
    "GJhNQSA+GpRVsNTOg8f3y35O5HQDNstgjlKJRwrn43/W1EoUkAJh7oporuoeRdXemL5OWb6FZXIY42BCsyXyDp8upQ1CC+mJ",
    "cBi4GNyjDUib7RirT1/lMRXtmKPFPH5v2I7uECZ/ZUvbctJcwxULEQrZV/15ZA==",
);

// ---------------------------------------------------------------------------------------------
// The test receiver

/// How the receiver answers a validation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// 200, text/plain, the decoded token.
    Correct,
    /// 500.
    ServerError,
    /// 200, text/plain, the token still URL-encoded.
    Encoded,
    /// 200, application/json, the decoded token.
    WrongContentType,
    /// 200, text/plain, something else.
    WrongBody,
}

/// One request the receiver saw.
#[derive(Debug, Clone)]
struct Seen {
    path: String,
    token: Option<String>,
    content_type: Option<String>,
}

#[derive(Clone)]
struct ReceiverState {
    answer: Arc<Mutex<Answer>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

struct Receiver {
    base: String,
    state: ReceiverState,
}

impl Receiver {
    async fn start() -> Self {
        let state = ReceiverState {
            answer: Arc::new(Mutex::new(Answer::Correct)),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let app = Router::new().fallback(receive).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { base, state }
    }

    fn set(&self, answer: Answer) {
        *self.state.answer.lock().unwrap() = answer;
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn receive(
    State(state): State<ReceiverState>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let token = query.get("validationToken").cloned();
    state.seen.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        token: token.clone(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned()),
    });
    let token = token.unwrap_or_default();
    let raw = uri
        .query()
        .unwrap_or("")
        .split('&')
        .find_map(|pair| pair.strip_prefix("validationToken="))
        .unwrap_or("")
        .to_owned();
    let answer = *state.answer.lock().unwrap();
    match answer {
        Answer::Correct => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain")],
            token,
        )
            .into_response(),
        Answer::ServerError => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Answer::Encoded => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], raw).into_response()
        }
        Answer::WrongContentType => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            token,
        )
            .into_response(),
        Answer::WrongBody => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "ok").into_response()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

struct Env {
    sim: TestSim,
    rx: Receiver,
    token: String,
}

async fn env(scenario: &str) -> Env {
    env_with(Scenario::load(scenario).unwrap()).await
}

async fn env_with(scenario: Scenario) -> Env {
    let sim = TestSim::start_with(SimOptions::loopback(scenario)).await;
    let rx = Receiver::start().await;
    let token = sim.token();
    Env { sim, rx, token }
}

impl Env {
    fn now(&self) -> DateTime<Utc> {
        self.sim.sim.state.now()
    }

    /// A valid tenant-wide create body expiring in two days; `changes` overrides fields
    /// (`null` removes one).
    fn body(&self, changes: Value) -> Value {
        let mut body = json!({
            "changeType": "created",
            "notificationUrl": self.rx.url("/notify"),
            "lifecycleNotificationUrl": self.rx.url("/lifecycle"),
            "resource": TENANT_WIDE,
            "expirationDateTime": (self.now() + Duration::days(2)).trunc_subsecs(0),
            "clientState": "secret-client-state",
        });
        let map = body.as_object_mut().unwrap();
        for (key, value) in changes.as_object().unwrap() {
            if value.is_null() {
                map.remove(key);
            } else {
                map.insert(key.clone(), value.clone());
            }
        }
        body
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
    ) -> (StatusCode, HeaderMap, String) {
        let mut request = self
            .sim
            .http
            .request(method, self.sim.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        // A fresh token each time: tests move the simulated clock past a token's lifetime.
        let token = self.sim.token();
        let (status, _, text) = self.send(method, path, &token, body).await;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, value)
    }

    async fn create(&self, body: &Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, "/v1.0/subscriptions", Some(body))
            .await
    }

    async fn list(&self) -> Vec<Value> {
        let (status, value) = self
            .call(reqwest::Method::GET, "/v1.0/subscriptions", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value["value"].as_array().unwrap().clone()
    }

    async fn sim_json(&self, path: &str) -> Value {
        self.sim
            .http
            .get(self.sim.url(path))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn advance(&self, seconds: i64) {
        let response = self
            .sim
            .http
            .post(self.sim.url("/_sim/clock/advance"))
            .json(&json!({ "seconds": seconds }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }
}

fn code(error: &Value) -> &str {
    error["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not a Graph error: {error}"))
}

fn message(error: &Value) -> &str {
    error["error"]["message"].as_str().unwrap()
}

fn assert_graph_error(status: StatusCode, value: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{value}");
    assert!(!code(value).is_empty());
    assert!(
        value["error"]["innerError"]["request-id"].is_string(),
        "{value}"
    );
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../shared/graph-fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

fn expiry(value: &Value) -> DateTime<Utc> {
    value["expirationDateTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

fn rsa_certificate_b64() -> String {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let params = rcgen::CertificateParams::new(vec!["pilotwatch.test".to_owned()]).unwrap();
    STANDARD.encode(params.self_signed(&key).unwrap().der())
}

fn ec_certificate_b64() -> String {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["pilotwatch.test".to_owned()]).unwrap();
    STANDARD.encode(params.self_signed(&key).unwrap().der())
}

// ---------------------------------------------------------------------------------------------
// Creation

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_subscription_has_every_field_of_the_fixture() {
    let env = env("healthy").await;
    let certificate = rsa_certificate_b64();
    let body = env.body(json!({
        "includeResourceData": true,
        "encryptionCertificate": certificate,
        "encryptionCertificateId": "pilotwatch-2026-11",
        "latestSupportedTlsVersion": "v1_2",
    }));
    let (status, created) = env.create(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(keys(&created), keys(&fixture("subscription.json")));
    let state = &env.sim.sim.state;
    let id = created["id"].as_str().unwrap();
    assert!(
        uuid::Uuid::parse_str(id).is_ok() && id == id.to_lowercase(),
        "{id}"
    );
    assert_eq!(
        created["@odata.context"],
        format!("{}/v1.0/$metadata#subscriptions/$entity", env.sim.base)
    );
    assert_eq!(
        created["applicationId"],
        state.tenant.app.client_id.as_str()
    );
    assert_eq!(
        created["creatorId"],
        state.tenant.app.service_principal_id.as_str()
    );
    assert_eq!(created["clientState"], "secret-client-state");
    assert_eq!(created["resource"], TENANT_WIDE);
    assert_eq!(created["changeType"], "created");
    assert_eq!(created["includeResourceData"], true);
    assert_eq!(created["encryptionCertificate"], certificate.as_str());
    assert_eq!(created["encryptionCertificateId"], "pilotwatch-2026-11");
    assert_eq!(created["latestSupportedTlsVersion"], "v1_2");
    assert_eq!(created["notificationContentType"], "application/json");
    assert!(created["notificationQueryOptions"].is_null());
    assert!(created["notificationUrlAppId"].is_null());
    assert_eq!(expiry(&created), expiry(&body));
    serde_json::from_value::<Subscription>(created.clone()).unwrap();

    // Both endpoints were validated with the decoded token, posted as text/plain.
    let seen = env.rx.seen();
    assert_eq!(
        seen.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        ["/notify", "/lifecycle"]
    );
    for request in &seen {
        let token = request.token.as_deref().unwrap();
        assert!(
            token.starts_with(
                "Validation: Testing client application reachability for subscription Request-Id: "
            ),
            "{token}"
        );
        assert_eq!(
            request.content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );
    }
    // The uploaded certificate is kept for the pusher, with an upper-hex SHA-1 thumbprint.
    let registry = env.sim.sim.state.registry();
    let record = registry.get(id, env.now()).unwrap();
    let uploaded = record.certificate.as_ref().unwrap();
    assert_eq!(uploaded.key_bits, 2048);
    assert_eq!(uploaded.thumbprint, uploaded.thumbprint.to_uppercase());
    assert_eq!(uploaded.thumbprint.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn same_notification_and_lifecycle_url_are_validated_twice() {
    let env = env("healthy").await;
    let url = env.rx.url("/both");
    let (status, created) = env
        .create(&env.body(json!({ "notificationUrl": url, "lifecycleNotificationUrl": url })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(env.rx.seen().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_wrong_handshake_answer_fails_creation_with_a_validation_error() {
    let env = env("healthy").await;
    let expected = fixture("graph-error-400-validation.json");
    for answer in [
        Answer::ServerError,
        Answer::Encoded,
        Answer::WrongContentType,
        Answer::WrongBody,
    ] {
        env.rx.set(answer);
        let before = env.rx.seen().len();
        let (status, error) = env.create(&env.body(json!({}))).await;
        assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
        assert_eq!(code(&error), "ValidationError", "{answer:?}");
        assert_eq!(message(&error), message(&expected), "{answer:?}");
        let seen = env.rx.seen();
        assert_eq!(
            seen.len(),
            before + 1,
            "validation stops at the first failure"
        );
        let token = seen.last().unwrap().token.clone().unwrap();
        assert!(
            token.starts_with("Validation: "),
            "the receiver saw the decoded token"
        );
    }
    assert!(
        env.list().await.is_empty(),
        "no subscription after a failed handshake"
    );
    // Ground truth: every attempt is in the ledger, none delivered.
    let deliveries = env.sim_json("/_sim/deliveries").await;
    let validations: Vec<&Value> = deliveries["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "validation")
        .collect();
    assert_eq!(validations.len(), 4);
    assert_eq!(validations[0]["outcome"]["result"], "rejected");
    assert_eq!(validations[0]["outcome"]["status"], 500);
    assert!(
        validations[1]["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("still URL-encoded")
    );
    // And a correct answer afterwards creates it.
    env.rx.set(Answer::Correct);
    let (status, created) = env.create(&env.body(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_endpoint_scenario_fails_creation_without_connecting() {
    let env = env("endpoint-unreachable").await;
    let (status, error) = env.create(&env.body(json!({}))).await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert_eq!(code(&error), "ValidationError");
    assert!(env.rx.seen().is_empty(), "nothing reached the receiver");
    let deliveries = env.sim_json("/_sim/deliveries").await;
    let attempt = &deliveries["value"][0];
    assert_eq!(attempt["kind"], "validation");
    assert_eq!(attempt["outcome"]["result"], "failed");
    assert!(
        attempt["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("connection refused (simulated)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_under_45_minutes_is_raised_to_45() {
    let env = env("healthy").await;
    for requested in [
        env.now() + Duration::minutes(10),
        env.now() - Duration::days(1),
    ] {
        let body = env.body(json!({
            "expirationDateTime": requested,
            "lifecycleNotificationUrl": null,
        }));
        let before = env.now();
        let (status, created) = env.create(&body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let after = env.now();
        let settled = expiry(&created);
        assert!(settled >= before + Duration::minutes(45) - Duration::seconds(1));
        assert!(settled <= after + Duration::minutes(45) + Duration::seconds(1));
        let id = created["id"].as_str().unwrap();
        let (status, _) = env
            .call(
                reqwest::Method::DELETE,
                &format!("/v1.0/subscriptions/{id}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_beyond_4320_minutes_is_refused() {
    let env = env("healthy").await;
    let body = env.body(json!({ "expirationDateTime": env.now() + Duration::minutes(4_321) }));
    let (status, error) = env.create(&body).await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert!(
        message(&error).contains("beyond allowed max '3.00:00:00'"),
        "{error}"
    );
    assert!(
        env.rx.seen().is_empty(),
        "rules are checked before the handshake"
    );
    let body = env.body(json!({ "expirationDateTime": env.now() + Duration::minutes(4_319) }));
    let (status, created) = env.create(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_url_is_required_beyond_one_hour() {
    let env = env("healthy").await;
    let body = env.body(json!({
        "expirationDateTime": env.now() + Duration::minutes(90),
        "lifecycleNotificationUrl": null,
    }));
    let (status, error) = env.create(&body).await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert_eq!(message(&error), LIFECYCLE_REQUIRED);
    let body = env.body(json!({
        "expirationDateTime": env.now() + Duration::minutes(59),
        "lifecycleNotificationUrl": null,
    }));
    let (status, created) = env.create(&body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["lifecycleNotificationUrl"].is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_data_needs_an_rsa_2048_to_4096_certificate_and_its_id() {
    let env = env("healthy").await;
    let cases = [
        (
            json!({ "includeResourceData": true, "encryptionCertificateId": "c1" }),
            "encryptionCertificate is required",
        ),
        (
            json!({ "includeResourceData": true, "encryptionCertificate": rsa_certificate_b64() }),
            "encryptionCertificateId is required",
        ),
        (
            json!({ "includeResourceData": true, "encryptionCertificate": ec_certificate_b64(), "encryptionCertificateId": "c1" }),
            "elliptic-curve",
        ),
        (
            json!({ "includeResourceData": true, "encryptionCertificate": RSA_1024_CERT_B64, "encryptionCertificateId": "c1" }),
            "1024-bit",
        ),
        (
            json!({ "includeResourceData": true, "encryptionCertificate": "bm90IGEgY2VydA==", "encryptionCertificateId": "c1" }),
            "X.509",
        ),
        (
            json!({ "includeResourceData": true, "encryptionCertificate": rsa_certificate_b64(), "encryptionCertificateId": "c".repeat(129) }),
            "encryptionCertificateId",
        ),
    ];
    for (changes, expected) in cases {
        let (status, error) = env.create(&env.body(changes)).await;
        assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
        assert!(message(&error).contains(expected), "{expected}: {error}");
    }
    assert!(env.rx.seen().is_empty());
    assert!(env.list().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_subscription_is_a_409_naming_the_existing_one() {
    let env = env("healthy").await;
    let (status, first) = env.create(&env.body(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    // Same resource without the leading slash is the same resource.
    let (status, error) = env
        .create(&env.body(json!({ "resource": TENANT_WIDE.trim_start_matches('/') })))
        .await;
    assert_graph_error(status, &error, StatusCode::CONFLICT);
    let expected = fixture("graph-error-409.json");
    assert_eq!(code(&error), code(&expected));
    assert_eq!(
        message(&error),
        format!(
            "Subscription Id {} already exists for the requested combination",
            first["id"].as_str().unwrap()
        )
    );
    assert_eq!(env.list().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_tenant_wide_subscription_exceeds_the_quota() {
    let env = env("healthy").await;
    let (status, _) = env.create(&env.body(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, error) = env
        .create(&env.body(json!({ "changeType": "created,updated" })))
        .await;
    assert_graph_error(status, &error, StatusCode::FORBIDDEN);
    assert!(
        message(&error).contains("at most 1 tenant-wide subscription"),
        "{error}"
    );
    assert_eq!(env.list().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_user_subscriptions_need_a_licensed_existing_user_and_one_per_app() {
    let env = env("healthy").await;
    let users = &env.sim.sim.state.tenant.users;
    let licensed = users.iter().find(|u| u.has_copilot_seat).unwrap();
    let unlicensed = users.iter().find(|u| !u.has_copilot_seat).unwrap();
    let per_user =
        |id: &str| format!("/copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions");

    let filtered = format!(
        "{}?$filter=appClass eq 'IPM.SkypeTeams.Message.Copilot.Teams'",
        per_user(&licensed.id)
    );
    let (status, created) = env.create(&env.body(json!({ "resource": filtered }))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    {
        let registry = env.sim.sim.state.registry();
        let record = registry
            .get(created["id"].as_str().unwrap(), env.now())
            .unwrap();
        assert_eq!(
            record.user_id.as_deref(),
            Some(licensed.id.to_lowercase().as_str())
        );
        assert_eq!(
            record.app_class_filter,
            Some(vec!["IPM.SkypeTeams.Message.Copilot.Teams".to_owned()])
        );
    }
    let (status, error) = env
        .create(&env.body(json!({ "resource": per_user(&licensed.id), "changeType": "deleted" })))
        .await;
    assert_graph_error(status, &error, StatusCode::FORBIDDEN);
    assert!(
        message(&error).contains("per application and user"),
        "{error}"
    );

    let (status, error) = env
        .create(&env.body(json!({ "resource": per_user(&unlicensed.id) })))
        .await;
    assert_graph_error(status, &error, StatusCode::FORBIDDEN);
    assert!(
        message(&error).contains("3f30311c-6b1e-48a4-ab79-725b469da960"),
        "{error}"
    );

    let (status, error) = env
        .create(&env.body(json!({ "resource": per_user("00000000-0000-4000-8000-00000000dead") })))
        .await;
    assert_graph_error(status, &error, StatusCode::NOT_FOUND);

    let nested = format!(
        "{}?$filter=from/user/id eq '{}'",
        per_user(&licensed.id),
        licensed.id
    );
    let (status, error) = env.create(&env.body(json!({ "resource": nested }))).await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert!(message(&error).contains("nested"), "{error}");

    let (status, error) = env
        .create(&env.body(json!({ "resource": "/users/someone/messages" })))
        .await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlicensed_tenant_cannot_create_the_tenant_wide_subscription() {
    let env = env("unlicensed").await;
    let (status, error) = env.create(&env.body(json!({}))).await;
    assert_graph_error(status, &error, StatusCode::FORBIDDEN);
    assert!(
        message(&error).contains("Copilot connectors in Microsoft 365 Copilot"),
        "{error}"
    );
    assert!(
        message(&error).contains("82d30987-df9b-4486-b146-198b21d164c7"),
        "{error}"
    );
    assert!(env.rx.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_role_is_a_403_with_graphs_message() {
    let env = env("healthy").await;
    let expected = fixture("graph-error-403.json");
    let no_roles = env.sim.token_with_roles(&[]);
    let body = env.body(json!({}));
    let (status, _, text) = env
        .send(
            reqwest::Method::POST,
            "/v1.0/subscriptions",
            &no_roles,
            Some(&body),
        )
        .await;
    let error: Value = serde_json::from_str(&text).unwrap();
    assert_graph_error(status, &error, StatusCode::FORBIDDEN);
    assert_eq!(code(&error), code(&expected));
    assert_eq!(message(&error), message(&expected));

    let connector = env.sim.token_with_roles(&CONNECTOR_ROLES);
    for (method, path, body) in [
        (reqwest::Method::POST, "/v1.0/subscriptions", Some(&body)),
        (reqwest::Method::GET, "/v1.0/subscriptions", None),
        (reqwest::Method::GET, "/beta/subscriptions", None),
    ] {
        let (status, _, text) = env.send(method, path, &connector, body).await;
        let error: Value = serde_json::from_str(&text).unwrap();
        assert_graph_error(status, &error, StatusCode::FORBIDDEN);
        assert!(
            message(&error).contains("ExternalConnection.ReadWrite.All"),
            "{error}"
        );
    }
    assert!(env.rx.seen().is_empty());
    let (status, _, _) = env
        .send(reqwest::Method::GET, "/v1.0/subscriptions", "", None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_is_refused_except_on_loopback() {
    let env = env("healthy").await;
    for changes in [
        json!({ "notificationUrl": "http://pilotwatch.contoso.net/notify" }),
        json!({ "lifecycleNotificationUrl": "http://10.1.2.3/lifecycle" }),
        json!({ "notificationUrl": "ftp://localhost/notify" }),
        json!({ "notificationUrl": "notify" }),
    ] {
        let (status, error) = env.create(&env.body(changes.clone())).await;
        assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
        assert!(message(&error).contains("https://"), "{changes}: {error}");
    }
    let localhost = env.rx.url("/n").replace("127.0.0.1", "localhost");
    let (status, created) = env
        .create(&env.body(json!({ "notificationUrl": localhost })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_property_rules_give_400() {
    let env = env("healthy").await;
    for (changes, expected) in [
        (json!({ "changeType": "created,moved" }), "changeType"),
        (json!({ "clientState": "x".repeat(129) }), "clientState"),
        (
            json!({ "latestSupportedTlsVersion": "v2_0" }),
            "latestSupportedTlsVersion",
        ),
        (json!({ "resource": null }), "resource"),
        (json!({ "vapidPublicKey": "abc" }), "vapidPublicKey"),
        (json!({ "notificationUrl": 12 }), "Invalid request"),
    ] {
        let (status, error) = env.create(&env.body(changes)).await;
        assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
        assert!(message(&error).contains(expected), "{expected}: {error}");
    }
    assert!(env.rx.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_bodies_get_graph_error_shapes() {
    let env = env("healthy").await;
    let url = env.sim.url("/v1.0/subscriptions");
    let response = env
        .sim
        .http
        .post(&url)
        .bearer_auth(&env.token)
        .header("content-type", "application/json")
        .body("{\"changeType\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let error: Value = response.json().await.unwrap();
    assert_eq!(code(&error), "BadRequest");

    let response = env
        .sim
        .http
        .post(&url)
        .bearer_auth(&env.token)
        .header("content-type", "text/plain")
        .body(env.body(json!({})).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let error: Value = response.json().await.unwrap();
    assert!(!code(&error).is_empty());

    let (status, error) = env.create(&json!(["not", "an", "object"])).await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
}

// ---------------------------------------------------------------------------------------------
// Reading

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_withholds_client_state_and_parses_as_a_collection() {
    let env = env("healthy").await;
    let (status, created) = env.create(&env.body(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, list) = env
        .call(reqwest::Method::GET, "/v1.0/subscriptions", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["@odata.context"],
        format!("{}/v1.0/$metadata#subscriptions", env.sim.base)
    );
    let item = &list["value"][0];
    assert!(
        item.get("clientState").is_some_and(Value::is_null),
        "{item}"
    );
    assert_eq!(item["id"], created["id"]);
    let fixture_item = &fixture("subscriptions-list.json")["value"][0];
    assert!(keys(fixture_item).is_subset(&keys(item)), "{item}");
    let parsed: Collection<Subscription> = serde_json::from_value(list).unwrap();
    assert_eq!(parsed.value.len(), 1);
    assert_eq!(parsed.value[0].client_state, None);

    let id = created["id"].as_str().unwrap();
    let (status, one) = env
        .call(
            reqwest::Method::GET,
            &format!("/v1.0/subscriptions/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(one["clientState"].is_null());
    assert_eq!(
        one["@odata.context"],
        format!("{}/v1.0/$metadata#subscriptions/$entity", env.sim.base)
    );
    // The secret is still there for notifications.
    let registry = env.sim.sim.state.registry();
    let record = registry.get(id, env.now()).unwrap();
    assert_eq!(
        record.subscription.client_state.as_deref(),
        Some("secret-client-state")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_is_throttled_after_40_calls_in_20_seconds() {
    let env = env("healthy").await;
    for _ in 0..40 {
        let (status, _, _) = env
            .send(
                reqwest::Method::GET,
                "/v1.0/subscriptions",
                &env.token,
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, headers, text) = env
        .send(
            reqwest::Method::GET,
            "/v1.0/subscriptions",
            &env.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&retry_after), "{retry_after}");
    let error: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(code(&error), "TooManyRequests");
    assert!(
        message(&error).starts_with("Too many requests from Identifier:"),
        "{error}"
    );
    assert!(message(&error).contains(" under category:"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v1_and_beta_serve_the_same_subscriptions() {
    let env = env("healthy").await;
    let (status, created) = env
        .call(
            reqwest::Method::POST,
            "/beta/subscriptions",
            Some(&env.body(json!({}))),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["@odata.context"],
        format!("{}/beta/$metadata#subscriptions/$entity", env.sim.base)
    );
    let id = created["id"].as_str().unwrap();
    let (status, one) = env
        .call(
            reqwest::Method::GET,
            &format!("/v1.0/subscriptions/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    let (status, list) = env
        .call(reqwest::Method::GET, "/beta/subscriptions", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["value"][0]["id"], id);
    assert!(
        list["@odata.context"]
            .as_str()
            .unwrap()
            .contains("/beta/$metadata")
    );
}

// ---------------------------------------------------------------------------------------------
// Renewal, reauthorization, deletion, expiry

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_renews_and_refuses_what_cannot_change() {
    let env = env("healthy").await;
    let (_, created) = env.create(&env.body(json!({}))).await;
    let id = created["id"].as_str().unwrap();
    let path = format!("/v1.0/subscriptions/{id}");
    let new_expiry = (env.now() + Duration::minutes(4_000)).trunc_subsecs(0);
    let (status, renewed) = env
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({ "expirationDateTime": new_expiry })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_eq!(expiry(&renewed), new_expiry);
    assert_eq!(renewed["id"], id);
    assert_eq!(renewed["@odata.context"], created["@odata.context"]);
    assert!(
        env.sim
            .sim
            .state
            .registry()
            .get(id, env.now())
            .unwrap()
            .last_renewed
            .is_some()
    );

    let (status, error) = env
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({ "expirationDateTime": new_expiry, "lifecycleNotificationUrl": env.rx.url("/other") })),
        )
        .await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert!(
        message(&error).contains("Delete the subscription"),
        "{error}"
    );
    let (status, error) = env
        .call(reqwest::Method::PATCH, &path, Some(&json!({})))
        .await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    let too_far = env.now() + Duration::minutes(4_400);
    let (status, error) = env
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({ "expirationDateTime": too_far })),
        )
        .await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert!(message(&error).starts_with("Operation: Update;"), "{error}");

    // A new notificationUrl is validated (UNVERIFIED in Graph; see update.rs).
    env.rx.set(Answer::WrongBody);
    let (status, error) = env
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({ "notificationUrl": env.rx.url("/moved") })),
        )
        .await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert_eq!(code(&error), "ValidationError");
    env.rx.set(Answer::Correct);
    let (status, moved) = env
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({ "notificationUrl": env.rx.url("/moved") })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["notificationUrl"], env.rx.url("/moved"));
    assert_eq!(
        expiry(&moved),
        new_expiry,
        "expiry unchanged without expirationDateTime"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_without_lifecycle_url_cannot_go_beyond_an_hour() {
    let env = env("healthy").await;
    let (status, created) = env
        .create(&env.body(json!({
            "lifecycleNotificationUrl": null,
            "expirationDateTime": env.now() + Duration::minutes(50),
        })))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/v1.0/subscriptions/{}", created["id"].as_str().unwrap());
    let (status, error) = env
        .call(
            reqwest::Method::PATCH,
            &path,
            Some(&json!({ "expirationDateTime": env.now() + Duration::hours(2) })),
        )
        .await;
    assert_graph_error(status, &error, StatusCode::BAD_REQUEST);
    assert_eq!(message(&error), LIFECYCLE_REQUIRED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthorize_is_204_without_body_and_pairs_with_patch_are_counted() {
    let env = env("healthy").await;
    let (_, created) = env.create(&env.body(json!({}))).await;
    let id = created["id"].as_str().unwrap();
    let (status, headers, text) = env
        .send(
            reqwest::Method::POST,
            &format!("/v1.0/subscriptions/{id}/reauthorize"),
            &env.token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(text.is_empty());
    assert!(headers.get(header::CONTENT_TYPE).is_none());
    let (status, _) = env
        .call(
            reqwest::Method::PATCH,
            &format!("/v1.0/subscriptions/{id}"),
            Some(&json!({ "expirationDateTime": env.now() + Duration::days(2) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "the pair is counted, not refused");
    let ground = env.sim_json("/_sim/subscriptions").await;
    assert_eq!(ground["value"][0]["reauthorizePatchPairs"], 1);
    assert!(ground["value"][0]["lastReauthorized"].is_string());

    let (status, error) = env
        .call(
            reqwest::Method::POST,
            "/v1.0/subscriptions/00000000-0000-4000-8000-000000000000/reauthorize",
            None,
        )
        .await;
    assert_graph_error(status, &error, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_is_204_then_the_subscription_is_gone() {
    let env = env("healthy").await;
    let (_, created) = env.create(&env.body(json!({}))).await;
    let path = format!("/v1.0/subscriptions/{}", created["id"].as_str().unwrap());
    let (status, _, text) = env
        .send(reqwest::Method::DELETE, &path, &env.token, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(text.is_empty());
    let (status, error) = env.call(reqwest::Method::GET, &path, None).await;
    assert_graph_error(status, &error, StatusCode::NOT_FOUND);
    assert_eq!(code(&error), "itemNotFound");
    let (status, _) = env.call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(env.list().await.is_empty());
    // The slot is free again.
    let (status, _) = env.create(&env.body(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_subscriptions_vanish() {
    let env = env("healthy").await;
    let (_, created) = env.create(&env.body(json!({}))).await;
    let path = format!("/v1.0/subscriptions/{}", created["id"].as_str().unwrap());
    env.advance(260_000).await;
    let body = json!({ "expirationDateTime": env.now() + Duration::days(1) });
    let (status, error) = env.call(reqwest::Method::PATCH, &path, Some(&body)).await;
    assert_graph_error(status, &error, StatusCode::NOT_FOUND);
    let (status, _) = env.call(reqwest::Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(env.list().await.is_empty());
    // The lifecycle loop purges it from the registry too.
    let deadline = std::time::Instant::now() + StdDuration::from_secs(5);
    loop {
        let purged = env
            .sim
            .sim
            .state
            .registry()
            .live(DateTime::<Utc>::MIN_UTC)
            .next()
            .is_none();
        if purged {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never purged");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_removal_deletes_the_subscription_after_its_delay() {
    let scenario = Scenario::parse(
        "name = \"remove-soon\"\nsummary = \"test\"\n[lifecycle]\nremove_subscriptions_after = \"10m\"\n",
        "inline",
    )
    .unwrap();
    let env = env_with(scenario).await;
    let (status, created) = env.create(&env.body(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let path = format!("/v1.0/subscriptions/{}", created["id"].as_str().unwrap());
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    let (status, _) = env.call(reqwest::Method::GET, &path, None).await;
    assert_eq!(status, StatusCode::OK, "still there before the delay");
    env.advance(601).await;
    let deadline = std::time::Instant::now() + StdDuration::from_secs(5);
    loop {
        let (status, _) = env.call(reqwest::Method::GET, &path, None).await;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not removed");
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    assert!(env.list().await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthorization_challenges_follow_the_cadence_and_renewal_resets_it() {
    let env = env("healthy").await;
    let (status, created) = env.create(&env.body(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let challenged = |env: &Env| {
        env.sim
            .sim
            .state
            .registry()
            .get(&id, env.now())
            .unwrap()
            .last_reauthorization_sent
    };
    // Two days of lifetime: the first challenge is due after a quarter of it, 12 hours.
    env.advance(11 * 3600).await;
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    assert_eq!(
        challenged(&env),
        None,
        "not before a quarter of the lifetime"
    );
    env.advance(3600 + 60).await;
    let deadline = std::time::Instant::now() + StdDuration::from_secs(5);
    while challenged(&env).is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no reauthorizationRequired"
        );
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    let first = challenged(&env).unwrap();
    // A renewal resets the cadence: nothing new right after it.
    let (status, _) = env
        .call(
            reqwest::Method::PATCH,
            &format!("/v1.0/subscriptions/{id}"),
            Some(&json!({ "expirationDateTime": env.now() + Duration::days(2) })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    env.advance(3600).await;
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    assert_eq!(
        challenged(&env),
        Some(first),
        "renewed an hour ago: no new challenge"
    );
}

/// A token for another app of the same tenant (the simulator signs it; Graph would accept any
/// consented app of the tenant).
fn token_for_app(env: &Env, app_id: &str) -> String {
    use pilotwatch::graph::model::AccessTokenClaims;
    use pilotwatch::graph::model::well_known::GRAPH_AUDIENCE;
    let state = &env.sim.sim.state;
    let now = state.now();
    let claims = AccessTokenClaims {
        aud: GRAPH_AUDIENCE.to_owned(),
        iss: format!("https://sts.windows.net/{}/", state.tenant.id),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: (now + Duration::minutes(60)).timestamp(),
        appid: Some(app_id.to_owned()),
        azp: None,
        appidacr: Some("1".to_owned()),
        idtyp: Some("app".to_owned()),
        oid: Some(uuid::Uuid::new_v4().to_string()),
        roles: Some(vec!["AiEnterpriseInteraction.Read.All".to_owned()]),
        scp: None,
        tid: state.tenant.id.clone(),
        ver: "1.0".to_owned(),
        uti: None,
    };
    state.keys.sign(&claims, now).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_subscriptions_per_user_across_apps_and_each_app_sees_only_its_own() {
    let env = env("healthy").await;
    let user = env
        .sim
        .sim
        .state
        .tenant
        .users
        .iter()
        .find(|u| u.has_copilot_seat)
        .unwrap()
        .id
        .clone();
    let resource = format!("/copilot/users/{user}/interactionHistory/getAllEnterpriseInteractions");
    let body = env.body(json!({ "resource": resource }));
    let apps: Vec<String> = (0..11).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    for (index, app) in apps.iter().enumerate() {
        let token = token_for_app(&env, app);
        let (status, _, text) = env
            .send(
                reqwest::Method::POST,
                "/v1.0/subscriptions",
                &token,
                Some(&body),
            )
            .await;
        let answer: Value = serde_json::from_str(&text).unwrap();
        if index < 10 {
            assert_eq!(status, StatusCode::CREATED, "app {index}: {answer}");
            assert_eq!(answer["applicationId"], app.as_str());
        } else {
            assert_graph_error(status, &answer, StatusCode::FORBIDDEN);
            assert!(message(&answer).contains("at most 10"), "{answer}");
        }
    }
    // Each app lists only its own; the registered app has none.
    let token = token_for_app(&env, &apps[3]);
    let (status, _, text) = env
        .send(reqwest::Method::GET, "/v1.0/subscriptions", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let list: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    assert_eq!(list["value"][0]["applicationId"], apps[3].as_str());
    assert!(env.list().await.is_empty());
    // Another app's subscription is not found for this one.
    let id = list["value"][0]["id"].as_str().unwrap();
    let (status, _) = env
        .call(
            reqwest::Method::DELETE,
            &format!("/v1.0/subscriptions/{id}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
