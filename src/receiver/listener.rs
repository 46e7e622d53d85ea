//! The receiver's listener: plain HTTP or HTTPS (rustls, certificate and key from PEM files),
//! HTTP/1.1 with a header read timeout, one task per connection (a TLS handshake has its own
//! timeout, so a silent client holds up nobody), and a graceful stop: on shutdown no new
//! connection is accepted, every open one finishes the request in flight — its commit and its
//! 202 included — and then closes, within [`DRAIN_LIMIT`].
//!
//! Depends on the `config` types only; the routes come from the caller.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::config::TlsFiles;

/// Longest a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Longest the stop waits for requests in flight.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(10);

/// The TLS files could not be turned into a server configuration.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// The certificate chain could not be read.
    #[error("cannot read the TLS certificate chain {path}: {reason}")]
    Certificate {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The private key could not be read.
    #[error("cannot read the TLS private key {path}: {reason}")]
    Key {
        /// The file.
        path: String,
        /// Why (never the key).
        reason: String,
    },
    /// rustls refused the pair.
    #[error("the TLS certificate and key cannot be used together: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A rustls server configuration from PEM files (HTTP/1.1 only).
pub fn tls_config(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsSetupError> {
    let shown = |path: &Path| path.display().to_string();
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.certificate)
        .and_then(Iterator::collect)
        .map_err(|error| TlsSetupError::Certificate {
            path: shown(&files.certificate),
            reason: error.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsSetupError::Certificate {
            path: shown(&files.certificate),
            reason: "no certificate in the file".to_owned(),
        });
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|_| TlsSetupError::Key {
        path: shown(&files.key),
        reason: "no PEM private key in the file".to_owned(),
    })?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves `router` on `listener` until `shutdown`, then drains (see the module documentation).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) {
    let connections = TaskTracker::new();
    let acceptor = tls.map(TlsAcceptor::from);
    loop {
        let stream = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(target: "pilotwatch::receiver", %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let shutdown = shutdown.clone();
        let acceptor = acceptor.clone();
        connections.spawn(async move {
            match acceptor {
                None => connection(stream, router, header_read_timeout, shutdown).await,
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream));
                    if let Ok(Ok(stream)) = handshake.await {
                        connection(stream, router, header_read_timeout, shutdown).await;
                    }
                }
            }
        });
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(DRAIN_LIMIT, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!(target: "pilotwatch::receiver", "requests still in flight after the drain limit; stopping anyway");
    }
}

async fn connection<S>(
    stream: S,
    router: Router,
    header_read_timeout: Duration,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let service = TowerToHyperService::new(router);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let finished = tokio::select! {
        result = connection.as_mut() => Some(result),
        () = shutdown.cancelled() => None,
    };
    let result = match finished {
        Some(result) => result,
        None => {
            // Finish the request in flight, answer it, then close.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result
        && !is_disconnect(&error)
    {
        tracing::debug!(target: "pilotwatch::receiver", %error, "connection ended with an error");
    }
}

fn is_disconnect(error: &hyper::Error) -> bool {
    error.is_incomplete_message()
        || std::error::Error::source(error)
            .and_then(|source| source.downcast_ref::<io::Error>())
            .is_some_and(|io| io.kind() == io::ErrorKind::ConnectionReset)
}
