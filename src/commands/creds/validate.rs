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
use crate::creds::{Check, SecretShape, explain_refusal, render_check};
use crate::graph::auth::{AadstsKind, AccessToken, AuthError, TokenProvider};
use crate::graph::http::{TransportError, build_http_client};
use crate::secret::{COMMAND_TIMEOUT, SecretError};

/// Why a profile's credentials could not be confirmed. Never carries the secret or a token.
#[derive(Debug)]
pub enum ValidationFailure {
    /// The secret could not be loaded from its source.
    Secret(SecretError),
    /// The HTTP client could not be built (most often: the CA file cannot be used).
    Transport(TransportError),
    /// The identity platform did not issue a token.
    Token {
        /// What went wrong (boxed: it is large and failures are rare).
        error: Box<AuthError>,
        /// The credential report's token check for it: the same cause and fix `creds test`
        /// gives.
        explanation: Box<Check>,
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
            Self::Token { error, explanation } => {
                write!(f, "{error}")?;
                for line in render_check(explanation).lines() {
                    write!(f, "\n  {line}")?;
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

/// Loads the profile's secret from its source, off the async runtime (a secret command may run
/// for up to its timeout).
pub async fn load_secret(profile: &Profile) -> Result<SecretString, ValidationFailure> {
    profile
        .secret
        .load_off_runtime(COMMAND_TIMEOUT)
        .await
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
    let shape = SecretShape::of(&secret);
    let http =
        build_http_client(profile.ca_file.as_deref()).map_err(ValidationFailure::Transport)?;
    let now = clock.now();
    let token_failure = |error: AuthError| ValidationFailure::Token {
        explanation: Box::new(explain_refusal(profile, shape.clone(), &error, now)),
        error: Box::new(error),
    };
    let provider =
        TokenProvider::for_profile(profile, secret, http, clock).map_err(token_failure)?;
    provider.token().await.map_err(token_failure)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use chrono::Utc;

    use super::*;
    use crate::graph::auth::AadstsKind;
    use crate::secret::SecretSource;

    fn profile() -> Profile {
        Profile::for_tests("prod", SecretSource::Env { var: "X".into() })
    }

    fn refused(code: u64, secret: &str) -> String {
        let error = AuthError::Rejected {
            status: 401,
            code: Some(code),
            error: "invalid_client".into(),
            kind: AadstsKind::from_code(Some(code)),
            description: format!("AADSTS{code}: refused.\r\nTrace ID: x").into(),
            trace_id: None,
            correlation_id: None,
        };
        let shape = SecretShape::of(&SecretString::from(secret.to_owned()));
        ValidationFailure::Token {
            explanation: Box::new(explain_refusal(&profile(), shape, &error, Utc::now())),
            error: Box::new(error),
        }
        .to_string()
    }

    #[test]
    fn a_refusal_explains_itself_as_the_report_does() {
        let pasted_id = refused(7_000_215, "cd962268-baec-4608-9dbf-bd4865271869");
        assert!(
            pasted_id.starts_with("token request rejected"),
            "{pasted_id}"
        );
        assert!(
            pasted_id.contains("almost certainly the \"Secret ID\""),
            "{pasted_id}"
        );
        assert!(pasted_id.contains("Fix:"), "{pasted_id}");
        let wrong = refused(7_000_215, "KJn~w4x8n.UrtZYKZsoL30l3L7dcDrJNCAOcDkp.");
        assert!(wrong.contains("matches none of"), "{wrong}");
        assert!(!wrong.contains("almost certainly"), "{wrong}");
        let expired = refused(7_000_222, "cd962268-baec-4608-9dbf-bd4865271869");
        assert!(expired.contains("expired"), "{expired}");
    }
}
