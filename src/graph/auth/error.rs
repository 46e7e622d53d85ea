//! Why no token could be obtained: [`AuthError`], and [`AadstsKind`], the AADSTS codes grouped by
//! the operator action they call for (graph-facts §6.3). Classification is by code number, never
//! by description text; no variant ever holds the client secret or a token.
//!
//! Depends on nothing else in the crate.

/// What AADSTS code a rejection carried, grouped by the operator action it calls for
/// (graph-facts §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AadstsKind {
    /// 90002: tenant not found (wrong tenant id or wrong cloud).
    UnknownTenant,
    /// 900023: the tenant identifier is neither a GUID nor a valid domain.
    MalformedTenant,
    /// 700016: no application with this client id in the tenant.
    UnknownClient,
    /// 7000215: wrong secret (often the secret's ID pasted instead of its value).
    InvalidSecret,
    /// 7000222: the secret has expired.
    ExpiredSecret,
    /// 7000218: no secret was sent.
    MissingSecret,
    /// 1002012 or 70011: the scope is not a valid `/.default` scope.
    BadScope,
    /// 7000112: the application is disabled.
    AppDisabled,
    /// Any other code.
    Other(u64),
    /// The error carried no AADSTS code at all.
    NoCode,
}

impl AadstsKind {
    /// Classifies an AADSTS code number.
    pub fn from_code(code: Option<u64>) -> Self {
        match code {
            None => Self::NoCode,
            Some(90_002) => Self::UnknownTenant,
            Some(900_023) => Self::MalformedTenant,
            Some(700_016) => Self::UnknownClient,
            Some(7_000_215) => Self::InvalidSecret,
            Some(7_000_222) => Self::ExpiredSecret,
            Some(7_000_218) => Self::MissingSecret,
            Some(1_002_012 | 70_011) => Self::BadScope,
            Some(7_000_112) => Self::AppDisabled,
            Some(other) => Self::Other(other),
        }
    }
}

/// Why no token could be obtained. Never contains the client secret or a token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The identity platform answered with an OAuth error.
    #[error("token request rejected (HTTP {status}): {error}{}", code.map(|c| format!(" AADSTS{c}")).unwrap_or_default())]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The first AADSTS code.
        code: Option<u64>,
        /// The OAuth `error`, e.g. `invalid_client`.
        error: String,
        /// The code's meaning for the operator.
        kind: AadstsKind,
        /// `error_description`, with the secret redacted should it ever be echoed (boxed to keep
        /// the error small).
        description: Box<str>,
        /// For support tickets.
        trace_id: Option<String>,
        /// For support tickets.
        correlation_id: Option<String>,
    },
    /// The token endpoint could not be reached (DNS, connection, TLS, timeout).
    #[error("cannot reach the token endpoint: {message}")]
    Network {
        /// The transport error and its causes; says so when it looks like a certificate problem.
        message: String,
        /// True when the failure looks like an untrusted or invalid TLS certificate.
        tls_certificate: bool,
    },
    /// An answer that is neither a token nor an OAuth error.
    #[error("unexpected answer from the token endpoint (HTTP {status})")]
    UnexpectedAnswer {
        /// HTTP status.
        status: u16,
    },
    /// The configured authority cannot carry a path.
    #[error("the authority URL {authority} cannot be used as a base for the token endpoint")]
    InvalidAuthority {
        /// The authority as configured.
        authority: String,
    },
}

impl AuthError {
    /// A failure that may pass by itself: the endpoint unreachable (but not for a certificate
    /// problem), throttling (429) or a server error (5xx), with or without an OAuth body. Worth a
    /// retry with backoff; a rejection of the credentials themselves is not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network {
                tls_certificate, ..
            } => !tls_certificate,
            Self::Rejected { status, .. } | Self::UnexpectedAnswer { status } => {
                *status == 429 || *status >= 500
            }
            Self::InvalidAuthority { .. } => false,
        }
    }
}
