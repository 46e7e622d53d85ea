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
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use etcetera::BaseStrategy;
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::private_file::write_private_atomically;
use crate::secret::SecretSource;

/// The application's directory name under each XDG base directory.
const APP_DIR: &str = "pilotwatch";

/// A commented configuration covering every key: a simulator profile and a production profile
/// with placeholder GUIDs. Tests parse it, so it cannot drift from the types.
pub const EXAMPLE_CONFIG: &str = include_str!("config.example.toml");

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

/// The whole configuration file: a list of `[[profile]]` tables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The profiles, in file order.
    #[serde(rename = "profile", default)]
    pub profiles: Vec<Profile>,
}

/// One tenant and app registration to watch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name used on the command line and in the store: `[A-Za-z0-9_-]{1,64}`.
    pub name: String,
    /// Directory (tenant) id GUID, or a verified domain such as `contoso.onmicrosoft.com`.
    pub tenant: String,
    /// Application (client) id GUID of the app registration.
    pub client_id: String,
    /// Where the client secret is read from.
    pub secret: SecretSource,
    /// Which login authority and Graph root to use.
    #[serde(default)]
    pub cloud: Cloud,
    /// Extra CA certificates (PEM) to trust for both endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Public URL Graph posts change notifications to.
    #[serde(default, with = "opt_url", skip_serializing_if = "Option::is_none")]
    pub notification_url: Option<Url>,
    /// Public URL Graph posts lifecycle notifications to.
    #[serde(default, with = "opt_url", skip_serializing_if = "Option::is_none")]
    pub lifecycle_notification_url: Option<Url>,
    /// Local address the notification receiver listens on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver_bind: Option<SocketAddr>,
    /// Certificate (PEM) whose public key Graph encrypts rich notification content with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_certificate: Option<PathBuf>,
    /// Private key (PEM) matching `encryption_certificate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<PathBuf>,
    /// Keep interaction bodies in the store; off by default (metadata only).
    #[serde(default)]
    pub store_bodies: bool,
    /// The secret's expiry as the operator knows it, for when Graph cannot tell
    /// (the app may lack the permission to read its own credentials).
    #[serde(default, with = "opt_date", skip_serializing_if = "Option::is_none")]
    pub secret_expires: Option<NaiveDate>,
    /// When to warn and alert.
    #[serde(default)]
    pub thresholds: Thresholds,
}

/// Alert thresholds for a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    /// Days before the secret's expiry at which to warn, strictly descending, all positive.
    pub secret_expiry_warning_days: Vec<u32>,
    /// Minutes without any notification before the silence is an alert.
    pub notification_silence_minutes: u32,
    /// Seconds of 95th-percentile notification latency before it is an alert.
    pub latency_p95_seconds: u32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            secret_expiry_warning_days: vec![30, 14, 7, 1],
            notification_silence_minutes: 30,
            latency_p95_seconds: 10,
        }
    }
}

/// The Microsoft cloud a profile talks to. In TOML: `cloud = "public"`, `"usgov-l4"`,
/// `"usgov-l5"`, or a table `{ authority = URL, graph = URL }` for anything else (the simulator).
///
/// The Graph root is the service root *without* a version segment (`https://graph.microsoft.com`,
/// as Microsoft's national-cloud table lists it); the client appends `/v1.0/...` itself, so the
/// API version is a property of the client, not of the configuration. The authority is likewise
/// the host root; the client appends `/{tenant}/oauth2/v2.0/token`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cloud {
    /// Microsoft's global service.
    #[default]
    Public,
    /// US Government L4 (GCC High).
    UsGovL4,
    /// US Government L5 (DoD).
    UsGovL5,
    /// Any other endpoints, e.g. the simulator on loopback.
    Custom {
        /// Login authority root.
        authority: Url,
        /// Graph service root, without `/v1.0`.
        graph: Url,
    },
}

impl Cloud {
    const NAMES: [(&'static str, Cloud); 3] = [
        ("public", Cloud::Public),
        ("usgov-l4", Cloud::UsGovL4),
        ("usgov-l5", Cloud::UsGovL5),
    ];

    /// The login authority root URL.
    pub fn authority(&self) -> Url {
        match self {
            Cloud::Public => fixed_url("https://login.microsoftonline.com"),
            Cloud::UsGovL4 | Cloud::UsGovL5 => fixed_url("https://login.microsoftonline.us"),
            Cloud::Custom { authority, .. } => authority.clone(),
        }
    }

    /// The Graph service root URL, without a version segment.
    pub fn graph_root(&self) -> Url {
        match self {
            Cloud::Public => fixed_url("https://graph.microsoft.com"),
            Cloud::UsGovL4 => fixed_url("https://graph.microsoft.us"),
            Cloud::UsGovL5 => fixed_url("https://dod-graph.microsoft.us"),
            Cloud::Custom { graph, .. } => graph.clone(),
        }
    }

    fn name(&self) -> Option<&'static str> {
        Cloud::NAMES
            .iter()
            .find(|(_, cloud)| cloud == self)
            .map(|(name, _)| *name)
    }
}

/// Parses one of the well-known endpoint literals above. They are constants, and a unit test
/// parses every one, so this cannot fail at run time.
#[allow(clippy::expect_used)]
fn fixed_url(text: &'static str) -> Url {
    Url::parse(text).expect("well-known endpoint literals are valid URLs")
}

impl Serialize for Cloud {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Cloud::Custom { authority, graph } => {
                let mut table = serializer.serialize_struct("Cloud", 2)?;
                table.serialize_field("authority", authority.as_str())?;
                table.serialize_field("graph", graph.as_str())?;
                table.end()
            }
            named => serializer.serialize_str(named.name().unwrap_or("public")),
        }
    }
}

impl<'de> Deserialize<'de> for Cloud {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CloudVisitor)
    }
}

struct CloudVisitor;

impl<'de> Visitor<'de> for CloudVisitor {
    type Value = Cloud;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            r#""public", "usgov-l4", "usgov-l5", or a table { authority = URL, graph = URL }"#,
        )
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Cloud, E> {
        Cloud::NAMES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, cloud)| cloud.clone())
            .ok_or_else(|| de::Error::unknown_variant(name, &["public", "usgov-l4", "usgov-l5"]))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Cloud, A::Error> {
        const FIELDS: &[&str] = &["authority", "graph"];
        let (mut authority, mut graph) = (None, None);
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "authority" => &mut authority,
                "graph" => &mut graph,
                other => return Err(de::Error::unknown_field(other, FIELDS)),
            };
            if slot.is_some() {
                return Err(de::Error::custom(format!("duplicate field `{key}`")));
            }
            let text: String = map.next_value()?;
            let url = Url::parse(&text)
                .map_err(|e| de::Error::custom(format!("`{key}` is not a URL ({e}): {text}")))?;
            *slot = Some(url);
        }
        Ok(Cloud::Custom {
            authority: authority.ok_or_else(|| de::Error::missing_field("authority"))?,
            graph: graph.ok_or_else(|| de::Error::missing_field("graph"))?,
        })
    }
}

/// `Option<Url>` as a TOML string (the `url` crate's serde feature is not enabled).
mod opt_url {
    use serde::{Deserialize, Deserializer, Serializer, de};
    use url::Url;

    pub(super) fn serialize<S: Serializer>(url: &Option<Url>, s: S) -> Result<S::Ok, S::Error> {
        match url {
            Some(url) => s.serialize_str(url.as_str()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Url>, D::Error> {
        let text = String::deserialize(d)?;
        Url::parse(&text)
            .map(Some)
            .map_err(|e| de::Error::custom(format!("not a URL ({e}): {text}")))
    }
}

/// `Option<NaiveDate>` as a native TOML local date (`2027-03-31`); a quoted string is accepted
/// too, since both are natural to write.
mod opt_date {
    use chrono::{Datelike, NaiveDate};
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
    use toml::value::{Date, Datetime};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Native(Datetime),
        Text(String),
    }

    pub(super) fn serialize<S: Serializer>(
        date: &Option<NaiveDate>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let Some(date) = date else {
            return s.serialize_none();
        };
        let (Ok(year), Ok(month), Ok(day)) = (
            u16::try_from(date.year()),
            u8::try_from(date.month()),
            u8::try_from(date.day()),
        ) else {
            return Err(serde::ser::Error::custom(format!(
                "date {date} is out of TOML's range"
            )));
        };
        Datetime {
            date: Some(Date { year, month, day }),
            time: None,
            offset: None,
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<NaiveDate>, D::Error> {
        let text = match Written::deserialize(d)? {
            Written::Native(datetime) if datetime.time.is_none() && datetime.offset.is_none() => {
                datetime.to_string()
            }
            Written::Native(datetime) => {
                return Err(de::Error::custom(format!(
                    "expected a date like 2027-03-31, not a date-time: {datetime}"
                )));
            }
            Written::Text(text) => text,
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(Some)
            .map_err(|e| {
                de::Error::custom(format!("expected a date like 2027-03-31 ({e}): {text}"))
            })
    }
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

impl Profile {
    /// Checks every value that parsed but may still be wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid {
            profile: self.name.clone(),
            key,
            reason,
        };
        if !is_profile_name(&self.name) {
            return Err(invalid(
                "name",
                "must be 1 to 64 characters from A-Z, a-z, 0-9, `_` and `-`".into(),
            ));
        }
        if !is_guid(&self.tenant) && !is_dns_name(&self.tenant) {
            return Err(invalid(
                "tenant",
                format!(
                    "must be a tenant id GUID or a domain such as contoso.onmicrosoft.com, not {:?}",
                    self.tenant
                ),
            ));
        }
        if !is_guid(&self.client_id) {
            return Err(invalid(
                "client_id",
                format!(
                    "must be the application (client) id GUID, not {:?}",
                    self.client_id
                ),
            ));
        }
        if let Cloud::Custom { authority, graph } = &self.cloud {
            check_endpoint(authority).map_err(|r| invalid("cloud.authority", r))?;
            check_endpoint(graph).map_err(|r| invalid("cloud.graph", r))?;
            let last_segment = graph
                .path_segments()
                .and_then(|mut s| s.rfind(|s| !s.is_empty()));
            if matches!(last_segment, Some("v1.0" | "beta")) {
                return Err(invalid(
                    "cloud.graph",
                    format!(
                        "must be the service root without the API version (the client adds /v1.0), not {graph}"
                    ),
                ));
            }
        }
        if let Some(url) = &self.notification_url {
            check_endpoint(url).map_err(|r| invalid("notification_url", r))?;
        }
        if let Some(url) = &self.lifecycle_notification_url {
            check_endpoint(url).map_err(|r| invalid("lifecycle_notification_url", r))?;
        }
        if self.encryption_certificate.is_some() != self.encryption_key.is_some() {
            let missing = if self.encryption_key.is_none() {
                "encryption_key"
            } else {
                "encryption_certificate"
            };
            return Err(invalid(
                missing,
                "is required when the other half of the encryption key pair is set".into(),
            ));
        }
        self.thresholds
            .validate()
            .map_err(|(key, reason)| invalid(key, reason))
    }
}

impl Thresholds {
    fn validate(&self) -> Result<(), (&'static str, String)> {
        let days = &self.secret_expiry_warning_days;
        if days.contains(&0) || days.windows(2).any(|w| matches!(w, [a, b] if a <= b)) {
            return Err((
                "thresholds.secret_expiry_warning_days",
                format!(
                    "must be positive and strictly descending, e.g. [30, 14, 7, 1], not {days:?}"
                ),
            ));
        }
        if self.notification_silence_minutes == 0 {
            return Err((
                "thresholds.notification_silence_minutes",
                "must be greater than 0".into(),
            ));
        }
        if self.latency_p95_seconds == 0 {
            return Err((
                "thresholds.latency_p95_seconds",
                "must be greater than 0".into(),
            ));
        }
        Ok(())
    }
}

fn is_profile_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The hyphenated 8-4-4-4-12 form Entra ID shows; other spellings `uuid` accepts (braces, URN,
/// no hyphens) are refused so that what is configured matches what the portal displays.
fn is_guid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// A fully qualified DNS name: at least two labels of letters, digits and inner hyphens, with an
/// alphabetic top-level label (so an IP address or `common` is not taken for a tenant domain).
fn is_dns_name(text: &str) -> bool {
    let labels: Vec<&str> = text.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    text.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_alphabetic()))
}

/// An endpoint must be https. Plain http is allowed only to a loopback host, because that is
/// where the simulator and local test receivers run; anywhere else it would send tokens,
/// secrets and notification content in clear text.
fn check_endpoint(url: &Url) -> Result<(), String> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("must not carry credentials: {}", redacted(url)));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("must not have a query or fragment: {url}"));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(format!(
            "must use https (plain http is allowed only for loopback hosts such as the simulator): {url}"
        )),
        _ => Err(format!("must be an https URL: {url}")),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
