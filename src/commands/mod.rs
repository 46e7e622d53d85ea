//! What each subcommand does, between the parsed command line and the library.
//!
//! May depend on every other module; nothing depends on it but `main`.

pub mod check;
pub mod console;
pub mod creds;
pub mod keys;
pub mod logging;
pub mod serve;
pub mod sim;
pub mod status_endpoint;
pub mod twins;
pub mod unit;

/// Waits for Ctrl-C, SIGTERM (systemd's stop) or SIGHUP (the SSH session went away).
pub(crate) async fn wait_for_stop() -> std::io::Result<()> {
    stop_signal()?.await;
    Ok(())
}

/// Listens for the stop signals from now on (registered before returning, so a signal that
/// arrives while the caller is still starting up is not lost) and resolves on the first.
pub(crate) fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
            _ = hangup.recv() => {}
        }
    })
}
