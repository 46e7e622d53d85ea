//! Command-line definitions (clap). Parsing only: what each command does lives in `commands`.
//!
//! This file owns the top level (global options, the subcommand list, and a bare
//! `pilotwatch` meaning the console); each family's arguments live beside it: `console`
//! (the console and `demo`), `twins` (`check`, `status`, `subs`, `export`), `creds`
//! (`creds`, `keys`) and `serve` (`serve`, `sim`). Every type is re-exported here, so
//! callers name `cli::ServeArgs` whatever file it lives in.
//!
//! Depends on nothing else in the crate.

mod console;
mod creds;
mod serve;
mod twins;

use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

pub use console::{ConsoleArgs, DemoArgs, TuiArgs};
pub use creds::{CloudName, CredsAddArgs, CredsArgs, CredsCommand, KeysArgs, KeysCommand};
pub use serve::{ServeArgs, SimArgs, StatusBind};
pub use twins::{CheckArgs, ExportArgs, ExportFileFormat, StatusArgs, SubsArgs};

/// pilotwatch: the operations console for Microsoft 365 Copilot interaction export.
///
/// Run without a command to open the console.
#[derive(Debug, Parser)]
#[command(name = "pilotwatch", version, about, long_about = None)]
struct CliArgs {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `pilotwatch=debug` [default:
    /// `info` for serve, sim and the console (whose lines go to its log file); `warn` for
    /// one-shot commands, whose answer is their output]
    #[arg(long, global = true, env = "PILOTWATCH_LOG")]
    log: Option<String>,

    /// Configuration file to use instead of `$XDG_CONFIG_HOME/pilotwatch/config.toml`.
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,

    /// The running collector's control socket, instead of looking at
    /// /run/pilotwatch/control.sock then $XDG_RUNTIME_DIR/pilotwatch/control.sock. Views
    /// given one attach there or fail; they never start their own collector.
    #[arg(long, global = true, value_name = "PATH")]
    control_socket: Option<PathBuf>,

    /// The console's options, when no command is given.
    #[command(flatten)]
    tui: TuiArgs,

    /// What to run (default: the console).
    #[command(subcommand)]
    command: Option<Command>,
}

/// The parsed command line. A bare `pilotwatch` (flags allowed, no command) is
/// [`Command::Tui`], so every caller matches on one `command`.
#[derive(Debug)]
pub struct Cli {
    /// Log filter (tracing `EnvFilter` syntax).
    pub log: String,
    /// Configuration file to use instead of the XDG one.
    pub config: Option<PathBuf>,
    /// The control socket to attach to instead of the usual places (`--control-socket`).
    pub control_socket: Option<PathBuf>,
    /// What to run.
    pub command: Command,
}

impl From<CliArgs> for Cli {
    fn from(args: CliArgs) -> Self {
        let command = args.command.unwrap_or(Command::Tui(args.tui));
        Self {
            log: args.log.unwrap_or_else(|| command.default_log().to_owned()),
            config: args.config,
            control_socket: args.control_socket,
            command,
        }
    }
}

impl Command {
    /// The log filter when neither `--log` nor `PILOTWATCH_LOG` gives one. The long-running
    /// commands say what they do as they go; a one-shot command's answer is its output, so
    /// its standard error carries only what went wrong (`status` starting a collector of its
    /// own must not bury its report under the collector's start-up lines).
    pub fn default_log(&self) -> &'static str {
        match self {
            Self::Serve(_) | Self::Sim(_) | Self::Tui(_) | Self::Demo(_) => "info",
            Self::Creds(_)
            | Self::Keys(_)
            | Self::Check(_)
            | Self::Status(_)
            | Self::Subs(_)
            | Self::Export(_)
            | Self::Unit => "warn",
        }
    }
}

impl CommandFactory for Cli {
    fn command() -> clap::Command {
        CliArgs::command()
    }

    fn command_for_update() -> clap::Command {
        CliArgs::command_for_update()
    }
}

impl FromArgMatches for Cli {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let args = CliArgs::from_arg_matches(matches)?;
        // Global options (`--log`, `--config`) go anywhere; the console's own only where the
        // console runs, so `pilotwatch --theme light check` is not silently half-obeyed.
        if args.command.is_some() && args.tui != TuiArgs::default() {
            return Err(CliArgs::command().error(
                clap::error::ErrorKind::ArgumentConflict,
                "--profile, --theme, --mouse, --readonly and --data-dir before a command belong \
                 to the console; give them after the command instead",
            ));
        }
        Ok(Self::from(args))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Parser for Cli {}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the collector headless: receiver, subscription keeper, poller and store.
    Serve(ServeArgs),
    /// Run the Microsoft Graph simulator alone (identity platform, Graph, notification pusher).
    Sim(SimArgs),
    /// Manage credential profiles: add, list, test, remove.
    Creds(CredsArgs),
    /// Manage the encryption key pairs Graph encrypts rich notifications for.
    Keys(KeysArgs),
    /// Diagnose every profile (or one) and print a Nagios status line: from the running
    /// collector when there is one, otherwise straight from Graph. Exit 0 OK, 1 WARNING,
    /// 2 CRITICAL, 3 UNKNOWN.
    Check(CheckArgs),
    /// One screen of status per profile (verdict, credentials, subscriptions, store) from the
    /// running collector, or one started for the moment. Exit 0 OK, 1 WARNING, 2 CRITICAL,
    /// 3 UNKNOWN.
    Status(StatusArgs),
    /// The subscriptions table (expiry, renewals, delivery) per profile. Exit 0 OK,
    /// 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    Subs(SubsArgs),
    /// Write the stored interactions matching a filter to a new file (JSON lines or CSV).
    Export(ExportArgs),
    /// Open the console (what a bare `pilotwatch` does): attach to a running collector, or
    /// start one embedded for the configured profiles.
    Tui(TuiArgs),
    /// Simulator, collector and console in one process, with a temporary store and no
    /// configuration: the first thing to run.
    Demo(DemoArgs),
    /// Print the systemd unit that runs `pilotwatch serve` as a service (for
    /// `pilotwatch unit | sudo tee /etc/systemd/system/pilotwatch.service`).
    Unit,
}
