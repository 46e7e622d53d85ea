//! The Microsoft cloud a profile talks to (public, US Government L4/L5, or a custom authority
//! and Graph root such as the simulator) and the rule every configured endpoint follows: https,
//! or http to a loopback host only.
//!
//! Part of `config`; depends on nothing else in the crate.

use std::fmt;
use std::net::IpAddr;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

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
pub(super) fn fixed_url(text: &'static str) -> Url {
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

/// An endpoint must be https. Plain http is allowed only to a loopback host, because that is
/// where the simulator and local test receivers run; anywhere else it would send tokens,
/// secrets and notification content in clear text.
pub(super) fn check_endpoint(url: &Url) -> Result<(), String> {
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

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

pub(super) fn redacted(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}
