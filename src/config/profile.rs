//! One profile: the tenant, the app registration, where its secret comes from, the cloud, how
//! notifications are received, and alert thresholds — with the validation that turns a value
//! that parsed but is wrong into an error naming the profile and key.
//!
//! Part of `config`; depends on `secret` for the secret's source (never the secret) and on
//! `diagnose::thresholds` for the lines diagnosis draws by default (plain data).

use std::net::SocketAddr;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::diagnose::thresholds::ProfileThresholds;
use crate::secret::SecretSource;

use super::ConfigError;
use super::SubscriptionScope;
use super::cloud::*;

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
    /// Keep one tenant-wide Copilot subscription (`"tenant"`, the default) or one per
    /// licensed user (`"per-user"`).
    #[serde(default, skip_serializing_if = "SubscriptionScope::is_default")]
    pub subscription_scope: SubscriptionScope,
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
    /// Minutes without any notification, while the export API shows new interactions, before
    /// the push path is reported broken.
    pub notification_silence_minutes: u32,
    /// Seconds of 95th-percentile notification latency before notifications are reported late.
    pub latency_p95_seconds: u32,
}

impl Default for Thresholds {
    /// The secret-expiry days, and diagnosis's own default lines: a profile that sets nothing
    /// is judged exactly as diagnosis judges without a profile.
    fn default() -> Self {
        let lines = ProfileThresholds::default();
        Thresholds {
            secret_expiry_warning_days: vec![30, 14, 7, 1],
            notification_silence_minutes: lines.notification_silence_minutes,
            latency_p95_seconds: lines.latency_p95_seconds,
        }
    }
}

/// `Option<Url>` as a TOML string (the `url` crate's serde feature is not enabled).
pub(super) mod opt_url {
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
pub(super) mod opt_date {
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
    /// The lines diagnosis draws for this profile.
    pub fn diagnosis(&self) -> ProfileThresholds {
        ProfileThresholds {
            notification_silence_minutes: self.notification_silence_minutes,
            latency_p95_seconds: self.latency_p95_seconds,
        }
    }

    pub(super) fn validate(&self) -> Result<(), (&'static str, String)> {
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

/// Whether `name` is a valid profile name: 1 to 64 of A-Z, a-z, 0-9, `_` and `-`.
pub fn is_profile_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The hyphenated 8-4-4-4-12 form Entra ID shows; other spellings `uuid` accepts (braces, URN,
/// no hyphens) are refused so that what is configured matches what the portal displays.
pub fn is_guid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// A fully qualified DNS name: at least two labels of letters, digits and inner hyphens, with an
/// alphabetic top-level label (so an IP address or `common` is not taken for a tenant domain).
pub fn is_dns_name(text: &str) -> bool {
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

#[cfg(test)]
impl Profile {
    /// A public-cloud profile with nothing optional set, for unit tests.
    pub(crate) fn for_tests(name: &str, secret: SecretSource) -> Profile {
        Profile {
            name: name.into(),
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-4333-8444-555555555555".into(),
            secret,
            cloud: Cloud::Public,
            ca_file: None,
            notification_url: None,
            lifecycle_notification_url: None,
            receiver_bind: None,
            encryption_certificate: None,
            encryption_key: None,
            store_bodies: false,
            subscription_scope: SubscriptionScope::Tenant,
            secret_expires: None,
            thresholds: Thresholds::default(),
        }
    }
}
