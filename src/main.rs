//! The `pilotwatch` binary: parse the command line, set up logging and panic reporting, and hand
//! over to the library. Errors an operator can fix are printed as one plain sentence (with their
//! causes), never as a backtrace; backtraces are for panics, which are bugs.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use pilotwatch::cli::{Cli, Command, ConsoleArgs, CredsCommand};
use pilotwatch::clock::SystemClock;
use pilotwatch::commands::check::CheckError;
use pilotwatch::commands::creds::{CredsContext, CredsError, TerminalInput};
use pilotwatch::commands::logging::{self, LogTo};
use pilotwatch::commands::twins::run::TwinContext;
use pilotwatch::commands::twins::{ControlSocket, TwinFailure};
use pilotwatch::config::Paths;
use pilotwatch::terminal_text::printable_lines;
use pilotwatch::tui::TuiOptions;

/// Exit code of a command line that does not parse (sysexits' EX_USAGE).
const EXIT_USAGE: u8 = 64;

fn main() -> ExitCode {
    // Panic reports only: a panic is a bug and deserves the full story.
    if let Err(error) = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install()
    {
        eprintln!("pilotwatch: cannot install the panic reporter: {error}");
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` print and succeed. A usage error exits 64 (EX_USAGE), not
            // clap's 2: 2 means CRITICAL to a monitoring system and "credentials refused" to
            // `creds add`, and anything above 3 reads as UNKNOWN.
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            // Errors quote the network and the configuration: print no control characters.
            eprintln!("pilotwatch: {}", printable_lines(&error.to_string()));
            let mut source = error.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {}", printable_lines(&cause.to_string()));
                source = cause.source();
            }
            // Refused credentials have their own code, so scripts can tell them apart; a check
            // that cannot run is UNKNOWN to monitoring.
            if let Some(creds) = error.downcast_ref::<CredsError>() {
                return ExitCode::from(creds.exit_code());
            }
            if let Some(twin) = error.downcast_ref::<TwinFailure>() {
                return ExitCode::from(twin.exit_code());
            }
            match error.downcast_ref::<CheckError>() {
                Some(check) => ExitCode::from(check.exit_code()),
                None => ExitCode::FAILURE,
            }
        }
    }
}

/// The console's options from its flags and `NO_COLOR`.
fn console_options(
    profile: Option<String>,
    console: &ConsoleArgs,
) -> Result<TuiOptions, pilotwatch::tui::ThemeError> {
    TuiOptions::new(
        profile,
        console.theme.as_deref(),
        pilotwatch::tui::no_color(std::env::var_os("NO_COLOR").as_deref()),
        console.mouse,
        console.readonly,
    )
}

/// What the CLI twins run with: they attach to a running collector through the control
/// socket, and start one of their own only when none runs.
fn twin_context<'a>(paths: &'a Paths, socket: &'a ControlSocket) -> TwinContext<'a> {
    TwinContext {
        paths,
        attach: socket,
        clock: Arc::new(SystemClock),
    }
}

/// The control socket a twin of `kind` looks for.
fn control_socket(
    flag: Option<&std::path::Path>,
    paths: &Paths,
    kind: &'static str,
) -> ControlSocket {
    ControlSocket {
        flag: flag.map(std::path::Path::to_path_buf),
        candidates: pilotwatch::control::client::default_candidates(paths.runtime_dir.as_deref()),
        kind,
        handshake: pilotwatch::control::client::HANDSHAKE_TIMEOUT,
    }
}

/// Runs the command; `Ok` carries the exit code of a command that finished (a report's
/// severity, for the Nagios-style checks).
fn run(cli: Cli) -> Result<u8, Box<dyn std::error::Error>> {
    let paths = match &cli.config {
        Some(config_file) => Paths::with_config(config_file),
        None => Paths::discover(),
    };
    // The collector also logs to a rolling file under the state directory; every other
    // command logs to standard error only.
    let log_dir = paths
        .as_ref()
        .ok()
        .and_then(|paths| paths.state_dir.as_ref())
        .map(|dir| dir.join("logs"));
    let log_to = match &cli.command {
        Command::Serve(_) => log_dir
            .as_deref()
            .map_or(LogTo::Stderr, LogTo::StderrAndFile),
        // The console draws on the terminal: its log lines go to the file only.
        Command::Tui(_) | Command::Demo(_) => LogTo::FileOnly(log_dir.as_deref()),
        _ => LogTo::Stderr,
    };
    let _log_guard = logging::init_to(&cli.log, log_to)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Sim(args) => {
                pilotwatch::commands::sim::run(args).await?;
                Ok(0)
            }
            Command::Serve(args) => {
                pilotwatch::commands::serve::run(args, &paths?).await?;
                Ok(0)
            }
            Command::Check(args) => {
                // A check that cannot even find its files is UNKNOWN, not a generic failure.
                let paths = paths.map_err(CheckError::from)?;
                let socket = ControlSocket {
                    handshake: pilotwatch::commands::check::HANDSHAKE_TIMEOUT,
                    ..control_socket(cli.control_socket.as_deref(), &paths, "check")
                };
                let mut stdout = std::io::stdout().lock();
                let clock = Arc::new(SystemClock);
                Ok(
                    pilotwatch::commands::check::run(&args, &paths, clock, &socket, &mut stdout)
                        .await?,
                )
            }
            Command::Status(args) => {
                let paths = paths.map_err(|error| TwinFailure::status(error.into()))?;
                let socket = control_socket(cli.control_socket.as_deref(), &paths, "status");
                let context = twin_context(&paths, &socket);
                let mut stdout = std::io::stdout().lock();
                Ok(pilotwatch::commands::twins::run::status(&args, &context, &mut stdout).await?)
            }
            Command::Subs(args) => {
                let paths = paths.map_err(|error| TwinFailure::subs(error.into()))?;
                let socket = control_socket(cli.control_socket.as_deref(), &paths, "subs");
                let context = twin_context(&paths, &socket);
                let mut stdout = std::io::stdout().lock();
                Ok(pilotwatch::commands::twins::run::subs(&args, &context, &mut stdout).await?)
            }
            Command::Export(args) => {
                let paths = paths.map_err(|error| TwinFailure::export(error.into()))?;
                let socket = control_socket(cli.control_socket.as_deref(), &paths, "export");
                let context = twin_context(&paths, &socket);
                let mut stdout = std::io::stdout().lock();
                Ok(pilotwatch::commands::twins::run::export(&args, &context, &mut stdout).await?)
            }
            Command::Keys(args) => {
                let mut stdout = std::io::stdout().lock();
                pilotwatch::commands::keys::run(args.command, &paths?, &mut stdout).await?;
                Ok(0)
            }
            Command::Tui(args) => {
                let options = console_options(args.profile.clone(), &args.console)?;
                pilotwatch::commands::console::console(
                    args,
                    cli.control_socket.as_deref(),
                    paths?,
                    options,
                )
                .await?;
                Ok(0)
            }
            Command::Demo(args) => {
                let options = console_options(None, &args.console)?;
                pilotwatch::commands::console::demo(args, options).await?;
                Ok(0)
            }
            Command::Unit => {
                let binary = std::env::current_exe()?;
                pilotwatch::commands::unit::run(&binary, &mut std::io::stdout().lock())?;
                Ok(0)
            }
            Command::Creds(args) => {
                let paths = match paths.map_err(CredsError::from) {
                    Ok(paths) => paths,
                    // A check that cannot even find its files is UNKNOWN, not WARNING.
                    Err(error) if matches!(args.command, CredsCommand::Test { .. }) => {
                        return Err(error.untestable().into());
                    }
                    Err(error) => return Err(error.into()),
                };
                let context = CredsContext {
                    paths,
                    clock: Arc::new(SystemClock),
                };
                let mut stdout = std::io::stdout().lock();
                Ok(pilotwatch::commands::creds::run(
                    args.command,
                    &context,
                    &mut TerminalInput,
                    &mut stdout,
                )
                .await?)
            }
        }
    })
}
