//! Genuine notification bodies: the simulator, running a scenario of immediate single-item
//! deliveries, pushes rich notifications for a subscription that carries the receiver's
//! certificate to a capturing endpoint; the bench replays the captured bytes. Each therefore
//! passes `clientState`, validation-token and decryption checks exactly as a live one would.
//!
//! Depends on the simulator and the receiver's `EncryptionKeys`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use pilotwatch::clock::SharedClock;
use pilotwatch::receiver::EncryptionKeys;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::sim::{self, RunningSim, SimOptions};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use crate::DEADLINE;

/// The `clientState` of the subscription (and of the keeper's registry entry).
pub(crate) const CLIENT_STATE: &str = "ingest-bench-client-state-5d21";

/// Immediate delivery, one item per POST, nothing in the background.
const SCENARIO: &str = r#"
name = "ingest-bench"
summary = "instant delivery of single-item POSTs, no background activity"
[activity]
pairs_per_hour = 0.0
history_days = 0
[lifecycle]
reauthorization_required = false
[delivery]
latency_median = "1ms"
latency_sigma = 0.0
tail_fraction = 0.0
max_batch = 1
"#;

/// Answers validation handshakes; keeps every notification body and acknowledges it.
async fn capture(
    State(captured): State<Arc<Mutex<Vec<Bytes>>>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> (StatusCode, [(&'static str, &'static str); 1], String) {
    let plain = [("content-type", "text/plain")];
    if let Some(token) = query.get("validationToken") {
        return (StatusCode::OK, plain, token.clone());
    }
    captured.lock().unwrap().push(body);
    (StatusCode::ACCEPTED, plain, String::new())
}

/// The simulator (kept running: it serves the JWKS the receiver verifies tokens with), the
/// receiver's keys the bodies are encrypted for, and the captured bodies.
pub(crate) struct Genuine {
    pub(crate) sim: RunningSim,
    /// The simulator's clock, which the receiver and store run on too.
    pub(crate) clock: SharedClock,
    pub(crate) keys: Arc<EncryptionKeys>,
    pub(crate) subscription_id: String,
    /// One single-item rich notification POST body each, distinct interactions.
    pub(crate) bodies: Vec<Bytes>,
    _dir: tempfile::TempDir,
}

/// Starts the simulator, subscribes a capturing endpoint with the receiver's certificate and
/// lets the simulator push `count` single-item rich notifications to it.
pub(crate) async fn genuine_bodies(count: usize, http: &reqwest::Client) -> Genuine {
    let scenario = Scenario::parse(SCENARIO, "ingest-bench").unwrap();
    let sim = sim::start(SimOptions::loopback(scenario)).await.unwrap();
    let clock: SharedClock = sim.state.clock.clone();
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(
        EncryptionKeys::load_or_generate(
            &dir.path().join("encryption.crt"),
            &dir.path().join("encryption.key"),
            clock.clone(),
        )
        .unwrap(),
    );
    let captured = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let app = Router::new()
        .fallback(capture)
        .with_state(Arc::clone(&captured));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let base = sim.base_url();
    let app_registration = &sim.state.tenant.app;
    let token: Value = http
        .post(format!("{base}/{}/oauth2/v2.0/token", sim.state.tenant.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app_registration.client_id.as_str()),
            ("client_secret", app_registration.secret.expose_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = http
        .post(format!("{base}/v1.0/subscriptions"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({
            "changeType": "created",
            "notificationUrl": format!("{endpoint}/notify"),
            "lifecycleNotificationUrl": format!("{endpoint}/lifecycle"),
            "resource": "/copilot/interactionHistory/getAllEnterpriseInteractions",
            "includeResourceData": true,
            "encryptionCertificate": keys.current_certificate_base64(),
            "encryptionCertificateId": keys.current_certificate_id(),
            "expirationDateTime": sim.state.now() + chrono::Duration::hours(24),
            "clientState": CLIENT_STATE,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let subscription: Value = created.json().await.unwrap();
    let subscription_id = subscription["id"].as_str().unwrap().to_owned();

    let mut pairs_left = count.div_ceil(2);
    while pairs_left > 0 {
        let pairs = pairs_left.min(1_000);
        let made = http
            .post(format!("{base}/_sim/interactions"))
            .json(&json!({ "pairs": pairs }))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
        pairs_left -= pairs;
    }
    let started = Instant::now();
    while captured.lock().unwrap().len() < count {
        assert!(started.elapsed() < DEADLINE, "the simulator pushed too few");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let bodies: Vec<Bytes> = captured.lock().unwrap().drain(..).take(count).collect();
    Genuine {
        sim,
        clock,
        keys,
        subscription_id,
        bodies,
        _dir: dir,
    }
}
