//! Setting up a collector: its error type, and the pieces each profile needs before its tasks
//! start — the store opened off the runtime, the encryption key pair, the receiver's
//! configuration (with every profile's bind address distinct).
//!
//! Depends on config, store and receiver.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::clock::SharedClock;
use crate::config::Profile;
use crate::receiver::{EncryptionKeys, ReceiverConfig};
use crate::store::{Store, StoreOptions};

/// Where the receiver listens when a profile names no `receiver_bind`.
pub const DEFAULT_RECEIVER_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 7781);

/// Why the collector could not start. Nothing keeps running after one of these.
#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    /// The store could not be opened (another collector owns it, a newer schema, a disk error).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A profile's secret could not be loaded.
    #[error("profile {profile}: {source}")]
    Secret {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::secret::SecretError,
    },
    /// A profile's HTTP client could not be built (its CA file).
    #[error("profile {profile}: {source}")]
    Transport {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::graph::http::TransportError,
    },
    /// A profile's authority cannot carry the token or keys path.
    #[error("profile {profile}: the authority URL cannot be used: {detail}")]
    Authority {
        /// The profile.
        profile: String,
        /// Why.
        detail: String,
    },
    /// The encryption key pair for rich notifications could not be loaded or created.
    #[error("profile {profile}: {source}")]
    Keys {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::receiver::KeyError,
    },
    /// The notification receiver could not start (the address is taken, bad TLS files).
    #[error("profile {profile}: {source}")]
    Receiver {
        /// The profile.
        profile: String,
        /// Why.
        #[source]
        source: crate::receiver::ReceiverError,
    },
    /// Two profiles would listen on the same address.
    #[error(
        "profiles {first} and {second} both listen on {addr}: give one of them another receiver_bind"
    )]
    SharedBind {
        /// The first profile.
        first: String,
        /// The second profile.
        second: String,
        /// The address.
        addr: SocketAddr,
    },
    /// There is nothing to collect.
    #[error("no profiles configured; add one with `pilotwatch creds add`")]
    NoProfiles,
    /// The blocking task opening the store stopped without an answer.
    #[error("opening the store stopped unexpectedly: {0}")]
    Task(String),
}

/// Opens the store off the runtime (sled reads its log on open).
pub(super) async fn open_store(
    dir: PathBuf,
    options: StoreOptions,
    clock: SharedClock,
) -> Result<Store, CollectorError> {
    let store = tokio::task::spawn_blocking(move || Store::open(&dir, options, clock))
        .await
        .map_err(|error| CollectorError::Task(error.to_string()))??;
    if let Some(moved) = store.moved_aside() {
        tracing::error!(
            moved_to = %moved.display(),
            "the store was corrupt: it was moved aside and a fresh one started; the poller's \
             backfill refills it"
        );
    }
    Ok(store)
}

/// The profile's key pair for rich notifications: its configured files, else
/// `DATA_DIR/keys/NAME.{crt,key}`, generated on first use.
pub(super) async fn load_keys(
    profile: &Profile,
    data_dir: &Path,
    clock: SharedClock,
) -> Result<EncryptionKeys, CollectorError> {
    let (certificate, key) = key_paths(profile, data_dir);
    let name = profile.name.clone();
    tokio::task::spawn_blocking(move || EncryptionKeys::load_or_generate(&certificate, &key, clock))
        .await
        .map_err(|error| CollectorError::Task(error.to_string()))?
        .map_err(|source| CollectorError::Keys {
            profile: name,
            source,
        })
}

/// Where `profile`'s certificate and private key live: its configured files, else
/// `DATA_DIR/keys/NAME.{crt,key}`.
pub fn key_paths(profile: &Profile, data_dir: &Path) -> (PathBuf, PathBuf) {
    let keys_dir = data_dir.join("keys");
    let certificate = profile
        .encryption_certificate
        .clone()
        .unwrap_or_else(|| keys_dir.join(format!("{}.crt", profile.name)));
    let key = profile
        .encryption_key
        .clone()
        .unwrap_or_else(|| keys_dir.join(format!("{}.key", profile.name)));
    (certificate, key)
}

/// The receiver for a profile: its bind address, and the paths of its notification URLs (so a
/// proxy in front may forward them unchanged).
pub(super) fn receiver_config(profile: &Profile) -> ReceiverConfig {
    let mut config = ReceiverConfig::new(
        profile.name.clone(),
        profile.receiver_bind.unwrap_or(DEFAULT_RECEIVER_BIND),
    );
    if let Some(url) = &profile.notification_url {
        config.notification_path = url.path().to_owned();
    }
    if let Some(url) = &profile.lifecycle_notification_url {
        config.lifecycle_path = url.path().to_owned();
    }
    config
}

/// Refuses two profiles on one address (port 0 excepted: each gets its own).
pub(super) fn check_binds(profiles: &[Profile]) -> Result<(), CollectorError> {
    let mut seen: HashMap<SocketAddr, &str> = HashMap::new();
    for profile in profiles {
        let addr = profile.receiver_bind.unwrap_or(DEFAULT_RECEIVER_BIND);
        if addr.port() == 0 {
            continue;
        }
        if let Some(first) = seen.insert(addr, &profile.name) {
            return Err(CollectorError::SharedBind {
                first: first.to_owned(),
                second: profile.name.clone(),
                addr,
            });
        }
    }
    Ok(())
}
