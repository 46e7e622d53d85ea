//! `pilotwatch sim`: start the simulator, tell the user where it listens, write `--ca-out` and
//! `--tenant-out`, and serve until interrupted.

use std::io::Write as _;
use std::path::Path;

use crate::cli::SimArgs;
use crate::private_file::write_private_atomically;
use crate::sim::scenario::{EMBEDDED, Scenario, ScenarioError};
use crate::sim::{self, SimError, SimOptions};

/// Why `pilotwatch sim` failed.
#[derive(Debug, thiserror::Error)]
pub enum SimCommandError {
    /// The scenario could not be loaded.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The simulator could not start.
    #[error(transparent)]
    Start(#[from] SimError),
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Waiting for the stop signal failed.
    #[error("cannot wait for a stop signal: {0}")]
    Signal(std::io::Error),
}

/// Runs the simulator until Ctrl-C or SIGTERM.
pub async fn run(args: SimArgs) -> Result<(), SimCommandError> {
    let mut out = std::io::stdout().lock();
    if args.list_scenarios {
        for (name, text) in EMBEDDED {
            let scenario = Scenario::parse(text, name)?;
            let _ = writeln!(out, "{name:<30} {}", scenario.summary);
        }
        return Ok(());
    }
    let scenario = Scenario::load(&args.scenario)?;
    let options = SimOptions {
        listen: Some(args.listen),
        https_listen: Some(args.https_listen),
        scenario,
        speed: args.speed,
        seed: args.seed,
        receiver_ca: args.receiver_ca,
        start_time: None,
    };
    let running = sim::start(options).await?;
    if let Some(path) = &args.ca_out {
        write_file(path, running.ca_pem.as_bytes(), false)?;
    }
    if let Some(path) = &args.tenant_out {
        let json = serde_json::to_vec_pretty(&running.tenant_out()).unwrap_or_default();
        // The document holds the simulated client secret: owner-only, like any secret file.
        write_file(path, &json, true)?;
    }
    let scenario = running.state.scenario();
    let _ = writeln!(
        out,
        "pilotwatch Graph simulator, scenario {:?}: {}",
        scenario.name, scenario.summary
    );
    if let Some(addr) = running.http_addr {
        let _ = writeln!(out, "listening on http://{addr}");
    }
    if let Some(addr) = running.https_addr {
        let _ = writeln!(
            out,
            "listening on https://{addr} (also https://localhost:{})",
            addr.port()
        );
    }
    let _ = writeln!(
        out,
        "tenant {} ({})",
        running.state.tenant.id, running.state.tenant.domain
    );
    let _ = out.flush();
    drop(out);
    super::wait_for_stop()
        .await
        .map_err(SimCommandError::Signal)?;
    running.stop().await;
    Ok(())
}

/// Writes the CA (public) or the tenant document (it holds the simulated secret: owner-only).
fn write_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), SimCommandError> {
    let error = |source| SimCommandError::Write {
        path: path.display().to_string(),
        source,
    };
    if private {
        write_private_atomically(path, bytes).map_err(|failed| error(failed.source))
    } else {
        std::fs::write(path, bytes).map_err(error)
    }
}
