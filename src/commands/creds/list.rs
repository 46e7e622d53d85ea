//! `pilotwatch creds list`: every profile with its tenant, client id, secret source and cloud,
//! the secret shown only as the three-character hint the Azure portal shows (or why it cannot be
//! read), as a table or as JSON.
//!
//! Depends on `config` and `secret`; reads secrets only to compute their hint, each with a short
//! timeout, all at once.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Cloud, Config, Profile};
use crate::secret::{SecretSource, hint};
use crate::terminal_text::printable_line;

use super::{CredsContext, CredsError, describe_cloud};

/// How long a secret command may run when all it is needed for is a hint.
pub const HINT_TIMEOUT: Duration = Duration::from_secs(3);

/// What the SECRET column says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretStatus {
    /// The secret loaded; its first three characters (empty for a secret too short to show any).
    Hint(String),
    /// The secret could not be loaded, and why.
    Unreadable(String),
}

/// Where a secret is read from, as shown to the operator: a command's program but never its
/// arguments, which may carry tokens (the same rule as [`SecretSource`]'s `Display`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceView {
    /// A secret file.
    File {
        /// The file.
        path: std::path::PathBuf,
    },
    /// An environment variable.
    Env {
        /// Its name.
        var: String,
    },
    /// A command.
    Command {
        /// The program only.
        program: Option<String>,
    },
}

impl From<&SecretSource> for SourceView {
    fn from(source: &SecretSource) -> Self {
        match source {
            SecretSource::File { path } => Self::File { path: path.clone() },
            SecretSource::Env { var } => Self::Env { var: var.clone() },
            SecretSource::Command { argv } => Self::Command {
                program: argv.first().cloned(),
            },
        }
    }
}

/// One row of the listing.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileRow {
    /// Profile name.
    pub name: String,
    /// Tenant id or domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// The secret's hint, or why it is unreadable.
    pub secret: SecretStatus,
    /// Where the secret is read from.
    pub source: SourceView,
    /// The cloud, as configured.
    pub cloud: Cloud,
}

/// Runs `creds list`.
pub async fn run(
    context: &CredsContext,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CredsError> {
    let config = Config::load(&context.paths.config_file)?;
    let rows = rows(&config.profiles).await;
    if json {
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
    } else if rows.is_empty() {
        writeln!(out, "no profiles; add one with `pilotwatch creds add`")?;
    } else {
        write_table(out, &rows)?;
    }
    Ok(())
}

/// The rows for `profiles`, their secrets loaded concurrently off the async runtime.
pub async fn rows(profiles: &[Profile]) -> Vec<ProfileRow> {
    let loads: Vec<_> = profiles
        .iter()
        .map(|profile| {
            let source = profile.secret.clone();
            tokio::task::spawn_blocking(move || match source.load_with_timeout(HINT_TIMEOUT) {
                Ok(secret) => SecretStatus::Hint(hint(&secret)),
                Err(error) => SecretStatus::Unreadable(error.to_string()),
            })
        })
        .collect();
    let mut rows = Vec::with_capacity(profiles.len());
    for (profile, load) in profiles.iter().zip(loads) {
        let secret = load
            .await
            .unwrap_or_else(|e| SecretStatus::Unreadable(format!("loading failed: {e}")));
        rows.push(ProfileRow {
            name: profile.name.clone(),
            tenant: profile.tenant.clone(),
            client_id: profile.client_id.clone(),
            secret,
            source: SourceView::from(&profile.secret),
            cloud: profile.cloud.clone(),
        });
    }
    rows
}

const HEADERS: [&str; 6] = [
    "NAME",
    "TENANT",
    "CLIENT ID",
    "SECRET",
    "SOURCE",
    "CLOUD/ENDPOINTS",
];

fn write_table(out: &mut dyn Write, rows: &[ProfileRow]) -> std::io::Result<()> {
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|row| {
            [
                row.name.clone(),
                row.tenant.clone(),
                row.client_id.clone(),
                secret_cell(&row.secret),
                row.source.to_string(),
                describe_cloud(&row.cloud),
            ]
        })
        .collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for line in &cells {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let headers = HEADERS.map(str::to_owned);
    for line in std::iter::once(&headers).chain(&cells) {
        let mut text = String::new();
        for (index, (cell, width)) in line.iter().zip(widths).enumerate() {
            if index + 1 == line.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(out, "{}", printable_line(text.trim_end()))?;
    }
    Ok(())
}

impl std::fmt::Display for SourceView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File { path } => write!(f, "file {}", path.display()),
            Self::Env { var } => write!(f, "env {var}"),
            Self::Command {
                program: Some(program),
            } => write!(f, "command `{program}`"),
            Self::Command { program: None } => f.write_str("empty command"),
        }
    }
}

fn secret_cell(status: &SecretStatus) -> String {
    match status {
        SecretStatus::Hint(hint) if hint.is_empty() => "(too short to hint)".to_owned(),
        SecretStatus::Hint(hint) => format!("{hint}…"),
        SecretStatus::Unreadable(why) => format!("unreadable: {why}"),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn columns_line_up_and_the_last_is_not_padded() {
        let row = |name: &str, secret: SecretStatus| ProfileRow {
            name: name.into(),
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-4333-8444-555555555555".into(),
            secret,
            source: SourceView::Env { var: "S".into() },
            cloud: Cloud::Public,
        };
        let rows = [
            row("a", SecretStatus::Hint("Abc".into())),
            row("longer-name", SecretStatus::Unreadable("gone".into())),
        ];
        let mut out = Vec::new();
        write_table(&mut out, &rows).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let tenant_column = |line: &str| line.find("TENANT").or_else(|| line.find("contoso"));
        assert_eq!(tenant_column(lines[0]), tenant_column(lines[1]));
        assert_eq!(tenant_column(lines[1]), tenant_column(lines[2]));
        assert!(lines[1].contains("Abc…"));
        assert!(lines[2].contains("unreadable: gone"));
        assert!(
            lines
                .iter()
                .all(|l| l.ends_with("public") || l.ends_with("ENDPOINTS"))
        );
    }
}
