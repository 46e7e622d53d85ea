//! `serve`'s status endpoints and announcement: starts the status listener on the address
//! `--status-bind` asks for (the default 127.0.0.1:9464 when none, nothing for `off`), then
//! writes `DATA_DIR/collector.json` so `pilotwatch check` can find it; on a clean stop, stops the
//! listener and removes the announcement.
//!
//! An explicitly asked-for address that cannot be bound stops `serve`; the default one only
//! warns, since a taken port must not keep the collector itself from running — `check` then
//! sees a collector it cannot ask, and says so.
//!
//! Depends on `status`, the CLI's `StatusBind`, the clock and the diagnosis' `VerdictSource`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::cli::StatusBind;
use crate::clock::SharedClock;
use crate::diagnose::VerdictSource;
use crate::private_file::PrivateWriteError;
use crate::status::announcement::Announcement;
use crate::status::{self, DEFAULT_BIND, StatusError, StatusServer};

/// Why the status endpoints could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StatusEndpointError {
    /// The asked-for address could not be bound.
    #[error(transparent)]
    Listen(#[from] StatusError),
    /// `collector.json` could not be written.
    #[error("cannot write the collector announcement {0}")]
    Announce(#[from] PrivateWriteError),
}

/// The running status endpoints and the announcement naming them.
#[derive(Debug)]
pub struct StatusEndpoints {
    server: Option<StatusServer>,
    announcement: Announcement,
    data_dir: PathBuf,
    shutdown: CancellationToken,
}

impl StatusEndpoints {
    /// Where the status endpoints listen, if they do.
    pub fn local_addr(&self) -> Option<std::net::SocketAddr> {
        self.server.as_ref().map(|server| server.local_addr)
    }

    /// What `collector.json` says.
    pub fn announcement(&self) -> &Announcement {
        &self.announcement
    }

    /// Stops the listener (answering requests in flight) and removes the announcement.
    pub async fn stop(self) {
        self.shutdown.cancel();
        if let Some(server) = self.server {
            server.stopped().await;
        }
        self.announcement.remove(&self.data_dir);
    }
}

/// Starts the status listener as `bind` asks, serving `source`, and announces it in
/// `data_dir`.
pub async fn start(
    bind: Option<StatusBind>,
    source: Arc<dyn VerdictSource>,
    clock: SharedClock,
    data_dir: &Path,
) -> Result<StatusEndpoints, StatusEndpointError> {
    let shutdown = CancellationToken::new();
    let server = match bind {
        Some(StatusBind::Off) => None,
        Some(StatusBind::At(addr)) => {
            Some(status::serve(addr, source, clock.clone(), shutdown.clone()).await?)
        }
        None => match status::serve(DEFAULT_BIND, source, clock.clone(), shutdown.clone()).await {
            Ok(server) => Some(server),
            Err(error) => {
                tracing::warn!(%error, "running without status endpoints (see --status-bind)");
                None
            }
        },
    };
    let announcement = Announcement {
        pid: std::process::id(),
        status_addr: server.as_ref().map(|server| server.local_addr),
        started_at: clock.now(),
    };
    if let Err(error) = announcement.write(data_dir) {
        shutdown.cancel();
        if let Some(server) = server {
            server.stopped().await;
        }
        return Err(error.into());
    }
    Ok(StatusEndpoints {
        server,
        announcement,
        data_dir: data_dir.to_path_buf(),
        shutdown,
    })
}
