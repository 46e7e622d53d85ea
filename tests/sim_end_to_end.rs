//! The simulator end to end, driven only over HTTP the way a client written from Microsoft's
//! documentation would drive it: client-credentials token, JWKS, a rich tenant-wide
//! subscription with the validation handshake, pushed notifications decrypted and validated by
//! an independent receiver, the export API agreeing with the ground truth, and lifecycle events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use chrono::{DateTime, Utc};
use common::TestSim;
use common::receiver::{TestReceiver, validate_token};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::scenario::Scenario;
use serde_json::{Value, json};

/// `healthy`, but notifications follow their interaction within milliseconds.
const FAST_HEALTHY: &str = r#"
name = "fast-healthy"
summary = "healthy with near-instant delivery, for tests"
[delivery]
latency_median = "20ms"
latency_sigma = 0.0
tail_fraction = 0.0
"#;

async fn token(sim: &TestSim, base: &str, http: &reqwest::Client) -> String {
    let tenant = sim.sim.state.tenant.id.clone();
    let app = &sim.sim.state.tenant.app;
    let answer: Value = http
        .post(format!("{base}/{tenant}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app.client_id.as_str()),
            (
                "client_secret",
                secrecy::ExposeSecret::expose_secret(&app.secret),
            ),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {answer}"))
        .to_owned()
}

async fn switch(sim: &TestSim, toml: &str) {
    let answer = sim
        .http
        .post(sim.url("/_sim/scenario"))
        .json(&json!({ "toml": toml }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
}

async fn subscribe(sim: &TestSim, bearer: &str, receiver: &TestReceiver) -> Value {
    let expiry = sim.sim.state.now() + chrono::Duration::hours(48);
    let answer = sim
        .http
        .post(sim.url("/v1.0/subscriptions"))
        .bearer_auth(bearer)
        .json(&json!({
            "changeType": "created",
            "notificationUrl": format!("{}/notify?source=graph", receiver.base),
            "lifecycleNotificationUrl": format!("{}/lifecycle", receiver.base),
            "resource": "/copilot/interactionHistory/getAllEnterpriseInteractions",
            "includeResourceData": true,
            "encryptionCertificate": receiver.certificate_b64,
            "encryptionCertificateId": "e2e-cert",
            "expirationDateTime": expiry,
            "clientState": "e2e-client-state",
        }))
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let body: Value = answer.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

/// Every lifecycle item received, in order: Graph may batch several events in one POST.
fn lifecycle_items(received: &[common::receiver::Received]) -> Vec<Value> {
    received
        .iter()
        .filter(|r| r.path == "/lifecycle")
        .flat_map(|r| r.body["value"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn has_event(received: &[common::receiver::Received], event: &str) -> bool {
    lifecycle_items(received)
        .iter()
        .any(|item| item["lifecycleEvent"] == event)
}

async fn get_json(sim: &TestSim, path: &str) -> Value {
    sim.http
        .get(sim.url(path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_notifications_decrypt_and_validate_and_match_the_export_api() {
    let sim = TestSim::start("healthy").await;
    switch(&sim, FAST_HEALTHY).await;
    let receiver = TestReceiver::start().await;
    let bearer = token(&sim, &sim.base, &sim.http).await;
    let subscription = subscribe(&sim, &bearer, &receiver).await;
    assert_eq!(
        receiver.handshakes().len(),
        2,
        "notification and lifecycle URLs both validated"
    );

    let made: Value = sim
        .http
        .post(sim.url("/_sim/interactions"))
        .json(&json!({ "pairs": 3 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let made: Vec<Value> = made["value"].as_array().unwrap().clone();
    assert_eq!(made.len(), 6, "three prompt/response pairs");

    let received = receiver
        .wait_until(Duration::from_secs(20), "six notified items", |all| {
            all.iter()
                .filter(|r| r.path == "/notify")
                .map(|r| r.body["value"].as_array().map_or(0, Vec::len))
                .sum::<usize>()
                >= 6
        })
        .await;
    let jwks: Value = get_json(&sim, "/common/discovery/v2.0/keys").await;
    let tenant = sim.sim.state.tenant.id.clone();
    let app_id = sim.sim.state.tenant.app.client_id.clone();
    let now = sim.sim.state.now().timestamp();
    let mut decrypted = Vec::new();
    for post in received.iter().filter(|r| r.path == "/notify") {
        assert!(
            post.content_type.starts_with("application/json"),
            "{}",
            post.content_type
        );
        let tokens = post.body["validationTokens"]
            .as_array()
            .expect("rich notifications carry tokens");
        assert!(!tokens.is_empty());
        for token in tokens {
            validate_token(token.as_str().unwrap(), &jwks, &app_id, &tenant, now).unwrap();
        }
        for item in post.body["value"].as_array().unwrap() {
            assert_eq!(item["subscriptionId"], subscription["id"]);
            assert_eq!(item["clientState"], "e2e-client-state");
            assert_eq!(item["tenantId"], tenant.as_str());
            assert_eq!(item["changeType"], "created");
            assert_eq!(
                item["encryptedContent"]["encryptionCertificateId"],
                "e2e-cert"
            );
            let interaction = receiver.decrypt(&item["encryptedContent"]).unwrap();
            assert_eq!(item["resourceData"]["id"], interaction["id"]);
            decrypted.push(interaction);
        }
    }
    for expected in &made {
        assert!(
            decrypted.contains(expected),
            "not delivered intact: {expected}"
        );
    }

    // The same interactions through the export API, with both createdDateTime bounds.
    let user = made[0]["from"]["user"]["id"].as_str().unwrap().to_owned();
    let created: DateTime<Utc> = made[0]["createdDateTime"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let filter = format!(
        "createdDateTime gt {} and createdDateTime lt {}",
        (created - chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (sim.sim.state.now() + chrono::Duration::minutes(1)).format("%Y-%m-%dT%H:%M:%SZ"),
    );
    let page: Value = sim
        .http
        .get(sim.url(&format!(
            "/v1.0/copilot/users/{user}/interactionHistory/getAllEnterpriseInteractions"
        )))
        .query(&[("$filter", filter.as_str()), ("$top", "50")])
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let exported = page["value"].as_array().unwrap_or_else(|| panic!("{page}"));
    for expected in made.iter().filter(|m| {
        m["from"]["user"]["id"] == user.as_str()
            || exported.iter().any(|e| e["requestId"] == m["requestId"])
    }) {
        assert!(
            exported.contains(expected),
            "export API misses {}",
            expected["id"]
        );
    }

    // Ground truth records the deliveries.
    let deliveries = get_json(&sim, "/_sim/deliveries").await;
    let delivered = deliveries["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "change" && d["outcome"]["result"] == "delivered")
        .count();
    assert!(delivered >= 1, "{deliveries}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_role_assignment_required_sends_null_tokens_that_still_decrypt() {
    let sim = TestSim::start("healthy").await;
    let toml = FAST_HEALTHY.replace("[delivery]", "[directory]\napp_role_assignment_required = true\n[delivery]\nvalidation_tokens = \"null\"");
    switch(&sim, &toml).await;
    let receiver = TestReceiver::start().await;
    let bearer = token(&sim, &sim.base, &sim.http).await;
    subscribe(&sim, &bearer, &receiver).await;
    sim.http
        .post(sim.url("/_sim/interactions"))
        .json(&json!({ "pairs": 1 }))
        .send()
        .await
        .unwrap();
    let received = receiver
        .wait_until(Duration::from_secs(20), "a notification", |all| {
            all.iter().any(|r| r.path == "/notify")
        })
        .await;
    let post = received.iter().find(|r| r.path == "/notify").unwrap();
    assert!(
        post.body
            .get("validationTokens")
            .is_some_and(Value::is_null),
        "{}",
        post.body
    );
    let item = &post.body["value"][0];
    receiver.decrypt(&item["encryptedContent"]).unwrap();
    let sp: Value = sim
        .http
        .get(sim.url(&format!(
            "/v1.0/servicePrincipals(appId='{}')",
            sim.sim.state.tenant.app.client_id
        )))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sp["appRoleAssignmentRequired"], true, "{sp}");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthorization_required_arrives_before_expiry_and_removal_is_announced() {
    let sim = TestSim::start("healthy").await;
    let receiver = TestReceiver::start().await;
    let bearer = token(&sim, &sim.base, &sim.http).await;
    let subscription = subscribe(&sim, &bearer, &receiver).await;
    // 48 h lifetime: jump to 30 minutes before expiry, well inside the reauthorization cadence.
    let jump = 48 * 3600 - 30 * 60;
    let answer = sim
        .http
        .post(sim.url("/_sim/clock/advance"))
        .json(&json!({ "seconds": jump }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let received = receiver
        .wait_until(Duration::from_secs(20), "reauthorizationRequired", |all| {
            has_event(all, "reauthorizationRequired")
        })
        .await;
    let posts: Vec<_> = received.iter().filter(|r| r.path == "/lifecycle").collect();
    assert!(
        posts
            .iter()
            .all(|post| post.body.get("validationTokens").is_none())
    );
    let items = lifecycle_items(&received);
    let event = items
        .iter()
        .find(|i| i["lifecycleEvent"] == "reauthorizationRequired")
        .unwrap();
    assert_eq!(event["subscriptionId"], subscription["id"]);
    assert_eq!(event["clientState"], "e2e-client-state");

    // `missed` for the live subscription first, then its removal.
    switch(
        &sim,
        "name = \"loss\"\nsummary = \"misses, then removes\"\n[lifecycle]\nmissed_after = \"1m\"\nremove_subscriptions_after = \"3m\"\n",
    )
    .await;
    let advance = |seconds: i64| {
        sim.http
            .post(sim.url("/_sim/clock/advance"))
            .json(&json!({ "seconds": seconds }))
            .send()
    };
    advance(90).await.unwrap();
    receiver
        .wait_until(Duration::from_secs(20), "missed", |all| {
            has_event(all, "missed")
        })
        .await;
    let live = sim
        .http
        .get(sim.url(&format!(
            "/v1.0/subscriptions/{}",
            subscription["id"].as_str().unwrap()
        )))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(
        live.status(),
        200,
        "missed does not remove the subscription"
    );
    advance(120).await.unwrap();
    receiver
        .wait_until(Duration::from_secs(20), "subscriptionRemoved", |all| {
            has_event(all, "subscriptionRemoved")
        })
        .await;
    let gone = sim
        .http
        .get(sim.url(&format!(
            "/v1.0/subscriptions/{}",
            subscription["id"].as_str().unwrap()
        )))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_listener_serves_identity_and_graph_to_a_client_trusting_the_ca() {
    let mut options = SimOptions::loopback(Scenario::load("healthy").unwrap());
    options.https_listen = Some(([127, 0, 0, 1], 0).into());
    let sim = TestSim::start_with(options).await;
    let port = sim.sim.https_addr.unwrap().port();
    let https = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(sim.sim.ca_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let tenant = sim.sim.state.tenant.id.clone();
    let discovery: Value = https
        .get(format!(
            "{base}/{tenant}/v2.0/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        discovery["token_endpoint"],
        format!("{base}/{tenant}/oauth2/v2.0/token")
    );
    let bearer = token(&sim, &base, &https).await;
    let list = https
        .get(format!("{base}/v1.0/subscriptions"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speed_makes_a_three_day_subscription_expire_in_seconds() {
    let mut options = SimOptions::loopback(Scenario::load("healthy").unwrap());
    // 3 days in about 2.6 real seconds.
    options.speed = 100_000.0;
    let sim = TestSim::start_with(options).await;
    let receiver = TestReceiver::start().await;
    let bearer = sim.long_lived_token();
    let expiry = sim.sim.state.now() + chrono::Duration::minutes(4_319);
    let created = sim
        .http
        .post(sim.url("/v1.0/subscriptions"))
        .bearer_auth(&bearer)
        .json(&json!({
            "changeType": "created",
            "notificationUrl": format!("{}/notify", receiver.base),
            "lifecycleNotificationUrl": format!("{}/lifecycle", receiver.base),
            "resource": "/copilot/interactionHistory/getAllEnterpriseInteractions",
            "expirationDateTime": expiry,
            "clientState": "fast",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = std::time::Instant::now();
    // Watched through the ground truth: at this speed an access token lives 36 ms of real time.
    loop {
        let live = get_json(&sim, "/_sim/subscriptions").await;
        let ids: Vec<&str> = live["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["subscription"]["id"].as_str())
            .collect();
        if !ids.contains(&id.as_str()) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still alive after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.elapsed() > Duration::from_secs(1),
        "expired too early"
    );
    let lifecycle = lifecycle_items(&receiver.received())
        .iter()
        .filter(|item| item["lifecycleEvent"] == "reauthorizationRequired")
        .count();
    assert!(
        lifecycle >= 3,
        "the cadence sends several reauthorizationRequired over 3 days"
    );
    sim.stop().await;
}
