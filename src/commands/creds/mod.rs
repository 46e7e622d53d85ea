//! `pilotwatch creds`: add, list, test and remove credential profiles.
//! Every command takes a [`CredsContext`] (where the files live, which clock to use), an
//! [`Input`] to read from and a writer for its report, so tests run the real commands in-process
//! and capture what an operator would see. Errors are returned, typed, for `main` to print and
//! map to an exit code ([`CredsError::exit_code`]).
//!
//! Depends on `cli` (the parsed arguments), `config`, `secret`, `clock` and `graph::auth`. Never
//! writes a secret to the output, an error or a log.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::cli::CredsCommand;
use crate::clock::SharedClock;
use crate::config::{Cloud, Config, ConfigError, Paths, Profile};
use crate::secret::{SecretError, SecretSource, default_secret_path};

pub mod add;
pub mod list;
pub mod prompt;
pub mod rm;
pub mod test;
pub mod validate;

pub use prompt::{Input, InputError, ScriptedInput, TerminalInput};
pub use validate::ValidationFailure;

/// Exit code for credentials that were checked, found invalid, and therefore not saved.
pub const EXIT_REFUSED: u8 = 2;

/// Exit code of `creds test` when nothing could be tested (Nagios UNKNOWN).
pub const EXIT_UNKNOWN: u8 = 3;

/// Where the commands find their files and their time.
#[derive(Debug, Clone)]
pub struct CredsContext {
    /// The configuration file and data directory (`--config`, or the XDG defaults).
    pub paths: Paths,
    /// The clock token lifetimes are measured by.
    pub clock: SharedClock,
}

/// Why a `creds` command failed. Nothing was changed unless the message says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum CredsError {
    /// The configuration could not be read, validated or written.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A secret file could not be written, or a profile name cannot name one.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Reading from the terminal or standard input failed.
    #[error(transparent)]
    Input(#[from] InputError),
    /// Required values are missing and there is no terminal to ask for them.
    #[error(
        "missing {}: give it on the command line (standard input is not a terminal, so pilotwatch cannot ask)",
        missing.join(", ")
    )]
    Missing {
        /// The arguments as the operator would type them (`NAME`, `--tenant`, ...).
        missing: Vec<&'static str>,
    },
    /// No secret source was given and there is no terminal to type the secret at.
    #[error(
        "no secret given: standard input is not a terminal, so the secret cannot be typed; \
         use --secret-stdin, --secret-env VAR or --secret-command PROG [ARG]..."
    )]
    NoSecretSource,
    /// A profile of that name already exists.
    #[error("profile {0} exists; add --replace to overwrite it")]
    Exists(String),
    /// No profile of that name exists.
    #[error("no profile named {name}; {}", known_profiles(known))]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles that do exist.
        known: Vec<String>,
    },
    /// The credentials were checked and did not work; nothing was saved.
    #[error(
        "profile {name} not saved, its credentials could not be confirmed: {failure}\n  \
         nothing was changed; fix the above, or add --force to save it unvalidated"
    )]
    Refused {
        /// The profile.
        name: String,
        /// What the check found (boxed: it is large and refusals are rare).
        failure: Box<ValidationFailure>,
    },
    /// A secret file pilotwatch created could not be deleted.
    #[error("cannot delete secret file {}: {source}", path.display())]
    DeleteSecretFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// Writing the report failed (e.g. a closed pipe).
    #[error("cannot write the output: {0}")]
    Output(#[from] io::Error),
    /// JSON output could not be produced.
    #[error("cannot produce JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// `creds test` without NAME, and no profile is configured.
    #[error("no profiles in {}; add one with `pilotwatch creds add`", config_file.display())]
    NoProfiles {
        /// The configuration file read.
        config_file: PathBuf,
    },
    /// `creds test` could not test anything (no usable configuration, no such profile): the
    /// check's outcome is UNKNOWN, not a failure of the credentials.
    #[error(transparent)]
    Untestable(Box<CredsError>),
}

impl CredsError {
    /// The process exit code: [`EXIT_REFUSED`] for refused credentials, [`EXIT_UNKNOWN`] when
    /// `creds test` could not test, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Refused { .. } => EXIT_REFUSED,
            Self::Untestable(_) => EXIT_UNKNOWN,
            _ => 1,
        }
    }

    /// Marks an error as the reason `creds test` could not test anything.
    pub fn untestable(self) -> Self {
        match self {
            Self::Untestable(_) => self,
            other => Self::Untestable(Box::new(other)),
        }
    }
}

fn known_profiles(known: &[String]) -> String {
    if known.is_empty() {
        "there are no profiles; add one with `pilotwatch creds add`".to_owned()
    } else {
        format!("known profiles: {}", known.join(", "))
    }
}

/// Runs one `creds` subcommand and returns the process exit code for a command that finished
/// (`creds test` exits with its report's severity; the others with 0).
pub async fn run(
    command: CredsCommand,
    context: &CredsContext,
    input: &mut dyn Input,
    out: &mut dyn Write,
) -> Result<u8, CredsError> {
    match command {
        CredsCommand::Add(args) => add::run(*args, context, input, out).await.map(|()| 0),
        CredsCommand::List { json } => list::run(context, json, out).await.map(|()| 0),
        CredsCommand::Rm { name } => rm::run(&name, context, out).map(|()| 0),
        CredsCommand::Test { name, json } => test::run(name.as_deref(), json, context, out).await,
    }
}

/// The cloud as the operator configured it: its name, or both custom endpoints.
pub fn describe_cloud(cloud: &Cloud) -> String {
    match cloud {
        Cloud::Public => "public".to_owned(),
        Cloud::UsGovL4 => "usgov-l4".to_owned(),
        Cloud::UsGovL5 => "usgov-l5".to_owned(),
        Cloud::Custom { authority, graph } => format!("authority {authority}, graph {graph}"),
    }
}

/// The secret file pilotwatch itself created for `profile`: a file source at exactly
/// `default_secret_path(data_dir, name)`. Any other file belongs to the operator and is never
/// overwritten or deleted.
pub fn own_secret_file(data_dir: &Path, profile: &Profile) -> Option<PathBuf> {
    let own = default_secret_path(data_dir, &profile.name).ok()?;
    match &profile.secret {
        SecretSource::File { path } if *path == own => Some(own),
        _ => None,
    }
}

/// Deletes a secret file pilotwatch created once no profile left in `config` reads it (an
/// operator may have pointed another profile at it by hand); one already gone is not an error.
/// Returns whether it was deleted.
fn release_own_secret_file(config: &Config, path: &Path) -> Result<bool, CredsError> {
    let still_read = config
        .profiles
        .iter()
        .any(|p| matches!(&p.secret, SecretSource::File { path: used } if used == path));
    if still_read {
        return Ok(false);
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(source) => Err(CredsError::DeleteSecretFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn profile(name: &str, secret: SecretSource) -> Profile {
        Profile::for_tests(name, secret)
    }

    #[test]
    fn only_the_default_path_is_pilotwatchs_own_file() {
        let data = Path::new("/data/pw");
        let own = default_secret_path(data, "prod").unwrap();
        let mine = profile("prod", SecretSource::File { path: own.clone() });
        assert_eq!(own_secret_file(data, &mine), Some(own.clone()));
        let foreign = profile(
            "prod",
            SecretSource::File {
                path: "/etc/pw/prod.secret".into(),
            },
        );
        assert_eq!(own_secret_file(data, &foreign), None);
        // Another profile's default file is not this profile's own file.
        let borrowed = profile("other", SecretSource::File { path: own });
        assert_eq!(own_secret_file(data, &borrowed), None);
        let env = profile("prod", SecretSource::Env { var: "X".into() });
        assert_eq!(own_secret_file(data, &env), None);
    }

    #[test]
    fn only_refusals_exit_2() {
        let refused = CredsError::Refused {
            name: "p".into(),
            failure: Box::new(ValidationFailure::Secret(SecretError::Empty {
                source_desc: "x".into(),
            })),
        };
        assert_eq!(refused.exit_code(), 2);
        assert_eq!(CredsError::Exists("p".into()).exit_code(), 1);
        let untestable = CredsError::Exists("p".into()).untestable();
        assert_eq!(untestable.exit_code(), 3);
        assert_eq!(
            untestable.to_string(),
            "profile p exists; add --replace to overwrite it"
        );
        assert_eq!(untestable.untestable().exit_code(), 3);
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let error = CredsError::UnknownProfile {
            name: "x".into(),
            known: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            error.to_string(),
            "no profile named x; known profiles: a, b"
        );
        let none = CredsError::UnknownProfile {
            name: "x".into(),
            known: vec![],
        };
        assert!(none.to_string().contains("there are no profiles"));
    }
}
