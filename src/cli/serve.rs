//! The long-running processes' arguments: `pilotwatch serve` (the collector daemon: its data
//! directory, receiver and status listeners) and `pilotwatch sim` (the Graph simulator's HTTP
//! and HTTPS listeners and scenario). Parsing only: what each runs lives in `commands`.
//!
//! Depends on clap only; nothing else in the crate.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// `pilotwatch sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Plain HTTP listen address (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7780")]
    pub listen: SocketAddr,

    /// HTTPS listen address (port 0 picks a free port); the certificate is generated at start.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7443")]
    pub https_listen: SocketAddr,

    /// Write the PEM of the CA behind the HTTPS listener to FILE.
    #[arg(long, value_name = "FILE")]
    pub ca_out: Option<PathBuf>,

    /// Write the simulated tenant (addresses, ids, app registration, users) as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub tenant_out: Option<PathBuf>,

    /// Scenario: a built-in name (see `--list-scenarios`) or a path to a TOML file.
    #[arg(long, value_name = "NAME|PATH", default_value = "healthy")]
    pub scenario: String,

    /// Run simulated time N times faster than real time.
    #[arg(long, value_name = "N", default_value_t = 1.0)]
    pub speed: f64,

    /// Seed for the tenant and everything random.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,

    /// Trust the CA certificates in FILE (PEM) for https:// notification URLs.
    #[arg(long, value_name = "FILE")]
    pub receiver_ca: Option<PathBuf>,

    /// List the built-in scenarios and exit.
    #[arg(long)]
    pub list_scenarios: bool,
}

/// `pilotwatch serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Collect for these profiles only (repeatable; default: every profile).
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,

    /// Start the Graph simulator in-process with this scenario and point the collector at it
    /// instead of the configured profiles (no configuration needed).
    #[arg(long, value_name = "SCENARIO")]
    pub sim: Option<String>,

    /// With --sim: run simulated time N times faster than real time.
    #[arg(long, value_name = "N", default_value_t = 1.0, requires = "sim")]
    pub speed: f64,

    /// Keep the store, keys and secret files here (default: the XDG data directory; with --sim,
    /// a fresh temporary directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Serve /metrics and /diagnosis.json on this address, or `off` [default: 127.0.0.1:9464,
    /// skipped with a warning when taken]. Bodies hold no secret, but keep it on loopback
    /// unless a scraper elsewhere needs it.
    #[arg(long, value_name = "ADDR|off")]
    pub status_bind: Option<StatusBind>,

    /// Listen for views and CLI twins on this control socket [default:
    /// $RUNTIME_DIRECTORY/control.sock under systemd, else
    /// $XDG_RUNTIME_DIR/pilotwatch/control.sock].
    #[arg(long, value_name = "PATH", conflicts_with = "no_control")]
    pub control_socket: Option<PathBuf>,

    /// Run without a control socket: nothing can attach (views then start their own
    /// collector, which the store's lock refuses while this one runs).
    #[arg(long)]
    pub no_control: bool,
}

/// Where `serve` listens for status requests, as `--status-bind` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusBind {
    /// `off`: no status listener.
    Off,
    /// An address.
    At(SocketAddr),
}

impl std::str::FromStr for StatusBind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("off") {
            return Ok(StatusBind::Off);
        }
        text.parse().map(StatusBind::At).map_err(|_| {
            format!("expected an address such as 127.0.0.1:9464, or `off`; got {text:?}")
        })
    }
}
