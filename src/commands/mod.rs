//! What each subcommand does, between the parsed command line and the library.
//!
//! May depend on every other module; nothing depends on it but `main`.

pub mod creds;
pub mod logging;
pub mod serve;
pub mod sim;

/// Waits for Ctrl-C or SIGTERM (systemd's stop).
pub(crate) async fn wait_for_stop() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = terminate.recv() => Ok(()),
    }
}
