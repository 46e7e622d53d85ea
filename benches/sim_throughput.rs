//! Simulator throughput on loopback, reported as medians of several runs:
//!
//! - token requests per second (client credentials over HTTP, 16 concurrent callers);
//! - rich notifications pushed per second, each item encrypted (RSA-OAEP + AES-256-CBC +
//!   HMAC-SHA256) and each POST carrying RS256-signed validation tokens, to a receiver that
//!   acknowledges with 202 without decrypting.
//!
//! Run with `cargo bench --bench sim_throughput`. Numbers are printed, not asserted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use base64::Engine as _;
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::sim::{self, RunningSim, SimOptions};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

const RUNS: usize = 5;
const TOKEN_REQUESTS: usize = 2_000;
const CONCURRENCY: usize = 16;
const PAIRS: usize = 500;

const INSTANT_DELIVERY: &str = r#"
name = "bench"
summary = "instant delivery, no background activity"
[activity]
pairs_per_hour = 0.0
history_days = 0
[delivery]
latency_median = "1ms"
latency_sigma = 0.0
tail_fraction = 0.0
max_batch = 10
"#;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn start() -> RunningSim {
    let scenario = Scenario::parse(INSTANT_DELIVERY, "bench").unwrap();
    sim::start(SimOptions::loopback(scenario)).await.unwrap()
}

async fn token_requests_per_second(sim: &RunningSim, http: &reqwest::Client) -> f64 {
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        sim.base_url(),
        sim.state.tenant.id
    );
    let form = vec![
        ("grant_type".to_owned(), "client_credentials".to_owned()),
        (
            "client_id".to_owned(),
            sim.state.tenant.app.client_id.clone(),
        ),
        (
            "client_secret".to_owned(),
            sim.state.tenant.app.secret.expose_secret().to_owned(),
        ),
        (
            "scope".to_owned(),
            "https://graph.microsoft.com/.default".to_owned(),
        ),
    ];
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (http, url, form) = (http.clone(), url.clone(), form.clone());
        workers.spawn(async move {
            for _ in 0..TOKEN_REQUESTS / CONCURRENCY {
                let answer = http.post(&url).form(&form).send().await.unwrap();
                assert_eq!(answer.status(), 200);
                answer.bytes().await.unwrap();
            }
        });
    }
    while workers.join_next().await.is_some() {}
    (TOKEN_REQUESTS / CONCURRENCY * CONCURRENCY) as f64 / started.elapsed().as_secs_f64()
}

async fn notifications_per_second(sim: &RunningSim, http: &reqwest::Client, receiver: &str) -> f64 {
    let key = rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
        .unwrap();
    let cert = rcgen::CertificateParams::new(vec!["bench".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let base = sim.base_url();
    let token: Value = http
        .post(format!("{base}/{}/oauth2/v2.0/token", sim.state.tenant.id))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", sim.state.tenant.app.client_id.as_str()),
            ("client_secret", sim.state.tenant.app.secret.expose_secret()),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let subscription = http
        .post(format!("{base}/v1.0/subscriptions"))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({
            "changeType": "created",
            "notificationUrl": format!("{receiver}/notify"),
            "lifecycleNotificationUrl": format!("{receiver}/lifecycle"),
            "resource": "/copilot/interactionHistory/getAllEnterpriseInteractions",
            "includeResourceData": true,
            "encryptionCertificate": base64::engine::general_purpose::STANDARD.encode(cert.der()),
            "encryptionCertificateId": "bench",
            "expirationDateTime": sim.state.now() + chrono::Duration::hours(24),
            "clientState": "bench",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        subscription.status(),
        201,
        "{}",
        subscription.text().await.unwrap()
    );
    let started = Instant::now();
    for _ in 0..PAIRS / 100 {
        let made = http
            .post(format!("{base}/_sim/interactions"))
            .json(&json!({ "pairs": 100 }))
            .send()
            .await
            .unwrap();
        assert_eq!(made.status(), 201);
    }
    let wanted = PAIRS * 2;
    let deadline = started + Duration::from_secs(120);
    loop {
        let delivered: usize = sim
            .state
            .deliveries()
            .iter()
            .filter(|a| format!("{:?}", a.outcome) == "Delivered")
            .map(|a| a.interaction_ids.len())
            .sum();
        if delivered >= wanted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {delivered} of {wanted} delivered"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    wanted as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Echoes the validation handshake, acknowledges everything else without decrypting.
        let app = Router::new().fallback(
            |Query(query): Query<HashMap<String, String>>| async move {
                match query.get("validationToken") {
                    Some(token) => (StatusCode::OK, [("content-type", "text/plain")], token.clone()),
                    None => (StatusCode::ACCEPTED, [("content-type", "text/plain")], String::new()),
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let http = reqwest::Client::builder().no_proxy().build().unwrap();

        let mut tokens = Vec::new();
        let mut notifications = Vec::new();
        for _ in 0..RUNS {
            let sim = start().await;
            tokens.push(token_requests_per_second(&sim, &http).await);
            notifications.push(notifications_per_second(&sim, &http, &receiver).await);
            sim.stop().await;
        }
        println!("token requests/s (client credentials, {CONCURRENCY} concurrent): median {:.0} of {tokens:.0?}", median(tokens.clone()));
        println!("rich notification items/s (encrypted + signed, delivered): median {:.0} of {notifications:.0?}", median(notifications.clone()));
    });
}
