//! `pilotwatch serve`: the collector headless, as a systemd service runs it. Opens the store,
//! starts every profile, tells systemd it is ready (sd-notify; a no-op elsewhere), and on SIGTERM,
//! SIGHUP or Ctrl-C drains the receivers' requests in flight and commits before exiting.
//!
//! `--sim SCENARIO` starts the simulator in-process and collects from it instead of the
//! configured profiles: one profile pointed at the simulator, its secret in a 0600 file under the
//! data directory (a temporary one unless `--data-dir`), the simulator's clock for everything.
//! That and the CLI wiring are the only places the simulator and the collector meet.
//!
//! Once the collector runs, its status endpoints (`/metrics`, `/diagnosis.json`) start on
//! `--status-bind` and `DATA_DIR/collector.json` announces them to `pilotwatch check`.
//!
//! Then the control socket listens (before READY: a unit ordered after this one can attach at
//! once): `--control-socket`, else `$RUNTIME_DIRECTORY/control.sock`, else
//! `$XDG_RUNTIME_DIR/pilotwatch/control.sock`. With none of these, serve refuses to start
//! unless `--no-control`: a collector nobody can attach to holds the store's lock, so every
//! `pilotwatch` would fail to start its own; better to say so at once than at 3 a.m. Writes go
//! to the collector's user, root and the `[control] group` members; every command is audited.
//! On shutdown the socket stops first, so no command arrives while the collector drains.

use std::path::PathBuf;
use std::sync::Arc;

use secrecy::SecretString;

use crate::cli::ServeArgs;
use crate::clock::{SharedClock, SystemClock};
use crate::collector::{Collector, CollectorError, CollectorOptions};
use crate::config::{Cloud, Config, ConfigError, Paths, Profile, SubscriptionScope, Thresholds};
use crate::console::embedded::{self, EmbeddedOptions, SimulationTarget};
use crate::control::socket::resolve;
use crate::control::{AccessPolicy, ControlError, ControlServer, RunningControl};
use crate::diagnose::VerdictSource;
use crate::secret::{SecretError, SecretSource, default_secret_path, store_secret_file};
use crate::sim::scenario::{EMBEDDED, Scenario, ScenarioError};
use crate::sim::{self, RunningSim, SimError, SimOptions};

/// The profile name `serve --sim` collects under.
pub const SIM_PROFILE: &str = "sim";

/// Why `pilotwatch serve` stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `--profile` named a profile that does not exist.
    #[error("no profile named {name}; known profiles: {}", known.join(", "))]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles that exist.
        known: Vec<String>,
    },
    /// The collector could not start.
    #[error(transparent)]
    Collector(#[from] CollectorError),
    /// The simulator's scenario could not be loaded.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The simulator could not start.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The simulated tenant's secret could not be written.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The simulator's own address did not parse (a bug).
    #[error("the simulator's address is not a URL: {0}")]
    SimUrl(String),
    /// A temporary data directory or a free port could not be had.
    #[error("cannot set up the simulated profile: {0}")]
    TempDir(std::io::Error),
    /// Waiting for the stop signal failed.
    #[error("cannot wait for a stop signal: {0}")]
    Signal(std::io::Error),
    /// The status endpoints or their announcement could not be set up.
    #[error(transparent)]
    Status(#[from] super::status_endpoint::StatusEndpointError),
    /// The control socket could not be set up.
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// Where the control socket goes and who may write through it (`None`: `--no-control`).
type ControlPlan = Option<(PathBuf, AccessPolicy)>;

/// Runs the collector until SIGTERM or Ctrl-C.
pub async fn run(args: ServeArgs, paths: &Paths) -> Result<(), ServeError> {
    // Before anything starts: a SIGTERM or hang-up during start-up still stops cleanly.
    let stop = super::stop_signal().map_err(ServeError::Signal)?;
    // First of all: a collector with no place for its socket would hold the store's lock with
    // nobody able to attach.
    let socket = control_socket(&args, paths)?;
    let mut temporary = None;
    let mut simulator = None;
    let (profiles, clock, data_dir, group) = match &args.sim {
        Some(scenario) => {
            let data_dir = match &args.data_dir {
                Some(dir) => dir.clone(),
                None => {
                    let dir = tempfile::Builder::new()
                        .prefix("pilotwatch-serve-")
                        .tempdir()
                        .map_err(ServeError::TempDir)?;
                    let path = dir.path().to_path_buf();
                    temporary = Some(dir);
                    path
                }
            };
            let running = start_sim(scenario, args.speed).await?;
            let profile = sim_profile(&running, &data_dir)?;
            let clock: SharedClock = running.state.clock.clone();
            simulator = Some(running);
            (vec![profile], clock, data_dir, None)
        }
        None => {
            let config = Config::load(&paths.config_file)?;
            let profiles = select(config.profiles, &args.profiles)?;
            let data_dir = args
                .data_dir
                .clone()
                .unwrap_or_else(|| paths.data_dir.clone());
            let clock: SharedClock = Arc::new(SystemClock);
            (profiles, clock, data_dir, config.control.group)
        }
    };
    // Before the collector starts: an unknown group fails fast, not after the subscriptions
    // were created.
    let plan = match control_plan(socket, group.as_deref()) {
        Ok(plan) => plan,
        Err(error) => {
            if let Some(running) = simulator {
                running.stop().await;
            }
            return Err(error);
        }
    };
    tracing::info!(data_dir = %data_dir.display(), profiles = profiles.len(), "starting the collector");
    let collector =
        Collector::start(&profiles, clock.clone(), CollectorOptions::new(&data_dir)).await?;
    let status = match super::status_endpoint::start(
        args.status_bind,
        verdict_source(&collector),
        clock.clone(),
        &data_dir,
    )
    .await
    {
        Ok(status) => status,
        Err(error) => {
            collector.shutdown().await;
            return Err(error.into());
        }
    };
    let mut options = EmbeddedOptions::new(profiles, clock.clone());
    if let Some(running) = &simulator {
        options = options.with_simulation(simulation_target(running, args.speed)?);
    }
    let control = match start_control(plan, &collector, options, clock).await {
        Ok(control) => control,
        Err(error) => {
            status.stop().await;
            collector.shutdown().await;
            if let Some(running) = simulator {
                running.stop().await;
            }
            return Err(error.into());
        }
    };
    // Not under systemd: NOTIFY_SOCKET is unset and this does nothing.
    if let Err(error) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::warn!(%error, "cannot tell systemd the service is ready");
    }
    tracing::info!("collector running; stop with Ctrl-C or SIGTERM");
    stop.await;
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    tracing::info!(
        "stopping: closing the control socket, draining requests in flight and committing"
    );
    if let Some(control) = control {
        control.stop().await;
    }
    status.stop().await;
    collector.shutdown().await;
    if let Some(running) = simulator {
        running.stop().await;
    }
    drop(temporary);
    Ok(())
}

/// Where the control socket goes, unless `--no-control`.
fn control_socket(args: &ServeArgs, paths: &Paths) -> Result<Option<PathBuf>, ServeError> {
    if args.no_control {
        tracing::warn!("--no-control: no view or CLI twin can attach to this collector");
        return Ok(None);
    }
    let runtime_directory = std::env::var_os("RUNTIME_DIRECTORY");
    Ok(Some(resolve(
        args.control_socket.as_deref(),
        runtime_directory.as_deref(),
        paths.runtime_dir.as_deref(),
    )?))
}

/// The socket's path with who may write through it (the configured `group`'s members too).
fn control_plan(socket: Option<PathBuf>, group: Option<&str>) -> Result<ControlPlan, ServeError> {
    let Some(path) = socket else {
        return Ok(None);
    };
    let policy = AccessPolicy::for_this_process(group).map_err(ControlError::from)?;
    Ok(Some((path, policy)))
}

/// The control server over an embedded handle on `collector`, as planned.
async fn start_control(
    plan: ControlPlan,
    collector: &Collector,
    options: EmbeddedOptions,
    clock: SharedClock,
) -> Result<Option<RunningControl>, ControlError> {
    let Some((path, policy)) = plan else {
        return Ok(None);
    };
    let handle = embedded::serve(collector, options);
    let audit = collector.store().audit();
    let running = ControlServer::new(path, handle, policy, audit, clock)
        .start()
        .await?;
    tracing::info!(
        socket = %running.path().display(),
        "views attach with `pilotwatch` (or `pilotwatch --readonly`)"
    );
    Ok(Some(running))
}

/// What the console needs to switch the simulator's scenario over the socket.
fn simulation_target(running: &RunningSim, speed: f64) -> Result<SimulationTarget, ServeError> {
    Ok(SimulationTarget {
        base_url: running
            .base_url()
            .parse()
            .map_err(|error: url::ParseError| ServeError::SimUrl(error.to_string()))?,
        scenario: running.state.scenario().name.clone(),
        scenarios: EMBEDDED
            .iter()
            .map(|(name, _)| (*name).to_owned())
            .collect(),
        speed,
    })
}

/// What the status endpoints serve: the collector's latest verdicts.
fn verdict_source(collector: &Collector) -> Arc<dyn VerdictSource> {
    collector.verdicts()
}

/// The configured profiles, or those `--profile` names.
fn select(profiles: Vec<Profile>, wanted: &[String]) -> Result<Vec<Profile>, ServeError> {
    if wanted.is_empty() {
        return Ok(profiles);
    }
    if let Some(missing) = wanted
        .iter()
        .find(|w| profiles.iter().all(|p| &p.name != *w))
    {
        return Err(ServeError::UnknownProfile {
            name: missing.clone(),
            known: profiles.iter().map(|p| p.name.clone()).collect(),
        });
    }
    Ok(profiles
        .into_iter()
        .filter(|p| wanted.contains(&p.name))
        .collect())
}

/// The simulator on an ephemeral loopback port (HTTP only: nothing leaves the machine); also
/// what `demo` runs.
pub(crate) async fn start_sim(scenario: &str, speed: f64) -> Result<RunningSim, ServeError> {
    let options = SimOptions {
        speed,
        ..SimOptions::loopback(Scenario::load(scenario)?)
    };
    let running = sim::start(options).await?;
    let scenario = running.state.scenario();
    tracing::info!(
        scenario = %scenario.name,
        summary = %scenario.summary,
        graph = %running.base_url(),
        "simulator started"
    );
    Ok(running)
}

/// A profile for the simulated tenant, as an operator would configure it under the scenario
/// (its client id and secret may be the scenario's mistake), with its secret stored like any
/// other: a 0600 file.
pub fn sim_profile(
    running: &RunningSim,
    data_dir: &std::path::Path,
) -> Result<Profile, ServeError> {
    let state = &running.state;
    let secret_file = default_secret_path(data_dir, SIM_PROFILE)?;
    let secret: SecretString = state.configured_secret();
    store_secret_file(&secret_file, &secret)?;
    // The receiver's address must be in the subscription before it listens: a free loopback
    // port, released just before the collector binds it.
    let bind = free_loopback_port().map_err(ServeError::TempDir)?;
    let url_error = |error: url::ParseError| ServeError::SimUrl(error.to_string());
    let receiver: url::Url = format!("http://{bind}/").parse().map_err(url_error)?;
    let base: url::Url = running
        .base_url()
        .parse()
        .map_err(|error: url::ParseError| ServeError::SimUrl(error.to_string()))?;
    Ok(Profile {
        name: SIM_PROFILE.to_owned(),
        tenant: state.tenant.id.clone(),
        client_id: state.configured_client_id(),
        secret: SecretSource::File { path: secret_file },
        cloud: Cloud::Custom {
            authority: base.clone(),
            graph: base,
        },
        ca_file: None,
        notification_url: Some(receiver.join("notify").map_err(url_error)?),
        lifecycle_notification_url: Some(receiver.join("lifecycle").map_err(url_error)?),
        receiver_bind: Some(bind),
        encryption_certificate: None,
        encryption_key: None,
        store_bodies: false,
        subscription_scope: SubscriptionScope::Tenant,
        secret_expires: None,
        thresholds: Thresholds::default(),
    })
}

/// A loopback address with a port nobody listens on right now.
fn free_loopback_port() -> std::io::Result<std::net::SocketAddr> {
    std::net::TcpListener::bind(("127.0.0.1", 0))?.local_addr()
}
