//! The simulated identity platform's token-signing keys: RSA 2048 keys with a `kid`, a
//! self-signed certificate each (published as `x5c`/`x5t`, as Microsoft does), rotated on a
//! schedule of simulated time with the previous keys kept published for a while, so clients
//! must look keys up by `kid` and refresh their JWKS cache on an unknown one.
//!
//! Generating an RSA key takes tens of milliseconds, so it never happens under the lock that
//! every token check takes: [`SigningKeys::rotate_if_due`] generates outside it (the simulator
//! calls it from a blocking thread) and installs the key under a brief lock.
//!
//! Depends on nothing in the crate but the error type here; the clock's `now` is an argument.

use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use serde::Serialize;

/// A key could not be generated or a token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// rcgen failed to generate the key or its certificate.
    #[error("cannot generate a signing key: {0}")]
    Generate(#[from] rcgen::Error),
    /// jsonwebtoken rejected the key or the claims.
    #[error("cannot sign or publish a token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
    /// The generated key has no RSA parameters (cannot happen with RSA keys).
    #[error("generated key is not an RSA key")]
    NotRsa,
}

#[derive(Debug)]
struct SigningKey {
    kid: String,
    /// When the key becomes (or became) the signing key.
    created: DateTime<Utc>,
    encoding: EncodingKey,
    jwk: serde_json::Value,
    modulus: String,
    exponent: String,
}

/// The published key set.
#[derive(Debug)]
pub struct SigningKeys {
    keys: Mutex<Vec<SigningKey>>,
    rotation: Duration,
    retention: Duration,
}

impl SigningKeys {
    /// A key active now and its successor, published already and active after `rotation`; old
    /// keys stay published until `retention` after they became active.
    pub fn new(
        now: DateTime<Utc>,
        rotation: Duration,
        retention: Duration,
    ) -> Result<Self, KeyError> {
        let keys = vec![generate(now)?, generate(now + rotation)?];
        Ok(Self {
            keys: Mutex::new(keys),
            rotation,
            retention: retention.max(rotation),
        })
    }

    /// Signs `claims` as an RS256 JWT with the key active at `now`.
    pub fn sign<T: Serialize>(&self, claims: &T, now: DateTime<Utc>) -> Result<String, KeyError> {
        let mut keys = self.lock();
        self.retire(&mut keys, now);
        let current = current(&keys, now).ok_or(KeyError::NotRsa)?;
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(current.kid.clone());
        header.typ = Some("JWT".to_owned());
        Ok(jsonwebtoken::encode(&header, claims, &current.encoding)?)
    }

    /// The JWKS document: `{"keys": [...]}` with every published key, the next one included.
    pub fn jwks(&self, now: DateTime<Utc>, issuer: &str) -> Result<serde_json::Value, KeyError> {
        let mut keys = self.lock();
        self.retire(&mut keys, now);
        let published: Vec<serde_json::Value> = keys
            .iter()
            .map(|key| {
                let mut jwk = key.jwk.clone();
                if let Some(object) = jwk.as_object_mut() {
                    object.insert("issuer".to_owned(), issuer.into());
                }
                jwk
            })
            .collect();
        Ok(serde_json::json!({ "keys": published }))
    }

    /// The verification key for `kid`, if it is still published.
    pub fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        let keys = self.lock();
        let key = keys.iter().find(|key| key.kid == kid)?;
        DecodingKey::from_rsa_components(&key.modulus, &key.exponent).ok()
    }

    /// The `kid` of every published key, oldest first.
    pub fn kids(&self) -> Vec<String> {
        self.lock().iter().map(|key| key.kid.clone()).collect()
    }

    /// Makes a new key active now, whatever the schedule says. Blocking (key generation).
    pub fn rotate_now(&self, now: DateTime<Utc>) -> Result<(), KeyError> {
        let key = generate(now)?;
        let mut keys = self.lock();
        keys.retain(|existing| existing.created <= now);
        keys.push(key);
        self.retire(&mut keys, now);
        Ok(())
    }

    /// When the newest published key becomes active: from then on a successor must be
    /// prepared.
    pub fn next_rotation(&self) -> Option<DateTime<Utc>> {
        self.lock().last().map(|newest| newest.created)
    }

    /// Publishes the next key once the newest one is active; true when it did. The next key
    /// becomes active one rotation period after the newest one (or now, if the clock jumped
    /// past that). Blocking (key generation): call it from a blocking thread.
    pub fn prepare_next(&self, now: DateTime<Utc>) -> Result<bool, KeyError> {
        let Some(newest) = self.next_rotation() else {
            return Ok(false);
        };
        if newest > now {
            return Ok(false);
        }
        let key = generate((newest + self.rotation).max(now))?;
        let mut keys = self.lock();
        // Another caller may have prepared one meanwhile: keep a single successor.
        let still_needed = keys.last().is_none_or(|last| last.created <= now);
        if still_needed {
            keys.push(key);
        }
        self.retire(&mut keys, now);
        Ok(still_needed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<SigningKey>> {
        self.keys.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops keys that are older than the active one and became active `retention` ago.
    fn retire(&self, keys: &mut Vec<SigningKey>, now: DateTime<Utc>) {
        let current = keys.iter().rposition(|key| key.created <= now).unwrap_or(0);
        let mut index = 0;
        keys.retain(|key| {
            let keep = index >= current || now - key.created < self.retention;
            index += 1;
            keep
        });
    }
}

/// The key active at `now`: the newest whose activation has passed (else the oldest).
fn current(keys: &[SigningKey], now: DateTime<Utc>) -> Option<&SigningKey> {
    keys.iter()
        .rev()
        .find(|key| key.created <= now)
        .or_else(|| keys.first())
}

fn generate(now: DateTime<Utc>) -> Result<SigningKey, KeyError> {
    let key_pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, "accounts.accesscontrol.windows.net");
    params.distinguished_name = subject;
    let certificate = params.self_signed(&key_pair)?;
    let der = certificate.der();
    let x5t = URL_SAFE_NO_PAD.encode(
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der).as_ref(),
    );
    let encoding = EncodingKey::from_rsa_pem(key_pair.serialize_pem().as_bytes())?;
    let jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256)?;
    let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
        return Err(KeyError::NotRsa);
    };
    let (modulus, exponent) = (rsa.n.clone(), rsa.e.clone());
    let published = serde_json::json!({
        "kty": "RSA",
        "use": "sig",
        "kid": x5t,
        "x5t": x5t,
        "n": modulus,
        "e": exponent,
        "x5c": [STANDARD.encode(der)],
    });
    Ok(SigningKey {
        kid: x5t,
        created: now,
        encoding,
        jwk: published,
        modulus,
        exponent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::Validation;

    #[derive(Serialize, serde::Deserialize)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    #[test]
    fn tokens_verify_with_the_published_key_and_old_keys_stay_published_for_a_while() {
        let start = Utc::now();
        let keys = SigningKeys::new(start, Duration::hours(24), Duration::hours(48)).unwrap();
        let claims = Claims {
            sub: "x".into(),
            exp: (start + Duration::hours(1)).timestamp(),
        };
        let first = keys.sign(&claims, start).unwrap();
        let kid = jsonwebtoken::decode_header(&first).unwrap().kid.unwrap();
        let key = keys.decoding_key(&kid).unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Claims>(&first, &key, &validation).unwrap();

        let jwks = keys.jwks(start, "https://issuer").unwrap();
        assert_eq!(jwks["keys"][0]["kid"], kid.as_str());
        assert_eq!(jwks["keys"][0]["e"], "AQAB");

        assert_eq!(
            keys.kids().len(),
            2,
            "the next key is published before it signs"
        );
        let next = keys.kids()[1].clone();
        let later = keys.sign(&claims, start + Duration::hours(25)).unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&later).unwrap().kid.unwrap(),
            next
        );
        assert!(keys.prepare_next(start + Duration::hours(25)).unwrap());
        assert!(
            !keys.prepare_next(start + Duration::hours(25)).unwrap(),
            "one successor"
        );
        assert_eq!(keys.kids().len(), 3, "old, current and next published");
        let _ = keys
            .jwks(start + Duration::hours(49), "https://issuer")
            .unwrap();
        assert!(
            !keys.kids().contains(&kid),
            "old key retired after the retention period"
        );
        assert!(keys.decoding_key(&kid).is_none());
    }
}
