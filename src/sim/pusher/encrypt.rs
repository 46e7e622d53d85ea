//! `encryptedContent` of rich notifications, exactly as graph-facts §5 describes the inverse of
//! the receiver's decryption: a fresh random 32-byte key K per item, IV = K[0..16],
//! AES-256-CBC with PKCS7 over the resource JSON, `dataSignature` = HMAC-SHA256(K, ciphertext),
//! `dataKey` = RSA-OAEP (SHA-1, MGF1-SHA-1) of K under the certificate's public key, plus the
//! certificate's id and hex SHA-1 thumbprint so the receiver can pick its private key.
//!
//! Also owns the "foreign" certificate the `cert-rotated` scenario encrypts for: a key pair the
//! subscriber never had, so decryption must fail while naming what was asked for.
//!
//! aws-lc-rs only (never the `rsa` crate). Depends on `graph::model` for the output type; no
//! I/O, no simulator state. K never leaves this module except RSA-wrapped.

use aws_lc_rs::cipher::{AES_256, EncryptionContext, PaddedBlockEncryptingKey, UnboundCipherKey};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rsa::{OAEP_SHA1_MGF1SHA1, OaepPublicEncryptingKey, PublicEncryptingKey};
use aws_lc_rs::{digest, hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::graph::model::EncryptedContent;

/// Suffix of the certificate id named when content is encrypted for the foreign certificate.
pub const FOREIGN_ID_SUFFIX: &str = "-previous";

/// Content could not be encrypted.
#[derive(Debug, thiserror::Error)]
pub enum EncryptError {
    /// The uploaded public key is not an RSA key aws-lc accepts (2048–8192 bits).
    #[error("the certificate's public key is not a usable RSA key: {0}")]
    PublicKey(String),
    /// The system random source or a cipher primitive failed.
    #[error("encryption primitive failed")]
    Primitive,
    /// The foreign certificate could not be generated.
    #[error("cannot generate the stand-in certificate: {0}")]
    Generate(#[from] rcgen::Error),
}

impl From<aws_lc_rs::error::Unspecified> for EncryptError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        Self::Primitive
    }
}

/// Whom an item is encrypted for: the certificate id and thumbprint that go into the
/// notification, and the public key that is actually used.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    /// `encryptionCertificateId` to name.
    pub certificate_id: &'a str,
    /// `encryptionCertificateThumbprint` to name (hex SHA-1 of the certificate DER).
    pub thumbprint: &'a str,
    /// DER SubjectPublicKeyInfo of the RSA key to encrypt K for.
    pub public_key_spki: &'a [u8],
}

/// Encrypts `plaintext` (the resource JSON) for `recipient`, with a fresh key.
pub fn encrypt_content(
    plaintext: &[u8],
    recipient: Recipient<'_>,
) -> Result<EncryptedContent, EncryptError> {
    let public_key = PublicEncryptingKey::from_der(recipient.public_key_spki)
        .map_err(|rejected| EncryptError::PublicKey(rejected.to_string()))?;
    let oaep = OaepPublicEncryptingKey::new(public_key)?;

    let mut key = [0_u8; 32];
    rand::fill(&mut key)?;
    let mut iv = [0_u8; 16];
    iv.copy_from_slice(&key[..16]);

    let cipher = PaddedBlockEncryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key)?)?;
    let mut ciphertext = plaintext.to_vec();
    cipher.less_safe_encrypt(
        &mut ciphertext,
        EncryptionContext::Iv128(FixedLength::from(iv)),
    )?;

    let signature = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), &ciphertext);

    let mut wrapped = vec![0_u8; oaep.ciphertext_size()];
    let wrapped_key = oaep.encrypt(&OAEP_SHA1_MGF1SHA1, &key, &mut wrapped, None)?;

    let content = EncryptedContent {
        data: STANDARD.encode(&ciphertext),
        data_signature: STANDARD.encode(signature.as_ref()),
        data_key: STANDARD.encode(wrapped_key),
        encryption_certificate_id: recipient.certificate_id.to_owned(),
        encryption_certificate_thumbprint: recipient.thumbprint.to_owned(),
    };
    key.fill(0);
    Ok(content)
}

/// Upper-case hex SHA-1 of a certificate's DER: the thumbprint convention (graph-facts §5).
pub fn thumbprint(certificate_der: &[u8]) -> String {
    hex::encode_upper(digest::digest(
        &digest::SHA1_FOR_LEGACY_USE_ONLY,
        certificate_der,
    ))
}

/// A self-signed RSA-2048 certificate nobody outside the simulator holds the key of.
#[derive(Debug, Clone)]
pub struct ForeignCertificate {
    /// Thumbprint of its certificate.
    pub thumbprint: String,
    /// Its public key.
    pub public_key_spki: Vec<u8>,
}

impl ForeignCertificate {
    /// Generates one (RSA key generation: call off the async runtime's workers).
    pub fn generate() -> Result<Self, EncryptError> {
        let key_pair =
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "pilotwatch rotated-away certificate",
        );
        let certificate = params.self_signed(&key_pair)?;
        Ok(Self {
            thumbprint: thumbprint(certificate.der()),
            public_key_spki: rcgen::PublicKeyData::subject_public_key_info(&key_pair),
        })
    }

    /// The recipient to use instead of a subscriber's certificate `uploaded_id`; the id it
    /// names is written into `id_buffer` (`<uploaded id>-previous`).
    pub fn recipient<'a>(&'a self, uploaded_id: &str, id_buffer: &'a mut String) -> Recipient<'a> {
        id_buffer.clear();
        id_buffer.push_str(uploaded_id);
        id_buffer.push_str(FOREIGN_ID_SUFFIX);
        Recipient {
            certificate_id: id_buffer,
            thumbprint: &self.thumbprint,
            public_key_spki: &self.public_key_spki,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::cipher::{DecryptionContext, PaddedBlockDecryptingKey};
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey};

    fn decrypt(content: &EncryptedContent, private: &PrivateDecryptingKey) -> Vec<u8> {
        let oaep = OaepPrivateDecryptingKey::new(private.clone()).unwrap();
        let wrapped = STANDARD.decode(&content.data_key).unwrap();
        let mut out = vec![0; oaep.min_output_size()];
        let key = oaep
            .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut out, None)
            .unwrap()
            .to_vec();
        assert_eq!(key.len(), 32);
        let mut data = STANDARD.decode(&content.data).unwrap();
        let signature = STANDARD.decode(&content.data_signature).unwrap();
        hmac::verify(&hmac::Key::new(hmac::HMAC_SHA256, &key), &data, &signature).unwrap();
        let cipher =
            PaddedBlockDecryptingKey::cbc_pkcs7(UnboundCipherKey::new(&AES_256, &key).unwrap())
                .unwrap();
        let iv: [u8; 16] = key[..16].try_into().unwrap();
        cipher
            .decrypt(&mut data, DecryptionContext::Iv128(FixedLength::from(iv)))
            .unwrap()
            .to_vec()
    }

    #[test]
    fn content_round_trips_with_a_fresh_key_each_time() {
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let spki = private.public_key().as_der().unwrap();
        let recipient = Recipient {
            certificate_id: "cert-1",
            thumbprint: "ABCDEF",
            public_key_spki: spki.as_ref(),
        };
        let plaintext =
            br#"{"id":"1732148356886","appClass":"IPM.SkypeTeams.Message.Copilot.BizChat"}"#;
        let first = encrypt_content(plaintext, recipient).unwrap();
        let second = encrypt_content(plaintext, recipient).unwrap();
        assert_eq!(decrypt(&first, &private), plaintext);
        assert_eq!(decrypt(&second, &private), plaintext);
        assert_ne!(first.data_key, second.data_key, "a fresh key per item");
        assert_ne!(first.data, second.data);
        assert_eq!(first.encryption_certificate_id, "cert-1");
        assert_eq!(first.encryption_certificate_thumbprint, "ABCDEF");
        assert_eq!(STANDARD.decode(&first.data).unwrap().len() % 16, 0);
    }

    #[test]
    fn a_non_rsa_key_is_a_clear_error() {
        let recipient = Recipient {
            certificate_id: "x",
            thumbprint: "y",
            public_key_spki: b"not a key",
        };
        assert!(matches!(
            encrypt_content(b"{}", recipient),
            Err(EncryptError::PublicKey(_))
        ));
    }

    #[test]
    fn the_foreign_certificate_names_another_id_and_thumbprint() {
        let foreign = ForeignCertificate::generate().unwrap();
        let mut id = String::new();
        let recipient = foreign.recipient("pilotwatch-2026-11", &mut id);
        assert_eq!(recipient.certificate_id, "pilotwatch-2026-11-previous");
        assert_eq!(recipient.thumbprint.len(), 40);
        assert!(encrypt_content(b"{}", recipient).is_ok());
    }
}
