//! Identity-platform payloads: the client-credentials token answer, its errors, and the claims
//! of access tokens and validation tokens (graph-facts §4, §6).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// A successful client-credentials answer. The token is a secret from the moment it is parsed.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// Extended lifetime used during outages.
    #[serde(default)]
    pub ext_expires_in: Option<u64>,
    /// The JWT.
    pub access_token: SecretString,
}

/// An identity-platform error (`AADSTS…`). Branch on `error_codes`, never the description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenError {
    /// OAuth error, e.g. `invalid_client`.
    pub error: String,
    /// `AADSTSnnnn: …` with trace and correlation ids.
    pub error_description: String,
    /// The AADSTS numbers.
    #[serde(default)]
    pub error_codes: Vec<u64>,
    /// `YYYY-MM-DD HH:MM:SSZ`.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// For support tickets.
    #[serde(default)]
    pub trace_id: Option<String>,
    /// For support tickets.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// `https://login.microsoftonline.com/error?code=n`, when there is more to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
}

impl TokenError {
    /// The first AADSTS code.
    pub fn code(&self) -> Option<u64> {
        self.error_codes.first().copied()
    }
}

/// Claims of an app-only Graph access token, decoded for diagnosis only (never trusted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// `https://graph.microsoft.com`.
    pub aud: String,
    /// `https://sts.windows.net/{tid}/`.
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Client id (v1 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// Client id (v2 tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// `1` secret, `2` certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appidacr: Option<String>,
    /// `app` for app-only tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    /// The service principal's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Application permissions; absent when nothing is consented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Delegated scopes: present only on a wrongly delegated token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Tenant id.
    pub tid: String,
    /// `1.0` or `2.0`.
    pub ver: String,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
}

/// Claims of a validation token in a rich notification (v1 or v2 form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationTokenClaims {
    /// The subscribing app's client id.
    pub aud: String,
    /// `https://sts.windows.net/{tid}/` (v1) or `https://login.microsoftonline.com/{tid}/v2.0`.
    pub iss: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// Opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aio: Option<String>,
    /// The Change Tracking app (v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// `2` (v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appidacr: Option<String>,
    /// The Change Tracking app (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// `2` (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azpacr: Option<String>,
    /// Identity provider (v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// Object id (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Opaque (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rh: Option<String>,
    /// Subject (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Tenant id.
    pub tid: String,
    /// Token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uti: Option<String>,
    /// `1.0` or `2.0`.
    pub ver: String,
}
