//! The one `reqwest::Client` a profile's identity and Graph calls share: rustls with the
//! platform's trust store plus the profile's extra CA file (a TLS-inspecting proxy's CA, or the
//! simulator's), proxies from the environment as usual, and timeouts so that a dead endpoint
//! fails in bounded time instead of hanging a poll cycle.
//!
//! The CA file is checked here, once, with an error naming it: unreadable, no PEM certificate
//! in it, or a PEM block that is not an X.509 certificate. Depends on nothing else in the crate.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// Longest a whole request (connect, send, answer) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest establishing a connection (TCP and TLS) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest Graph answer read into memory: a page of interactions with their bodies is a few
/// MiB; anything near this is not an answer to trust.
pub const MAX_GRAPH_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Largest token-endpoint answer read into memory (a token is a few KiB).
pub const MAX_TOKEN_BODY_BYTES: usize = 256 * 1024;

/// An answer's body, read chunk by chunk up to `cap` bytes: `None` when it is longer (a proxy's
/// endless stream or a misconfigured endpoint must not exhaust memory within the timeout).
pub async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response
        .content_length()
        .is_some_and(|length| length > cap as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// Why the HTTP client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The extra CA file cannot be used.
    #[error("cannot use the CA file {}: {reason}", path.display())]
    CaFile {
        /// The file as configured.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The TLS stack or client refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// Builds the client every Graph and identity call of a profile uses: rustls, platform roots
/// plus the PEM certificates of `ca_file` when given, environment proxies respected, a
/// [`REQUEST_TIMEOUT`] per request and a [`CONNECT_TIMEOUT`] per connection.
pub fn build_http_client(ca_file: Option<&Path>) -> Result<reqwest::Client, TransportError> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("pilotwatch/", env!("CARGO_PKG_VERSION")))
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT);
    if let Some(path) = ca_file {
        builder = builder.tls_certs_merge(read_ca_file(path)?);
    }
    builder.build().map_err(|error| match ca_file {
        // The platform verifier takes the extra roots only at build time: a certificate it
        // cannot use as a trust anchor surfaces here, and the file is what to fix.
        Some(path) => TransportError::CaFile {
            path: path.to_owned(),
            reason: error_chain(&error),
        },
        None => TransportError::Client(error),
    })
}

/// The certificates of a PEM file, each checked to be X.509.
fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, TransportError> {
    let fail = |reason: String| TransportError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let ders = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("not valid PEM: {e}")))?;
    if ders.is_empty() {
        return Err(fail(
            "no PEM certificate in it (expected -----BEGIN CERTIFICATE----- blocks)".to_owned(),
        ));
    }
    ders.iter()
        .enumerate()
        .map(|(index, der)| {
            x509_parser::parse_x509_certificate(der).map_err(|e| {
                fail(format!(
                    "certificate {} is not a valid X.509 certificate: {e}",
                    index + 1
                ))
            })?;
            reqwest::Certificate::from_der(der).map_err(|e| fail(error_chain(&e)))
        })
        .collect()
}

/// A failed HTTP exchange explained for an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportDiagnosis {
    /// The error and all its causes, joined with `: `; says so when it looks like a certificate
    /// problem.
    pub message: String,
    /// The failure looks like an untrusted or invalid TLS certificate: the fix is the profile's
    /// `ca_file`, and retrying cannot help.
    pub tls_certificate: bool,
}

/// Explains a reqwest error by walking its causes: rustls's certificate errors are recognised
/// by type; wrapped ones (the platform verifier's) by their text.
pub fn diagnose_transport(error: &reqwest::Error) -> TransportDiagnosis {
    let mut tls_certificate = false;
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            tls_certificate |= matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            );
        }
        source = cause.source();
    }
    let mut message = error_chain(error);
    let lower = message.to_ascii_lowercase();
    tls_certificate |= lower.contains("certificate") || lower.contains("unknownissuer");
    if tls_certificate {
        message.push_str(
            " (this looks like a TLS certificate problem: is the profile's ca_file set?)",
        );
    }
    TransportDiagnosis {
        message,
        tls_certificate,
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn file_with(content: &[u8]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(content).unwrap();
        file
    }

    fn ca_error(path: &Path) -> String {
        match build_http_client(Some(path)) {
            Err(error @ TransportError::CaFile { .. }) => error.to_string(),
            other => panic!("expected a CA file error, got {other:?}"),
        }
    }

    #[test]
    fn no_ca_file_builds() {
        assert!(build_http_client(None).is_ok());
    }

    #[test]
    fn a_real_certificate_is_accepted() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let file = file_with(cert.pem().as_bytes());
        assert!(build_http_client(Some(file.path())).is_ok());
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope.pem");
        let text = ca_error(&path);
        assert!(text.contains("nope.pem"), "{text}");
    }

    #[test]
    fn a_file_without_certificates_is_named_and_explained() {
        let file = file_with(b"just some text\n");
        let text = ca_error(file.path());
        assert!(text.contains(&file.path().display().to_string()), "{text}");
        assert!(text.contains("no PEM certificate"), "{text}");
    }

    #[test]
    fn a_pem_block_that_is_not_x509_is_refused() {
        let file = file_with(
            b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        );
        let text = ca_error(file.path());
        assert!(text.contains("not a valid X.509"), "{text}");
    }
}
