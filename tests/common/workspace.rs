//! A `creds` workspace: configuration and data directories of their own in a temporary
//! directory (like a fresh machine), the real clap parser and `creds` commands run in-process,
//! and what an operator would see captured.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser as _;
use pilotwatch::cli::{Cli, Command};
use pilotwatch::clock::SystemClock;
use pilotwatch::commands::creds::{self, CredsContext, CredsError, Input, ScriptedInput};
use pilotwatch::config::{Config, Paths};
use pilotwatch::secret::default_secret_path;
use secrecy::{ExposeSecret, SecretString};
use tempfile::TempDir;

use super::TestSim;

/// A configuration and data directory of its own, like a fresh machine.
pub struct Workspace {
    _dir: TempDir,
    pub root: PathBuf,
    pub context: CredsContext,
}

impl Workspace {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let paths = Paths {
            config_file: root.join("config").join("config.toml"),
            data_dir: root.join("data"),
            state_dir: Some(root.join("state")),
            runtime_dir: None,
        };
        Self {
            _dir: dir,
            root,
            context: CredsContext {
                paths,
                clock: Arc::new(SystemClock),
            },
        }
    }

    pub fn config_file(&self) -> &Path {
        &self.context.paths.config_file
    }

    pub fn own_secret_file(&self, name: &str) -> PathBuf {
        default_secret_path(&self.context.paths.data_dir, name).unwrap()
    }

    pub fn config(&self) -> Config {
        Config::load(self.config_file()).unwrap()
    }

    /// Every regular file under the workspace.
    pub fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.root, &mut found);
        found.sort();
        found
    }

    /// Parses `pilotwatch creds ARGS...` and runs it, capturing its output and error text.
    pub async fn run(&self, args: &[&str], input: &mut dyn Input) -> Outcome {
        let argv = ["pilotwatch", "creds"].iter().chain(args);
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Creds(creds_args) = cli.command else {
            panic!("not a creds command");
        };
        let mut out = Vec::new();
        let result = creds::run(creds_args.command, &self.context, input, &mut out).await;
        let (code, error) = match result {
            Ok(code) => (code, None),
            Err(error) => (error.exit_code(), Some(error)),
        };
        Outcome {
            stdout: String::from_utf8(out).unwrap(),
            code,
            error,
        }
    }
}

pub struct Outcome {
    pub stdout: String,
    /// The exit code `main` would use.
    pub code: u8,
    pub error: Option<CredsError>,
}

impl Outcome {
    pub fn ok(&self) -> &str {
        assert!(
            self.error.is_none(),
            "{:?}",
            self.error.as_ref().map(|e| e.to_string())
        );
        &self.stdout
    }

    pub fn err(&self) -> (String, u8) {
        let error = self.error.as_ref().expect("the command should have failed");
        (error.to_string(), error.exit_code())
    }

    /// Everything an operator would see: standard output and the error line `main` prints.
    pub fn seen(&self) -> String {
        let error = self
            .error
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default();
        format!("{}{error}", self.stdout)
    }
}

/// What an operator holds for the simulator under its scenario.
pub struct Held {
    pub tenant: String,
    pub client_id: String,
    pub secret: SecretString,
    pub base: String,
}

pub fn held(sim: &TestSim) -> Held {
    let state = &sim.sim.state;
    Held {
        tenant: state.tenant.id.clone(),
        client_id: state.configured_client_id(),
        secret: state.configured_secret(),
        base: sim.base.clone(),
    }
}

pub fn stdin_with(secret: &SecretString) -> ScriptedInput {
    ScriptedInput::non_interactive().with_stdin(format!("{}\n", secret.expose_secret()))
}

/// `creds add NAME` for the simulator with the secret on standard input, plus `extra` flags.
pub async fn add(ws: &Workspace, held: &Held, name: &str, extra: &[&str]) -> Outcome {
    let mut args = vec![
        "add",
        name,
        "--tenant",
        &held.tenant,
        "--client-id",
        &held.client_id,
        "--authority",
        &held.base,
        "--graph-url",
        &held.base,
        "--secret-stdin",
    ];
    args.extend_from_slice(extra);
    ws.run(&args, &mut stdin_with(&held.secret)).await
}

pub fn assert_nothing_written(ws: &Workspace) {
    assert!(!ws.config_file().exists(), "the configuration was written");
    assert_eq!(ws.files(), Vec::<PathBuf>::new(), "files were left behind");
}

pub fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
