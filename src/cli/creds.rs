//! Credential arguments: `creds` (add, list, test, remove a profile, with its cloud,
//! endpoints and secret source) and `keys` (rotate a profile's notification key pair). Parsing
//! only: what each does lives in `commands::creds` and `commands::keys`. A secret is never an
//! argument: only where to read it from (stdin, an environment variable, a command).
//!
//! Depends on clap and the URL and date types only; nothing else in the crate.

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use url::Url;

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
