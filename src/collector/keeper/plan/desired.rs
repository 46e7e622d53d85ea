//! What a subscription must look like to serve the current configuration, and how a
//! registered one is told apart from it: the resource (per-user resources escaped, spellings
//! compared without the leading `/` and case), the notification and lifecycle URLs and the
//! encryption certificate. A lifecycle URL or a certificate cannot be changed by PATCH
//! (graph-facts §3.1), so any difference means delete and recreate; a certificate alone is a
//! rotation, not a misconfiguration.
//!
//! Pure; depends on the store's subscription record and the poller's path escaping only.

use crate::collector::poller::window::path_segment;
use crate::store::records::SubscriptionRecord;

/// What a subscription must look like to serve the current configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// The resource watched.
    pub resource: String,
    /// The notification URL.
    pub notification_url: String,
    /// The lifecycle URL.
    pub lifecycle_url: String,
    /// The encryption certificate id.
    pub certificate_id: String,
}

/// Why `record` cannot serve `desired` (`None`: it can). A lifecycle URL or certificate cannot
/// be changed by PATCH (§3.1), so any difference means delete and recreate.
pub fn mismatch(record: &SubscriptionRecord, desired: &Desired) -> Option<String> {
    if !same_resource(&record.resource, &desired.resource) {
        return Some(format!("it watches {} instead", record.resource));
    }
    if record.notification_url != desired.notification_url {
        return Some("its notification URL is not the configured one".to_owned());
    }
    if record.lifecycle_url.as_deref() != Some(desired.lifecycle_url.as_str()) {
        return Some("its lifecycle notification URL is not the configured one".to_owned());
    }
    if record.certificate_id.as_deref() != Some(desired.certificate_id.as_str()) {
        return Some("it encrypts for an older certificate".to_owned());
    }
    None
}

/// The per-user resource for `user_id` (graph-facts §2), the id escaped as one path segment.
pub fn user_resource(user_id: &str) -> String {
    format!(
        "/copilot/users/{}/interactionHistory/getAllEnterpriseInteractions",
        path_segment(user_id)
    )
}

/// The key two spellings of one resource share (see [`same_resource`]).
pub fn resource_key(resource: &str) -> String {
    resource.trim_start_matches('/').to_ascii_lowercase()
}

/// True when the only thing wrong with `record` for `desired` is its certificate: it is moved
/// to the current one by a certificate rotation rather than retired as misconfigured.
pub fn only_certificate_differs(record: &SubscriptionRecord, desired: &Desired) -> bool {
    let same_certificate = Desired {
        certificate_id: record.certificate_id.clone().unwrap_or_default(),
        ..desired.clone()
    };
    mismatch(record, desired).is_some() && mismatch(record, &same_certificate).is_none()
}

/// Resource paths compare without the leading `/` and case-insensitively (Graph echoes what
/// was sent; the documentation writes both forms).
pub fn same_resource(a: &str, b: &str) -> bool {
    a.trim_start_matches('/')
        .eq_ignore_ascii_case(b.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::super::tests::record;
    use super::*;

    #[test]
    fn per_user_resources_escape_the_id_and_share_a_key_with_other_spellings() {
        let resource = user_resource("6e1f3f4a-0000-4000-8000-000000000001");
        assert_eq!(
            resource,
            "/copilot/users/6e1f3f4a-0000-4000-8000-000000000001/interactionHistory/getAllEnterpriseInteractions"
        );
        assert_eq!(
            resource_key(&resource),
            resource_key(
                "copilot/users/6E1F3F4A-0000-4000-8000-000000000001/interactionhistory/getallenterpriseinteractions"
            )
        );
        assert!(user_resource("a/b?c").contains("/copilot/users/a%2Fb%3Fc/"));
    }

    #[test]
    fn a_certificate_change_alone_is_told_from_other_differences() {
        let subscription = record();
        let desired = Desired {
            resource: subscription.resource.clone(),
            notification_url: subscription.notification_url.clone(),
            lifecycle_url: "https://n.test/lifecycle".into(),
            certificate_id: "cert-2".into(),
        };
        assert!(only_certificate_differs(&subscription, &desired));
        let moved = Desired {
            notification_url: "https://other.test/notify".into(),
            ..desired.clone()
        };
        assert!(!only_certificate_differs(&subscription, &moved));
        let same = Desired {
            certificate_id: "cert-1".into(),
            ..desired
        };
        assert!(!only_certificate_differs(&subscription, &same));
    }

    #[test]
    fn any_configuration_difference_means_recreate() {
        let subscription = record();
        let desired = Desired {
            resource: "copilot/interactionHistory/getAllEnterpriseInteractions".into(),
            notification_url: "https://n.test/notify".into(),
            lifecycle_url: "https://n.test/lifecycle".into(),
            certificate_id: "cert-1".into(),
        };
        assert_eq!(mismatch(&subscription, &desired), None);
        for changed in [
            Desired {
                notification_url: "https://other.test/notify".into(),
                ..desired.clone()
            },
            Desired {
                lifecycle_url: "https://other.test/lifecycle".into(),
                ..desired.clone()
            },
            Desired {
                certificate_id: "cert-2".into(),
                ..desired.clone()
            },
            Desired {
                resource: "/copilot/users/u/interactionHistory/getAllEnterpriseInteractions".into(),
                ..desired.clone()
            },
        ] {
            assert!(mismatch(&subscription, &changed).is_some(), "{changed:?}");
        }
    }
}
