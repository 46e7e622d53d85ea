//! The twins as `main` calls them: from parsed arguments to an exit code. Each gets its handle
//! ([`collector_handle`]), asks, writes its answer and closes the handle (an embedded
//! collector is shut down cleanly, on success and on error alike); a failure comes back as a
//! [`TwinFailure`] carrying its exit code.
//!
//! Depends on the CLI's argument types and the twins.

use std::io::Write;
use std::path::PathBuf;

use super::handle::{Attach, collector_handle};
use super::{TwinError, TwinFailure, export, status, subs};
use crate::cli::{ExportArgs, ExportFileFormat, StatusArgs, SubsArgs};
use crate::clock::SharedClock;
use crate::config::Paths;
use crate::console::{CollectorHandle, ExportFormat};

/// What every twin needs besides its arguments.
pub struct TwinContext<'a> {
    /// The configuration file and default data directory.
    pub paths: &'a Paths,
    /// How to reach a running collector.
    pub attach: &'a dyn Attach,
    /// The clock a collector started for the command runs on.
    pub clock: SharedClock,
}

impl std::fmt::Debug for TwinContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwinContext")
            .field("paths", &self.paths)
            .finish_non_exhaustive()
    }
}

impl TwinContext<'_> {
    /// Runs `ask` on a handle for the data directory `data_dir` (default: the XDG one), then
    /// closes the handle whatever `ask` answered.
    async fn with_handle<T>(
        &self,
        data_dir: Option<&PathBuf>,
        ask: impl AsyncFnOnce(&CollectorHandle) -> Result<T, TwinError>,
    ) -> Result<T, TwinError> {
        let data_dir = data_dir.unwrap_or(&self.paths.data_dir);
        let (handle, keepalive) =
            collector_handle(self.paths, data_dir, self.attach, self.clock.clone()).await?;
        let answer = ask(&handle).await;
        drop(handle);
        keepalive.close().await;
        answer
    }
}

/// `pilotwatch status`; the exit code is the worst severity shown.
pub async fn status(
    args: &StatusArgs,
    context: &TwinContext<'_>,
    out: &mut dyn Write,
) -> Result<u8, TwinFailure> {
    context
        .with_handle(args.data_dir.as_ref(), async |handle| {
            status::run(handle, args.profile.as_deref(), args.json, out).await
        })
        .await
        .map_err(TwinFailure::status)
}

/// `pilotwatch subs`; the exit code is the worst mark shown.
pub async fn subs(
    args: &SubsArgs,
    context: &TwinContext<'_>,
    out: &mut dyn Write,
) -> Result<u8, TwinFailure> {
    context
        .with_handle(args.data_dir.as_ref(), async |handle| {
            subs::run(handle, args.profile.as_deref(), args.json, out).await
        })
        .await
        .map_err(TwinFailure::subs)
}

/// `pilotwatch export`: bad input is refused before any collector is asked or started.
pub async fn export(
    args: &ExportArgs,
    context: &TwinContext<'_>,
    out: &mut dyn Write,
) -> Result<u8, TwinFailure> {
    let failed = TwinFailure::export;
    let format = match args.format {
        ExportFileFormat::Jsonl => ExportFormat::Jsonl,
        ExportFileFormat::Csv => ExportFormat::Csv,
    };
    let filter = export::parse_filter(args.filter.as_deref()).map_err(failed)?;
    export::check_target(&args.output, format).map_err(failed)?;
    context
        .with_handle(args.data_dir.as_ref(), async |handle| {
            export::run(handle, filter, format, &args.output, out).await
        })
        .await
        .map_err(failed)?;
    Ok(0)
}
