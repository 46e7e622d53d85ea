//! What the `{tenant}` segment of an identity-platform URL names: this simulator's tenant (by
//! GUID or domain, any case), one of the multi-tenant aliases (`common`, `organizations`,
//! `consumers`), a well-formed identifier of some other tenant, or something that is neither a
//! GUID nor a DNS name.
//!
//! Pure: depends on the simulated tenant's identity only, never on state, clock or HTTP.

use crate::sim::tenant::{Tenant, is_guid};

/// The Microsoft-account ("consumers") tenant id Microsoft publishes in its metadata.
pub const CONSUMERS_TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Longest tenant identifier echoed back in an error message.
const MAX_ECHOED_CHARS: usize = 256;

/// What a `{tenant}` path segment names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authority {
    /// The simulated tenant.
    Ours,
    /// `common`: any work, school or Microsoft account.
    Common,
    /// `organizations`: any work or school account.
    Organizations,
    /// `consumers`: Microsoft accounts only.
    Consumers,
    /// A GUID or domain that is well formed but not a tenant this simulator knows (AADSTS90002).
    Unknown(String),
    /// Neither a GUID nor a valid DNS name (AADSTS900023).
    Malformed(String),
}

impl Authority {
    /// Classifies `segment` (already percent-decoded) against `tenant`.
    pub fn classify(segment: &str, tenant: &Tenant) -> Self {
        if tenant.matches(segment) {
            return Self::Ours;
        }
        let lower = segment.to_ascii_lowercase();
        match lower.as_str() {
            "common" => Self::Common,
            "organizations" => Self::Organizations,
            "consumers" => Self::Consumers,
            _ if is_guid(segment) || is_dns_name(segment) => Self::Unknown(echo(segment)),
            _ => Self::Malformed(echo(segment)),
        }
    }

    /// The path segment discovery documents use for this authority's own endpoints: the tenant
    /// GUID (even when it was addressed by domain, as Microsoft does) or the alias itself.
    pub fn endpoint_segment<'a>(&self, tenant: &'a Tenant) -> Option<&'a str> {
        match self {
            Self::Ours => Some(tenant.id.as_str()),
            Self::Common => Some("common"),
            Self::Organizations => Some("organizations"),
            Self::Consumers => Some("consumers"),
            Self::Unknown(_) | Self::Malformed(_) => None,
        }
    }

    /// The tenant id issuers carry: the GUID, or Microsoft's `{tenantid}` template for the
    /// multi-tenant aliases.
    pub fn issuer_tenant<'a>(&self, tenant: &'a Tenant) -> Option<&'a str> {
        match self {
            Self::Ours => Some(tenant.id.as_str()),
            Self::Common | Self::Organizations => Some("{tenantid}"),
            Self::Consumers => Some(CONSUMERS_TENANT_ID),
            Self::Unknown(_) | Self::Malformed(_) => None,
        }
    }
}

/// A DNS name as a tenant domain must be: at least two dot-separated labels of ASCII letters,
/// digits and inner hyphens, 1–63 characters each, 253 in all, and a top-level label that is
/// not all digits (so a bare IPv4 address is not a domain).
pub fn is_dns_name(text: &str) -> bool {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.is_empty() || name.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let well_formed = labels.iter().all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    let top_is_alphabetic = labels
        .last()
        .is_some_and(|top| !top.bytes().all(|b| b.is_ascii_digit()));
    labels.len() >= 2 && well_formed && top_is_alphabetic
}

/// The identifier as an error message may quote it: bounded in length.
fn echo(segment: &str) -> String {
    segment.chars().take(MAX_ECHOED_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn our_tenant_by_guid_or_domain_in_any_case() {
        let tenant = Tenant::generate(3, Utc::now());
        assert_eq!(Authority::classify(&tenant.id, &tenant), Authority::Ours);
        assert_eq!(
            Authority::classify(&tenant.id.to_uppercase(), &tenant),
            Authority::Ours
        );
        assert_eq!(
            Authority::classify(&tenant.domain.to_uppercase(), &tenant),
            Authority::Ours
        );
        assert_eq!(
            Authority::endpoint_segment(&Authority::Ours, &tenant),
            Some(tenant.id.as_str())
        );
    }

    #[test]
    fn aliases_unknown_and_malformed() {
        let tenant = Tenant::generate(3, Utc::now());
        assert_eq!(Authority::classify("Common", &tenant), Authority::Common);
        assert_eq!(
            Authority::classify("organizations", &tenant),
            Authority::Organizations
        );
        assert_eq!(
            Authority::classify("consumers", &tenant),
            Authority::Consumers
        );
        for unknown in [
            "contoso-typo.onmicrosoft.com",
            "fabrikam.com",
            "00000000-0000-0000-0000-000000000001",
        ] {
            assert_eq!(
                Authority::classify(unknown, &tenant),
                Authority::Unknown(unknown.to_owned()),
                "{unknown}"
            );
        }
        for malformed in [
            "contoso",
            "not a tenant",
            "-bad.example.com",
            "bad-.example.com",
            "a..b",
            "127.0.0.1",
            "x_y.example.com",
            "",
            "{00000000-0000-0000-0000-000000000001}",
        ] {
            assert!(
                matches!(
                    Authority::classify(malformed, &tenant),
                    Authority::Malformed(_)
                ),
                "{malformed:?}"
            );
        }
    }

    #[test]
    fn echoed_identifiers_are_bounded() {
        let tenant = Tenant::generate(3, Utc::now());
        let long = "a".repeat(5000);
        let Authority::Malformed(echoed) = Authority::classify(&long, &tenant) else {
            panic!("a 5000-character label is not a DNS name");
        };
        assert_eq!(echoed.len(), MAX_ECHOED_CHARS);
    }

    #[test]
    fn dns_names() {
        assert!(is_dns_name("contoso.onmicrosoft.com"));
        assert!(is_dns_name("contoso.com."));
        assert!(is_dns_name("xn--bcher-kva.example"));
        assert!(!is_dns_name(&format!("{}.com", "a".repeat(64))));
        assert!(!is_dns_name("com"));
    }
}
