//! The check `creds add` makes before saving: build an HTTP client that trusts the profile's CA
//! file, ask the identity platform for an app-only token with the secret, and turn any failure
//! into one plain explanation (graph-facts §6.1, §6.3). The full diagnosis (roles against the
//! required set, expiry, licences) is `creds test`'s job, not this module's.
//!
//! Depends on `config`, `secret`, `clock` and `graph::auth`; never prints, never touches disk
//! except to read the CA file.

use std::fmt;

use secrecy::SecretString;

use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::auth::{AadstsKind, AccessToken, AuthError, TokenProvider};
use crate::graph::http::{TransportError, build_http_client};
use crate::secret::{SecretError, looks_like_secret_id};
use crate::terminal_text::printable_line;

/// The longest excerpt of the identity platform's description quoted back.
const DESCRIPTION_EXCERPT_CHARS: usize = 300;

/// Why a profile's credentials could not be confirmed. Never carries the secret or a token.
#[derive(Debug)]
pub enum ValidationFailure {
    /// The secret could not be loaded from its source.
    Secret(SecretError),
    /// The HTTP client could not be built (most often: the CA file cannot be used).
    Transport(TransportError),
    /// The task loading the secret died (a bug, reported rather than unwrapped).
    SecretTask(String),
    /// The identity platform did not issue a token.
    Token {
        /// What went wrong (boxed: it is large and failures are rare).
        error: Box<AuthError>,
        /// The secret is shaped like a GUID: likely the portal's Secret ID, not its Value.
        secret_looks_like_id: bool,
    },
}

impl ValidationFailure {
    /// The AADSTS meaning, when the identity platform rejected the request.
    pub fn aadsts_kind(&self) -> Option<AadstsKind> {
        match self {
            Self::Token { error, .. } => match error.as_ref() {
                AuthError::Rejected { kind, .. } => Some(*kind),
                _ => None,
            },
            _ => None,
        }
    }
}

impl fmt::Display for ValidationFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Secret(error) => write!(f, "cannot load the secret: {error}"),
            Self::Transport(error) => write!(f, "{error}"),
            Self::SecretTask(reason) => write!(f, "loading the secret failed: {reason}"),
            Self::Token {
                error,
                secret_looks_like_id,
            } => {
                write!(f, "{error}")?;
                if let AuthError::Rejected { description, .. } = error.as_ref()
                    && let Some(said) = description_excerpt(description)
                {
                    write!(f, "\n  the identity platform says: {said}")?;
                }
                if *secret_looks_like_id
                    && matches!(
                        error.as_ref(),
                        AuthError::Rejected {
                            kind: AadstsKind::InvalidSecret,
                            ..
                        }
                    )
                {
                    write!(
                        f,
                        "\n  the secret is shaped like a GUID: that is the portal's Secret ID, not the secret. \
                         Copy the Value column instead (shown only when the secret is created; \
                         create a new client secret if it is no longer visible)"
                    )?;
                }
                if let AuthError::Network {
                    tls_certificate: true,
                    ..
                } = error.as_ref()
                {
                    write!(
                        f,
                        "\n  if a proxy or the endpoint uses a private CA, pass its certificate with --ca-file PEM"
                    )?;
                }
                Ok(())
            }
        }
    }
}

/// The first line of an `error_description` (the AADSTS sentence; trace and correlation ids
/// follow on later lines), with control characters dropped since it came off the network.
fn description_excerpt(description: &str) -> Option<String> {
    let first = description.lines().next()?.trim();
    let clean: String = printable_line(first)
        .chars()
        .take(DESCRIPTION_EXCERPT_CHARS)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// Loads the profile's secret from its source, off the async runtime (a secret command may run
/// for up to its timeout).
pub async fn load_secret(profile: &Profile) -> Result<SecretString, ValidationFailure> {
    let source = profile.secret.clone();
    tokio::task::spawn_blocking(move || source.load())
        .await
        .map_err(|join| ValidationFailure::SecretTask(join.to_string()))?
        .map_err(ValidationFailure::Secret)
}

/// Requests an app-only token for `profile` with `secret`: success means the tenant, the client
/// id and the secret are right (the roles may still be wrong — a token without roles is still
/// issued when admin consent is missing, graph-facts §6.1).
pub async fn request_token(
    profile: &Profile,
    secret: SecretString,
    clock: SharedClock,
) -> Result<AccessToken, ValidationFailure> {
    let secret_looks_like_id = looks_like_secret_id(&secret);
    let http =
        build_http_client(profile.ca_file.as_deref()).map_err(ValidationFailure::Transport)?;
    let token_failure = |error| ValidationFailure::Token {
        error: Box::new(error),
        secret_looks_like_id,
    };
    let provider =
        TokenProvider::for_profile(profile, secret, http, clock).map_err(token_failure)?;
    provider.token().await.map_err(token_failure)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn rejected(code: u64, description: &str) -> AuthError {
        AuthError::Rejected {
            status: 401,
            code: Some(code),
            error: "invalid_client".into(),
            kind: AadstsKind::from_code(Some(code)),
            description: description.into(),
            trace_id: None,
            correlation_id: None,
        }
    }

    #[test]
    fn secret_id_sentence_only_for_a_guid_shaped_invalid_secret() {
        let with_id = ValidationFailure::Token {
            error: Box::new(rejected(
                7_000_215,
                "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x",
            )),
            secret_looks_like_id: true,
        }
        .to_string();
        assert!(with_id.contains("Secret ID"), "{with_id}");
        assert!(with_id.contains("AADSTS7000215: Invalid client secret provided."));
        assert!(!with_id.contains("Trace ID"), "{with_id}");

        let plain_wrong = ValidationFailure::Token {
            error: Box::new(rejected(
                7_000_215,
                "AADSTS7000215: Invalid client secret provided.",
            )),
            secret_looks_like_id: false,
        }
        .to_string();
        assert!(!plain_wrong.contains("Secret ID"), "{plain_wrong}");

        let other_code = ValidationFailure::Token {
            error: Box::new(rejected(7_000_222, "AADSTS7000222: expired")),
            secret_looks_like_id: true,
        }
        .to_string();
        assert!(!other_code.contains("Secret ID"), "{other_code}");
    }

    #[test]
    fn descriptions_lose_control_characters() {
        assert_eq!(
            description_excerpt("AADSTS1: a\u{1b}[31mred\r\nTrace ID: 1").as_deref(),
            Some("AADSTS1: a[31mred")
        );
        assert_eq!(description_excerpt(""), None);
    }
}
