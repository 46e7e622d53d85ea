//! The key pair Graph encrypts rich notifications for (graph-facts §5): an RSA 2048 key and a
//! self-signed certificate, generated on first use and kept as two PEM files — the private key
//! owner-only (0600, written atomically), the certificate world-readable (0644; it is public and
//! is uploaded as the subscription's `encryptionCertificate`). Rotation installs a new pair and
//! keeps the previous one (`<file>.previous`) so notifications encrypted for it, still in
//! Graph's four-hour retry window, decrypt.
//!
//! A certificate's id (`encryptionCertificateId`) is derived from its thumbprint, so it is stable
//! across restarts without a file of its own. Private keys never leave this module: `Debug`
//! names certificates only, and [`EncryptionKeys::decryption_key`] hands out a decrypting handle.
//!
//! Depends on `private_file` and the clock; never on the store or the HTTP side.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use aws_lc_rs::rsa::OaepPrivateDecryptingKey;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::clock::SharedClock;
use crate::private_file::PrivateWriteError;

mod files;

use files::{generate, load_pair, previous_path, write_pair};

/// Prefix of every certificate id this module derives.
const CERTIFICATE_ID_PREFIX: &str = "pilotwatch-";

/// Hex digits of the thumbprint in a certificate id: 64 bits, unique enough to tell keys apart.
const CERTIFICATE_ID_HEX_DIGITS: usize = 16;

/// The key files could not be read, generated or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// Only one of the certificate and the key exists: refusing to guess which is right.
    #[error(
        "{present} exists but {missing} does not; restore it, or remove both to generate a new pair"
    )]
    HalfPair {
        /// The file that exists.
        present: PathBuf,
        /// The file that is missing.
        missing: PathBuf,
    },
    /// A file is not the PEM it should be.
    #[error("{path} is not a PEM {expected}")]
    NotPem {
        /// The file.
        path: PathBuf,
        /// What it should hold.
        expected: &'static str,
    },
    /// The private key is not an RSA key aws-lc-rs can decrypt with.
    #[error("{path} does not hold an RSA private key usable for RSA-OAEP")]
    NotRsa {
        /// The key file.
        path: PathBuf,
    },
    /// The certificate does not belong to the private key.
    #[error("the certificate {certificate} does not match the private key {key}")]
    Mismatch {
        /// The certificate file.
        certificate: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// aws-lc-rs refused the key rcgen generated (cannot happen with RSA 2048).
    #[error("the generated key is not usable for RSA-OAEP")]
    Unusable,
    /// Key or certificate generation failed.
    #[error("cannot generate the encryption key pair: {0}")]
    Generate(#[from] rcgen::Error),
    /// Writing the private key failed.
    #[error("cannot write the private key: {0}")]
    WritePrivate(#[from] PrivateWriteError),
    /// Writing the certificate failed.
    #[error("cannot write the certificate {path}: {source}")]
    WriteCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// One certificate and its private key.
struct KeyPairEntry {
    certificate_der: Vec<u8>,
    /// Upper-case hex SHA-1 of the certificate DER, as Graph sends it.
    thumbprint: String,
    id: String,
    decrypting: Arc<OaepPrivateDecryptingKey>,
}

impl KeyPairEntry {
    fn new(certificate_der: Vec<u8>, decrypting: OaepPrivateDecryptingKey) -> Self {
        let thumbprint = hex::encode_upper(digest(&SHA1_FOR_LEGACY_USE_ONLY, &certificate_der));
        let id = certificate_id(&thumbprint);
        Self {
            certificate_der,
            thumbprint,
            id,
            decrypting: Arc::new(decrypting),
        }
    }
}

/// `pilotwatch-` and the first 16 hex digits of the thumbprint, lower case.
fn certificate_id(thumbprint: &str) -> String {
    let prefix: String = thumbprint
        .chars()
        .take(CERTIFICATE_ID_HEX_DIGITS)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("{CERTIFICATE_ID_PREFIX}{prefix}")
}

struct Ring {
    current: KeyPairEntry,
    previous: Option<KeyPairEntry>,
}

/// The current encryption key pair and the previous one, if a rotation kept it.
pub struct EncryptionKeys {
    certificate_path: PathBuf,
    key_path: PathBuf,
    clock: SharedClock,
    ring: RwLock<Ring>,
}

impl fmt::Debug for EncryptionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ring = self.ring.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("EncryptionKeys")
            .field("certificate_path", &self.certificate_path)
            .field("current", &ring.current.id)
            .field("previous", &ring.previous.as_ref().map(|entry| &entry.id))
            .finish_non_exhaustive()
    }
}

impl EncryptionKeys {
    /// Loads the pair at `cert_path` / `key_path` (and a kept previous pair beside them), or
    /// generates and writes a new pair when neither file exists. Anything else — one file
    /// without the other, a file that is not PEM, a certificate of another key — is an error
    /// and changes nothing on disk.
    pub fn load_or_generate(
        cert_path: &Path,
        key_path: &Path,
        clock: SharedClock,
    ) -> Result<Self, KeyError> {
        let current = match load_pair(cert_path, key_path)? {
            Some(entry) => entry,
            None => {
                let (entry, key_pem, cert_pem) = generate(&clock)?;
                write_pair(cert_path, key_path, &cert_pem, &key_pem)?;
                entry
            }
        };
        let previous = load_pair(&previous_path(cert_path), &previous_path(key_path))?;
        Ok(Self {
            certificate_path: cert_path.to_path_buf(),
            key_path: key_path.to_path_buf(),
            clock,
            ring: RwLock::new(Ring { current, previous }),
        })
    }

    /// Base64 of the current certificate's DER: the subscription's `encryptionCertificate`.
    pub fn current_certificate_base64(&self) -> String {
        STANDARD.encode(&self.read().current.certificate_der)
    }

    /// The current certificate's id: the subscription's `encryptionCertificateId`.
    pub fn current_certificate_id(&self) -> String {
        self.read().current.id.clone()
    }

    /// Upper-case hex SHA-1 thumbprint of the current certificate.
    pub fn current_thumbprint(&self) -> String {
        self.read().current.thumbprint.clone()
    }

    /// Generates a new pair and makes it current; the current pair becomes the previous one
    /// (an older previous pair is dropped). RSA key generation takes tens of milliseconds: call
    /// it from a blocking context. On error nothing changes, in memory or on disk.
    pub fn rotate(&self) -> Result<(), KeyError> {
        let (fresh, key_pem, cert_pem) = generate(&self.clock)?;
        let old_key_pem = fs::read(&self.key_path).map_err(|source| KeyError::Read {
            path: self.key_path.clone(),
            source,
        })?;
        let old_cert_pem = fs::read(&self.certificate_path).map_err(|source| KeyError::Read {
            path: self.certificate_path.clone(),
            source,
        })?;
        let mut ring = self.ring.write().unwrap_or_else(PoisonError::into_inner);
        // The previous pair is written first: if the new pair then fails to land, the files
        // still hold the current pair and a loadable previous one.
        write_pair(
            &previous_path(&self.certificate_path),
            &previous_path(&self.key_path),
            &old_cert_pem,
            &old_key_pem,
        )?;
        write_pair(&self.certificate_path, &self.key_path, &cert_pem, &key_pem)?;
        let old = std::mem::replace(&mut ring.current, fresh);
        ring.previous = Some(old);
        Ok(())
    }

    /// The decrypting key for a notification's `encryptionCertificateId` and
    /// `encryptionCertificateThumbprint`: both must name the same pair (the thumbprint
    /// compared without regard to case), current or previous.
    pub fn decryption_key(
        &self,
        certificate_id: &str,
        thumbprint: &str,
    ) -> Option<Arc<OaepPrivateDecryptingKey>> {
        let ring = self.read();
        std::iter::once(&ring.current)
            .chain(ring.previous.as_ref())
            .find(|entry| {
                entry.id == certificate_id && entry.thumbprint.eq_ignore_ascii_case(thumbprint)
            })
            .map(|entry| Arc::clone(&entry.decrypting))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ring> {
        self.ring.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::clock::ManualClock;
    use std::os::unix::fs::PermissionsExt as _;

    fn clock() -> SharedClock {
        Arc::new(ManualClock::new(
            "2026-02-29T00:00:00Z".parse().unwrap_or_default(),
        ))
    }

    #[test]
    fn ids_are_derived_from_the_thumbprint() {
        assert_eq!(
            certificate_id("0123456789ABCDEF0123456789ABCDEF01234567"),
            "pilotwatch-0123456789abcdef"
        );
    }

    #[test]
    fn generated_on_first_use_then_loaded_and_rotated() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("keys/encryption.crt");
        let key = dir.path().join("keys/encryption.key");
        let keys = EncryptionKeys::load_or_generate(&cert, &key, clock()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&cert), 0o644);
        let id = keys.current_certificate_id();
        let thumbprint = keys.current_thumbprint();
        assert!(
            keys.decryption_key(&id, &thumbprint.to_lowercase())
                .is_some()
        );
        assert!(keys.decryption_key(&id, "00").is_none());
        assert!(!format!("{keys:?}").contains("PRIVATE"));

        let again = EncryptionKeys::load_or_generate(&cert, &key, clock()).unwrap();
        assert_eq!(again.current_certificate_id(), id);
        assert_eq!(
            again.current_certificate_base64(),
            keys.current_certificate_base64()
        );

        keys.rotate().unwrap();
        assert_ne!(keys.current_certificate_id(), id);
        assert!(
            keys.decryption_key(&id, &thumbprint).is_some(),
            "old key kept"
        );
        let reloaded = EncryptionKeys::load_or_generate(&cert, &key, clock()).unwrap();
        assert_eq!(
            reloaded.current_certificate_id(),
            keys.current_certificate_id()
        );
        assert!(reloaded.decryption_key(&id, &thumbprint).is_some());
        assert_eq!(mode(&previous_path(&key)), 0o600);
    }

    #[test]
    fn half_pairs_and_garbage_are_refused_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("c.pem");
        let key = dir.path().join("k.pem");
        fs::write(&cert, "not pem").unwrap();
        let error = EncryptionKeys::load_or_generate(&cert, &key, clock()).unwrap_err();
        assert!(matches!(error, KeyError::HalfPair { .. }), "{error}");
        assert!(!key.exists());
        fs::write(&key, "not pem either").unwrap();
        let error = EncryptionKeys::load_or_generate(&cert, &key, clock()).unwrap_err();
        assert!(matches!(error, KeyError::NotPem { .. }), "{error}");
        assert_eq!(fs::read(&cert).unwrap(), b"not pem");
    }

    #[test]
    fn a_certificate_of_another_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (cert_a, key_a) = (dir.path().join("a.crt"), dir.path().join("a.key"));
        let (cert_b, key_b) = (dir.path().join("b.crt"), dir.path().join("b.key"));
        EncryptionKeys::load_or_generate(&cert_a, &key_a, clock()).unwrap();
        EncryptionKeys::load_or_generate(&cert_b, &key_b, clock()).unwrap();
        let error = EncryptionKeys::load_or_generate(&cert_a, &key_b, clock()).unwrap_err();
        assert!(matches!(error, KeyError::Mismatch { .. }), "{error}");
    }
}
