//! The feed's one-line prompts: the `/` filter (prefilled with the filter applied) and the
//! `e` export path (prefilled with `./pilotwatch-export-<time>.jsonl`; the extension picks
//! the format, `.jsonl` or `.csv`). A bad answer keeps the prompt open with the reason.
//!
//! Pure; depends on the console's command types, chrono and tui-input only.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use tui_input::Input;

use super::filter;
use crate::console::{Command, ExportFormat, FeedFilter};

/// What a prompt asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// The filter.
    Filter,
    /// Where to export (and, by its extension, in which format).
    Export,
}

/// A prompt being typed in.
#[derive(Debug, Clone)]
pub struct Prompt {
    /// What it asks for.
    pub kind: PromptKind,
    /// The text.
    pub input: Input,
    /// Why the last Enter was refused.
    pub error: Option<String>,
}

impl Prompt {
    /// The filter prompt, holding `current` in the filter syntax.
    pub fn filter(current: &FeedFilter) -> Self {
        Self {
            kind: PromptKind::Filter,
            input: Input::new(filter::to_syntax(current)),
            error: None,
        }
    }

    /// The export prompt, holding a fresh file name stamped with `now`.
    pub fn export(now: DateTime<Utc>) -> Self {
        Self {
            kind: PromptKind::Export,
            input: Input::new(default_export_path(now)),
            error: None,
        }
    }

    /// The label before the text.
    pub fn label(&self) -> &'static str {
        match self.kind {
            PromptKind::Filter => "filter: ",
            PromptKind::Export => "export to: ",
        }
    }

    /// What the prompt accepts, for the line under it.
    pub fn hint(&self) -> &'static str {
        match self.kind {
            PromptKind::Filter => "app:teams user:adele type:prompt free text · blank for all",
            PromptKind::Export => ".jsonl for JSON lines, .csv for CSV · never overwrites",
        }
    }
}

/// `./pilotwatch-export-20261122-080000.jsonl`.
pub fn default_export_path(now: DateTime<Utc>) -> String {
    format!("./pilotwatch-export-{}.jsonl", now.format("%Y%m%d-%H%M%S"))
}

/// The export command for `path` (trimmed) and `filter`, with its running label; or why not.
pub fn export_command(path: &str, filter: &FeedFilter) -> Result<(Command, String), String> {
    let path = path.trim();
    if path.is_empty() {
        return Err("give a file name".into());
    }
    let extension = Path::new(path)
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_lowercase);
    let format = match extension.as_deref() {
        Some("jsonl" | "ndjson") => ExportFormat::Jsonl,
        Some("csv") => ExportFormat::Csv,
        _ => {
            return Err(
                "end the file name in .jsonl or .csv (the extension picks the format)".into(),
            );
        }
    };
    let label = format!("exporting to {path}");
    Ok((
        Command::Export {
            filter: filter.clone(),
            format,
            path: PathBuf::from(path),
        },
        label,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn the_extension_picks_the_format() {
        let filter = FeedFilter {
            app: Some("word".into()),
            ..FeedFilter::default()
        };
        for (path, expected) in [
            ("out.jsonl", ExportFormat::Jsonl),
            (" a/b.CSV ", ExportFormat::Csv),
        ] {
            let (command, _) = export_command(path, &filter).unwrap();
            let Command::Export {
                filter: sent,
                format,
                path: written,
            } = command
            else {
                panic!("not an export");
            };
            assert_eq!(format, expected);
            assert_eq!(sent, filter);
            assert_eq!(written, PathBuf::from(path.trim()));
        }
        assert!(
            export_command("out.txt", &filter)
                .unwrap_err()
                .contains(".csv")
        );
        assert!(export_command("  ", &filter).is_err());
    }

    #[test]
    fn the_default_path_is_stamped_and_exportable() {
        let now = "2026-11-22T08:00:00Z".parse().unwrap();
        let path = default_export_path(now);
        assert_eq!(path, "./pilotwatch-export-20261122-080000.jsonl");
        assert!(export_command(&path, &FeedFilter::default()).is_ok());
    }
}
