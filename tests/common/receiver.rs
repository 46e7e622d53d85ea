//! A notification receiver written for the tests with aws-lc-rs and jsonwebtoken directly — no
//! simulator or pilotwatch code — so that it checks the simulator against Microsoft's documented
//! algorithm rather than against itself. It answers the validation handshake, records every
//! POST, decrypts `encryptedContent` with the private key of the certificate it uploads, and
//! validates `validationTokens` against a JWKS document.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::cipher::{AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde_json::Value;

/// The Microsoft Graph Change Tracking app (graph-facts §4), typed out here on purpose.
pub const CHANGE_TRACKING: &str = "0bf30f3b-4a52-48df-9a82-234910c4a086";

/// One POST the receiver got (handshakes excluded).
#[derive(Debug, Clone)]
pub struct Received {
    /// Request path (`/notify`, `/lifecycle`).
    pub path: String,
    /// The JSON body.
    pub body: Value,
    /// Content-Type header.
    pub content_type: String,
}

#[derive(Default)]
struct Shared {
    received: Vec<Received>,
    handshakes: Vec<String>,
    status: Option<u16>,
}

/// A running receiver on 127.0.0.1:0.
pub struct TestReceiver {
    /// `http://127.0.0.1:port`.
    pub base: String,
    /// Base64 DER of the certificate to upload as `encryptionCertificate`.
    pub certificate_b64: String,
    /// Upper-case hex SHA-1 of the certificate DER.
    pub thumbprint: String,
    key: OaepPrivateDecryptingKey,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestReceiver {
    /// Generates an RSA-2048 key and a self-signed certificate, and starts listening.
    pub async fn start() -> Self {
        let key_pair =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
                .unwrap();
        let certificate = rcgen::CertificateParams::new(vec!["receiver.test".to_owned()])
            .unwrap()
            .self_signed(&key_pair)
            .unwrap();
        let der = certificate.der().to_vec();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        let key = OaepPrivateDecryptingKey::new(
            PrivateDecryptingKey::from_pkcs8(&key_pair.serialize_der()).unwrap(),
        )
        .unwrap();
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new().fallback(receive).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            base,
            certificate_b64: STANDARD.encode(&der),
            thumbprint: hex::encode_upper(digest.as_ref()),
            key,
            shared,
            task,
        }
    }

    /// Answers notifications with `status` from now on (handshakes are still answered properly).
    pub fn answer_with(&self, status: u16) {
        self.shared.lock().unwrap().status = Some(status);
    }

    /// Decoded validation tokens received so far.
    pub fn handshakes(&self) -> Vec<String> {
        self.shared.lock().unwrap().handshakes.clone()
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Waits until `predicate` holds for what was received, or panics after `limit`.
    pub async fn wait_until(
        &self,
        limit: Duration,
        what: &str,
        predicate: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let received = self.received();
            if predicate(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; got {received:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Decrypts one item's `encryptedContent` exactly as graph-facts §5 describes: RSA-OAEP
    /// (SHA-1) unwraps the key, the HMAC-SHA256 over the ciphertext is checked before anything
    /// else, then AES-256-CBC with IV = key[..16].
    pub fn decrypt(&self, encrypted: &Value) -> Result<Value, String> {
        let field = |name: &str| {
            encrypted[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{name} missing"))
        };
        if field("encryptionCertificateThumbprint")? != self.thumbprint {
            return Err("thumbprint does not match our certificate".to_owned());
        }
        let wrapped = STANDARD
            .decode(field("dataKey")?)
            .map_err(|e| e.to_string())?;
        let mut out = vec![0u8; self.key.min_output_size()];
        let symmetric = self
            .key
            .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut out, None)
            .map_err(|_| "RSA-OAEP unwrap failed".to_owned())?
            .to_vec();
        if symmetric.len() != 32 {
            return Err(format!(
                "symmetric key is {} bytes, not 32",
                symmetric.len()
            ));
        }
        let ciphertext = STANDARD.decode(field("data")?).map_err(|e| e.to_string())?;
        let signature = STANDARD
            .decode(field("dataSignature")?)
            .map_err(|e| e.to_string())?;
        let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &symmetric);
        aws_lc_rs::hmac::verify(&hmac_key, &ciphertext, &signature)
            .map_err(|_| "HMAC mismatch".to_owned())?;
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&symmetric[..16]);
        let aes = PaddedBlockDecryptingKey::cbc_pkcs7(
            UnboundCipherKey::new(&AES_256, &symmetric).unwrap(),
        )
        .unwrap();
        let mut buffer = ciphertext;
        let plaintext = aes
            .decrypt(&mut buffer, DecryptionContext::Iv128(iv.into()))
            .map_err(|_| "AES-CBC decrypt failed".to_owned())?;
        serde_json::from_slice(plaintext).map_err(|e| e.to_string())
    }
}

async fn receive(
    State(shared): State<Arc<Mutex<Shared>>>,
    uri: Uri,
    Query(query): Query<Vec<(String, String)>>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    if let Some((_, token)) = query.iter().find(|(key, _)| key == "validationToken") {
        shared.lock().unwrap().handshakes.push(token.clone());
        return ([(header::CONTENT_TYPE, "text/plain")], token.clone()).into_response();
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut shared = shared.lock().unwrap();
    shared.received.push(Received {
        path: uri.path().to_owned(),
        body,
        content_type,
    });
    let status = shared.status.unwrap_or(202);
    StatusCode::from_u16(status).unwrap().into_response()
}

/// Validates one validation token the way Microsoft documents (graph-facts §4): RS256 with a key
/// from `jwks`, not expired at `now` (simulated seconds), `aud` = `app_id`, issuer in the v1 or
/// v2 form for `tenant_id`, and `appid` (v1) / `azp` (v2) = the Change Tracking app.
pub fn validate_token(
    token: &str,
    jwks: &Value,
    app_id: &str,
    tenant_id: &str,
    now: i64,
) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
    if header.alg != Algorithm::RS256 {
        return Err(format!("unexpected algorithm {:?}", header.alg));
    }
    let kid = header.kid.ok_or("no kid")?;
    let set: JwkSet = serde_json::from_value(jwks.clone()).map_err(|e| e.to_string())?;
    let jwk = set
        .find(&kid)
        .ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[app_id]);
    validation.set_issuer(&[
        format!("https://sts.windows.net/{tenant_id}/"),
        format!("https://login.microsoftonline.com/{tenant_id}/v2.0"),
    ]);
    // Lifetime is checked against the simulated clock below, not the wall clock.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let claims: Value = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|e| e.to_string())?
        .claims;
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    let nbf = claims["nbf"].as_i64().ok_or("no nbf")?;
    if exp < now || nbf > now + 300 {
        return Err(format!("token not valid at {now} (nbf {nbf}, exp {exp})"));
    }
    let caller = match claims["ver"].as_str() {
        Some("1.0") => claims["appid"].as_str(),
        Some("2.0") => claims["azp"].as_str(),
        other => return Err(format!("unexpected ver {other:?}")),
    };
    if caller != Some(CHANGE_TRACKING) {
        return Err(format!("caller {caller:?} is not the Change Tracking app"));
    }
    Ok(claims)
}
