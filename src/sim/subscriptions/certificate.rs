//! The `encryptionCertificate` of a rich-notification subscription (graph-facts §3.1, §5):
//! base64 of a DER X.509 certificate whose public key is RSA, 2048 to 4096 bits. Graph encrypts
//! each notification's symmetric key for that key (RSA-OAEP-SHA1), so anything else is
//! refused at creation, naming what is wrong.
//!
//! Pure: no state, no I/O. Depends on the registry's certificate type only.

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use aws_lc_rs::rsa::PublicEncryptingKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use x509_parser::oid_registry::{OID_KEY_TYPE_EC_PUBLIC_KEY, OID_PKCS1_RSAENCRYPTION};

use super::Refusal;
use crate::sim::registry::UploadedCertificate;

/// Smallest RSA key Graph accepts for encryption.
pub const MIN_KEY_BITS: usize = 2048;

/// Largest RSA key Graph accepts for encryption.
pub const MAX_KEY_BITS: usize = 4096;

/// Largest certificate accepted (base64 characters).
const MAX_CERTIFICATE_B64_LEN: usize = 64 * 1024;

/// Checks `encryptionCertificate` (base64 DER) and returns what the pusher needs to encrypt
/// for it; `id` is the subscriber's `encryptionCertificateId`.
pub fn parse_encryption_certificate(
    id: &str,
    base64: &str,
) -> Result<UploadedCertificate, Refusal> {
    let compact: String = base64.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err(Refusal::invalid(
            "encryptionCertificate is required when includeResourceData is true.",
        ));
    }
    if compact.len() > MAX_CERTIFICATE_B64_LEN {
        return Err(Refusal::invalid(
            "encryptionCertificate is too large to be an X.509 certificate.",
        ));
    }
    let der = STANDARD.decode(compact.as_bytes()).map_err(|_| {
        Refusal::invalid(
            "encryptionCertificate is not valid base64. Send the base64 of the certificate's DER bytes (no PEM header).",
        )
    })?;
    let (_, certificate) = x509_parser::parse_x509_certificate(&der).map_err(|_| {
        Refusal::invalid("encryptionCertificate is not a DER-encoded X.509 certificate.")
    })?;
    let spki = certificate.public_key();
    let algorithm = &spki.algorithm.algorithm;
    if *algorithm != OID_PKCS1_RSAENCRYPTION {
        let kind = if *algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
            "an elliptic-curve (EC)".to_owned()
        } else {
            format!("a non-RSA ({algorithm})")
        };
        return Err(Refusal::invalid(format!(
            "encryptionCertificate has {kind} public key; Microsoft Graph encrypts with RSA-OAEP and needs an RSA key of {MIN_KEY_BITS} to {MAX_KEY_BITS} bits."
        )));
    }
    let declared_bits = spki.parsed().map(|key| key.key_size()).unwrap_or(0);
    let out_of_range = |bits: usize| {
        Refusal::invalid(format!(
            "encryptionCertificate has a {bits}-bit RSA key; the key must be {MIN_KEY_BITS} to {MAX_KEY_BITS} bits."
        ))
    };
    if declared_bits != 0 && !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&declared_bits) {
        return Err(out_of_range(declared_bits));
    }
    let key = PublicEncryptingKey::from_der(spki.raw)
        .map_err(|_| Refusal::invalid("encryptionCertificate's RSA public key is not valid."))?;
    let key_bits = key.key_size_bits();
    if !(MIN_KEY_BITS..=MAX_KEY_BITS).contains(&key_bits) {
        return Err(out_of_range(key_bits));
    }
    let thumbprint = hex::encode_upper(digest(&SHA1_FOR_LEGACY_USE_ONLY, &der));
    Ok(UploadedCertificate {
        id: id.to_owned(),
        public_key_spki: spki.raw.to_vec(),
        der,
        thumbprint,
        key_bits,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use rcgen::{CertificateParams, KeyPair, PKCS_RSA_SHA256, RsaKeySize};

    /// A self-signed certificate with a 1024-bit RSA key (made with openssl; rcgen and
    /// aws-lc-rs refuse to generate keys that small).
    pub const RSA_1024_CERT_B64: &str = concat!(
        "MIICIjCCAYugAwIBAgIUIVQSd+mUFweSg6XNkLEajOYOpZgwDQYJKoZIhvcNAQELBQAwIzEhMB8GA1UEAwwYcGlsb3R3YXRj",
        "aCB0ZXN0IFJTQS0xMDI0MB4XDTI2MTEyMjA0NDIxOFoXDTM2MTExOTA0NDIxOFowIzEhMB8GA1UEAwwYcGlsb3R3YXRjaCB0",
        "ZXN0IFJTQS0xMDI0MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCyxHkyzVPdbZezKnbBGQauK/E7QewpkDuY2y+LCtBD",
        "DboTO14ytqocbaD9VbjS6Bx5uBY8XJdvhkOv331+EV8GCnXWsZ9rQvwA9HOvFhr8BVCXRlHX/aaM/j2m3JB1ZlwwLwtqzv9g",
        "8x3WkDNzRFrQv5mrroVzm6KgO/z762vmZwIDAQABo1MwUTAdBgNVHQ4EFgQUfLf4IY5kkyNRn+KCYSELJPuYq9AwHwYDVR0j",
        "BBgwFoAUfLf4IY5kkyNRn+KCYSELJPuYq9AwDwYDVR0TAQH/BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOBgQCm/o+4vl9Mmi1D",
        "GJhNQSA+GpRVsNTOg8f3y35O5HQDNstgjlKJRwrn43/W1EoUkAJh7oporuoeRdXemL5OWb6FZXIY42BCsyXyDp8upQ1CC+mJ",
        "cBi4GNyjDUib7RirT1/lMRXtmKPFPH5v2I7uECZ/ZUvbctJcwxULEQrZV/15ZA==",
    );

    fn self_signed(key: &KeyPair) -> Vec<u8> {
        let params = CertificateParams::new(vec!["pilotwatch.test".to_owned()]).unwrap();
        params.self_signed(key).unwrap().der().to_vec()
    }

    #[test]
    fn rsa_2048_is_accepted_with_an_upper_hex_sha1_thumbprint() {
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048).unwrap();
        let der = self_signed(&key);
        let uploaded = parse_encryption_certificate("pw-1", &STANDARD.encode(&der)).unwrap();
        assert_eq!(uploaded.id, "pw-1");
        assert_eq!(uploaded.key_bits, 2048);
        assert_eq!(uploaded.der, der);
        assert_eq!(uploaded.thumbprint.len(), 40);
        assert!(
            uploaded
                .thumbprint
                .chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert!(PublicEncryptingKey::from_der(&uploaded.public_key_spki).is_ok());
    }

    #[test]
    fn ec_keys_small_rsa_keys_and_garbage_are_refused_by_name() {
        let ec = self_signed(&KeyPair::generate().unwrap());
        let message = parse_encryption_certificate("x", &STANDARD.encode(ec))
            .unwrap_err()
            .message;
        assert!(message.contains("elliptic-curve"), "{message}");
        let message = parse_encryption_certificate("x", RSA_1024_CERT_B64)
            .unwrap_err()
            .message;
        assert!(message.contains("1024-bit"), "{message}");
        let message = parse_encryption_certificate("x", "not base64!")
            .unwrap_err()
            .message;
        assert!(message.contains("base64"), "{message}");
        let message = parse_encryption_certificate("x", &STANDARD.encode(b"not a certificate"))
            .unwrap_err()
            .message;
        assert!(message.contains("X.509"), "{message}");
        assert!(parse_encryption_certificate("x", "").is_err());
    }
}
