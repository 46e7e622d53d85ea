//! Command-line definitions (clap). Parsing only: what each command does lives in `commands`.
//!
//! Depends on nothing else in the crate.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{ArgGroup, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use url::Url;

/// pilotwatch: the operations console for Microsoft 365 Copilot interaction export.
///
/// Run without a command to open the console.
#[derive(Debug, Parser)]
#[command(name = "pilotwatch", version, about, long_about = None)]
struct CliArgs {
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `pilotwatch=debug`.
    #[arg(long, global = true, env = "PILOTWATCH_LOG", default_value = "info")]
    log: String,

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
        Self {
            log: args.log,
            config: args.config,
            control_socket: args.control_socket,
            command: args.command.unwrap_or(Command::Tui(args.tui)),
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

/// The console's own options, shared by `pilotwatch` and `pilotwatch demo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct ConsoleArgs {
    /// Colours: a built-in theme (`default`, `light`, `mono`) or a path to a theme file.
    /// `NO_COLOR` forces `mono`.
    #[arg(long, value_name = "NAME|PATH")]
    pub theme: Option<String>,

    /// Capture the mouse (off by default, so the terminal's copy and paste work).
    #[arg(long)]
    pub mouse: bool,

    /// Show only: refuse every command that would change something.
    #[arg(long)]
    pub readonly: bool,
}

/// `pilotwatch` (no command): the console.
#[derive(Debug, Clone, Default, PartialEq, Eq, Args)]
pub struct TuiArgs {
    /// Start on this profile.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// The collector's data directory, where a running collector announces itself and an
    /// embedded one keeps its store (default: the XDG data directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Theme, mouse and read-only.
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// `pilotwatch demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The scenario the simulator starts with (switch later with `:scenario NAME`).
    #[arg(long, value_name = "NAME", default_value = "healthy")]
    pub scenario: String,

    /// Run simulated time N times faster than real time.
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = positive_speed)]
    pub speed: f64,

    /// Theme, mouse and read-only.
    #[command(flatten)]
    pub console: ConsoleArgs,
}

fn positive_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!(
            "expected a positive number such as 1 or 60; got {text:?}"
        )),
    }
}

/// `pilotwatch check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check this profile only (default: every profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Print the status, exit code and verdicts as JSON.
    #[arg(long)]
    pub json: bool,

    /// Also print each profile's diagnosis: the ladder and every finding with its fix.
    #[arg(long)]
    pub verbose: bool,

    /// The collector's data directory, where a running collector announces itself (default:
    /// the XDG data directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `pilotwatch status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// This profile only (default: every profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Print the status word, exit code and the collector's snapshot as JSON.
    #[arg(long)]
    pub json: bool,

    /// The collector's data directory, used when no collector runs (default: the XDG data
    /// directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// `pilotwatch subs`.
#[derive(Debug, Args)]
pub struct SubsArgs {
    /// This profile only (default: every profile).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,

    /// Print the subscriptions as JSON.
    #[arg(long)]
    pub json: bool,

    /// The collector's data directory, used when no collector runs (default: the XDG data
    /// directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Export file formats, as `--format` spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum ExportFileFormat {
    /// One JSON object per line.
    #[default]
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// `pilotwatch export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which interactions, in the feed's filter syntax: `app:teams user:adele type:prompt
    /// free text` (quote values with spaces or colons). Default: all.
    #[arg(long, value_name = "FILTER")]
    pub filter: Option<String>,

    /// The file format.
    #[arg(long, value_enum, default_value_t = ExportFileFormat::Jsonl)]
    pub format: ExportFileFormat,

    /// The file to create; an existing file is never overwritten.
    #[arg(long, value_name = "PATH")]
    pub output: PathBuf,

    /// The collector's data directory, used when no collector runs (default: the XDG data
    /// directory).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
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

/// `pilotwatch keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: KeysCommand,
}

/// `pilotwatch keys` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a new certificate and key for a profile, keeping the old pair as previous; the
    /// collector moves the subscriptions to the new certificate.
    Rotate {
        /// The profile (may be left out when only one is configured).
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// The collector's data directory, where generated keys live (default: the XDG data
        /// directory).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
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

/// `pilotwatch creds`.
#[derive(Debug, Args)]
pub struct CredsArgs {
    /// What to do with the profiles.
    #[command(subcommand)]
    pub command: CredsCommand,
}

/// The `creds` subcommands.
#[derive(Debug, Subcommand)]
pub enum CredsCommand {
    /// Add a profile; its credentials are checked against the identity platform before saving.
    Add(Box<CredsAddArgs>),
    /// List the profiles, showing each secret only as its three-character hint.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Diagnose a profile's credentials (all profiles when NAME is omitted).
    Test {
        /// The profile to test.
        name: Option<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a profile, and the secret file pilotwatch created for it.
    Rm {
        /// The profile to remove.
        name: String,
    },
}

/// A well-known Microsoft cloud, as `--cloud` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudName {
    /// Microsoft's global service.
    Public,
    /// US Government L4 (GCC High).
    #[value(name = "usgov-l4")]
    UsGovL4,
    /// US Government L5 (DoD).
    #[value(name = "usgov-l5")]
    UsGovL5,
}

/// `pilotwatch creds add`.
#[derive(Debug, Default, Args)]
#[command(group(ArgGroup::new("secret_source").args(["secret_stdin", "secret_env", "secret_command"])))]
pub struct CredsAddArgs {
    /// Profile name: 1 to 64 letters, digits, `-` or `_` (prompted for when omitted on a terminal).
    pub name: Option<String>,

    /// Directory (tenant) id GUID or verified domain (prompted for when omitted on a terminal).
    #[arg(long, value_name = "T")]
    pub tenant: Option<String>,

    /// Application (client) id GUID (prompted for when omitted on a terminal).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,

    /// A well-known cloud [default: public].
    #[arg(long, value_name = "CLOUD", conflicts_with_all = ["authority", "graph_url"])]
    pub cloud: Option<CloudName>,

    /// Custom login authority root, e.g. the simulator's `http://127.0.0.1:7780`.
    #[arg(long, value_name = "URL", requires = "graph_url")]
    pub authority: Option<Url>,

    /// Custom Graph service root, without `/v1.0`.
    #[arg(long, value_name = "URL", requires = "authority")]
    pub graph_url: Option<Url>,

    /// Extra CA certificates (PEM) to trust for both endpoints.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Read the secret from standard input (one line) instead of prompting.
    #[arg(long)]
    pub secret_stdin: bool,

    /// Read the secret from this environment variable whenever it is needed (nothing is stored).
    #[arg(long, value_name = "VAR")]
    pub secret_env: Option<String>,

    /// Run this command (no shell) whenever the secret is needed; its output is the secret.
    /// Must come last: every word after it belongs to the command.
    #[arg(long, value_name = "PROG [ARG]...", num_args = 1.., allow_hyphen_values = true)]
    pub secret_command: Option<Vec<String>>,

    /// When the secret expires (YYYY-MM-DD), for when Graph cannot tell.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub secret_expires: Option<NaiveDate>,

    /// Public URL Graph posts change notifications to.
    #[arg(long, value_name = "URL")]
    pub notification_url: Option<Url>,

    /// Local address the notification receiver listens on.
    #[arg(long, value_name = "ADDR")]
    pub receiver_bind: Option<SocketAddr>,

    /// Overwrite an existing profile of the same name.
    #[arg(long)]
    pub replace: bool,

    /// Save even when the credentials cannot be validated.
    #[arg(long)]
    pub force: bool,
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
