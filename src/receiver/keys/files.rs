//! The key files behind `EncryptionKeys`: reading a PEM certificate and PKCS#8 key pair (and
//! checking they belong together), generating a fresh RSA 2048 pair with a self-signed
//! certificate, and writing a pair — the key owner-only through `private_file`, the
//! certificate 0644 — each file atomically.
//!
//! Part of `keys`; depends on `private_file` and the clock.

use std::fs::{self, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use aws_lc_rs::encoding::{AsDer as _, PublicKeyX509Der};
use aws_lc_rs::rsa::{OaepPrivateDecryptingKey, PrivateDecryptingKey};
use chrono::{Datelike as _, Duration};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_RSA_SHA256, RsaKeySize};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use super::{KeyError, KeyPairEntry};
use crate::clock::SharedClock;
use crate::private_file::write_private_atomically;

/// How long a generated certificate is valid. Graph does not check validity dates of the
/// encryption certificate (it only uses the public key); a long span avoids a silent cliff.
const CERTIFICATE_YEARS: i32 = 3;

/// `<path>.previous`.
pub(super) fn previous_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".previous");
    PathBuf::from(name)
}

/// Reads a pair; `None` when neither file exists.
pub(super) fn load_pair(
    cert_path: &Path,
    key_path: &Path,
) -> Result<Option<KeyPairEntry>, KeyError> {
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
pub(super) fn generate(clock: &SharedClock) -> Result<(KeyPairEntry, Vec<u8>, Vec<u8>), KeyError> {
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
pub(super) fn write_pair(
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
