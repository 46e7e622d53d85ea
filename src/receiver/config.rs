//! How a receiver listens: address, paths, optional TLS files, and the hardening limits.
//!
//! Defaults follow graph-facts §3.5: Graph counts a delivery as failed after 3 s (10 s on
//! retries), so the read timeout is well under that, and a saturated receiver answers 503 at
//! once rather than queueing a request past Graph's deadline.
//!
//! Pure data; depends on nothing else in the crate.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Paths of a PEM certificate chain and its private key, for HTTPS without a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub certificate: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// A receiver's listener and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// The profile whose notifications arrive here (recorded with every batch).
    pub profile: String,
    /// Address to listen on (`127.0.0.1:0` picks a port).
    pub bind: SocketAddr,
    /// Path of the change-notification endpoint, e.g. `/notify`.
    pub notification_path: String,
    /// Path of the lifecycle endpoint, e.g. `/lifecycle`.
    pub lifecycle_path: String,
    /// Serve HTTPS with these files instead of HTTP.
    pub tls: Option<TlsFiles>,
    /// Largest body accepted (413 above it).
    pub max_body_bytes: usize,
    /// Requests handled at once (503 above it, so Graph retries).
    pub concurrency: usize,
    /// Longest wait for a request's headers, and separately for its body (408).
    pub read_timeout: Duration,
    /// Times a batch naming a subscription the registry does not hold is held back before
    /// its items are rejected as unknown: Graph may push a new subscription's first
    /// notification before the keeper has registered it (0: reject at once).
    pub unknown_subscription_holds: u32,
    /// Wait after the first such hold; each further hold waits twice as long.
    pub unknown_subscription_first_wait: Duration,
}

impl ReceiverConfig {
    /// One megabyte: a batch of rich notifications is a few kilobytes per item.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

    /// Enough for Graph's bursts on two cores; each request mostly waits for the commit.
    pub const DEFAULT_CONCURRENCY: usize = 256;

    /// Well under Graph's 3 s delivery deadline.
    pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(2);

    /// Six holds of 0.25, 0.5, 1, 2, 4 and 8 s: a registry write up to 15 s late (the keeper
    /// writes right after Graph's answer; a few seconds under load) still lets a new
    /// subscription's first notifications in, and a forged batch is rejected soon after.
    pub const DEFAULT_UNKNOWN_SUBSCRIPTION_HOLDS: u32 = 6;

    /// See [`Self::DEFAULT_UNKNOWN_SUBSCRIPTION_HOLDS`].
    pub const DEFAULT_UNKNOWN_SUBSCRIPTION_FIRST_WAIT: Duration = Duration::from_millis(250);

    /// Defaults for `profile` on `bind`: `/notify` and `/lifecycle`, plain HTTP.
    pub fn new(profile: impl Into<String>, bind: SocketAddr) -> Self {
        Self {
            profile: profile.into(),
            bind,
            notification_path: "/notify".to_owned(),
            lifecycle_path: "/lifecycle".to_owned(),
            tls: None,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            concurrency: Self::DEFAULT_CONCURRENCY,
            read_timeout: Self::DEFAULT_READ_TIMEOUT,
            unknown_subscription_holds: Self::DEFAULT_UNKNOWN_SUBSCRIPTION_HOLDS,
            unknown_subscription_first_wait: Self::DEFAULT_UNKNOWN_SUBSCRIPTION_FIRST_WAIT,
        }
    }
}
