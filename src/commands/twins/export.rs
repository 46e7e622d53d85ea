//! `pilotwatch export [--filter "app:teams user:… type:prompt text"] [--format jsonl|csv]
//! --output PATH`: the interactions matching the filter, newest first, written here.
//!
//! The rows are paged through the collector handle ([`FeedQuery`], at most
//! [`MAX_PAGE_ROWS`] a page), so it works the same attached over the control socket, where the
//! collector never writes files on a client's behalf, as embedded. A rare filter's short page
//! comes with a cursor and the paging simply continues; it ends when a page has no cursor.
//! Rows stream into the shared [`ExportFile`]: a temporary file beside the target, linked into
//! place only when complete and only if the name is still free. Bad input (filter syntax, an
//! existing file, a missing directory) is refused before the collector is asked anything; a
//! failure half-way leaves no file and no temporary file.
//!
//! Depends on the console's query types and filter syntax and the embedded backend's export
//! writer.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::TwinError;
use crate::console::embedded::export::ExportFile;
use crate::console::embedded::feed::MAX_PAGE_ROWS;
use crate::console::query::filter;
use crate::console::{CollectorHandle, ConsoleError, ExportFormat, FeedFilter, FeedQuery};
use crate::terminal_text::printable_line;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Rows written.
    pub rows: u64,
    /// Where.
    pub path: PathBuf,
    /// Pages asked for.
    pub pages: u64,
}

/// A parsed `--filter` (blank: everything); bad syntax is an error naming the problem.
pub fn parse_filter(text: Option<&str>) -> Result<FeedFilter, TwinError> {
    Ok(filter::parse(text.unwrap_or_default())?)
}

/// Refuses `path` before the collector is asked (an existing name, a missing directory): the
/// same rules the writer applies, checked early so an operator is told at once.
pub fn check_target(path: &Path, format: ExportFormat) -> Result<(), TwinError> {
    // Creating the writer is the check; dropping it removes its empty temporary file.
    drop(ExportFile::create(path, format)?);
    Ok(())
}

/// Pages every interaction matching `filter` through `handle` into a new file at `path`.
pub async fn export(
    handle: &CollectorHandle,
    filter: FeedFilter,
    format: ExportFormat,
    path: &Path,
) -> Result<Exported, TwinError> {
    let mut file = ExportFile::create(path, format)?;
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = handle
            .feed(FeedQuery {
                filter: filter.clone(),
                after: after.clone(),
                limit: MAX_PAGE_ROWS,
            })
            .await?;
        pages += 1;
        for record in &page.rows {
            file.write(record)?;
        }
        match page.next {
            // A backend that hands back the cursor it was given would page forever.
            Some(next) if after.as_ref() == Some(&next) => {
                return Err(TwinError::Console(ConsoleError::Failed(
                    "the feed did not move past its cursor".to_owned(),
                )));
            }
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let rows = file.finish()?;
    Ok(Exported {
        rows,
        path: path.to_owned(),
        pages,
    })
}

/// Runs the export and says how many rows went where.
pub async fn run(
    handle: &CollectorHandle,
    filter: FeedFilter,
    format: ExportFormat,
    path: &Path,
    out: &mut dyn Write,
) -> Result<(), TwinError> {
    let exported = export(handle, filter, format, path).await?;
    let format = match format {
        ExportFormat::Jsonl => "JSON lines",
        ExportFormat::Csv => "CSV",
    };
    writeln!(
        out,
        "exported {} interaction{} to {} ({format})",
        exported.rows,
        if exported.rows == 1 { "" } else { "s" },
        printable_line(&exported.path.display().to_string())
    )?;
    out.flush()?;
    Ok(())
}
