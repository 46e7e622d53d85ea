//! The `pilotwatch` binary: parse the command line, set up logging and error reporting, and hand
//! over to the library.

use clap::Parser as _;
use pilotwatch::cli::{Cli, Command};
use tracing_subscriber::EnvFilter;

fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    let cli = Cli::parse();
    let filter = EnvFilter::try_new(&cli.log)
        .map_err(|error| color_eyre::eyre::eyre!("invalid --log filter {:?}: {error}", cli.log))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Sim(args) => pilotwatch::commands::sim::run(args).await?,
        }
        Ok(())
    })
}
