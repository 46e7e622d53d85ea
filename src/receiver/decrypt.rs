//! Decrypting a rich notification's `encryptedContent` exactly as graph-facts §5 and Microsoft's
//! SDK do it: the private key is chosen by `encryptionCertificateId` and thumbprint; `dataKey`
//! is unwrapped with RSA-OAEP (SHA-1, MGF1-SHA-1); the HMAC-SHA256 of the ciphertext under the
//! unwrapped key is verified (in constant time) before anything touches the ciphertext; then
//! AES-256-CBC with IV = the key's first 16 bytes and PKCS#7 padding.
//!
//! Every failure is a [`DecryptFailure`] naming the step, never a panic: the input is whatever
//! reached the endpoint. aws-lc-rs only — never the `rsa` crate (RUSTSEC-2023-0071).
//!
//! Depends on `keys`, the wire model and the store's `DecryptFailure` record; nothing here
//! does I/O.

use super::keys::EncryptionKeys;
use crate::graph::model::EncryptedContent;
use crate::store::records::DecryptFailure;
use aws_lc_rs::cipher::{AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey};
use aws_lc_rs::hmac;
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rsa::OAEP_SHA1_MGF1SHA1;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// AES-256 key length, which is also the length of the unwrapped symmetric key.
const SYMMETRIC_KEY_LEN: usize = 32;

/// AES block length: the IV is this prefix of the symmetric key.
const IV_LEN: usize = 16;

/// Decrypts `content` with the matching kept key and returns the plaintext bytes.
pub fn decrypt(
    content: &EncryptedContent,
    keys: &EncryptionKeys,
) -> Result<Vec<u8>, DecryptFailure> {
    let key = keys
        .decryption_key(
            &content.encryption_certificate_id,
            &content.encryption_certificate_thumbprint,
        )
        .ok_or(DecryptFailure::UnknownCertificate)?;
    let wrapped = decode(&content.data_key)?;
    let ciphertext = decode(&content.data)?;
    let signature = decode(&content.data_signature)?;

    let mut unwrapped = vec![0_u8; key.min_output_size()];
    let symmetric = key
        .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut unwrapped, None)
        .map_err(|_| DecryptFailure::KeyUnwrapFailed)?;
    if symmetric.len() != SYMMETRIC_KEY_LEN {
        return Err(DecryptFailure::KeyUnwrapFailed);
    }

    // Authenticate before decrypting: a padding check on unauthenticated ciphertext is an oracle.
    let mac_key = hmac::Key::new(hmac::HMAC_SHA256, symmetric);
    hmac::verify(&mac_key, &ciphertext, &signature).map_err(|_| DecryptFailure::HmacMismatch)?;

    let iv: [u8; IV_LEN] = symmetric
        .get(..IV_LEN)
        .and_then(|prefix| prefix.try_into().ok())
        .ok_or(DecryptFailure::KeyUnwrapFailed)?;
    let cipher_key =
        UnboundCipherKey::new(&AES_256, symmetric).map_err(|_| DecryptFailure::KeyUnwrapFailed)?;
    let aes = PaddedBlockDecryptingKey::cbc_pkcs7(cipher_key)
        .map_err(|_| DecryptFailure::KeyUnwrapFailed)?;
    let mut buffer = ciphertext;
    let plaintext = aes
        .decrypt(&mut buffer, DecryptionContext::Iv128(FixedLength::from(iv)))
        .map_err(|_| DecryptFailure::BadPadding)?;
    let length = plaintext.len();
    buffer.truncate(length);
    Ok(buffer)
}

/// Standard base64 with padding, as Graph sends it; surrounding whitespace is tolerated.
fn decode(text: &str) -> Result<Vec<u8>, DecryptFailure> {
    STANDARD
        .decode(text.trim())
        .map_err(|_| DecryptFailure::BadBase64)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::clock::ManualClock;
    use aws_lc_rs::cipher::{EncryptionContext, PaddedBlockEncryptingKey};
    use aws_lc_rs::rsa::{OaepPublicEncryptingKey, PublicEncryptingKey};
    use std::sync::Arc;

    /// Encrypts `plaintext` for `keys`' current certificate the way Graph does.
    pub(crate) fn encrypt_for(keys: &EncryptionKeys, plaintext: &[u8]) -> EncryptedContent {
        let der = STANDARD.decode(keys.current_certificate_base64()).unwrap();
        let (_, certificate) = x509_parser::parse_x509_certificate(&der).unwrap();
        let public = OaepPublicEncryptingKey::new(
            PublicEncryptingKey::from_der(certificate.public_key().raw).unwrap(),
        )
        .unwrap();
        let symmetric: [u8; 32] = rand::random();
        let mut iv = [0_u8; 16];
        iv.copy_from_slice(&symmetric[..16]);
        let aes = PaddedBlockEncryptingKey::cbc_pkcs7(
            UnboundCipherKey::new(&AES_256, &symmetric).unwrap(),
        )
        .unwrap();
        let mut data = plaintext.to_vec();
        aes.less_safe_encrypt(&mut data, EncryptionContext::Iv128(FixedLength::from(iv)))
            .unwrap();
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &symmetric), &data);
        let mut wrapped = vec![0_u8; public.ciphertext_size()];
        let wrapped = public
            .encrypt(&OAEP_SHA1_MGF1SHA1, &symmetric, &mut wrapped, None)
            .unwrap();
        EncryptedContent {
            data: STANDARD.encode(&data),
            data_signature: STANDARD.encode(tag.as_ref()),
            data_key: STANDARD.encode(wrapped),
            encryption_certificate_id: keys.current_certificate_id(),
            encryption_certificate_thumbprint: keys.current_thumbprint(),
        }
    }

    fn keys() -> (tempfile::TempDir, EncryptionKeys) {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH));
        let keys = EncryptionKeys::load_or_generate(
            &dir.path().join("c.pem"),
            &dir.path().join("k.pem"),
            clock,
        )
        .unwrap();
        (dir, keys)
    }

    #[test]
    fn round_trip_and_every_failure_by_name() {
        let (_dir, keys) = keys();
        let content = encrypt_for(&keys, br#"{"id":"1"}"#);
        assert_eq!(decrypt(&content, &keys).unwrap(), br#"{"id":"1"}"#);

        let mut flipped = content.clone();
        let mut signature = STANDARD.decode(&flipped.data_signature).unwrap();
        signature[0] ^= 1;
        flipped.data_signature = STANDARD.encode(signature);
        assert_eq!(decrypt(&flipped, &keys), Err(DecryptFailure::HmacMismatch));

        let mut truncated = content.clone();
        truncated.data.truncate(truncated.data.len() - 3);
        assert_eq!(decrypt(&truncated, &keys), Err(DecryptFailure::BadBase64));

        let mut unknown = content.clone();
        unknown.encryption_certificate_id = "someone-else".to_owned();
        assert_eq!(
            decrypt(&unknown, &keys),
            Err(DecryptFailure::UnknownCertificate)
        );

        let mut garbage_key = content.clone();
        garbage_key.data_key = STANDARD.encode([7_u8; 256]);
        assert_eq!(
            decrypt(&garbage_key, &keys),
            Err(DecryptFailure::KeyUnwrapFailed)
        );

        let mut tampered = content;
        let mut data = STANDARD.decode(&tampered.data).unwrap();
        data[0] ^= 1;
        tampered.data = STANDARD.encode(data);
        assert_eq!(
            decrypt(&tampered, &keys),
            Err(DecryptFailure::HmacMismatch),
            "the HMAC is checked before the padding"
        );
    }
}
