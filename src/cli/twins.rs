//! The scriptable twins' arguments: `check`, `status`, `subs` and `export`, each naming a
//! profile (or all), an output (text or `--json`, a file to export to) and where a collector
//! keeps its data. Parsing only: what each twin does lives in `commands`.
//!
//! Depends on clap only; nothing else in the crate.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

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

    /// The collector's data directory: where a collector announces its status endpoint (asked
    /// when its control socket is absent or will not take this user) and holds its store's
    /// lock (default: the XDG data directory).
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
