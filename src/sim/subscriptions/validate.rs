//! The property rules of subscription bodies (graph-facts §2, §3.1, §3.2): which properties a
//! create or update body may hold, change types, notification URLs, the expiry window,
//! `clientState` and `latestSupportedTlsVersion`.
//!
//! Pure: no state, no I/O, no clock (`now` is an argument). Depends on `graph::model` only.

use std::collections::BTreeSet;
use std::net::IpAddr;

use axum::http::StatusCode;
use chrono::{DateTime, Duration, DurationRound, SecondsFormat, Utc};
use serde_json::{Map, Value};
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

/// Properties a create body must hold.
const REQUIRED_ON_CREATE: [&str; 4] = [
    "changeType",
    "notificationUrl",
    "resource",
    "expirationDateTime",
];

/// Every property of `microsoft.graph.subscription` Graph accepts in a webhook create body
/// (read-only ones such as `id` are accepted and ignored, as OData does).
const SUBSCRIPTION_PROPERTIES: [&str; 16] = [
    "id",
    "resource",
    "applicationId",
    "changeType",
    "clientState",
    "notificationUrl",
    "notificationQueryOptions",
    "lifecycleNotificationUrl",
    "expirationDateTime",
    "creatorId",
    "includeResourceData",
    "latestSupportedTlsVersion",
    "encryptionCertificate",
    "encryptionCertificateId",
    "notificationUrlAppId",
    "notificationContentType",
];

/// Web Push only: a 400 on a webhook subscription (graph-facts §3.1, 2026).
const WEB_PUSH_PROPERTIES: [&str; 3] = [
    "vapidPublicKey",
    "webPushEncryptionP256dhPublicKey",
    "webPushEncryptionSecret",
];

/// The properties `PATCH /subscriptions/{id}` may change (graph-facts §3.2).
const PATCHABLE: [&str; 2] = ["expirationDateTime", "notificationUrl"];

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

fn unknown_property(name: &str) -> Refusal {
    let shown: String = name.chars().take(100).collect();
    Refusal::invalid(format!(
        "The property '{shown}' does not exist on type 'microsoft.graph.subscription'. Make sure to only use property names that are defined by the type."
    ))
}

fn is_annotation(name: &str) -> bool {
    name.starts_with("@odata.")
}

/// Checks the property names of a create body: required ones present and non-null, no
/// unknown or Web Push property.
pub fn check_create_properties(body: &Map<String, Value>) -> Result<(), Refusal> {
    for name in body.keys() {
        if WEB_PUSH_PROPERTIES.contains(&name.as_str()) {
            return Err(Refusal::invalid(format!(
                "The property '{name}' is only allowed on Web Push subscriptions; remove it from a webhook subscription."
            )));
        }
        if !is_annotation(name) && !SUBSCRIPTION_PROPERTIES.contains(&name.as_str()) {
            return Err(unknown_property(name));
        }
    }
    let missing: Vec<&str> = REQUIRED_ON_CREATE
        .iter()
        .copied()
        .filter(|name| body.get(*name).is_none_or(Value::is_null))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Refusal::invalid(format!(
            "Missing required properties: {}. A subscription needs changeType, notificationUrl, resource and expirationDateTime.",
            missing.join(", ")
        )))
    }
}

/// Checks the property names of an update body: only `expirationDateTime` and
/// `notificationUrl`, at least one of them. `lifecycleNotificationUrl` cannot be added or
/// changed later (graph-facts §3.1).
pub fn check_patch_properties(body: &Map<String, Value>) -> Result<(), Refusal> {
    for name in body.keys() {
        if is_annotation(name) || PATCHABLE.contains(&name.as_str()) {
            continue;
        }
        if name == "lifecycleNotificationUrl" {
            return Err(Refusal::invalid(
                "lifecycleNotificationUrl cannot be added to or changed on an existing subscription. Delete the subscription and create it again with the lifecycleNotificationUrl.",
            ));
        }
        if SUBSCRIPTION_PROPERTIES.contains(&name.as_str()) {
            return Err(Refusal::invalid(format!(
                "The property '{name}' cannot be updated; only expirationDateTime and notificationUrl can be changed. Delete the subscription and create a new one to change it."
            )));
        }
        return Err(unknown_property(name));
    }
    if PATCHABLE
        .iter()
        .any(|name| body.get(*name).is_some_and(|value| !value.is_null()))
    {
        Ok(())
    } else {
        Err(Refusal::invalid(
            "The request body must contain expirationDateTime, notificationUrl or both.",
        ))
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
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

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
            assert!(check_endpoint_url("notificationUrl", good).is_ok(), "{good}");
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
        assert!(refusal.message.contains("'3.00:00:00'"), "{}", refusal.message);
        assert!(refusal.message.contains("'3.00:01:00' from now"));
        let max = now + Duration::minutes(4_320);
        assert_eq!(settle_expiry(max, now, true, Operation::Create).unwrap(), max);
        let floor = now + Duration::minutes(45);
        for early in [now - Duration::days(1), now, now + Duration::minutes(44)] {
            assert_eq!(
                settle_expiry(early, now, false, Operation::Create).unwrap(),
                floor
            );
        }
        let refusal = settle_expiry(now + Duration::minutes(61), now, false, Operation::Update)
            .unwrap_err();
        assert_eq!(refusal.message, LIFECYCLE_URL_REQUIRED);
        let hour = now + Duration::minutes(60);
        assert_eq!(settle_expiry(hour, now, false, Operation::Create).unwrap(), hour);
    }

    #[test]
    fn create_bodies_need_the_four_required_properties_and_no_strangers() {
        let good = object(json!({
            "changeType": "created", "notificationUrl": "https://x/n", "resource": "r",
            "expirationDateTime": "2026-11-25T09:00:00Z", "@odata.type": "#microsoft.graph.subscription"
        }));
        assert!(check_create_properties(&good).is_ok());
        let missing = object(json!({"changeType": "created", "resource": null}));
        let message = check_create_properties(&missing).unwrap_err().message;
        assert!(message.contains("notificationUrl, resource, expirationDateTime"), "{message}");
        let mut stranger = good.clone();
        stranger.insert("notificationURL".into(), json!("x"));
        assert!(
            check_create_properties(&stranger)
                .unwrap_err()
                .message
                .contains("'notificationURL' does not exist")
        );
        let mut web_push = good;
        web_push.insert("vapidPublicKey".into(), json!("x"));
        assert!(check_create_properties(&web_push).is_err());
    }

    #[test]
    fn patch_bodies_change_only_expiry_and_notification_url() {
        assert!(check_patch_properties(&object(json!({"expirationDateTime": "x"}))).is_ok());
        assert!(check_patch_properties(&object(json!({"notificationUrl": "x"}))).is_ok());
        assert!(check_patch_properties(&object(json!({}))).is_err());
        assert!(check_patch_properties(&object(json!({"expirationDateTime": null}))).is_err());
        let message = check_patch_properties(&object(json!({
            "expirationDateTime": "x", "lifecycleNotificationUrl": "https://x/l"
        })))
        .unwrap_err()
        .message;
        assert!(message.contains("Delete the subscription"), "{message}");
        let message = check_patch_properties(&object(json!({"clientState": "x"})))
            .unwrap_err()
            .message;
        assert!(message.contains("cannot be updated"), "{message}");
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
