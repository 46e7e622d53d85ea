//! Which properties a subscription body may hold (graph-facts §3.1, §3.2): a create body needs
//! `changeType`, `notificationUrl`, `resource` and `expirationDateTime` and nothing unknown or
//! Web Push specific; an update body may only change `expirationDateTime` and
//! `notificationUrl` (`lifecycleNotificationUrl` cannot be added later: delete and recreate).
//! The bodies are read as JSON objects first so unknown or immutable properties are named.
//!
//! Pure: no state, no I/O.

use serde_json::{Map, Value};

use super::Refusal;

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
    fn create_bodies_need_the_four_required_properties_and_no_strangers() {
        let good = object(json!({
            "changeType": "created", "notificationUrl": "https://x/n", "resource": "r",
            "expirationDateTime": "2026-11-25T09:00:00Z", "@odata.type": "#microsoft.graph.subscription"
        }));
        assert!(check_create_properties(&good).is_ok());
        let missing = object(json!({"changeType": "created", "resource": null}));
        let message = check_create_properties(&missing).unwrap_err().message;
        assert!(
            message.contains("notificationUrl, resource, expirationDateTime"),
            "{message}"
        );
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
}
