//! The value rules of subscription bodies (graph-facts §2, §3.1, §3.2): change types,
//! notification URLs, the expiry window, `clientState`, `latestSupportedTlsVersion` and
//! `encryptionCertificateId`. Which properties a body may hold at all is `properties`' job.
//!
//! Pure: no state, no I/O, no clock (`now` is an argument). Depends on `graph::model` only.

use std::collections::BTreeSet;
use std::net::IpAddr;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};
use url::{Host, Url};

use super::Refusal;
use crate::graph::model::well_known::{
    MAX_CLIENT_STATE_LEN, MAX_SUBSCRIPTION_MINUTES, MIN_SUBSCRIPTION_MINUTES,
};

/// Longest `encryptionCertificateId` (graph-facts §3.1).
pub const MAX_CERTIFICATE_ID_LEN: usize = 128;

/// Beyond this lifetime a Copilot subscription needs a `lifecycleNotificationUrl`.
pub const LIFECYCLE_URL_REQUIRED_AFTER_MINUTES: i64 = 60;

/// The VERIFIED message of graph-facts §2 (its HTTP status, 400, is UNVERIFIED).
pub const LIFECYCLE_URL_REQUIRED: &str = "lifecycleNotificationUrl is a required property for subscription creation on this resource when the expirationDateTime value is set to greater than 1 hour";

/// `latestSupportedTlsVersion` values; `v1_2` when absent.
const TLS_VERSIONS: [&str; 4] = ["v1_0", "v1_1", "v1_2", "v1_3"];

/// Which call a rule is checked for (Graph names it in some messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `POST /subscriptions`.
    Create,
    /// `PATCH /subscriptions/{id}`.
    Update,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Self::Create => "Create",
            Self::Update => "Update",
        }
    }
}

/// One change type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeType {
    /// `created`.
    Created,
    /// `updated`.
    Updated,
    /// `deleted`.
    Deleted,
}

/// A parsed `changeType`: a non-empty set of change types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeTypes(BTreeSet<ChangeType>);

impl ChangeTypes {
    /// Canonical text, in a fixed order: two bodies naming the same set compare equal.
    pub fn canonical(&self) -> String {
        self.0
            .iter()
            .map(|kind| match kind {
                ChangeType::Created => "created",
                ChangeType::Updated => "updated",
                ChangeType::Deleted => "deleted",
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Parses a comma-separated subset of `created`, `updated`, `deleted`.
pub fn parse_change_types(text: &str) -> Result<ChangeTypes, Refusal> {
    let mut kinds = BTreeSet::new();
    for part in text.split(',') {
        let kind = match part.trim().to_ascii_lowercase().as_str() {
            "created" => ChangeType::Created,
            "updated" => ChangeType::Updated,
            "deleted" => ChangeType::Deleted,
            _ => {
                let shown: String = part.trim().chars().take(50).collect();
                return Err(Refusal::invalid(format!(
                    "Invalid changeType '{shown}'. changeType must be a comma-separated list of created, updated and deleted."
                )));
            }
        };
        kinds.insert(kind);
    }
    Ok(ChangeTypes(kinds))
}

/// True for `localhost` and loopback addresses, where the simulator also accepts `http://`.
pub fn is_loopback_host(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        }
        Host::Ipv4(address) => address.is_loopback(),
        Host::Ipv6(address) => address.is_loopback(),
    }
}

/// Graph demands `https://` notification URLs; the simulator also accepts `http://` on
/// loopback hosts so tests and demos need no certificate. `property` names the field.
pub fn check_endpoint_url(property: &str, url: &str) -> Result<Url, Refusal> {
    let shown: String = url.chars().take(200).collect();
    let invalid = |why: &str| {
        Refusal::invalid(format!(
            "Invalid {property} '{shown}': {why} Microsoft Graph requires an https:// URL (the simulator also accepts http:// on localhost and loopback addresses)."
        ))
    };
    let parsed = Url::parse(url).map_err(|_| invalid("it is not an absolute URL."))?;
    let Some(host) = parsed.host() else {
        return Err(invalid("it has no host."));
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if is_loopback_host(&host) => Ok(parsed),
        "http" => Err(invalid("plain http is not allowed for this host.")),
        _ => Err(invalid("the scheme is not https.")),
    }
}

/// Formats a span the way .NET prints a `TimeSpan` (`d.hh:mm:ss`), as Graph's messages do.
fn timespan(span: Duration) -> String {
    let total = span.num_seconds().max(0);
    let (days, rest) = (total / 86_400, total % 86_400);
    let (hours, minutes, seconds) = (rest / 3600, rest % 3600 / 60, rest % 60);
    if days > 0 {
        format!("{days}.{hours:02}:{minutes:02}:{seconds:02}")
    } else {
        format!("{hours:02}:{minutes:02}:{seconds:02}")
    }
}

/// Settles a requested expiry at `now` (graph-facts §2, §3.1):
/// beyond now + 4,320 minutes → 400; less than 45 minutes away (or in the past) → silently
/// raised to now + 45 minutes; then, more than one hour away without a lifecycle URL → 400.
/// The result is kept to whole microseconds (Graph's timestamps carry at most 7 digits).
pub fn settle_expiry(
    requested: DateTime<Utc>,
    now: DateTime<Utc>,
    has_lifecycle_url: bool,
    operation: Operation,
) -> Result<DateTime<Utc>, Refusal> {
    let max = now + Duration::minutes(MAX_SUBSCRIPTION_MINUTES);
    if requested > max {
        // Wording of the third-party transcript in graph-facts §3.2 (UNVERIFIED, but observed
        // from the live service), rather than the Outlook-style "Subscription expiration can
        // only be N minutes in the future." which was not observed for this resource.
        return Err(Refusal::extension(
            StatusCode::BAD_REQUEST,
            format!(
                "Operation: {}; Exception: [Status Code: BadRequest; Reason: Expiration time '{}' ('{}' from now) is beyond allowed max '{}'.]",
                operation.name(),
                requested.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                timespan(requested - now),
                timespan(Duration::minutes(MAX_SUBSCRIPTION_MINUTES)),
            ),
        ));
    }
    let floor = now + Duration::minutes(MIN_SUBSCRIPTION_MINUTES);
    let settled = requested.max(floor);
    let settled = settled
        .duration_trunc(Duration::microseconds(1))
        .unwrap_or(settled);
    if !has_lifecycle_url && settled > now + Duration::minutes(LIFECYCLE_URL_REQUIRED_AFTER_MINUTES)
    {
        return Err(Refusal::extension(
            StatusCode::BAD_REQUEST,
            LIFECYCLE_URL_REQUIRED,
        ));
    }
    Ok(settled)
}

/// `clientState`: at most 128 characters (graph-facts §3.1).
pub fn check_client_state(client_state: Option<&str>) -> Result<(), Refusal> {
    match client_state {
        Some(state) if state.chars().count() > MAX_CLIENT_STATE_LEN => {
            Err(Refusal::invalid(format!(
                "clientState is {} characters long; the maximum is {MAX_CLIENT_STATE_LEN}.",
                state.chars().count()
            )))
        }
        _ => Ok(()),
    }
}

/// `latestSupportedTlsVersion`: `v1_0` … `v1_3`, `v1_2` when absent.
pub fn tls_version(requested: Option<&str>) -> Result<String, Refusal> {
    match requested {
        None => Ok("v1_2".to_owned()),
        Some(version) if TLS_VERSIONS.contains(&version) => Ok(version.to_owned()),
        Some(version) => {
            let shown: String = version.chars().take(20).collect();
            Err(Refusal::invalid(format!(
                "Invalid latestSupportedTlsVersion '{shown}'. Allowed values: {}.",
                TLS_VERSIONS.join(", ")
            )))
        }
    }
}

/// `encryptionCertificateId`: required with resource data, at most 128 characters.
pub fn check_certificate_id(id: Option<&str>) -> Result<String, Refusal> {
    match id.map(str::trim) {
        None | Some("") => Err(Refusal::invalid(
            "encryptionCertificateId is required when includeResourceData is true.",
        )),
        Some(id) if id.chars().count() > MAX_CERTIFICATE_ID_LEN => Err(Refusal::invalid(format!(
            "encryptionCertificateId is {} characters long; the maximum is {MAX_CERTIFICATE_ID_LEN}.",
            id.chars().count()
        ))),
        Some(id) => Ok(id.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn https_anywhere_http_only_on_loopback() {
        for good in [
            "https://pilotwatch.contoso.net/notify",
            "https://10.0.0.1/n?x=1",
            "http://localhost:8080/notify",
            "http://LOCALHOST/notify",
            "http://127.0.0.1:9/notify",
            "http://127.10.20.30/notify",
            "http://[::1]:8443/notify",
        ] {
            assert!(
                check_endpoint_url("notificationUrl", good).is_ok(),
                "{good}"
            );
        }
        for bad in [
            "http://pilotwatch.contoso.net/notify",
            "http://10.0.0.1/notify",
            "http://[::2]/notify",
            "http://localhost.contoso.net/notify",
            "ftp://localhost/notify",
            "/relative/notify",
            "not a url",
            "https://",
        ] {
            let refusal = check_endpoint_url("notificationUrl", bad).unwrap_err();
            assert_eq!(refusal.status, StatusCode::BAD_REQUEST, "{bad}");
            assert!(refusal.message.contains("notificationUrl"), "{bad}");
        }
    }

    #[test]
    fn change_types_are_a_subset_and_compare_as_sets() {
        let a = parse_change_types("created,deleted,updated").unwrap();
        let b = parse_change_types(" updated , created,deleted").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.canonical(), "created,updated,deleted");
        for bad in ["", "created,", "created,moved", "all"] {
            assert!(parse_change_types(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn expiry_is_capped_floored_and_needs_a_lifecycle_url_beyond_an_hour() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T08:00:00Z")
            .unwrap()
            .to_utc();
        let too_far = now + Duration::minutes(4_321);
        let refusal = settle_expiry(too_far, now, true, Operation::Create).unwrap_err();
        assert_eq!(refusal.status, StatusCode::BAD_REQUEST);
        assert!(
            refusal.message.contains("'3.00:00:00'"),
            "{}",
            refusal.message
        );
        assert!(refusal.message.contains("'3.00:01:00' from now"));
        let max = now + Duration::minutes(4_320);
        assert_eq!(
            settle_expiry(max, now, true, Operation::Create).unwrap(),
            max
        );
        let floor = now + Duration::minutes(45);
        for early in [now - Duration::days(1), now, now + Duration::minutes(44)] {
            assert_eq!(
                settle_expiry(early, now, false, Operation::Create).unwrap(),
                floor
            );
        }
        let refusal =
            settle_expiry(now + Duration::minutes(61), now, false, Operation::Update).unwrap_err();
        assert_eq!(refusal.message, LIFECYCLE_URL_REQUIRED);
        let hour = now + Duration::minutes(60);
        assert_eq!(
            settle_expiry(hour, now, false, Operation::Create).unwrap(),
            hour
        );
    }

    #[test]
    fn client_state_tls_version_and_certificate_id_limits() {
        assert!(check_client_state(Some(&"a".repeat(128))).is_ok());
        assert!(check_client_state(Some(&"a".repeat(129))).is_err());
        assert!(check_client_state(None).is_ok());
        assert_eq!(tls_version(None).unwrap(), "v1_2");
        assert_eq!(tls_version(Some("v1_3")).unwrap(), "v1_3");
        assert!(tls_version(Some("v1_4")).is_err());
        assert!(tls_version(Some("1.2")).is_err());
        assert!(check_certificate_id(None).is_err());
        assert!(check_certificate_id(Some(" ")).is_err());
        assert!(check_certificate_id(Some(&"c".repeat(129))).is_err());
        assert_eq!(check_certificate_id(Some("pw-1")).unwrap(), "pw-1");
    }
}
