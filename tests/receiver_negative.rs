//! The issue's negative list against the receiver: a genuine rich notification from the
//! simulator is captured, then mutated one way at a time — wrong clientState, bad signature,
//! wrong `aud`, wrong `appid`/`azp`, wrong issuer, expired token, `alg: none`, HS256 keyed with
//! the public key, null / `[null]` / absent tokens, flipped HMAC, unknown certificate,
//! truncated base64, unknown subscription, malformed JSON, oversize body — and posted to a
//! second receiver holding the same keys and registry. None enters the feed, each is counted
//! under its reason with the failing check named, and the genuine original is still accepted
//! afterwards (the receiver kept serving). Forged tokens are signed with the simulated identity
//! platform's published key, so only the claim under test is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod receiver_support;

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pilotwatch::receiver::{
    DecryptFailure, DecryptVerdict, RejectReason, TokenRejection, TokenVerdict,
};
use receiver_support::{CLIENT_STATE, generate, harness, harness_with_keys, sim};
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
    assert!(
        h.ledger.lock().latencies.is_empty(),
        "forgeries do not skew latency"
    );
    for ((name, _, reason, tokens, decryption), record) in cases.iter().zip(&records) {
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
