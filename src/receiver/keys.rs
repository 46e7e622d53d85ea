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
use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use aws_lc_rs::digest::{SHA1_FOR_LEGACY_USE_ONLY, digest};
use aws_lc_rs::encoding::{AsDer as _, PublicKeyX509Der};
use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, PrivateDecryptingKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{Datelike as _, Duration};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use crate::clock::SharedClock;
use crate::private_file::{PrivateWriteError, write_private_atomically};

/// How long a generated certificate is valid. Graph does not check validity dates of the
/// encryption certificate (it only uses the public key); a long span avoids a silent cliff.
const CERTIFICATE_YEARS: i32 = 3;

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

/// `<path>.previous`.
fn previous_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".previous");
    PathBuf::from(name)
}

/// Reads a pair; `None` when neither file exists.
fn load_pair(cert_path: &Path, key_path: &Path) -> Result<Option<KeyPairEntry>, KeyError> {
    let cert_pem = read_optional(cert_path)?;
    let key_pem = read_optional(key_path)?;
    let (cert_pem, key_pem) = match (cert_pem, key_pem) {
        (None, None) => return Ok(None),
        (Some(cert), Some(key)) => (cert, key),
        (Some(_), None) => {
            return Err(KeyError::HalfPair {
                present: cert_path.to_path_buf(),
                missing: key_path.to_path_buf(),
            });
        }
        (None, Some(_)) => {
            return Err(KeyError::HalfPair {
                present: key_path.to_path_buf(),
                missing: cert_path.to_path_buf(),
            });
        }
    };
    let certificate = CertificateDer::from_pem_slice(&cert_pem).map_err(|_| KeyError::NotPem {
        path: cert_path.to_path_buf(),
        expected: "certificate",
    })?;
    let key = PrivatePkcs8KeyDer::from_pem_slice(&key_pem).map_err(|_| KeyError::NotPem {
        path: key_path.to_path_buf(),
        expected: "PKCS#8 private key",
    })?;
    let private =
        PrivateDecryptingKey::from_pkcs8(key.secret_pkcs8_der()).map_err(|_| KeyError::NotRsa {
            path: key_path.to_path_buf(),
        })?;
    if !certifies(certificate.as_ref(), &private) {
        return Err(KeyError::Mismatch {
            certificate: cert_path.to_path_buf(),
            key: key_path.to_path_buf(),
        });
    }
    let decrypting = OaepPrivateDecryptingKey::new(private).map_err(|_| KeyError::NotRsa {
        path: key_path.to_path_buf(),
    })?;
    Ok(Some(KeyPairEntry::new(
        certificate.as_ref().to_vec(),
        decrypting,
    )))
}

/// True when the certificate's public key is the public half of `private`.
fn certifies(certificate_der: &[u8], private: &PrivateDecryptingKey) -> bool {
    let Ok((_, certificate)) = x509_parser::parse_x509_certificate(certificate_der) else {
        return false;
    };
    let Ok(public) = aws_lc_rs::rsa::PublicEncryptingKey::from_der(certificate.public_key().raw)
    else {
        return false;
    };
    let ours: Result<PublicKeyX509Der<'static>, _> = private.public_key().as_der();
    let theirs: Result<PublicKeyX509Der<'static>, _> = public.as_der();
    let (Ok(ours), Ok(theirs)) = (ours, theirs) else {
        return false;
    };
    ours.as_ref() == theirs.as_ref()
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, KeyError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// A fresh RSA 2048 pair: the entry, the key PEM and the certificate PEM.
fn generate(clock: &SharedClock) -> Result<(KeyPairEntry, Vec<u8>, Vec<u8>), KeyError> {
    let key_pair = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "pilotwatch notification encryption");
    params.distinguished_name = name;
    let now = clock.now();
    let start = now - Duration::days(1);
    params.not_before = rcgen::date_time_ymd(start.year(), month(start.month()), day(start.day()));
    params.not_after = rcgen::date_time_ymd(
        now.year().saturating_add(CERTIFICATE_YEARS),
        month(now.month()),
        // 28 exists in every month: a 29 February start must not make an invalid date.
        day(now.day().min(28)),
    );
    let certificate = params.self_signed(&key_pair)?;
    let private = PrivateDecryptingKey::from_pkcs8(&key_pair.serialize_der())
        .ok()
        .and_then(|key| OaepPrivateDecryptingKey::new(key).ok())
        .ok_or(KeyError::Unusable)?;
    let entry = KeyPairEntry::new(certificate.der().to_vec(), private);
    Ok((
        entry,
        key_pair.serialize_pem().into_bytes(),
        certificate.pem().into_bytes(),
    ))
}

/// chrono months and days are 1..=12 and 1..=31, so they always fit in a `u8`.
fn month(value: u32) -> u8 {
    u8::try_from(value).unwrap_or(1)
}

fn day(value: u32) -> u8 {
    u8::try_from(value).unwrap_or(1)
}

/// Writes the key (0600, atomically) and then the certificate (0644, atomically).
fn write_pair(
    cert_path: &Path,
    key_path: &Path,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<(), KeyError> {
    write_private_atomically(key_path, key_pem)?;
    write_public_atomically(cert_path, cert_pem).map_err(|source| KeyError::WriteCertificate {
        path: cert_path.to_path_buf(),
        source,
    })
}

/// A temporary file beside `path`, synced, renamed over it, mode 0644.
fn write_public_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let mut temp_name = path.as_os_str().to_owned();
    temp_name.push(format!(".{}.tmp", uuid::Uuid::new_v4().simple()));
    let temp = PathBuf::from(temp_name);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&temp, path)?;
        fs::File::open(&dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
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
