//! Which Copilot subscriptions a profile's keeper keeps (graph-facts §2): one tenant-wide
//! subscription, or one per licensed user. Part of `config`; depends on serde only.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `subscription_scope` of a profile.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubscriptionScope {
    /// One subscription on `/copilot/interactionHistory/getAllEnterpriseInteractions`: needs
    /// `AiEnterpriseInteraction.Read.All` and every Copilot plan provisioned in the tenant.
    #[default]
    Tenant,
    /// One subscription per user whose Microsoft 365 Copilot Chat plan is enabled, on
    /// `/copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions`: for tenants
    /// where the tenant-wide resource is refused, or with resource-specific consent.
    PerUser,
}

impl SubscriptionScope {
    /// True for the default, so a config file written back keeps the key out.
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl fmt::Display for SubscriptionScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tenant => "tenant",
            Self::PerUser => "per-user",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    struct Holder {
        #[serde(default)]
        scope: SubscriptionScope,
    }

    #[test]
    fn spelt_as_documented_and_defaulting_to_tenant() {
        let parse = |text: &str| toml::from_str::<Holder>(text).map(|h| h.scope);
        assert_eq!(parse("").unwrap(), SubscriptionScope::Tenant);
        assert_eq!(
            parse("scope = \"tenant\"").unwrap(),
            SubscriptionScope::Tenant
        );
        assert_eq!(
            parse("scope = \"per-user\"").unwrap(),
            SubscriptionScope::PerUser
        );
        let error = parse("scope = \"per_user\"").unwrap_err().to_string();
        assert!(error.contains("per-user"), "{error}");
        assert_eq!(SubscriptionScope::PerUser.to_string(), "per-user");
    }
}
