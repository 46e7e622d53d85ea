//! The `resource` of a Copilot subscription (graph-facts §2): the tenant-wide
//! `/copilot/interactionHistory/getAllEnterpriseInteractions` or the per-user
//! `/copilot/users/{id}/interactionHistory/getAllEnterpriseInteractions` (leading slash
//! optional, segments case-insensitive), optionally followed by `?$filter=…`. Anything else is
//! not a resource this simulator serves.
//!
//! Pure: no state, no I/O. Depends on the filter parser only.

use percent_encoding::percent_decode_str;

use super::Refusal;
use super::filter::{ResourceFilter, parse_filter};

/// Longest resource string accepted.
const MAX_RESOURCE_LEN: usize = 2048;

/// Whose interactions a subscription watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every user of the tenant.
    TenantWide,
    /// One user, by object id (lower-cased).
    User(String),
}

/// A resource string understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedResource {
    /// Tenant-wide or one user.
    pub scope: Scope,
    /// The `$filter`, if any.
    pub filter: ResourceFilter,
    /// Canonical form: two resources meaning the same have the same key (duplicate rule).
    pub key: String,
}

fn not_served(resource: &str) -> Refusal {
    let shown: String = resource.chars().take(200).collect();
    Refusal::invalid(format!(
        "Invalid resource '{shown}'. Copilot interaction subscriptions use '/copilot/interactionHistory/getAllEnterpriseInteractions' (tenant-wide) or '/copilot/users/{{user-id}}/interactionHistory/getAllEnterpriseInteractions' (one user), optionally with ?$filter= on top-level properties."
    ))
}

fn segment_is(segment: &str, expected: &str) -> bool {
    segment.eq_ignore_ascii_case(expected)
}

/// Parses a subscription's `resource`.
pub fn parse_resource(resource: &str) -> Result<ParsedResource, Refusal> {
    if resource.len() > MAX_RESOURCE_LEN {
        return Err(not_served(resource));
    }
    let (path, query) = match resource.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (resource, None),
    };
    let path = path.trim();
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let segments: Vec<&str> = trimmed.split('/').collect();
    let scope = match segments.as_slice() {
        [copilot, history, function]
            if segment_is(copilot, "copilot")
                && segment_is(history, "interactionHistory")
                && segment_is(function, "getAllEnterpriseInteractions") =>
        {
            Scope::TenantWide
        }
        [copilot, users, user, history, function]
            if segment_is(copilot, "copilot")
                && segment_is(users, "users")
                && is_user_key(user)
                && segment_is(history, "interactionHistory")
                && segment_is(function, "getAllEnterpriseInteractions") =>
        {
            Scope::User(user.to_ascii_lowercase())
        }
        _ => return Err(not_served(resource)),
    };
    let filter = match query {
        None => ResourceFilter::default(),
        Some(query) => parse_query(query)?,
    };
    let mut key = match &scope {
        Scope::TenantWide => "copilot/interactionhistory/getallenterpriseinteractions".to_owned(),
        Scope::User(user) => {
            format!("copilot/users/{user}/interactionhistory/getallenterpriseinteractions")
        }
    };
    let canonical = filter.canonical();
    if !canonical.is_empty() {
        key.push_str("?$filter=");
        key.push_str(&canonical);
    }
    Ok(ParsedResource { scope, filter, key })
}

/// A user key segment: an object id (or a user principal name), nothing that could be a path
/// or a key expression.
fn is_user_key(segment: &str) -> bool {
    !segment.is_empty()
        && segment.len() <= 256
        && !segment
            .chars()
            .any(|c| c.is_whitespace() || "'(){}".contains(c))
}

/// The query part: exactly one `$filter` and nothing else (graph-facts §2 shows only
/// `$filter` on subscription resources).
fn parse_query(query: &str) -> Result<ResourceFilter, Refusal> {
    let mut filter = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name)?;
        if !name.trim().eq_ignore_ascii_case("$filter") {
            let shown: String = name.chars().take(50).collect();
            return Err(Refusal::invalid(format!(
                "The query option '{shown}' is not supported on a subscription resource; only $filter is."
            )));
        }
        if filter.is_some() {
            return Err(Refusal::invalid(
                "$filter is given more than once in the resource.",
            ));
        }
        filter = Some(parse_filter(&decode(value)?)?);
    }
    filter.ok_or_else(|| Refusal::invalid("The resource ends with '?' but has no $filter."))
}

fn decode(text: &str) -> Result<String, Refusal> {
    percent_decode_str(text)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| Refusal::invalid("The resource's query is not valid percent-encoded UTF-8."))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::sim::registry::ConversationTypeFilter;

    #[test]
    fn tenant_wide_with_or_without_leading_slash_is_one_resource() {
        let a = parse_resource("/copilot/interactionHistory/getAllEnterpriseInteractions").unwrap();
        let b = parse_resource("copilot/interactionhistory/getallenterpriseinteractions").unwrap();
        assert_eq!(a.scope, Scope::TenantWide);
        assert_eq!(a.key, b.key);
        assert_eq!(a.filter, ResourceFilter::default());
    }

    #[test]
    fn per_user_resource_names_the_user() {
        let parsed = parse_resource(
            "/copilot/users/6E1F3F4A-0000-4000-8000-000000000001/interactionHistory/getAllEnterpriseInteractions",
        )
        .unwrap();
        assert_eq!(
            parsed.scope,
            Scope::User("6e1f3f4a-0000-4000-8000-000000000001".into())
        );
    }

    #[test]
    fn filters_raw_or_percent_encoded_are_understood() {
        let raw = parse_resource(
            "/copilot/interactionHistory/getAllEnterpriseInteractions?$filter=appClass eq 'IPM.SkypeTeams.Message.Copilot.Teams'",
        )
        .unwrap();
        let encoded = parse_resource(
            "/copilot/interactionHistory/getAllEnterpriseInteractions?%24filter=appClass%20eq%20%27IPM.SkypeTeams.Message.Copilot.Teams%27",
        )
        .unwrap();
        assert_eq!(raw, encoded);
        assert_eq!(
            raw.filter.app_classes,
            Some(vec!["IPM.SkypeTeams.Message.Copilot.Teams".to_owned()])
        );
        let plain =
            parse_resource("/copilot/interactionHistory/getAllEnterpriseInteractions").unwrap();
        assert_ne!(
            raw.key, plain.key,
            "a filtered resource is another resource"
        );
        let ne = parse_resource(
            "copilot/interactionHistory/getAllEnterpriseInteractions?$filter=conversationType ne 'bizchat'",
        )
        .unwrap();
        assert_eq!(
            ne.filter.conversation_types,
            Some(ConversationTypeFilter::NoneOf(vec!["bizchat".into()]))
        );
    }

    #[test]
    fn other_resources_and_query_options_are_refused() {
        for bad in [
            "",
            "/",
            "/users/x/messages",
            "/copilot/interactionHistory",
            "/copilot/interactionHistory/getAllEnterpriseInteractions/",
            "/copilot/users//interactionHistory/getAllEnterpriseInteractions",
            "/copilot/users/a b/interactionHistory/getAllEnterpriseInteractions",
            "https://graph.microsoft.com/v1.0/copilot/interactionHistory/getAllEnterpriseInteractions",
            "/copilot/interactionHistory/getAllEnterpriseInteractions?$top=10",
            "/copilot/interactionHistory/getAllEnterpriseInteractions?",
            "/copilot/interactionHistory/getAllEnterpriseInteractions?$filter=from/user/id eq 'x'",
            "/copilot/interactionHistory/getAllEnterpriseInteractions?$filter=a eq 'b'&$filter=a eq 'c'",
        ] {
            assert!(parse_resource(bad).is_err(), "{bad:?}");
        }
    }
}
