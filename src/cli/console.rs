//! The console's arguments: the options every console shares (theme, mouse, read-only), a
//! bare `pilotwatch`'s, and `pilotwatch demo`'s (scenario, speed). Parsing only: what the
//! console does with them lives in `commands` and `tui`.
//!
//! Depends on clap only; nothing else in the crate.

use std::path::PathBuf;

use clap::Args;

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
