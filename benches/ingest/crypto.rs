//! CPU-only rates: the raw RSA-2048 OAEP-SHA1 unwrap (the per-notification operation whose
//! rate the goal is relative to), the receiver's whole-item `decrypt`, and its whole
//! judging of a notification (parse, token, `clientState`, decrypt) — on one thread, no I/O.
//!
//! Depends on aws-lc-rs, the receiver's public judging functions and `genuine` (the bodies).

use std::time::Instant;

use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey,
};
use axum::body::Bytes;
use pilotwatch::graph::model::ChangeNotificationCollection;
use pilotwatch::receiver::{EncryptionKeys, Verifier, decrypt, judge_item, judge_tokens};
use secrecy::SecretString;

use crate::genuine::{CLIENT_STATE, Genuine};
use crate::{DECRYPT_WINDOW, DIAGNOSTIC_RUNS, RUNS, median};

/// Unwraps of a 32-byte key per second on `threads` threads, for one window.
fn unwraps_per_second(key: &OaepPrivateDecryptingKey, wrapped: &[u8], threads: usize) -> f64 {
    let started = Instant::now();
    let total: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = vec![0_u8; key.min_output_size()];
                    let mut done = 0;
                    while started.elapsed() < DECRYPT_WINDOW {
                        let unwrapped = key
                            .decrypt(&OAEP_SHA1_MGF1SHA1, wrapped, &mut out, None)
                            .unwrap();
                        assert_eq!(unwrapped.len(), 32);
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    total as f64 / started.elapsed().as_secs_f64()
}

/// Medians of [`RUNS`] windows on one thread and on two.
pub(crate) fn raw_decrypt_rates() -> (f64, f64) {
    let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
    let public = OaepPublicEncryptingKey::new(private.public_key()).unwrap();
    let key = OaepPrivateDecryptingKey::new(private).unwrap();
    let symmetric: [u8; 32] = rand::random();
    let mut wrapped = vec![0_u8; public.ciphertext_size()];
    let wrapped = public
        .encrypt(&OAEP_SHA1_MGF1SHA1, &symmetric, &mut wrapped, None)
        .unwrap()
        .to_vec();
    let single = median(
        (0..RUNS)
            .map(|_| unwraps_per_second(&key, &wrapped, 1))
            .collect(),
    );
    let double = median(
        (0..RUNS)
            .map(|_| unwraps_per_second(&key, &wrapped, 2))
            .collect(),
    );
    (single, double)
}

/// Whole-item `decrypt` (unwrap, HMAC, AES-CBC) per second on one thread, over captured bodies.
pub(crate) fn item_decrypts_per_second(bodies: &[Bytes], keys: &EncryptionKeys) -> f64 {
    let contents: Vec<_> = bodies
        .iter()
        .take(500)
        .map(|body| {
            let collection: ChangeNotificationCollection = serde_json::from_slice(body).unwrap();
            collection.value[0].encrypted_content.clone().unwrap()
        })
        .collect();
    let rates = (0..DIAGNOSTIC_RUNS).map(|_| {
        let started = Instant::now();
        for content in &contents {
            decrypt(content, keys).unwrap();
        }
        contents.len() as f64 / started.elapsed().as_secs_f64()
    });
    median(rates.collect())
}

/// Per notification, the CPU work of judging on one thread, without I/O: parse the body,
/// verify its validation token, compare `clientState`, decrypt and parse the interaction.
pub(crate) async fn judgements_per_second(genuine: &Genuine, verifier: &Verifier) -> f64 {
    let jwks = verifier.jwks.keys().await.unwrap();
    let expected = SecretString::from(CLIENT_STATE);
    let bodies = &genuine.bodies[..500];
    let rates = (0..DIAGNOSTIC_RUNS).map(|_| {
        let started = Instant::now();
        for body in bodies {
            let collection: ChangeNotificationCollection = serde_json::from_slice(body).unwrap();
            let tenants = [collection.value[0].tenant_id.as_str()];
            let now = genuine.clock.now();
            let tokens = judge_tokens(
                &collection.validation_tokens,
                Some(&jwks),
                &verifier.app_id,
                &tenants,
                now,
            );
            let judged = judge_item(
                &collection.value[0],
                Some(&expected),
                &tokens,
                &verifier.keys,
            );
            assert!(judged.interaction.is_some(), "{judged:?}");
        }
        bodies.len() as f64 / started.elapsed().as_secs_f64()
    });
    median(rates.collect())
}
