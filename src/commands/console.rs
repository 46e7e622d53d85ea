//! `pilotwatch` (no command) and `pilotwatch demo`: the console on a collector in this process.
//!
//! `demo` starts the simulator on a loopback port (the `serve --sim` wiring), one profile
//! pointed at it with its secret in a 0600 file under a temporary data directory, the
//! collector on the simulator's clock, and the console over an embedded backend that may switch
//! scenarios. Nothing is configured and everything is gone when it exits.
//!
//! The bare command first looks for a running `pilotwatch serve` on its control socket
//! (`--control-socket`, else `/run/pilotwatch/control.sock`, else
//! `$XDG_RUNTIME_DIR/pilotwatch/control.sock`) and attaches the console to it. Only when
//! nothing answers there (no socket, or a stale one) does it run the configured profiles'
//! collector embedded, on the XDG data directory; a collector that answers but refuses this
//! client (another protocol version) is an error, so the store is never opened behind a
//! running collector's back.
//!
//! An embedded console records every command in the store's audit trail as sent by the local
//! user, as `serve` records what arrives over its socket: the trail is complete whichever way
//! the collector ran.
//!
//! Depends on the collector, the console's embedded backend, the control socket's client and
//! its user lookup ([`Peer`]), the TUI and, for the demo, the simulator; the simulator and the
//! collector meet only here and in `serve`.

use std::path::Path;
use std::sync::Arc;

use crate::cli::{DemoArgs, TuiArgs};
use crate::clock::{SharedClock, SystemClock};
use crate::collector::{Collector, CollectorError, CollectorOptions};
use crate::config::{Config, ConfigError, Paths};
use crate::console::audit::Operator;
use crate::console::embedded::{self, EmbeddedOptions, SimulationTarget};
use crate::control::access::Peer;
use crate::control::client::{self, AttachError, AttachOptions};
use crate::sim::scenario::EMBEDDED;
use crate::tui::{self, TuiError, TuiOptions};

use super::serve::{ServeError, sim_profile, start_sim};

/// Why the console could not run.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleCommandError {
    /// The configuration could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Nothing to watch.
    #[error(
        "no profiles are configured in {}; add one with `pilotwatch creds add`, or try `pilotwatch demo`",
        .0.display()
    )]
    NoProfiles(std::path::PathBuf),
    /// The simulator or its profile could not be set up.
    #[error(transparent)]
    Demo(#[from] ServeError),
    /// The collector could not start.
    #[error(transparent)]
    Collector(#[from] CollectorError),
    /// A collector runs but this console could not attach to it.
    #[error(transparent)]
    Attach(#[from] AttachError),
    /// The terminal failed.
    #[error(transparent)]
    Tui(#[from] TuiError),
    /// The temporary data directory could not be made.
    #[error("cannot create the demo's temporary data directory: {0}")]
    TempDir(std::io::Error),
    /// The simulator's address did not parse (a bug).
    #[error("the simulator's address is not a URL: {0}")]
    SimUrl(String),
}

/// `pilotwatch demo`: simulator, collector and console in one process.
pub async fn demo(args: DemoArgs, options: TuiOptions) -> Result<(), ConsoleCommandError> {
    let data = tempfile::Builder::new()
        .prefix("pilotwatch-demo-")
        .tempdir()
        .map_err(ConsoleCommandError::TempDir)?;
    let running = start_sim(&args.scenario, args.speed).await?;
    // Whatever fails from here on stops the simulator before answering.
    let prepared = running
        .base_url()
        .parse()
        .map_err(|error: url::ParseError| ConsoleCommandError::SimUrl(error.to_string()))
        .and_then(|base_url| Ok((sim_profile(&running, data.path())?, base_url)));
    let (profile, base_url) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => {
            running.stop().await;
            return Err(error);
        }
    };
    let clock: SharedClock = running.state.clock.clone();
    let collector = match Collector::start(
        std::slice::from_ref(&profile),
        clock.clone(),
        CollectorOptions::new(data.path()),
    )
    .await
    {
        Ok(collector) => collector,
        Err(error) => {
            running.stop().await;
            return Err(error.into());
        }
    };
    let mut backend =
        EmbeddedOptions::new(vec![profile], clock).audited_as(local_operator("demo").await);
    backend.simulation = Some(SimulationTarget {
        base_url,
        scenario: running.state.scenario().name.clone(),
        scenarios: EMBEDDED
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect(),
        speed: args.speed,
    });
    let handle = embedded::serve(&collector, backend);
    let result = tui::run(handle, options).await;
    collector.shutdown().await;
    running.stop().await;
    drop(data);
    Ok(result?)
}

/// `pilotwatch`: the console attached to the running collector (at `control_socket` when
/// given), or over an embedded one when none runs.
pub async fn console(
    args: TuiArgs,
    control_socket: Option<&Path>,
    paths: Paths,
    options: TuiOptions,
) -> Result<(), ConsoleCommandError> {
    let candidates = client::default_candidates(paths.runtime_dir.as_deref());
    let attach = AttachOptions::new("tui", options.readonly);
    match client::attach_running(control_socket, &candidates, attach).await? {
        Some(handle) => Ok(tui::run(handle, options).await?),
        None => embedded_console(args, paths, options).await,
    }
}

/// The configured profiles' collector, embedded, and the console over it.
pub async fn embedded_console(
    args: TuiArgs,
    paths: Paths,
    options: TuiOptions,
) -> Result<(), ConsoleCommandError> {
    let config = Config::load(&paths.config_file)?;
    if config.profiles.is_empty() {
        return Err(ConsoleCommandError::NoProfiles(paths.config_file.clone()));
    }
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| paths.data_dir.clone());
    let clock: SharedClock = Arc::new(SystemClock);
    let collector = Collector::start(
        &config.profiles,
        clock.clone(),
        CollectorOptions::new(&data_dir),
    )
    .await?;
    let mut backend =
        EmbeddedOptions::new(config.profiles, clock).audited_as(local_operator("tui").await);
    backend.paths = Some(paths);
    let handle = embedded::serve(&collector, backend);
    let result = tui::run(handle, options).await;
    collector.shutdown().await;
    Ok(result?)
}

/// This process's user, as the audit trail names whoever types commands into an embedded
/// console of `kind` (the same words an attached client would say of itself).
async fn local_operator(kind: &'static str) -> Operator {
    let uid = nix::unistd::getuid().as_raw();
    let gid = nix::unistd::getgid().as_raw();
    let pid = i32::try_from(std::process::id()).ok();
    // The user database may be NSS over the network: off the runtime's threads.
    let user = tokio::task::spawn_blocking(move || Peer::lookup(uid, gid, pid).user)
        .await
        .unwrap_or_else(|_| uid.to_string());
    Operator {
        uid,
        user,
        pid,
        client: format!("{} (embedded)", AttachOptions::new(kind, false).client),
    }
}
