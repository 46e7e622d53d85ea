//! [`RequestError`]: every way one logical Graph request can end without a usable answer, and
//! the classification of transport failures (timeout, connection, TLS certificate) it rests on.
//!
//! Graph's own error answers keep what the operator and Microsoft support need: status,
//! `error.code` (the only thing callers branch on, never the message text), `request-id`,
//! `client-request-id`, the server date and how many attempts were made. Nothing here ever
//! holds the access token. Depends on `graph::auth` (for [`AuthError`]), the transport
//! diagnosis and `reqwest` only.

use super::transport::{TransportDiagnosis, diagnose_transport};
use crate::graph::auth::AuthError;

/// Why a Graph request produced no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// No access token could be obtained. Boxed: [`AuthError`] alone is as large as clippy lets
    /// an error be, and every `Result` of this layer would carry it.
    #[error("no access token for Graph: {0}")]
    Auth(#[source] Box<AuthError>),
    /// Graph answered with an error, and it was final (not retried, or retries ran out).
    #[error(
        "Graph answered HTTP {status}{}{}: {message} (request-id {}, after {attempts} attempt{})",
        if code.is_empty() { "" } else { " " },
        code,
        request_id.as_deref().unwrap_or("none"),
        if *attempts == 1 { "" } else { "s" }
    )]
    Graph {
        /// HTTP status.
        status: u16,
        /// `error.code`, e.g. `Forbidden`, `TooManyRequests`; empty when the body was not a
        /// Graph error document.
        code: String,
        /// `error.message`, for people. Never branch on it.
        message: String,
        /// Graph's `request-id` (header, or `innerError`), for support tickets.
        request_id: Option<String>,
        /// The `client-request-id` of the request (echoed by Graph, or the one sent).
        client_request_id: String,
        /// `innerError.date`, or the `Date` header when the body had none.
        date: Option<String>,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// Graph could not be reached, or the connection failed mid-answer.
    #[error("cannot reach Graph: {message} (after {attempts} attempt{})", if *attempts == 1 { "" } else { "s" })]
    Network {
        /// The transport error and its causes.
        message: String,
        /// True when the failure looks like an untrusted or invalid TLS certificate (a missing
        /// `ca_file` behind a TLS-inspecting proxy, or the simulator's CA not given).
        tls_certificate: bool,
        /// True when the request or connection timed out.
        timeout: bool,
        /// Attempts made, the last one included.
        attempts: u32,
    },
    /// A success answer whose body is not JSON of the expected shape.
    #[error("unexpected answer from Graph (HTTP {status}): {detail}")]
    UnexpectedBody {
        /// HTTP status.
        status: u16,
        /// Graph's `request-id`.
        request_id: Option<String>,
        /// What was wrong with it.
        detail: String,
    },
    /// An `@odata.nextLink` pointing at another origin than the Graph root: not followed, so
    /// the bearer token never goes anywhere else.
    #[error("refusing to follow @odata.nextLink to another origin than Graph: {link}")]
    ForeignNextLink {
        /// The link as received.
        link: String,
    },
    /// The request path is not a `/`-rooted path under `/v1.0`.
    #[error(
        "invalid Graph request path {path:?}: it must start with a single '/', stay under /v1.0 and hold no fragment or control characters"
    )]
    InvalidPath {
        /// The path as given.
        path: String,
    },
    /// The request body could not be serialised to JSON.
    #[error("cannot serialise the request body: {detail}")]
    InvalidBody {
        /// The serialiser's complaint.
        detail: String,
    },
}

impl From<AuthError> for RequestError {
    fn from(error: AuthError) -> Self {
        Self::Auth(Box::new(error))
    }
}

impl RequestError {
    /// The token error, when no access token could be obtained.
    pub fn auth(&self) -> Option<&AuthError> {
        match self {
            Self::Auth(error) => Some(error),
            _ => None,
        }
    }

    /// The HTTP status Graph answered with, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Graph { status, .. } | Self::UnexpectedBody { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Graph's `error.code`, when the answer carried one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Graph { code, .. } if !code.is_empty() => Some(code),
            _ => None,
        }
    }

    /// True for a 403, whatever the code (`Forbidden` from Teams-family APIs,
    /// `Authorization_RequestDenied` from the directory, `accessDenied`, …): the app lacks a
    /// permission (or a licence) for this call.
    pub fn is_permission_denied(&self) -> bool {
        self.status() == Some(403)
    }

    /// Graph's `request-id`, for support tickets.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Graph { request_id, .. } | Self::UnexpectedBody { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// Attempts made before giving up (0 when no request was sent).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Graph { attempts, .. } | Self::Network { attempts, .. } => *attempts,
            _ => 0,
        }
    }
}

/// A transport failure, classified once for both the retry decision and the final error.
#[derive(Debug, Clone)]
pub(super) struct TransportFailure {
    /// The error and its causes, joined.
    pub message: String,
    /// Looks like an untrusted or invalid certificate.
    pub tls_certificate: bool,
    /// The request or connection timed out.
    pub timeout: bool,
    /// No connection was made, so the request certainly was not processed.
    pub connect: bool,
}

impl TransportFailure {
    /// Classifies a reqwest error by walking its causes.
    pub fn classify(error: &reqwest::Error) -> Self {
        let TransportDiagnosis {
            message,
            tls_certificate,
        } = diagnose_transport(error);
        Self {
            message,
            tls_certificate,
            timeout: error.is_timeout(),
            connect: error.is_connect(),
        }
    }

    /// Whether trying again can help: never for a certificate problem; always when no
    /// connection was made; otherwise only when replaying the request is harmless.
    pub fn retryable(&self, replay_safe: bool) -> bool {
        !self.tls_certificate && (self.connect || replay_safe)
    }

    /// The final error after `attempts` attempts.
    pub fn into_error(self, attempts: u32) -> RequestError {
        RequestError::Network {
            message: self.message,
            tls_certificate: self.tls_certificate,
            timeout: self.timeout,
            attempts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(status: u16, code: &str) -> RequestError {
        RequestError::Graph {
            status,
            code: code.to_owned(),
            message: "Insufficient privileges to complete the operation.".to_owned(),
            request_id: Some("r-1".to_owned()),
            client_request_id: "c-1".to_owned(),
            date: None,
            attempts: 1,
        }
    }

    #[test]
    fn permission_denied_is_decided_by_status_not_code() {
        assert!(graph(403, "Authorization_RequestDenied").is_permission_denied());
        assert!(graph(403, "Forbidden").is_permission_denied());
        assert!(graph(403, "").is_permission_denied());
        assert!(!graph(401, "InvalidAuthenticationToken").is_permission_denied());
        let network = RequestError::Network {
            message: "refused".to_owned(),
            tls_certificate: false,
            timeout: false,
            attempts: 3,
        };
        assert!(!network.is_permission_denied());
        assert_eq!(network.status(), None);
        assert_eq!(network.attempts(), 3);
    }

    #[test]
    fn the_error_stays_small_enough_to_return_by_value() {
        assert!(std::mem::size_of::<RequestError>() <= 128);
    }

    #[test]
    fn token_errors_convert_and_are_reachable() {
        let error: RequestError = AuthError::UnexpectedAnswer { status: 502 }.into();
        assert!(matches!(
            error.auth(),
            Some(AuthError::UnexpectedAnswer { status: 502 })
        ));
        assert_eq!(
            error.status(),
            None,
            "the token endpoint's status is not Graph's"
        );
        assert!(error.to_string().contains("no access token"));
    }

    #[test]
    fn accessors_expose_code_and_ids() {
        let error = graph(403, "Forbidden");
        assert_eq!(error.status(), Some(403));
        assert_eq!(error.code(), Some("Forbidden"));
        assert_eq!(error.request_id(), Some("r-1"));
        assert_eq!(graph(502, "").code(), None, "no code for a non-Graph body");
        let text = error.to_string();
        assert!(text.contains("HTTP 403 Forbidden"), "{text}");
        assert!(text.contains("request-id r-1"), "{text}");
        assert!(text.contains("1 attempt)"), "{text}");
    }

    #[test]
    fn certificate_problems_are_never_retried_connects_always() {
        let failure = |tls_certificate, connect| TransportFailure {
            message: String::new(),
            tls_certificate,
            timeout: false,
            connect,
        };
        assert!(!failure(true, true).retryable(true));
        assert!(failure(false, true).retryable(false));
        assert!(failure(false, false).retryable(true));
        assert!(!failure(false, false).retryable(false));
    }
}
