//! The per-profile facts the processor judges notifications with: the app's client id (the
//! `aud` of validation tokens), the identity platform's keys (cached JWKS) and the encryption
//! keys for rich content. Expected `clientState`s are not here: they come from the
//! subscription registry at processing time, so a subscription the keeper just created counts.
//!
//! Depends on `jwks` and `keys`.

use std::sync::Arc;

use url::Url;

use super::jwks::{JwksCache, keys_url};
use super::keys::EncryptionKeys;
use crate::config::Profile;

/// What judging a profile's notifications needs.
#[derive(Debug)]
pub struct Verifier {
    /// The app (client) id: validation tokens must be addressed to it.
    pub app_id: String,
    /// The identity platform's signing keys.
    pub jwks: JwksCache,
    /// The keys rich content is encrypted for.
    pub keys: Arc<EncryptionKeys>,
}

impl Verifier {
    /// Facts for `profile`: its client id and its cloud's JWKS, fetched with `http` (built with
    /// the profile's CA file).
    pub fn for_profile(
        profile: &Profile,
        keys: Arc<EncryptionKeys>,
        http: reqwest::Client,
    ) -> Result<Self, url::ParseError> {
        let url = keys_url(&profile.cloud.authority())?;
        Ok(Self::new(profile.client_id.clone(), url, keys, http))
    }

    /// Facts from their parts.
    pub fn new(
        app_id: String,
        jwks_url: Url,
        keys: Arc<EncryptionKeys>,
        http: reqwest::Client,
    ) -> Self {
        Self {
            app_id,
            jwks: JwksCache::new(jwks_url, http),
            keys,
        }
    }
}
