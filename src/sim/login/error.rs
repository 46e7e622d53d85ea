//! The identity platform's error answers: every AADSTS code this simulator emits, with its OAuth
//! `error`, HTTP status and live wording (graph-facts §6.3, fixtures `token-error-*.json`), and
//! the response that carries it — `TokenError` JSON with trace and correlation ids and a
//! timestamp, `Cache-Control: no-store, no-cache` and `Pragma: no-cache`, as the service sends.
//!
//! Depends on `graph::model` and the simulator's request metadata; never on routes.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use rand::Rng as _;

use crate::graph::model::TokenError;
use crate::sim::http_error::RequestMeta;
use crate::sim::state::SimState;
use crate::sim::tenant::is_guid;

/// One identity-platform error, with what its message quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Aadsts {
    /// 900023: the tenant segment is neither a GUID nor a DNS name.
    TenantMalformed {
        /// The segment as sent.
        tenant: String,
    },
    /// 90002: no such tenant.
    TenantNotFound {
        /// The segment as sent.
        tenant: String,
    },
    /// 9001023: client credentials over `/common` or `/consumers`.
    GrantNotOnCommon,
    /// 900144: a required parameter is missing.
    MissingParameter {
        /// Its name.
        name: &'static str,
    },
    /// 901002: the v1 `resource` parameter on the v2 endpoint.
    ResourceParameter,
    /// 9002313: duplicate parameters, undecodable Basic credentials, conflicting client ids.
    Malformed,
    /// 70003: a grant this simulator does not issue.
    UnsupportedGrantType {
        /// The grant asked for.
        grant_type: String,
    },
    /// 700016: no application with this id in the tenant.
    UnknownClient {
        /// The client id as sent.
        client_id: String,
        /// The directory's display name.
        directory: String,
    },
    /// 7000112: the application is disabled.
    AppDisabled {
        /// Its client id.
        client_id: String,
        /// Its display name.
        name: String,
    },
    /// 7000218: neither `client_secret` nor `client_assertion`.
    MissingCredential,
    /// 7000215: the secret matches no secret of the app (including its Secret ID).
    InvalidSecret {
        /// The app's client id.
        client_id: String,
    },
    /// 7000222: the secret is right but expired.
    SecretExpired {
        /// The app's client id.
        client_id: String,
    },
    /// 700027: a client assertion signed by a key the app does not have.
    UnknownAssertionKey {
        /// The app's client id.
        client_id: String,
    },
    /// 1002012: a single scope without `/.default`.
    ScopeNotDefault {
        /// The scope as sent.
        scope: String,
    },
    /// 70011: several scopes, or a value that is not a scope.
    InvalidScope {
        /// The scope as sent.
        scope: String,
        /// Add Microsoft's note on the URI/GUID form.
        bad_format: bool,
    },
    /// 500011: `/.default` of a resource the tenant has no service principal for.
    ResourceNotFound {
        /// The resource identifier.
        resource: String,
        /// The tenant as the request named it.
        tenant: String,
    },
    /// 50049: instance discovery for an authority that is not this one.
    UnknownInstance,
    /// 90033: the simulator could not sign (cannot happen with a working key).
    Transient,
}

impl Aadsts {
    /// The AADSTS number.
    pub fn code(&self) -> u64 {
        match self {
            Self::TenantMalformed { .. } => 900_023,
            Self::TenantNotFound { .. } => 90_002,
            Self::GrantNotOnCommon => 9_001_023,
            Self::MissingParameter { .. } => 900_144,
            Self::ResourceParameter => 901_002,
            Self::Malformed => 9_002_313,
            Self::UnsupportedGrantType { .. } => 70_003,
            Self::UnknownClient { .. } => 700_016,
            Self::AppDisabled { .. } => 7_000_112,
            Self::MissingCredential => 7_000_218,
            Self::InvalidSecret { .. } => 7_000_215,
            Self::SecretExpired { .. } => 7_000_222,
            Self::UnknownAssertionKey { .. } => 700_027,
            Self::ScopeNotDefault { .. } => 1_002_012,
            Self::InvalidScope { .. } => 70_011,
            Self::ResourceNotFound { .. } => 500_011,
            Self::UnknownInstance => 50_049,
            Self::Transient => 90_033,
        }
    }

    /// The OAuth `error` value.
    pub fn error(&self) -> &'static str {
        match self {
            Self::TenantNotFound { .. } => "invalid_tenant",
            Self::UnsupportedGrantType { .. } => "unsupported_grant_type",
            Self::UnknownClient { .. } | Self::AppDisabled { .. } => "unauthorized_client",
            Self::MissingCredential
            | Self::InvalidSecret { .. }
            | Self::SecretExpired { .. }
            | Self::UnknownAssertionKey { .. } => "invalid_client",
            Self::ScopeNotDefault { .. } | Self::InvalidScope { .. } => "invalid_scope",
            Self::ResourceNotFound { .. } => "invalid_resource",
            Self::UnknownInstance => "invalid_instance",
            Self::Transient => "temporarily_unavailable",
            Self::TenantMalformed { .. }
            | Self::GrantNotOnCommon
            | Self::MissingParameter { .. }
            | Self::ResourceParameter
            | Self::Malformed => "invalid_request",
        }
    }

    /// The HTTP status: 401 for failed client authentication (RFC 6749 §5.2), 503 for a
    /// transient failure, else 400.
    pub fn status(&self) -> StatusCode {
        match self.error() {
            "invalid_client" => StatusCode::UNAUTHORIZED,
            "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message after `AADSTSnnnn: `, in the service's words.
    pub fn message(&self) -> String {
        match self {
            Self::TenantMalformed { tenant } => format!(
                "Specified tenant identifier '{tenant}' is neither a valid DNS name, nor a valid external domain."
            ),
            Self::TenantNotFound { tenant } => format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
            Self::GrantNotOnCommon => "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.".to_owned(),
            Self::MissingParameter { name } => {
                format!("The request body must contain the following parameter: '{name}'.")
            }
            Self::ResourceParameter => {
                "The 'resource' request parameter is not supported.".to_owned()
            }
            Self::Malformed => "Invalid request. Request is malformed or invalid.".to_owned(),
            Self::UnsupportedGrantType { grant_type } => {
                format!("The app requested an unsupported grant type '{grant_type}'.")
            }
            Self::UnknownClient {
                client_id,
                directory,
            } => format!(
                "Application with identifier '{client_id}' was not found in the directory '{directory}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
            Self::AppDisabled { client_id, name } => {
                format!("Application '{client_id}'({name}) is disabled.")
            }
            Self::MissingCredential => "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.".to_owned(),
            Self::InvalidSecret { client_id } => format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
            Self::SecretExpired { client_id } => format!(
                "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app or consider using certificate credentials for added security."
            ),
            Self::UnknownAssertionKey { client_id } => format!(
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
            ),
            Self::ScopeNotDefault { scope } => format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
            Self::InvalidScope { scope, bad_format } => {
                let mut message = format!(
                    "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid."
                );
                if *bad_format {
                    message.push_str(" The scope format is invalid. Scope must be in a valid URI form <https://example/scope> or a valid Guid <guid/scope>.");
                }
                message
            }
            Self::ResourceNotFound { resource, tenant } => format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
            Self::UnknownInstance => "Unknown or invalid instance.".to_owned(),
            Self::Transient => "A transient error has occurred. Please try again.".to_owned(),
        }
    }

    /// The full answer for this error, stamped with `stamp`'s ids and time.
    pub fn answer(&self, stamp: &Stamp) -> TokenFailure {
        let code = self.code();
        let timestamp = stamp.timestamp();
        let description = format!(
            "AADSTS{code}: {}\r\nTrace ID: {}\r\nCorrelation ID: {}\r\nTimestamp: {timestamp}",
            self.message(),
            stamp.trace_id,
            stamp.correlation_id,
        );
        TokenFailure {
            status: self.status(),
            trace_id: stamp.trace_id.clone(),
            body: TokenError {
                error: self.error().to_owned(),
                error_description: description,
                error_codes: vec![code],
                timestamp: Some(timestamp),
                trace_id: Some(stamp.trace_id.clone()),
                correlation_id: Some(stamp.correlation_id.clone()),
                error_uri: Some(format!(
                    "https://login.microsoftonline.com/error?code={code}"
                )),
            },
        }
    }
}

/// The ids and time an identity-platform answer carries.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// Fresh per answer; also sent as `x-ms-request-id`.
    pub trace_id: String,
    /// The caller's `client-request-id` when it is a GUID (MSAL sends one), else fresh.
    pub correlation_id: String,
    /// Simulated time of the request.
    pub at: DateTime<Utc>,
}

impl Stamp {
    /// Ids for answering the request described by `meta`.
    pub fn new(state: &SimState, meta: &RequestMeta) -> Self {
        let trace_id = random_guid(state);
        let correlation_id = if is_guid(&meta.client_request_id) {
            meta.client_request_id.to_ascii_lowercase()
        } else {
            random_guid(state)
        };
        Self {
            trace_id,
            correlation_id,
            at: meta.received,
        }
    }

    /// `YYYY-MM-DD HH:MM:SSZ`, as the service writes it.
    pub fn timestamp(&self) -> String {
        self.at.format("%Y-%m-%d %H:%M:%SZ").to_string()
    }
}

fn random_guid(state: &SimState) -> String {
    let bytes: [u8; 16] = state.rng().random();
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// An identity-platform error response.
#[derive(Debug, Clone)]
pub struct TokenFailure {
    /// HTTP status.
    pub status: StatusCode,
    /// The trace id (for `x-ms-request-id`).
    pub trace_id: String,
    /// The body.
    pub body: TokenError,
}

impl IntoResponse for TokenFailure {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        identity_headers(response.headers_mut(), &self.trace_id);
        response
    }
}

/// Headers every token-endpoint answer carries: never cache, JSON in UTF-8, the trace id.
pub fn identity_headers(headers: &mut HeaderMap, trace_id: &str) {
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, no-cache"),
    );
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(trace_id) {
        headers.insert("x-ms-request-id", value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_oauth_error() {
        let client_id = "24d3b144-21ae-4080-943f-7067b395b913".to_owned();
        assert_eq!(
            Aadsts::InvalidSecret {
                client_id: client_id.clone()
            }
            .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            Aadsts::SecretExpired {
                client_id: client_id.clone()
            }
            .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(Aadsts::MissingCredential.status(), StatusCode::UNAUTHORIZED);
        let unknown = Aadsts::UnknownClient {
            client_id,
            directory: "Contoso".into(),
        };
        assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
        assert_eq!(unknown.error(), "unauthorized_client");
        let tenant = Aadsts::TenantNotFound {
            tenant: "x.example".into(),
        };
        assert_eq!(
            (tenant.status(), tenant.error()),
            (StatusCode::BAD_REQUEST, "invalid_tenant")
        );
    }

    #[test]
    fn answer_matches_the_fixture_layout() {
        let stamp = Stamp {
            trace_id: "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0".into(),
            correlation_id: "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809".into(),
            at: DateTime::parse_from_rfc3339("2026-11-22T08:15:42Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let answer = Aadsts::SecretExpired {
            client_id: "24d3b144-21ae-4080-943f-7067b395b913".into(),
        }
        .answer(&stamp);
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/graph-fixtures/token-error-7000222.json"
        );
        let fixture: TokenError =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(answer.body, fixture);
    }
}
