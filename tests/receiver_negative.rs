//! The issue's negative list against the receiver: a genuine rich notification from the
//! simulator is captured, then mutated one way at a time — wrong clientState, bad signature,
//! wrong `aud`, wrong `appid`/`azp`, wrong issuer, expired token, `alg: none`, HS256 keyed with
//! the public key, null / `[null]` / absent tokens, flipped HMAC, unknown certificate,
//! truncated base64, unknown subscription, malformed JSON, oversize body — and posted to a
//! second receiver holding the same keys and registry. None enters the feed, each is counted
//! under its reason with the failing check named, and the genuine original is still accepted
//! afterwards (the receiver kept serving). Forged tokens are signed with the simulated identity
//! platform's published key, so only the claim under test is wrong.
//!
//! Then what must not take the receiver down: a forged flood (one record per reason, strings
//! cut), a batch whose storage keeps failing (held back, the others go on), a backlog processed
//! after its tokens expired (judged at arrival), and a processor that died (503, not 202).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod receiver_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pilotwatch::clock::SharedClock;
use pilotwatch::receiver::{
    CertificateRef, DecryptFailure, DecryptVerdict, EncryptionKeys, Endpoint, ProcessorStopped,
    RejectReason, TokenRejection, TokenVerdict,
};
use receiver_support::{
    CLIENT_STATE, Harness, MemoryLedger, generate, grace, harness, harness_on, harness_with_keys,
    sim,
};
use serde_json::{Value, json};

fn segments(token: &str) -> Vec<String> {
    token.split('.').map(str::to_owned).collect()
}

fn decode_segment(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

fn with_tokens(body: &Value, tokens: Value) -> Vec<u8> {
    let mut body = body.clone();
    body["validationTokens"] = tokens;
    serde_json::to_vec(&body).unwrap()
}

fn with_item(body: &Value, edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut body = body.clone();
    edit(&mut body["value"][0]);
    serde_json::to_vec(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_forgery_is_kept_out_of_the_feed_and_counted_by_reason() {
    let sim = sim().await;
    let genuine_side = harness(&sim, |_| {}).await;
    let subscription = genuine_side.subscribe(&sim).await;
    generate(&sim, 1).await;
    genuine_side
        .ledger
        .wait_for(
            "the genuine interactions",
            Duration::from_secs(8),
            |inner| inner.interactions.len() == 2,
        )
        .await;
    let mut genuine: Value =
        serde_json::from_slice(&genuine_side.ledger.lock().bodies[0].1).unwrap();
    let first = genuine["value"][0].clone();
    genuine["value"] = json!([first]);

    let dir = tempfile::tempdir().unwrap();
    let h = harness_with_keys(&sim, genuine_side.keys.clone(), dir, |config| {
        config.max_body_bytes = 64 * 1024;
        // The unknown subscription is held back briefly first (the registry may be late).
        grace(2, 50)(config);
    })
    .await;
    h.ledger.register(&subscription, CLIENT_STATE);

    let token = genuine["validationTokens"][0].as_str().unwrap().to_owned();
    let parts = segments(&token);
    let header = decode_segment(&parts[0]);
    let claims = decode_segment(&parts[1]);
    let state = &sim.sim.state;
    let sign = |edit: &dyn Fn(&mut Value)| {
        let mut forged = claims.clone();
        edit(&mut forged);
        json!([state.keys.sign(&forged, state.now()).unwrap()])
    };
    let now = state.now().timestamp();
    let caller_claim = if claims["ver"] == "1.0" {
        "appid"
    } else {
        "azp"
    };
    let tid = claims["tid"].as_str().unwrap().to_owned();

    let mut bad_signature = parts.clone();
    let mut signature: Vec<char> = bad_signature[2].chars().collect();
    signature[10] = if signature[10] == 'A' { 'B' } else { 'A' };
    bad_signature[2] = signature.into_iter().collect();
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    let jwks: Value = sim
        .http
        .get(sim.url("/common/discovery/v2.0/keys"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public_modulus = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == header["kid"])
        .unwrap()["n"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = header["kid"].as_str().map(str::to_owned);
    let hs256 = jsonwebtoken::encode(
        &hs_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(public_modulus.as_bytes()),
    )
    .unwrap();

    let invalid = |reason| Some(TokenVerdict::Invalid { reason });
    let failed = |reason| Some(DecryptVerdict::Failed { reason });
    #[allow(clippy::type_complexity)]
    let cases: Vec<(
        &str,
        Vec<u8>,
        RejectReason,
        Option<TokenVerdict>,
        Option<DecryptVerdict>,
    )> = vec![
        (
            "wrong clientState",
            with_item(&genuine, |item| item["clientState"] = json!("guessed")),
            RejectReason::ClientStateMismatch,
            None,
            Some(DecryptVerdict::Skipped),
        ),
        (
            "bad signature",
            with_tokens(&genuine, json!([bad_signature.join(".")])),
            RejectReason::TokensInvalid,
            invalid(TokenRejection::BadSignature),
            Some(DecryptVerdict::Skipped),
        ),
        (
            "wrong aud",
            with_tokens(
                &genuine,
                sign(&|c| c["aud"] = json!("00000000-0000-0000-0000-000000000001")),
            ),
            RejectReason::TokensInvalid,
            invalid(TokenRejection::WrongAudience),
            None,
        ),
        (
            "wrong appid/azp",
            with_tokens(
                &genuine,
                sign(&|c| c[caller_claim] = json!("11111111-2222-3333-4444-555555555555")),
            ),
            RejectReason::TokensInvalid,
            invalid(TokenRejection::WrongAppId),
            None,
        ),
        (
            "wrong issuer",
            with_tokens(
                &genuine,
                sign(&|c| c["iss"] = json!(format!("https://evil.example/{tid}/v2.0"))),
            ),
            RejectReason::TokensInvalid,
            invalid(TokenRejection::WrongIssuer),
            None,
        ),
        (
            "expired",
            with_tokens(
                &genuine,
                sign(&|c| {
                    c["iat"] = json!(now - 9 * 3600);
                    c["nbf"] = json!(now - 9 * 3600);
                    c["exp"] = json!(now - 3600);
                }),
            ),
            RejectReason::TokensInvalid,
            invalid(TokenRejection::Expired),
            None,
        ),
        (
            "alg none",
            with_tokens(&genuine, json!([alg_none])),
            RejectReason::TokensInvalid,
            invalid(TokenRejection::AlgNotAllowed),
            None,
        ),
        (
            "HS256 keyed with the public key",
            with_tokens(&genuine, json!([hs256])),
            RejectReason::TokensInvalid,
            invalid(TokenRejection::AlgNotAllowed),
            None,
        ),
        (
            "null tokens",
            with_tokens(&genuine, Value::Null),
            RejectReason::TokensNull,
            Some(TokenVerdict::Null),
            None,
        ),
        (
            "[null] tokens",
            with_tokens(&genuine, json!([null])),
            RejectReason::TokensNull,
            Some(TokenVerdict::Null),
            None,
        ),
        (
            "absent tokens",
            {
                let mut body = genuine.clone();
                body.as_object_mut().unwrap().remove("validationTokens");
                serde_json::to_vec(&body).unwrap()
            },
            RejectReason::TokensAbsent,
            Some(TokenVerdict::Absent),
            None,
        ),
        (
            "flipped HMAC",
            with_item(&genuine, |item| {
                let signature = item["encryptedContent"]["dataSignature"].as_str().unwrap();
                let flipped = if signature.starts_with('A') { "B" } else { "A" };
                item["encryptedContent"]["dataSignature"] =
                    json!(format!("{flipped}{}", &signature[1..]));
            }),
            RejectReason::DecryptFailed,
            Some(TokenVerdict::Valid),
            failed(DecryptFailure::HmacMismatch),
        ),
        (
            "unknown certificate",
            with_item(&genuine, |item| {
                item["encryptedContent"]["encryptionCertificateId"] = json!("someone-elses-cert");
            }),
            RejectReason::DecryptFailed,
            None,
            failed(DecryptFailure::UnknownCertificate),
        ),
        (
            "truncated base64",
            with_item(&genuine, |item| {
                let data = item["encryptedContent"]["data"].as_str().unwrap();
                item["encryptedContent"]["data"] = json!(data[..data.len() - 3].to_owned());
            }),
            RejectReason::DecryptFailed,
            None,
            failed(DecryptFailure::BadBase64),
        ),
        (
            "unknown subscription",
            with_item(&genuine, |item| {
                item["subscriptionId"] = json!("not-one-of-ours")
            }),
            RejectReason::UnknownSubscription,
            None,
            Some(DecryptVerdict::Skipped),
        ),
        (
            "malformed JSON",
            br#"{"value": [ {"subscriptionId": "#.to_vec(),
            RejectReason::MalformedNotification,
            None,
            None,
        ),
    ];

    for (name, body, ..) in &cases {
        assert_eq!(h.post("/notify", body.clone()).await, 202, "{name}");
    }
    assert_eq!(
        h.post("/notify", vec![b' '; 64 * 1024 + 1]).await,
        413,
        "oversize body"
    );
    h.ledger
        .wait_for("every forgery's record", Duration::from_secs(8), |inner| {
            inner.notifications.len() == cases.len()
        })
        .await;
    let records = h.ledger.notifications();
    assert_eq!(
        h.ledger.interaction_count(),
        0,
        "nothing forged entered the feed"
    );
    // The unknown-subscription batch is written when its grace ends, after those behind it;
    // every other batch is written in the order it arrived.
    let (unknown, prompt): (Vec<_>, Vec<_>) = records
        .iter()
        .partition(|record| record.subscription_id == "not-one-of-ours");
    assert_eq!(unknown.len(), 1, "{records:?}");
    let (held_cases, prompt_cases): (Vec<_>, Vec<_>) = cases
        .iter()
        .partition(|(name, ..)| *name == "unknown subscription");
    let judged = prompt_cases
        .iter()
        .zip(&prompt)
        .chain(held_cases.iter().zip(&unknown));
    assert!(
        h.ledger.lock().latencies.is_empty(),
        "forgeries do not skew latency"
    );
    // The item encrypted for a certificate we hold no key for names it as Graph sent it, so
    // diagnosis can say which key is missing; no other record names a certificate.
    let thumbprint = genuine["value"][0]["encryptedContent"]["encryptionCertificateThumbprint"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!thumbprint.is_empty());
    for ((name, _, reason, tokens, decryption), record) in judged {
        let named = (*name == "unknown certificate").then(|| CertificateRef {
            id: "someone-elses-cert".to_owned(),
            thumbprint: Some(thumbprint.clone()),
        });
        assert_eq!(record.unknown_certificate, named, "{name}");
        assert!(!record.accepted, "{name}");
        assert_eq!(record.rejected, Some(*reason), "{name}: {record:?}");
        if let Some(tokens) = tokens {
            assert_eq!(record.validation_tokens, *tokens, "{name}");
        }
        if let Some(decryption) = decryption {
            assert_eq!(record.decryption, *decryption, "{name}");
        }
    }
    let mut counted: BTreeMap<RejectReason, usize> = BTreeMap::new();
    for record in &records {
        *counted.entry(record.rejected.unwrap()).or_default() += 1;
    }
    assert_eq!(counted[&RejectReason::TokensInvalid], 7);
    assert_eq!(counted[&RejectReason::DecryptFailed], 3);
    assert_eq!(
        h.ledger.lock().bodies.len(),
        cases.len(),
        "the oversize body was not stored"
    );

    // Still serving, and the untouched original is accepted.
    assert_eq!(
        h.post("/notify", serde_json::to_vec(&genuine).unwrap())
            .await,
        202
    );
    h.ledger
        .wait_for("the genuine item", Duration::from_secs(5), |inner| {
            inner.interactions.len() == 1
        })
        .await;
    let last = h.ledger.notifications().pop().unwrap();
    assert!(last.accepted && last.rejected.is_none(), "{last:?}");
}

/// A receiver subscribed to the simulator and one genuine single-item batch it accepted.
async fn genuine_batch(sim: &common::TestSim) -> (Harness, String, Value) {
    let genuine_side = harness(sim, |_| {}).await;
    let subscription = genuine_side.subscribe(sim).await;
    generate(sim, 1).await;
    genuine_side
        .ledger
        .wait_for(
            "the genuine interactions",
            Duration::from_secs(8),
            |inner| inner.interactions.len() == 2,
        )
        .await;
    let mut genuine: Value =
        serde_json::from_slice(&genuine_side.ledger.lock().bodies[0].1).unwrap();
    let first = genuine["value"][0].clone();
    genuine["value"] = json!([first]);
    (genuine_side, subscription, genuine)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_flood_is_one_record_per_reason_and_strings_are_cut() {
    let sim = sim().await;
    let h = harness(&sim, |config| {
        config.max_body_bytes = 2 * 1024 * 1024;
        // Long enough that the oversized batch is surely written while the flood waits.
        grace(2, 400)(config);
    })
    .await;
    h.ledger.register("ours", CLIENT_STATE);
    let long = "x".repeat(300);
    // Items that cost nothing to forge: unknown subscriptions and guessed client states,
    // under a token with a random kid (no key fetch may be needed to refuse them).
    let mut items: Vec<Value> = (0..600)
        .map(|i| json!({"subscriptionId": format!("{long}-{i}"), "subscriptionExpirationDateTime": "2026-11-25T09:00:00Z", "tenantId": long, "clientState": "guess"}))
        .collect();
    items.extend((0..400).map(|_| json!({"subscriptionId": "ours", "subscriptionExpirationDateTime": "2026-11-25T09:00:00Z", "tenantId": "t", "clientState": "guess"})));
    let forged_token = format!(
        "{}.e30.sig",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"random-kid"}"#)
    );
    let flood = json!({"value": items, "validationTokens": [forged_token]});
    assert_eq!(h.post("/notify", flood.to_string()).await, 202);
    // One item more than a batch may hold: refused whole.
    let oversized: Vec<Value> = (0..1001).map(|_| json!({"subscriptionId": "ours", "subscriptionExpirationDateTime": "2026-11-25T09:00:00Z", "tenantId": "t"})).collect();
    assert_eq!(
        h.post("/notify", json!({"value": oversized}).to_string())
            .await,
        202
    );
    h.ledger
        .wait_for("both batches processed", Duration::from_secs(8), |inner| {
            inner.inbox.is_empty() && inner.bodies.len() == 2
        })
        .await;
    let records = h.ledger.notifications();
    let summary: Vec<(Option<RejectReason>, u32)> = records
        .iter()
        .map(|record| (record.rejected, record.items))
        .collect();
    // The flood names unknown subscriptions, so it waits out its grace (a few screenings, no
    // key fetch): the oversized batch behind it is written first.
    assert_eq!(
        summary,
        [
            (Some(RejectReason::MalformedNotification), 1001),
            (Some(RejectReason::UnknownSubscription), 600),
            (Some(RejectReason::ClientStateMismatch), 400),
        ]
    );
    assert!(h.verifier.jwks.cached().is_none(), "no key fetch");
    let unknown = &records[1];
    assert_eq!(unknown.validation_tokens, TokenVerdict::Unchecked);
    assert_eq!(unknown.subscription_id.chars().count(), 256);
    assert_eq!(
        unknown.tenant_id.as_deref().map(|t| t.chars().count()),
        Some(256)
    );
    assert_eq!(h.ledger.interaction_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_keeps_failing_is_held_back_and_the_others_go_on() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let ledger = Arc::new(MemoryLedger::default());
    let now = sim.sim.state.now();
    let stuck = ledger.put_committed(Endpoint::Notification, now, b"{\"value\":[]}");
    let behind = ledger.put_committed(Endpoint::Lifecycle, now, b"{\"value\":[]}");
    ledger.fail_remove.lock().unwrap().insert(stuck);
    let keys = fresh_keys(&sim, &dir);
    let h = harness_on(&sim, ledger, keys, dir, |_| {}).await;
    h.ledger
        .wait_for(
            "the batch behind the stuck one",
            Duration::from_secs(5),
            |inner| !inner.inbox.contains_key(&behind),
        )
        .await;
    assert!(
        h.ledger.lock().inbox.contains_key(&stuck),
        "retried later, not lost"
    );
    // The receiver keeps serving and processing.
    assert_eq!(h.post("/notify", "{\"value\":[]}").await, 202);
    h.ledger
        .wait_for("a new batch", Duration::from_secs(5), |inner| {
            inner.inbox.len() == 1
        })
        .await;
    // Once storage recovers, the held-back batch goes through (backoff: 1 s, then 2 s).
    h.ledger.fail_remove.lock().unwrap().clear();
    h.ledger
        .wait_for("the stuck batch", Duration::from_secs(8), |inner| {
            inner.inbox.is_empty()
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_judged_by_when_it_arrived_not_when_it_is_processed() {
    let sim = sim().await;
    let (genuine_side, subscription, genuine) = genuine_batch(&sim).await;
    // Acknowledged before an outage of the collector...
    let ledger = Arc::new(MemoryLedger::default());
    ledger.register(&subscription, CLIENT_STATE);
    let received_at = sim.sim.state.now();
    ledger.put_committed(
        Endpoint::Notification,
        received_at,
        &serde_json::to_vec(&genuine).unwrap(),
    );
    // ...processed when it restarts, after its tokens expired (v1 ~8 h, v2 ~24 h).
    sim.sim.state.clock.jump(chrono::Duration::hours(26));
    let dir = tempfile::tempdir().unwrap();
    let h = harness_on(&sim, ledger, genuine_side.keys.clone(), dir, |_| {}).await;
    h.ledger
        .wait_for("the backlog", Duration::from_secs(8), |inner| {
            inner.inbox.is_empty()
        })
        .await;
    let records = h.ledger.notifications();
    assert_eq!(records.len(), 1);
    assert!(records[0].accepted, "{:?}", records[0]);
    assert_eq!(records[0].validation_tokens, TokenVerdict::Valid);
    assert_eq!(records[0].received_at, received_at);
    assert!(records[0].processed_at >= received_at + chrono::Duration::hours(26));
    assert_eq!(h.ledger.interaction_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_processor_turns_acknowledgements_into_503() {
    let sim = sim().await;
    let h = harness(&sim, |_| {}).await;
    h.ledger
        .panic_processor_commit
        .store(true, Ordering::SeqCst);
    assert!(h.receiver.is_processing());
    // Stored and acknowledged; processing it kills the processor (a bug, simulated).
    assert_eq!(h.post("/notify", "{\"value\":[]}").await, 202);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while h.receiver.is_processing() {
        assert!(
            std::time::Instant::now() < deadline,
            "the processor did not die"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Published for the collector's task board, with the panic's message.
    let mut stopped = h.receiver.processor_stopped();
    let published = tokio::time::timeout(Duration::from_secs(2), stopped.wait_for(Option::is_some))
        .await
        .unwrap()
        .unwrap()
        .clone();
    assert_eq!(
        published,
        Some(ProcessorStopped {
            panic: Some("the processor's commit panics (test)".into())
        })
    );
    assert_eq!(
        h.post("/notify", "{\"value\":[]}").await,
        503,
        "Graph must retry"
    );
    assert_eq!(h.ledger.lock().bodies.len(), 1, "nothing more stored");
    // Handshakes still work: subscriptions can be managed while the collector is restarted.
    let handshake = h
        .http
        .post(format!("{}/notify?validationToken=t", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(handshake.status(), 200);
}

fn fresh_keys(sim: &common::TestSim, dir: &tempfile::TempDir) -> Arc<EncryptionKeys> {
    let clock: SharedClock = sim.sim.state.clock.clone();
    Arc::new(
        EncryptionKeys::load_or_generate(
            &dir.path().join("encryption.crt"),
            &dir.path().join("encryption.key"),
            clock,
        )
        .unwrap(),
    )
}
