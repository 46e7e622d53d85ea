//! Rotating a profile's encryption key pair (graph-facts §5): a new RSA 2048 key and
//! certificate become current, the old pair is kept beside them (`<file>.previous`) so
//! notifications Graph already encrypted for it still decrypt. Moving the subscriptions to the
//! new certificate is the keeper's job (its certificate invariant); this only turns the keys.
//!
//! Used by the running collector ([`crate::collector::Collector::rotate_certificate`]) and by
//! `pilotwatch keys rotate` on the files alone. Depends on the receiver's `EncryptionKeys`,
//! the config profile and the clock; never on the store or Graph.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::clock::SharedClock;
use crate::config::Profile;
use crate::receiver::{EncryptionKeys, KeyError};

use super::setup::key_paths;

/// The outcome of a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRotation {
    /// The profile whose keys rotated.
    pub profile: String,
    /// `encryptionCertificateId` of the certificate that was current (now kept as previous).
    pub previous_id: String,
    /// `encryptionCertificateId` of the new certificate.
    pub current_id: String,
    /// Where the new certificate is.
    pub certificate_path: PathBuf,
}

/// Why a rotation did not happen. Nothing changed, in memory or on disk.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// No such profile (in the configuration, or in the running collector).
    #[error("no profile named {name}; known profiles: {}", if known.is_empty() { "(none)".to_owned() } else { known.join(", ") })]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles there are.
        known: Vec<String>,
    },
    /// The profile has no key pair yet: there is nothing to rotate.
    #[error(
        "profile {profile} has no encryption key pair at {certificate} yet; the collector generates one on its first start, so there is nothing to rotate"
    )]
    NoKeys {
        /// The profile.
        profile: String,
        /// Where its certificate would be.
        certificate: PathBuf,
    },
    /// The key files could not be read, generated or written.
    #[error("profile {profile}: {source}")]
    Keys {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// The blocking task generating the key stopped without an answer.
    #[error("the key rotation stopped unexpectedly: {0}")]
    Task(String),
}

/// Rotates `keys` (RSA generation runs off the runtime) and says which certificate replaced
/// which.
pub async fn rotate_keys(
    profile: &str,
    keys: Arc<EncryptionKeys>,
    certificate_path: PathBuf,
) -> Result<CertificateRotation, RotationError> {
    let name = profile.to_owned();
    tokio::task::spawn_blocking(move || {
        let previous_id = keys.current_certificate_id();
        keys.rotate().map_err(|source| RotationError::Keys {
            profile: name.clone(),
            source,
        })?;
        Ok(CertificateRotation {
            profile: name,
            previous_id,
            current_id: keys.current_certificate_id(),
            certificate_path,
        })
    })
    .await
    .map_err(|error| RotationError::Task(error.to_string()))?
}

/// Rotates the key files of `profile` under `data_dir` (as the collector resolves them),
/// refusing when there is no pair yet rather than generating one.
pub async fn rotate_files(
    profile: &Profile,
    data_dir: &Path,
    clock: SharedClock,
) -> Result<CertificateRotation, RotationError> {
    let (certificate, key) = key_paths(profile, data_dir);
    if !certificate.exists() && !key.exists() {
        return Err(RotationError::NoKeys {
            profile: profile.name.clone(),
            certificate,
        });
    }
    let name = profile.name.clone();
    let certificate_path = certificate.clone();
    let keys = tokio::task::spawn_blocking(move || {
        EncryptionKeys::load_or_generate(&certificate, &key, clock)
    })
    .await
    .map_err(|error| RotationError::Task(error.to_string()))?
    .map_err(|source| RotationError::Keys {
        profile: name,
        source,
    })?;
    rotate_keys(&profile.name, Arc::new(keys), certificate_path).await
}
