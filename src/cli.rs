//! Command-line definitions (clap). Parsing only: what each command does lives in `commands`.
//!
//! Depends on nothing else in the crate.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// pilotwatch: the operations console for Microsoft 365 Copilot interaction export.
#[derive(Debug, Parser)]
#[command(name = "pilotwatch", version, about, long_about = None)]
pub struct Cli {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `pilotwatch=debug`.
    #[arg(long, global = true, env = "PILOTWATCH_LOG", default_value = "info")]
    pub log: String,

    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Microsoft Graph simulator alone (identity platform, Graph, notification pusher).
    Sim(SimArgs),
}

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
