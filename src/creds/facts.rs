//! The input of the credential report: [`CredentialFacts`], everything the credential probe
//! observed about one profile at one instant — the secret's shape (never the secret), the token
//! answer, and what Graph let it read.
//!
//! Plain data. The probe (which does the I/O) fills it in; `assess` turns it into a report. This
//! module depends only on the wire model, `graph::auth`'s error type and chrono; it must never
//! hold a secret or an access token.

use chrono::{DateTime, NaiveDate, Utc};
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Serialize, Serializer};

use crate::config::Profile;
use crate::graph::auth::{AadstsKind, AuthError};
use crate::graph::model::{AccessTokenClaims, Application, ServicePrincipal, SubscribedSku, User};
use crate::secret;

/// What the probe found out about one profile's credentials.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialFacts {
    /// Profile name, as on the command line.
    pub profile: String,
    /// Tenant id or domain, as configured.
    pub tenant: String,
    /// Application (client) id, as configured.
    pub client_id: String,
    /// Login authority root URL, as configured.
    pub authority: String,
    /// Graph service root URL, as configured.
    pub graph_root: String,
    /// The injected clock's "now" when the probe ran; every age and countdown is measured from it.
    pub checked_at: DateTime<Utc>,
    /// The configured client secret's source and shape.
    pub secret: SecretFacts,
    /// The answer to the client-credentials token request.
    pub token: TokenFacts,
    /// `GET /servicePrincipals(appId=…)`.
    pub service_principal: Readable<ServicePrincipal>,
    /// `GET /applications(appId=…)`, for `passwordCredentials`.
    pub application: Readable<Application>,
    /// `GET /subscribedSkus`.
    pub subscribed_skus: Readable<Vec<SubscribedSku>>,
    /// A sample of `GET /users` with `assignedPlans` selected.
    pub sampled_users: Readable<Vec<User>>,
    /// The `Date` of a server answer next to the local clock's reading, for clock skew; `None`
    /// when no answer carried a `Date`.
    pub server_date: Option<ServerClock>,
    /// `secret_expires` from the profile: the operator's own note of the secret's expiry.
    pub configured_secret_expires: Option<NaiveDate>,
    /// `thresholds.secret_expiry_warning_days` from the profile (default 30, 14, 7, 1).
    pub expiry_warning_days: Vec<u32>,
}

/// A server's clock and ours, read at (nearly) the same moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ServerClock {
    /// The server's `Date` header.
    pub server: DateTime<Utc>,
    /// The injected clock when that answer arrived.
    pub local: DateTime<Utc>,
}

/// Where the secret comes from, and whether and how it loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretFacts {
    /// The source as `SecretSource`'s `Display` describes it (no secret, no command arguments).
    pub source: String,
    /// The loaded secret's shape, or the load error's text.
    pub loaded: Result<SecretShape, String>,
}

/// What may be said about a secret without revealing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretShape {
    /// `secret::hint`: its first three characters as the portal shows them; empty for secrets
    /// too short to show any.
    pub hint: String,
    /// `secret::looks_like_secret_id`: shaped like a GUID (the portal's "Secret ID" column).
    pub looks_like_secret_id: bool,
    /// Length in characters.
    pub length: usize,
}

impl CredentialFacts {
    /// The facts about `profile` before anything was asked of the network: its configuration,
    /// the secret's source and shape, and every answer still `NotTried`.
    pub fn for_profile(profile: &Profile, checked_at: DateTime<Utc>, secret: SecretFacts) -> Self {
        Self {
            profile: profile.name.clone(),
            tenant: profile.tenant.clone(),
            client_id: profile.client_id.clone(),
            authority: profile.cloud.authority().to_string(),
            graph_root: profile.cloud.graph_root().to_string(),
            checked_at,
            secret,
            token: TokenFacts::NotTried,
            service_principal: Readable::NotTried,
            application: Readable::NotTried,
            subscribed_skus: Readable::NotTried,
            sampled_users: Readable::NotTried,
            server_date: None,
            configured_secret_expires: profile.secret_expires,
            expiry_warning_days: profile.thresholds.secret_expiry_warning_days.clone(),
        }
    }
}

impl SecretShape {
    /// The shape of `secret`: what the report may say about it.
    pub fn of(secret: &SecretString) -> Self {
        Self {
            hint: secret::hint(secret),
            looks_like_secret_id: secret::looks_like_secret_id(secret),
            length: secret.expose_secret().chars().count(),
        }
    }
}

/// The client-credentials token request's outcome.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum TokenFacts {
    /// A token was issued.
    Granted {
        /// Its claims, decoded without verification; `None` when it is not a decodable JWT.
        claims: Option<AccessTokenClaims>,
        /// When it expires, by the injected clock.
        expires_at: DateTime<Utc>,
    },
    /// No token: the identity platform refused, or could not be reached.
    Refused(#[serde(serialize_with = "serialize_auth_error")] AuthError),
    /// Not attempted, because the secret could not be loaded.
    NotTried,
}

/// One directory read's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", content = "value", rename_all = "kebab-case")]
pub enum Readable<T> {
    /// Graph answered.
    Read(T),
    /// Graph answered 403: the app lacks the permission.
    NotReadable {
        /// The application permission that would make it readable, e.g. `Application.Read.All`.
        grant: String,
    },
    /// Any other failure (network, 5xx, malformed answer), as secret-free text.
    Failed {
        /// What went wrong.
        reason: String,
    },
    /// Not attempted, because there was no token.
    NotTried,
}

/// `AuthError` as data (it is an error type, not `Serialize`). Its texts are already redacted
/// by `graph::auth`.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum AuthErrorView<'a> {
    Rejected {
        status: u16,
        code: Option<u64>,
        error: &'a str,
        meaning: String,
        description: &'a str,
        trace_id: Option<&'a str>,
        correlation_id: Option<&'a str>,
    },
    Network {
        message: &'a str,
        tls_certificate: bool,
    },
    UnexpectedAnswer {
        status: u16,
    },
    InvalidAuthority {
        authority: &'a str,
    },
}

fn serialize_auth_error<S: Serializer>(
    error: &AuthError,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let view = match error {
        AuthError::Rejected {
            status,
            code,
            error,
            kind,
            description,
            trace_id,
            correlation_id,
        } => AuthErrorView::Rejected {
            status: *status,
            code: *code,
            error,
            meaning: aadsts_kind_name(*kind),
            description,
            trace_id: trace_id.as_deref(),
            correlation_id: correlation_id.as_deref(),
        },
        AuthError::Network {
            message,
            tls_certificate,
        } => AuthErrorView::Network {
            message,
            tls_certificate: *tls_certificate,
        },
        AuthError::UnexpectedAnswer { status } => {
            AuthErrorView::UnexpectedAnswer { status: *status }
        }
        AuthError::InvalidAuthority { authority } => AuthErrorView::InvalidAuthority { authority },
    };
    view.serialize(serializer)
}

/// A stable kebab-case name for an AADSTS grouping, for JSON.
fn aadsts_kind_name(kind: AadstsKind) -> String {
    match kind {
        AadstsKind::UnknownTenant => "unknown-tenant".into(),
        AadstsKind::MalformedTenant => "malformed-tenant".into(),
        AadstsKind::UnknownClient => "unknown-client".into(),
        AadstsKind::InvalidSecret => "invalid-secret".into(),
        AadstsKind::ExpiredSecret => "expired-secret".into(),
        AadstsKind::MissingSecret => "missing-secret".into(),
        AadstsKind::BadScope => "bad-scope".into(),
        AadstsKind::AppDisabled => "app-disabled".into(),
        AadstsKind::Other(code) => format!("other-{code}"),
        AadstsKind::NoCode => "no-code".into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn refused_tokens_serialize_as_data_with_their_support_ids() {
        let refused = TokenFacts::Refused(AuthError::Rejected {
            status: 401,
            code: Some(7_000_215),
            error: "invalid_client".into(),
            kind: AadstsKind::InvalidSecret,
            description: "AADSTS7000215: Invalid client secret provided.".into(),
            trace_id: Some("trace-1".into()),
            correlation_id: None,
        });
        let json = serde_json::to_value(&refused).unwrap();
        assert_eq!(json["outcome"], "refused");
        assert_eq!(json["kind"], "rejected");
        assert_eq!(json["code"], 7_000_215);
        assert_eq!(json["meaning"], "invalid-secret");
        assert_eq!(json["trace_id"], "trace-1");

        let network = TokenFacts::Refused(AuthError::Network {
            message: "connection refused".into(),
            tls_certificate: false,
        });
        let json = serde_json::to_value(&network).unwrap();
        assert_eq!(json["kind"], "network");
        assert_eq!(json["message"], "connection refused");
    }

    #[test]
    fn readable_serializes_with_an_outcome_tag() {
        let denied: Readable<Vec<User>> = Readable::NotReadable {
            grant: "User.Read.All".into(),
        };
        let json = serde_json::to_value(&denied).unwrap();
        assert_eq!(json["outcome"], "not-readable");
        assert_eq!(json["value"]["grant"], "User.Read.All");
        let read = serde_json::to_value(Readable::Read(3)).unwrap();
        assert_eq!(read, serde_json::json!({"outcome": "read", "value": 3}));
    }
}
