//! The notification pusher end to end: subscriptions are inserted straight into the registry,
//! interactions published straight into the state, and a receiver written here — with aws-lc-rs
//! and jsonwebtoken directly, never through simulator code — decrypts every item and validates
//! every validation token against the published JWKS and the simulated clock.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use aws_lc_rs::cipher::{AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::{digest, hmac};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header::CONTENT_TYPE};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use common::TestSim;
use pilotwatch::graph::model::well_known::{CHANGE_TRACKING_APP_ID, TENANT_WIDE_RESOURCE};
use pilotwatch::graph::model::{
    AiInteraction, LifecycleEvent, Subscription, ValidationTokenClaims,
};
use pilotwatch::sim::SimOptions;
use pilotwatch::sim::ledger::{DeliveryAttempt, DeliveryKind, DeliveryOutcome, Generated};
use pilotwatch::sim::registry::{SubscriptionRecord, UploadedCertificate};
use pilotwatch::sim::scenario::Scenario;
use pilotwatch::sim::state::SimState;

/// Another app in the same tenant sharing the notification URL.
const OTHER_APP_ID: &str = "5f0c2a61-8d4e-4b7a-9c3d-2e1f0a9b8c7d";

// ---------------------------------------------------------------------------------------------
// Simulator and scenario

async fn start(extra_delivery: &str) -> TestSim {
    let text = format!(
        r#"
name = "delivery-test"
summary = "healthy, with fast and deterministic delivery and no background activity"
[activity]
pairs_per_hour = 0.0
history_days = 0
[lifecycle]
reauthorization_required = false
[delivery]
latency_median = "20ms"
latency_sigma = 0.0
tail_fraction = 0.0
{extra_delivery}
"#
    );
    let scenario = Scenario::parse(&text, "inline").unwrap();
    TestSim::start_with(SimOptions::loopback(scenario)).await
}

fn attempts(state: &SimState, kind: DeliveryKind) -> Vec<DeliveryAttempt> {
    state
        .deliveries()
        .iter()
        .filter(|attempt| attempt.kind == kind)
        .cloned()
        .collect()
}

async fn eventually<T>(what: &str, within: StdDuration, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

/// Waits for the change attempt number `n` (1-based) and returns all change attempts.
async fn change_attempts(state: &SimState, n: usize, within: StdDuration) -> Vec<DeliveryAttempt> {
    eventually(&format!("{n} change attempts"), within, || {
        let found = attempts(state, DeliveryKind::Change);
        (found.len() >= n).then_some(found)
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// The receiver

#[derive(Debug, Clone)]
struct Received {
    path: String,
    query: Option<String>,
    content_type: Option<String>,
    raw: Vec<u8>,
    body: Value,
}

#[derive(Clone)]
struct Behaviour {
    got: Arc<Mutex<Vec<Received>>>,
    calls: Arc<AtomicUsize>,
    status: StatusCode,
    slow_first: Option<StdDuration>,
}

async fn receive(
    State(behaviour): State<Behaviour>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let call = behaviour.calls.fetch_add(1, Ordering::SeqCst);
    behaviour.got.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        content_type: headers
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned),
        raw: body.to_vec(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    if call == 0
        && let Some(delay) = behaviour.slow_first
    {
        tokio::time::sleep(delay).await;
    }
    behaviour.status
}

struct Receiver {
    base: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(status: u16, slow_first: Option<StdDuration>) -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Behaviour {
            got: got.clone(),
            calls: Arc::new(AtomicUsize::new(0)),
            status: StatusCode::from_u16(status).unwrap(),
            slow_first,
        };
        let app = Router::new()
            .route("/notify", post(receive))
            .route("/lifecycle", post(receive))
            .with_state(behaviour);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://{addr}"),
            got,
        }
    }

    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.base)
    }

    fn posts(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    fn items(&self) -> Vec<Value> {
        self.posts()
            .iter()
            .flat_map(|post| post.body["value"].as_array().cloned().unwrap_or_default())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The subscriber's certificate, made here with rcgen and read back with x509-parser

struct TestCert {
    uploaded: UploadedCertificate,
    pkcs8: Vec<u8>,
}

fn test_cert(id: &str) -> TestCert {
    let key_pair =
        rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .unwrap();
    let params = rcgen::CertificateParams::new(vec!["receiver.example".to_owned()]).unwrap();
    let der = params.self_signed(&key_pair).unwrap().der().to_vec();
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).unwrap();
    let spki = parsed.tbs_certificate.subject_pki.raw.to_vec();
    let thumbprint = hex::encode_upper(digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &der));
    TestCert {
        uploaded: UploadedCertificate {
            id: id.to_owned(),
            der,
            thumbprint,
            public_key_spki: spki,
            key_bits: 2048,
        },
        pkcs8: key_pair.serialize_der(),
    }
}

/// What the receiver does with `encryptedContent`: RSA-OAEP-SHA1 for the key, HMAC check
/// first, then AES-256-CBC with IV = key[0..16].
fn decrypt(content: &Value, pkcs8: &[u8]) -> Result<Vec<u8>, String> {
    let private = PrivateDecryptingKey::from_pkcs8(pkcs8).map_err(|e| e.to_string())?;
    let oaep = OaepPrivateDecryptingKey::new(private).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        STANDARD
            .decode(content[name].as_str().ok_or(format!("{name} missing"))?)
            .map_err(|e| format!("{name}: {e}"))
    };
    let wrapped = field("dataKey")?;
    let mut buffer = vec![0; oaep.min_output_size()];
    let key = oaep
        .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut buffer, None)
        .map_err(|_| "dataKey does not decrypt with this private key".to_owned())?
        .to_vec();
    if key.len() != 32 {
        return Err(format!("symmetric key is {} bytes", key.len()));
    }
    let mut data = field("data")?;
    let signature = field("dataSignature")?;
    hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data, &signature)
        .map_err(|_| "dataSignature mismatch".to_owned())?;
    let cipher = PaddedBlockDecryptingKey::cbc_pkcs7(
        UnboundCipherKey::new(&AES_256, &key).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let iv: [u8; 16] = key[..16].try_into().unwrap();
    let plain = cipher
        .decrypt(&mut data, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| "bad padding".to_owned())?;
    Ok(plain.to_vec())
}

/// What the receiver does with a validation token: RS256 against the JWKS, audience, issuer
/// (v1 or v2 form), the Change Tracking app in `appid`/`azp`, lifetime on the simulated clock.
fn validate_token(state: &SimState, token: &str, audiences: &[&str]) -> ValidationTokenClaims {
    let tenant = &state.tenant.id;
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.expect("validation tokens carry a kid");
    let issuer = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    let jwks: JwkSet = serde_json::from_value(state.keys.jwks(state.now(), &issuer).unwrap())
        .expect("the JWKS parses as a JWK set");
    let jwk = jwks.find(&kid).expect("kid is published");
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let v1_issuer = format!("https://sts.windows.net/{tenant}/");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(audiences);
    validation.set_issuer(&[v1_issuer.as_str(), issuer.as_str()]);
    // Lifetime is checked below against the simulated clock, not the wall clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims = ["exp", "aud", "iss"].map(str::to_owned).into();
    let claims = jsonwebtoken::decode::<ValidationTokenClaims>(token, &key, &validation)
        .unwrap()
        .claims;
    let now = state.now().timestamp();
    assert!(claims.exp > now, "expired on the simulated clock");
    assert!(
        claims.nbf <= now + 60,
        "not yet valid on the simulated clock"
    );
    assert_eq!(&claims.tid, tenant);
    match claims.ver.as_str() {
        "1.0" => {
            assert_eq!(claims.iss, v1_issuer);
            assert_eq!(claims.appid.as_deref(), Some(CHANGE_TRACKING_APP_ID));
        }
        "2.0" => {
            assert_eq!(claims.iss, issuer);
            assert_eq!(claims.azp.as_deref(), Some(CHANGE_TRACKING_APP_ID));
        }
        other => panic!("unexpected token version {other}"),
    }
    claims
}

// ---------------------------------------------------------------------------------------------
// Subscriptions and interactions, inserted and published directly

struct SubSpec<'a> {
    url: String,
    lifecycle_url: Option<String>,
    cert: Option<&'a TestCert>,
    app_id: String,
    user_id: Option<String>,
}

fn insert_subscription(state: &SimState, spec: SubSpec<'_>) -> SubscriptionRecord {
    let now = state.now();
    let id = uuid::Uuid::new_v4().to_string();
    let resource = match &spec.user_id {
        None => TENANT_WIDE_RESOURCE.to_owned(),
        Some(user) => {
            format!("/copilot/users/{user}/interactionHistory/getAllEnterpriseInteractions")
        }
    };
    let record = SubscriptionRecord {
        subscription: Subscription {
            odata_context: None,
            id: id.clone(),
            resource,
            application_id: Some(spec.app_id.clone()),
            change_type: "created,updated,deleted".to_owned(),
            client_state: Some(format!("secret-{id}")),
            notification_url: spec.url,
            notification_query_options: None,
            lifecycle_notification_url: spec.lifecycle_url,
            expiration_date_time: now + Duration::days(2),
            creator_id: None,
            include_resource_data: Some(spec.cert.is_some()),
            latest_supported_tls_version: Some("v1_2".to_owned()),
            encryption_certificate: spec.cert.map(|c| STANDARD.encode(&c.uploaded.der)),
            encryption_certificate_id: spec.cert.map(|c| c.uploaded.id.clone()),
            notification_url_app_id: None,
            notification_content_type: None,
        },
        tenant_id: state.tenant.id.clone(),
        app_id: spec.app_id,
        certificate: spec.cert.map(|c| c.uploaded.clone()),
        app_class_filter: None,
        conversation_type_filter: None,
        user_id: spec.user_id,
        created: now,
        last_renewed: None,
        last_reauthorized: None,
        last_reauthorization_sent: None,
        last_reauthorize_call: None,
        reauthorize_patch_pairs: 0,
    };
    state.registry().insert(record.clone());
    record
}

fn rich<'a>(url: String, cert: &'a TestCert, app_id: &str) -> SubSpec<'a> {
    SubSpec {
        url,
        lifecycle_url: None,
        cert: Some(cert),
        app_id: app_id.to_owned(),
        user_id: None,
    }
}

fn publish(state: &SimState, user_id: &str, created: DateTime<Utc>, n: u64) -> AiInteraction {
    let id = (created.timestamp_millis() as u64 + n).to_string();
    let interaction: AiInteraction = serde_json::from_value(json!({
        "id": id,
        "sessionId": "19:pilotwatch-test@thread.v2",
        "requestId": uuid::Uuid::new_v4().to_string(),
        "appClass": "IPM.SkypeTeams.Message.Copilot.BizChat",
        "interactionType": "userPrompt",
        "conversationType": "bizchat",
        "etag": id,
        "createdDateTime": created,
        "locale": "en-us",
        "body": {"contentType": "text", "content": format!("Summarize the Q{n} numbers, please")},
        "from": {
            "@odata.type": "#microsoft.graph.chatMessageFromIdentitySet",
            "application": null,
            "device": null,
            "user": {"@odata.type": "#microsoft.graph.teamworkUserIdentity", "id": user_id,
                     "displayName": "Adele Vance", "userIdentityType": "aadUser"}
        },
        "attachments": [], "links": [], "contexts": [], "mentions": []
    }))
    .unwrap();
    state.publish(Generated {
        user_id: user_id.to_owned(),
        interaction: Arc::new(interaction.clone()),
    });
    interaction
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../shared/graph-fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every key of `expected` (recursively through objects and the first array element) is in
/// `actual`.
fn assert_has_keys(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let inner = have
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}.{key} missing in {actual}"));
                assert_has_keys(value, inner, &format!("{at}.{key}"));
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            if let (Some(want), Some(have)) = (want.first(), have.first()) {
                assert_has_keys(want, have, &format!("{at}[0]"));
            }
        }
        _ => {}
    }
}

fn key_set(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rich_notifications_decrypt_and_carry_one_valid_token_per_app() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let cert = test_cert("pilotwatch-2026-11");
    let url = receiver.url("/notify?source=pilotwatch&ring=1");
    let own_app = state.tenant.app.client_id.clone();
    let mine = insert_subscription(&state, rich(url.clone(), &cert, &own_app));
    let theirs = insert_subscription(&state, rich(url.clone(), &cert, OTHER_APP_ID));

    let created = state.now();
    let user = state.tenant.users[0].id.clone();
    let published: Vec<AiInteraction> =
        (0..3).map(|n| publish(&state, &user, created, n)).collect();

    eventually("six items", StdDuration::from_secs(5), || {
        (receiver.items().len() >= 6).then_some(())
    })
    .await;
    let posts = receiver.posts();
    assert!(
        posts
            .iter()
            .any(|p| p.body["value"].as_array().unwrap().len() > 1),
        "items due together share a POST"
    );
    for post in &posts {
        assert_eq!(post.path, "/notify");
        assert_eq!(post.query.as_deref(), Some("source=pilotwatch&ring=1"));
        assert_eq!(
            post.content_type.as_deref(),
            Some("application/json; charset=utf-8")
        );
        let items = post.body["value"].as_array().unwrap();
        let apps: BTreeSet<&str> = items
            .iter()
            .map(|item| {
                if item["subscriptionId"] == mine.subscription.id.as_str() {
                    own_app.as_str()
                } else {
                    OTHER_APP_ID
                }
            })
            .collect();
        let tokens = post.body["validationTokens"].as_array().unwrap();
        assert_eq!(tokens.len(), apps.len(), "one token per app+tenant pair");
        let mut audiences = BTreeSet::new();
        for token in tokens {
            let claims = validate_token(&state, token.as_str().unwrap(), &[&own_app, OTHER_APP_ID]);
            audiences.insert(claims.aud);
        }
        assert_eq!(
            audiences
                .iter()
                .map(String::as_str)
                .collect::<BTreeSet<_>>(),
            apps
        );
    }
    assert_has_keys(&fixture("notification-rich.json"), &posts[0].body, "$");

    let items = receiver.items();
    assert_eq!(items.len(), 6);
    for item in &items {
        let record = if item["subscriptionId"] == mine.subscription.id.as_str() {
            &mine
        } else {
            assert_eq!(item["subscriptionId"], theirs.subscription.id.as_str());
            &theirs
        };
        assert_eq!(
            item["clientState"].as_str(),
            record.subscription.client_state.as_deref()
        );
        assert_eq!(item["changeType"], "created");
        assert_eq!(item["tenantId"], state.tenant.id.as_str());
        let id = item["resourceData"]["id"].as_str().unwrap();
        let resource = format!("copilot/interactionHistory/interactions('{id}')");
        assert_eq!(item["resource"], resource.as_str());
        assert_eq!(item["resourceData"]["@odata.id"], resource.as_str());
        assert_eq!(
            item["resourceData"]["@odata.type"],
            "#Microsoft.Graph.aiInteraction"
        );
        let content = &item["encryptedContent"];
        assert_eq!(content["encryptionCertificateId"], "pilotwatch-2026-11");
        assert_eq!(
            content["encryptionCertificateThumbprint"],
            cert.uploaded.thumbprint.as_str()
        );
        let plain = decrypt(content, &cert.pkcs8).unwrap();
        let decrypted: AiInteraction = serde_json::from_slice(&plain).unwrap();
        let original = published.iter().find(|i| i.id == id).unwrap();
        assert_eq!(&decrypted, original);
    }
    let keys: BTreeSet<&str> = items
        .iter()
        .map(|item| item["encryptedContent"]["dataKey"].as_str().unwrap())
        .collect();
    assert_eq!(keys.len(), 6, "a fresh symmetric key per item");

    let ledger = attempts(&state, DeliveryKind::Change);
    assert!(
        ledger
            .iter()
            .all(|a| a.outcome == DeliveryOutcome::Delivered && a.attempt == 1)
    );
    let notified: BTreeSet<&str> = ledger
        .iter()
        .flat_map(|a| a.interaction_ids.iter().map(String::as_str))
        .collect();
    let expected: BTreeSet<&str> = published.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(notified, expected);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_validation_tokens_are_sent_as_null_and_items_still_decrypt() {
    let sim = start(r#"validation_tokens = "null""#).await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let cert = test_cert("c1");
    let app = state.tenant.app.client_id.clone();
    insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));
    let published = publish(&state, &state.tenant.users[1].id, state.now(), 0);

    eventually("a POST", StdDuration::from_secs(5), || {
        receiver.posts().into_iter().next()
    })
    .await;
    let post = &receiver.posts()[0];
    let body = post.body.as_object().unwrap();
    assert!(body.contains_key("validationTokens") && body["validationTokens"].is_null());
    assert_has_keys(
        &fixture("notification-rich-null-tokens.json"),
        &post.body,
        "$",
    );
    let plain = decrypt(&post.body["value"][0]["encryptedContent"], &cert.pkcs8).unwrap();
    assert_eq!(
        serde_json::from_slice::<AiInteraction>(&plain).unwrap(),
        published
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_entry_validation_tokens_are_a_list_holding_null() {
    let sim = start(r#"validation_tokens = "null-entry""#).await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(200, None).await;
    let cert = test_cert("c1");
    let app = state.tenant.app.client_id.clone();
    insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));
    publish(&state, &state.tenant.users[0].id, state.now(), 0);

    let post = eventually("a POST", StdDuration::from_secs(5), || {
        receiver.posts().into_iter().next()
    })
    .await;
    assert_eq!(post.body["validationTokens"], json!([null]));
    assert!(decrypt(&post.body["value"][0]["encryptedContent"], &cert.pkcs8).is_ok());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_for_an_unknown_certificate_names_it_and_does_not_decrypt() {
    let sim = start(r#"encrypt_for = "unknown-certificate""#).await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let cert = test_cert("pilotwatch-2026-11");
    let app = state.tenant.app.client_id.clone();
    insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));
    publish(&state, &state.tenant.users[0].id, state.now(), 0);

    let post = eventually("a POST", StdDuration::from_secs(10), || {
        receiver.posts().into_iter().next()
    })
    .await;
    let content = &post.body["value"][0]["encryptedContent"];
    let named_id = content["encryptionCertificateId"].as_str().unwrap();
    let named_thumbprint = content["encryptionCertificateThumbprint"].as_str().unwrap();
    assert_ne!(named_id, cert.uploaded.id);
    assert!(named_id.starts_with("pilotwatch-2026-11"), "{named_id}");
    assert_ne!(named_thumbprint, cert.uploaded.thumbprint);
    assert_eq!(named_thumbprint.len(), 40);
    let error = decrypt(content, &cert.pkcs8).unwrap_err();
    assert!(error.contains("dataKey"), "{error}");
    // Tokens are still genuine: the certificate is the only thing wrong.
    let token = post.body["validationTokens"][0].as_str().unwrap();
    validate_token(&state, token, &[&app]);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_deliveries_are_retried_with_growing_backoff() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(500, None).await;
    let cert = test_cert("c1");
    let app = state.tenant.app.client_id.clone();
    insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));
    publish(&state, &state.tenant.users[0].id, state.now(), 0);

    let first = change_attempts(&state, 1, StdDuration::from_secs(5)).await;
    assert_eq!(first[0].outcome, DeliveryOutcome::Rejected { status: 500 });
    tokio::time::sleep(StdDuration::from_millis(100)).await;
    assert_eq!(
        attempts(&state, DeliveryKind::Change).len(),
        1,
        "no retry before the backoff"
    );
    state.clock.jump(Duration::seconds(70));
    change_attempts(&state, 2, StdDuration::from_secs(5)).await;
    state.clock.jump(Duration::seconds(70));
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert_eq!(
        attempts(&state, DeliveryKind::Change).len(),
        2,
        "the second wait is longer than the first"
    );
    state.clock.jump(Duration::seconds(70));
    let all = change_attempts(&state, 3, StdDuration::from_secs(5)).await;

    let numbers: Vec<u32> = all.iter().map(|a| a.attempt).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert!(
        all.iter()
            .all(|a| a.outcome == DeliveryOutcome::Rejected { status: 500 })
    );
    assert!(all[1].at - all[0].at >= Duration::minutes(1));
    assert!(all[2].at - all[1].at >= Duration::minutes(2));
    let bodies: BTreeSet<Vec<u8>> = receiver.posts().into_iter().map(|p| p.raw).collect();
    assert_eq!(receiver.posts().len(), 3);
    assert_eq!(bodies.len(), 1, "retries resend the same notification");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_acknowledgement_counts_as_slow_and_is_retried() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, Some(StdDuration::from_millis(3_500))).await;
    let cert = test_cert("c1");
    let app = state.tenant.app.client_id.clone();
    insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));
    let published = publish(&state, &state.tenant.users[0].id, state.now(), 0);

    let first = change_attempts(&state, 1, StdDuration::from_secs(8)).await;
    assert!(
        matches!(
            first[0].outcome,
            DeliveryOutcome::Slow | DeliveryOutcome::Failed { .. }
        ),
        "{:?}",
        first[0].outcome
    );
    assert!(first[0].elapsed_ms >= 3_000, "{}", first[0].elapsed_ms);
    state.clock.jump(Duration::seconds(70));
    let all = change_attempts(&state, 2, StdDuration::from_secs(5)).await;
    assert_eq!(all[1].attempt, 2);
    assert_eq!(all[1].outcome, DeliveryOutcome::Delivered);
    let items = receiver.items();
    assert_eq!(items.len(), 2, "the receiver sees the notification twice");
    assert!(
        items
            .iter()
            .all(|item| item["resourceData"]["id"] == published.id.as_str())
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_endpoint_fails_every_attempt_and_is_dropped_after_four_hours() {
    let sim = start("endpoint_reachable = false").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let cert = test_cert("c1");
    let app = state.tenant.app.client_id.clone();
    insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));
    let published = publish(&state, &state.tenant.users[0].id, state.now(), 0);

    let first = change_attempts(&state, 1, StdDuration::from_secs(5)).await;
    assert_eq!(
        first[0].outcome,
        DeliveryOutcome::Failed {
            reason: "connection refused (simulated)".to_owned()
        }
    );
    // An outage of the clock: the first retry comes due long after Graph's four hours.
    state.clock.jump(Duration::hours(5));
    let all = change_attempts(&state, 2, StdDuration::from_secs(5)).await;
    assert_eq!(all[1].attempt, 2);
    let DeliveryOutcome::Dropped { reason } = &all[1].outcome else {
        panic!("expected a drop past four hours, got {:?}", all[1].outcome);
    };
    // Dropped when the retry comes due, or, if the first attempt's answer is taken after the
    // jump (a loaded machine), when it would be scheduled: both past Graph's 4 h.
    assert!(
        reason.contains("4 h retry window") || reason.contains("over 4 h of retries"),
        "{reason}"
    );
    assert_eq!(all[1].interaction_ids, std::slice::from_ref(&published.id));
    tokio::time::sleep(StdDuration::from_millis(400)).await;
    assert_eq!(
        attempts(&state, DeliveryKind::Change).len(),
        2,
        "nothing after the drop: the retry was never sent"
    );
    assert!(receiver.posts().is_empty());
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_events_reach_the_lifecycle_url_in_the_documented_shape() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let cert = test_cert("c1");
    let app = state.tenant.app.client_id.clone();
    let mut spec = rich(receiver.url("/notify"), &cert, &app);
    spec.lifecycle_url = Some(receiver.url("/lifecycle?kind=lifecycle"));
    let record = insert_subscription(&state, spec);
    let without_url = insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));

    state.send_lifecycle(&record, LifecycleEvent::ReauthorizationRequired);
    state.send_lifecycle(&without_url, LifecycleEvent::ReauthorizationRequired);

    let post = eventually("a lifecycle POST", StdDuration::from_secs(5), || {
        receiver.posts().into_iter().next()
    })
    .await;
    assert_eq!(post.path, "/lifecycle");
    assert_eq!(post.query.as_deref(), Some("kind=lifecycle"));
    let expected = fixture("lifecycle-reauthorization-required.json");
    assert_eq!(key_set(&post.body), key_set(&expected));
    let item = &post.body["value"][0];
    assert_eq!(key_set(item), key_set(&expected["value"][0]));
    assert_eq!(item["lifecycleEvent"], "reauthorizationRequired");
    assert_eq!(item["subscriptionId"], record.subscription.id.as_str());
    assert_eq!(
        item["clientState"].as_str(),
        record.subscription.client_state.as_deref()
    );
    assert_eq!(item["tenantId"], state.tenant.id.as_str());

    let ledger = eventually("two lifecycle records", StdDuration::from_secs(2), || {
        let found = attempts(&state, DeliveryKind::Lifecycle);
        (found.len() >= 2).then_some(found)
    })
    .await;
    let delivered = ledger
        .iter()
        .find(|a| a.outcome == DeliveryOutcome::Delivered)
        .unwrap();
    assert_eq!(
        delivered.subscription_ids,
        std::slice::from_ref(&record.subscription.id)
    );
    let skipped = ledger
        .iter()
        .find(|a| a.subscription_ids == [without_url.subscription.id.clone()])
        .unwrap();
    let DeliveryOutcome::Dropped { reason } = &skipped.outcome else {
        panic!("{:?}", skipped.outcome);
    };
    assert!(reason.contains("lifecycleNotificationUrl"), "{reason}");
    assert_eq!(receiver.posts().len(), 1);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_and_per_user_subscriptions_get_plain_items_in_their_scope() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let app = state.tenant.app.client_id.clone();
    let alice = state.tenant.users[0].id.clone();
    let bob = state.tenant.users[1].id.clone();
    let tenant_wide = insert_subscription(
        &state,
        SubSpec {
            url: receiver.url("/notify?scope=tenant"),
            lifecycle_url: None,
            cert: None,
            app_id: app.clone(),
            user_id: None,
        },
    );
    let bobs = insert_subscription(
        &state,
        SubSpec {
            url: receiver.url("/notify?scope=bob"),
            lifecycle_url: None,
            cert: None,
            app_id: app.clone(),
            user_id: Some(bob.clone()),
        },
    );
    let created = state.now();
    let from_alice = publish(&state, &alice, created, 0);
    let from_bob = publish(&state, &bob, created, 1);

    eventually("three items", StdDuration::from_secs(5), || {
        (receiver.items().len() >= 3).then_some(())
    })
    .await;
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert_eq!(
        receiver.items().len(),
        3,
        "Alice's interaction is not in Bob's scope"
    );
    for post in receiver.posts() {
        assert!(
            !post
                .body
                .as_object()
                .unwrap()
                .contains_key("validationTokens"),
            "basic notifications carry no validationTokens"
        );
        for item in post.body["value"].as_array().unwrap() {
            assert!(item.get("encryptedContent").is_none());
            let id = item["resourceData"]["id"].as_str().unwrap();
            if item["subscriptionId"] == bobs.subscription.id.as_str() {
                assert_eq!(post.query.as_deref(), Some("scope=bob"));
                assert_eq!(id, from_bob.id);
                assert_eq!(
                    item["resource"],
                    format!("copilot/users('{bob}')/interactionHistory/interactions('{id}')")
                );
            } else {
                assert_eq!(item["subscriptionId"], tenant_wide.subscription.id.as_str());
                assert!(id == from_alice.id || id == from_bob.id);
                assert_eq!(
                    item["resource"],
                    format!("copilot/interactionHistory/interactions('{id}')")
                );
            }
        }
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_sent_during_a_graph_outage_and_everything_follows_after_it() {
    let sim = start("[graph.outage]\nstarts_after = \"0s\"\nlasts = \"10m\"").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let cert = test_cert("c1");
    let app = state.tenant.app.client_id.clone();
    insert_subscription(&state, rich(receiver.url("/notify"), &cert, &app));
    let published = publish(&state, &state.tenant.users[0].id, state.now(), 0);

    tokio::time::sleep(StdDuration::from_millis(700)).await;
    assert!(receiver.posts().is_empty());
    assert!(attempts(&state, DeliveryKind::Change).is_empty());

    state.clock.jump(Duration::minutes(11));
    let post = eventually("the held-back POST", StdDuration::from_secs(5), || {
        receiver.posts().into_iter().next()
    })
    .await;
    assert_eq!(
        post.body["value"][0]["resourceData"]["id"],
        published.id.as_str()
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_goes_out_in_batches_of_at_most_max_batch() {
    // The outage holds everything back, so all twelve items are due at once when it ends.
    let sim = start("max_batch = 5\n[graph.outage]\nstarts_after = \"0s\"\nlasts = \"1m\"").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let app = state.tenant.app.client_id.clone();
    insert_subscription(
        &state,
        SubSpec {
            url: receiver.url("/notify"),
            lifecycle_url: None,
            cert: None,
            app_id: app,
            user_id: None,
        },
    );
    let created = state.now();
    let user = state.tenant.users[0].id.clone();
    for n in 0..12 {
        publish(&state, &user, created, n);
    }
    state.clock.jump(Duration::minutes(2));
    eventually("twelve items", StdDuration::from_secs(5), || {
        (receiver.items().len() >= 12).then_some(())
    })
    .await;
    let mut sizes: Vec<usize> = receiver
        .posts()
        .iter()
        .map(|post| post.body["value"].as_array().unwrap().len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [2, 5, 5]);
    let ids: BTreeSet<String> = receiver
        .items()
        .iter()
        .map(|item| item["resourceData"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 12, "each interaction exactly once");
    sim.stop().await;
}

/// A basic subscription to `url` for the registered app.
fn basic(state: &SimState, url: String) -> SubscriptionRecord {
    insert_subscription(
        state,
        SubSpec {
            url,
            lifecycle_url: None,
            cert: None,
            app_id: state.tenant.app.client_id.clone(),
            user_id: None,
        },
    )
}

/// Publishes twenty interactions and waits for their twenty (failed, concurrent) first attempts.
async fn twenty_timed_out_first_attempts(state: &SimState) -> Vec<DeliveryAttempt> {
    let user = state.tenant.users[0].id.clone();
    let created = state.now();
    for n in 0..20 {
        publish(state, &user, created, n);
    }
    let first = change_attempts(state, 20, StdDuration::from_secs(8)).await;
    for attempt in &first {
        let DeliveryOutcome::Failed { reason } = &attempt.outcome else {
            panic!("{:?}", attempt.outcome);
        };
        assert!(reason.contains("3 s"), "{reason}");
        assert!(
            attempt.elapsed_ms < 3_500,
            "the injected delay never outlasts the 3 s timeout: {}",
            attempt.elapsed_ms
        );
    }
    // The ledger is written just before the loop hears the outcome: give it a moment.
    tokio::time::sleep(StdDuration::from_millis(150)).await;
    first
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_three_seconds_put_the_host_in_the_delay_state_not_the_drop_state() {
    // Every POST is held 3.5 s on the way: each first attempt misses Graph's 3 s (slow), but
    // none exceeds the 10 s retry timeout.
    let sim =
        start("max_batch = 1\ninjected_delay = \"3500ms\"\ninjected_delay_fraction = 1.0").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    basic(&state, receiver.url("/notify"));
    twenty_timed_out_first_attempts(&state).await;

    let late = publish(&state, &state.tenant.users[0].id.clone(), state.now(), 100);
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    let all = attempts(&state, DeliveryKind::Change);
    assert!(
        all.iter().all(|a| !a.interaction_ids.contains(&late.id)),
        "delayed, not attempted and not dropped: {all:?}"
    );
    // The network recovers; ten minutes later the held notification goes out.
    let mut healthy = (*state.scenario()).clone();
    healthy.delivery.injected_delay_fraction = 0.0;
    state.set_scenario(healthy);
    state
        .clock
        .jump(Duration::minutes(10) + Duration::seconds(5));
    eventually(
        "the delayed notification",
        StdDuration::from_secs(5),
        || {
            receiver
                .items()
                .iter()
                .any(|item| item["resourceData"]["id"] == late.id.as_str())
                .then_some(())
        },
    )
    .await;
    let late_attempts: Vec<DeliveryAttempt> = attempts(&state, DeliveryKind::Change)
        .into_iter()
        .filter(|a| a.interaction_ids.contains(&late.id))
        .collect();
    assert_eq!(late_attempts.len(), 1, "{late_attempts:?}");
    assert_eq!(late_attempts[0].outcome, DeliveryOutcome::Delivered);
    assert!(late_attempts[0].at - late.created_date_time >= Duration::minutes(10));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_beyond_the_retry_timeout_put_the_host_in_the_drop_state() {
    // Every POST is held 12 s on the way: beyond the 10 s retry timeout. The first attempts
    // still stop waiting after 3 s, so the test is quick.
    let sim = start("max_batch = 1\ninjected_delay = \"12s\"\ninjected_delay_fraction = 1.0").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    basic(&state, receiver.url("/notify"));
    twenty_timed_out_first_attempts(&state).await;

    let late = publish(&state, &state.tenant.users[0].id.clone(), state.now(), 100);
    let dropped = eventually(
        "the late notification dropped",
        StdDuration::from_secs(5),
        || {
            attempts(&state, DeliveryKind::Change)
                .into_iter()
                .find(|a| a.interaction_ids.contains(&late.id))
        },
    )
    .await;
    let DeliveryOutcome::Dropped { reason } = &dropped.outcome else {
        panic!("{:?}", dropped.outcome);
    };
    assert!(reason.contains("drop state"), "{reason}");
    assert!(reason.contains("10 s retry timeout"), "{reason}");
    assert!(
        receiver
            .items()
            .iter()
            .all(|item| item["resourceData"]["id"] != late.id.as_str())
    );
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_follow_a_patched_url_and_drop_items_of_deleted_subscriptions() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let failing = Receiver::start(500, None).await;
    let working = Receiver::start(202, None).await;
    let moved = basic(&state, failing.url("/notify"));
    let deleted = basic(&state, failing.url("/notify"));
    let published = publish(&state, &state.tenant.users[0].id, state.now(), 0);
    let first = change_attempts(&state, 1, StdDuration::from_secs(5)).await;
    assert_eq!(first[0].outcome, DeliveryOutcome::Rejected { status: 500 });
    assert_eq!(first[0].subscription_ids.len(), 2, "one POST for both");

    // The receiver PATCHes one subscription to a new URL and deletes the other.
    state
        .registry()
        .get_mut(&moved.subscription.id, state.now())
        .unwrap()
        .subscription
        .notification_url = working.url("/notify");
    state.registry().remove(&deleted.subscription.id);
    state.clock.jump(Duration::seconds(70));
    let post = eventually(
        "the retry at the new URL",
        StdDuration::from_secs(5),
        || working.posts().into_iter().next(),
    )
    .await;
    let items = post.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["subscriptionId"], moved.subscription.id.as_str());
    assert_eq!(items[0]["resourceData"]["id"], published.id.as_str());
    let all = eventually("the orphan recorded", StdDuration::from_secs(5), || {
        let all = attempts(&state, DeliveryKind::Change);
        (all.len() >= 3).then_some(all)
    })
    .await;
    let orphan = all
        .iter()
        .find(|a| a.subscription_ids == [deleted.subscription.id.clone()])
        .unwrap();
    let DeliveryOutcome::Dropped { reason } = &orphan.outcome else {
        panic!("{:?}", orphan.outcome);
    };
    assert!(reason.contains("deleted or expired"), "{reason}");
    assert_eq!(failing.posts().len(), 1, "nothing more to the old URL");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unencryptable_item_is_dropped_alone_and_urls_are_recorded_without_their_query() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let url = receiver.url("/notify?code=very-secret-key");
    let good = basic(&state, url.clone());
    let mut broken_cert = test_cert("broken");
    broken_cert.uploaded.public_key_spki = vec![0x30, 0x03, 0x02, 0x01, 0x00];
    let app = state.tenant.app.client_id.clone();
    let broken = insert_subscription(&state, rich(url, &broken_cert, &app));
    let published = publish(&state, &state.tenant.users[0].id, state.now(), 0);

    let post = eventually("the POST", StdDuration::from_secs(5), || {
        receiver.posts().into_iter().next()
    })
    .await;
    let items = post.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["subscriptionId"], good.subscription.id.as_str());
    assert_eq!(items[0]["resourceData"]["id"], published.id.as_str());
    let all = eventually("both records", StdDuration::from_secs(5), || {
        let all = attempts(&state, DeliveryKind::Change);
        (all.len() >= 2).then_some(all)
    })
    .await;
    let dropped = all
        .iter()
        .find(|a| matches!(a.outcome, DeliveryOutcome::Dropped { .. }))
        .unwrap();
    assert_eq!(
        dropped.subscription_ids,
        std::slice::from_ref(&broken.subscription.id)
    );
    let delivered = all
        .iter()
        .find(|a| a.outcome == DeliveryOutcome::Delivered)
        .unwrap();
    assert_eq!(
        delivered.subscription_ids,
        std::slice::from_ref(&good.subscription.id)
    );
    for attempt in &all {
        assert!(!attempt.url.contains("secret"), "{}", attempt.url);
        assert!(attempt.url.ends_with("/notify"), "{}", attempt.url);
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reauthorization_notifications_are_held_dropped_after_four_hours_and_released_by_reauthorize()
 {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let subscription = basic(&state, receiver.url("/notify"));
    let user = state.tenant.users[0].id.clone();
    let delivered_ids = |receiver: &Receiver| -> Vec<String> {
        receiver
            .items()
            .iter()
            .map(|item| item["resourceData"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let fresh = publish(&state, &user, state.now(), 0);
    eventually(
        "delivery while authorized",
        StdDuration::from_secs(5),
        || delivered_ids(&receiver).contains(&fresh.id).then_some(()),
    )
    .await;

    // Graph's token for the endpoint lapses an hour after creation: nothing is attempted.
    state.clock.jump(Duration::minutes(61));
    let lost = publish(&state, &user, state.now(), 1);
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    assert!(
        attempts(&state, DeliveryKind::Change)
            .iter()
            .all(|a| !a.interaction_ids.contains(&lost.id)),
        "held, not attempted"
    );
    // Four hours later it is lost.
    state.clock.jump(Duration::hours(4) + Duration::minutes(1));
    let dropped = eventually("the held item dropped", StdDuration::from_secs(5), || {
        attempts(&state, DeliveryKind::Change)
            .into_iter()
            .find(|a| a.interaction_ids.contains(&lost.id))
    })
    .await;
    let DeliveryOutcome::Dropped { reason } = &dropped.outcome else {
        panic!("{:?}", dropped.outcome);
    };
    assert!(reason.contains("not reauthorized"), "{reason}");

    // A notification held now is released, late, by a reauthorization.
    let held = publish(&state, &user, state.now(), 2);
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert!(!delivered_ids(&receiver).contains(&held.id));
    state.clock.jump(Duration::minutes(30));
    let answer = sim
        .http
        .post(sim.url(&format!(
            "/v1.0/subscriptions/{}/reauthorize",
            subscription.subscription.id
        )))
        .bearer_auth(sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204, "{}", answer.text().await.unwrap());
    eventually(
        "the released notification",
        StdDuration::from_secs(5),
        || delivered_ids(&receiver).contains(&held.id).then_some(()),
    )
    .await;
    assert!(!delivered_ids(&receiver).contains(&lost.id));
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_consent_sends_reauthorization_required_at_once_and_holds_notifications() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let healthy = (*state.scenario()).clone();
    let record = insert_subscription(
        &state,
        SubSpec {
            url: receiver.url("/notify"),
            lifecycle_url: Some(receiver.url("/lifecycle")),
            cert: None,
            app_id: state.tenant.app.client_id.clone(),
            user_id: None,
        },
    );
    let mut revoked = Scenario::load("missing-admin-consent").unwrap();
    revoked.activity = healthy.activity.clone();
    revoked.delivery = healthy.delivery.clone();
    state.set_scenario(revoked);

    let challenge = eventually("reauthorizationRequired", StdDuration::from_secs(3), || {
        receiver
            .posts()
            .into_iter()
            .find(|post| post.path == "/lifecycle")
    })
    .await;
    assert_eq!(
        challenge.body["value"][0]["lifecycleEvent"],
        "reauthorizationRequired"
    );
    assert_eq!(
        challenge.body["value"][0]["subscriptionId"],
        record.subscription.id.as_str()
    );
    let held = publish(&state, &state.tenant.users[0].id, state.now(), 0);
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    assert!(
        attempts(&state, DeliveryKind::Change).is_empty(),
        "held while consent is missing"
    );
    assert_eq!(
        receiver
            .posts()
            .iter()
            .filter(|post| post.path == "/lifecycle")
            .count(),
        1,
        "one challenge, not one per sweep"
    );

    // Consent comes back within the token's hour: the held notification goes out.
    state.set_scenario(healthy);
    eventually(
        "the released notification",
        StdDuration::from_secs(5),
        || {
            receiver
                .items()
                .iter()
                .any(|item| item["resourceData"]["id"] == held.id.as_str())
                .then_some(())
        },
    )
    .await;
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_goes_to_live_subscriptions_and_removal_sends_only_subscription_removed() {
    let sim = start("").await;
    let state = sim.sim.state.clone();
    let receiver = Receiver::start(202, None).await;
    let record = insert_subscription(
        &state,
        SubSpec {
            url: receiver.url("/notify"),
            lifecycle_url: Some(receiver.url("/lifecycle")),
            cert: None,
            app_id: state.tenant.app.client_id.clone(),
            user_id: None,
        },
    );
    let mut scenario = Scenario::load("subscription-removed").unwrap();
    let quiet = (*state.scenario()).clone();
    scenario.activity = quiet.activity;
    scenario.delivery = quiet.delivery;
    scenario.lifecycle.reauthorization_required = false;
    state.set_scenario(scenario);
    let events = |receiver: &Receiver| -> Vec<String> {
        receiver
            .posts()
            .iter()
            .filter(|post| post.path == "/lifecycle")
            .flat_map(|post| post.body["value"].as_array().cloned().unwrap_or_default())
            .map(|item| item["lifecycleEvent"].as_str().unwrap().to_owned())
            .collect()
    };

    state
        .clock
        .jump(Duration::minutes(5) + Duration::seconds(5));
    eventually("missed", StdDuration::from_secs(3), || {
        (events(&receiver) == ["missed"]).then_some(())
    })
    .await;
    assert!(
        state
            .registry()
            .get(&record.subscription.id, state.now())
            .is_some(),
        "missed goes to a live subscription"
    );
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    assert_eq!(events(&receiver), ["missed"], "missed is sent once");

    state.clock.jump(Duration::minutes(5));
    eventually("subscriptionRemoved", StdDuration::from_secs(3), || {
        (events(&receiver).len() >= 2).then_some(())
    })
    .await;
    tokio::time::sleep(StdDuration::from_millis(700)).await;
    assert_eq!(events(&receiver), ["missed", "subscriptionRemoved"]);
    assert!(
        state
            .registry()
            .get(&record.subscription.id, state.now())
            .is_none()
    );
    sim.stop().await;
}
