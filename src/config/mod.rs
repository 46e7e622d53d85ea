//! Profiles and where they live: the TOML configuration file under the XDG config directory
//! (`--config PATH` overrides), its types, its validation, and saving it without ever losing
//! the previous file. A profile names a tenant, an app registration, where its secret comes
//! from ([`SecretSource`]), which cloud it talks to, and how the collector receives and judges
//! notifications.
//!
//! Depends only on [`crate::secret`] (for the secret's *source*, never the secret). It knows
//! nothing about Graph clients, the store or the simulator; the simulator is just a custom cloud
//! on loopback.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use etcetera::BaseStrategy;
use serde::{Deserialize, Serialize};

use crate::private_file::write_private_atomically;

mod cloud;
mod control;
mod profile;
mod scope;

pub use cloud::Cloud;
pub use control::ControlConfig;
pub use profile::{Profile, Thresholds, is_dns_name, is_guid, is_profile_name};
pub use scope::SubscriptionScope;

/// The application's directory name under each XDG base directory.
const APP_DIR: &str = "pilotwatch";

/// A commented configuration covering every key: a simulator profile and a production profile
/// with placeholder GUIDs. Tests parse it, so it cannot drift from the types.
pub const EXAMPLE_CONFIG: &str = include_str!("../config.example.toml");

/// Everything that can go wrong finding, reading, validating or writing the configuration.
/// Messages name the file, or the profile and key, so the operator can fix it without guessing.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No home directory, so no XDG default directories.
    #[error("cannot locate the configuration directory: {0}")]
    NoHome(#[from] etcetera::HomeDirError),
    /// The file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the expected keys and types.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The file (or `<string>` for text that came from elsewhere).
        path: PathBuf,
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column of the offending text.
        column: usize,
        /// What toml/serde said.
        message: String,
    },
    /// A value parsed but makes no sense.
    #[error("profile `{profile}`: `{key}` {reason}")]
    Invalid {
        /// The profile's name as written.
        profile: String,
        /// The key, dotted for nested tables (`thresholds.latency_p95_seconds`).
        key: &'static str,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// Two profiles share a name.
    #[error("profile `{0}` is defined more than once; profile names must be unique")]
    DuplicateProfile(String),
    /// The named profile does not exist.
    #[error("no profile named `{0}`")]
    NoSuchProfile(String),
    /// The configuration could not be turned into TOML.
    #[error("cannot serialize the configuration: {0}")]
    Serialize(#[from] toml::ser::Error),
    /// Writing the file (or its directory) failed; the previous file is untouched.
    #[error("cannot write {path}: {source} (the previous file, if any, is unchanged)")]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Where pilotwatch keeps its files, following the XDG base directory specification on every
/// platform (`$XDG_CONFIG_HOME`, `$XDG_DATA_HOME`, ... with the usual `~/.config` defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// The configuration file: `$XDG_CONFIG_HOME/pilotwatch/config.toml` unless overridden.
    pub config_file: PathBuf,
    /// Store and secret files: `$XDG_DATA_HOME/pilotwatch`.
    pub data_dir: PathBuf,
    /// Logs and other state: `$XDG_STATE_HOME/pilotwatch`.
    pub state_dir: Option<PathBuf>,
    /// The control socket: `$XDG_RUNTIME_DIR/pilotwatch`, when the session has one.
    pub runtime_dir: Option<PathBuf>,
}

impl Paths {
    /// The default locations from the environment.
    pub fn discover() -> Result<Paths, ConfigError> {
        let base = etcetera::choose_base_strategy()?;
        Ok(Paths {
            config_file: base.config_dir().join(APP_DIR).join("config.toml"),
            data_dir: base.data_dir().join(APP_DIR),
            state_dir: base.state_dir().map(|dir| dir.join(APP_DIR)),
            runtime_dir: base.runtime_dir().map(|dir| dir.join(APP_DIR)),
        })
    }

    /// The default locations, except the configuration file given by `--config`.
    pub fn with_config(config_file: impl Into<PathBuf>) -> Result<Paths, ConfigError> {
        Ok(Paths {
            config_file: config_file.into(),
            ..Paths::discover()?
        })
    }
}

/// The whole configuration file: a list of `[[profile]]` tables and the optional `[control]`
/// section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The profiles, in file order.
    #[serde(rename = "profile", default)]
    pub profiles: Vec<Profile>,
    /// The control socket's settings.
    #[serde(default, skip_serializing_if = "ControlConfig::is_default")]
    pub control: ControlConfig,
}

impl Config {
    /// Reads and validates the configuration at `path`. A missing file is an empty
    /// configuration (first run), not an error.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Config::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(source) => Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// Parses and validates configuration text; `origin` names it in error messages.
    pub fn parse(text: &str, origin: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Parse {
                path: origin.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every profile and that names are unique; the first problem is returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut seen = HashSet::new();
        for profile in &self.profiles {
            profile.validate()?;
            if !seen.insert(profile.name.as_str()) {
                return Err(ConfigError::DuplicateProfile(profile.name.clone()));
            }
        }
        Ok(())
    }

    /// Validates, then writes the configuration atomically: a temporary file (mode 0600) in the
    /// same directory is written and fsynced, then renamed over `path`, and the directory is
    /// fsynced. A missing directory is created with mode 0700. On any error the previous file
    /// is left as it was.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        self.validate()?;
        let text = toml::to_string(self)?;
        write_private_atomically(path, text.as_bytes()).map_err(|failed| ConfigError::Write {
            path: failed.path,
            source: failed.source,
        })
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str) -> Result<&Profile, ConfigError> {
        self.profiles
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| ConfigError::NoSuchProfile(name.to_string()))
    }

    /// Adds a profile after validating it; a duplicate name is refused and nothing changes.
    pub fn add_profile(&mut self, profile: Profile) -> Result<(), ConfigError> {
        profile.validate()?;
        if self.profiles.iter().any(|p| p.name == profile.name) {
            return Err(ConfigError::DuplicateProfile(profile.name));
        }
        self.profiles.push(profile);
        Ok(())
    }

    /// Removes and returns the profile called `name`; an error if there is none.
    pub fn remove_profile(&mut self, name: &str) -> Result<Profile, ConfigError> {
        let index = self
            .profiles
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| ConfigError::NoSuchProfile(name.to_string()))?;
        Ok(self.profiles.remove(index))
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::cloud::*;
    use super::profile::*;
    use super::*;
    use url::Url;

    #[test]
    fn well_known_clouds_have_their_documented_endpoints() {
        let endpoints = |c: Cloud| (c.authority().to_string(), c.graph_root().to_string());
        assert_eq!(
            endpoints(Cloud::Public),
            (
                "https://login.microsoftonline.com/".into(),
                "https://graph.microsoft.com/".into()
            )
        );
        assert_eq!(
            endpoints(Cloud::UsGovL4),
            (
                "https://login.microsoftonline.us/".into(),
                "https://graph.microsoft.us/".into()
            )
        );
        assert_eq!(
            endpoints(Cloud::UsGovL5),
            (
                "https://login.microsoftonline.us/".into(),
                "https://dod-graph.microsoft.us/".into()
            )
        );
    }

    #[test]
    fn guids_must_be_hyphenated() {
        assert!(is_guid("11111111-2222-4333-8444-555555555555"));
        assert!(!is_guid("11111111222243338444555555555555"));
        assert!(!is_guid("{11111111-2222-4333-8444-555555555555}"));
        assert!(!is_guid("11111111-2222-4333-8444-55555555555g"));
    }

    #[test]
    fn tenant_domains_are_fully_qualified_names() {
        assert!(is_dns_name("contoso.onmicrosoft.com"));
        assert!(is_dns_name("fabrikam.us"));
        assert!(!is_dns_name("common"));
        assert!(!is_dns_name("127.0.0.1"));
        assert!(!is_dns_name("-bad.example.com"));
        assert!(!is_dns_name("bad..example.com"));
        assert!(!is_dns_name("under_score.example.com"));
    }

    #[test]
    fn http_is_only_for_loopback() {
        let check = |s: &str| check_endpoint(&Url::parse(s).unwrap());
        assert!(check("http://127.0.0.1:7780").is_ok());
        assert!(check("http://[::1]:7780").is_ok());
        assert!(check("http://localhost/notify").is_ok());
        assert!(check("https://example.com/notify").is_ok());
        assert!(check("http://example.com/notify").is_err());
        assert!(check("http://10.0.0.1/notify").is_err());
        assert!(check("ftp://127.0.0.1/").is_err());
        let err = check("https://user:hunter2@example.com/").unwrap_err();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn line_column_counts_from_one() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 10), (2, 4));
    }

    #[test]
    fn default_thresholds_are_valid_and_bad_ones_are_not() {
        assert!(Thresholds::default().validate().is_ok());
        for days in [vec![7, 14], vec![7, 7], vec![3, 0]] {
            let t = Thresholds {
                secret_expiry_warning_days: days,
                ..Thresholds::default()
            };
            assert_eq!(
                t.validate().unwrap_err().0,
                "thresholds.secret_expiry_warning_days"
            );
        }
    }
    #[test]
    fn a_profile_s_thresholds_become_the_lines_its_diagnosis_draws() {
        use crate::diagnose::thresholds::ProfileThresholds;
        let profile = |extra: &str| {
            let text = format!(
                "[[profile]]\nname = \"p\"\ntenant = \"contoso.onmicrosoft.com\"\n\
                 client_id = \"11111111-2222-4333-8444-555555555555\"\n\
                 secret = {{ kind = \"env\", var = \"S\" }}\n{extra}\n"
            );
            let mut config = Config::parse(&text, Path::new("t.toml")).unwrap();
            config.profiles.remove(0)
        };
        assert_eq!(
            profile("").thresholds.diagnosis(),
            ProfileThresholds::default(),
            "a profile that sets nothing is judged by diagnosis's own lines"
        );
        let set = profile(
            "[profile.thresholds]\nnotification_silence_minutes = 45\nlatency_p95_seconds = 90",
        );
        assert_eq!(
            set.thresholds.diagnosis(),
            ProfileThresholds {
                notification_silence_minutes: 45,
                latency_p95_seconds: 90,
            }
        );
    }
}
