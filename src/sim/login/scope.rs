//! Judging the `scope` of a client-credentials request. The flow takes exactly one value, the
//! `/.default` scope of one resource; for this simulator the only resource is Microsoft Graph,
//! named by its application ID URI or its appId.
//!
//! Pure: no state, no HTTP.

use crate::graph::model::well_known::GRAPH_AUDIENCE;

/// Microsoft Graph's application (client) id, the other name a `/.default` scope may use.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// What the identity platform makes of a `scope` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeVerdict {
    /// Microsoft Graph's `/.default`: a token can be issued.
    Graph,
    /// One scope, but not a `/.default` one (AADSTS1002012).
    NotDefault,
    /// More than one scope, or a value that is not a scope at all (AADSTS70011).
    /// `bad_format` adds Microsoft's note on the URI/GUID form.
    Invalid {
        /// The value is not in URI or GUID form at all.
        bad_format: bool,
    },
    /// `<resource>/.default` for a resource this tenant has no service principal for
    /// (AADSTS500011); carries the resource identifier.
    UnknownResource(String),
}

/// Judges `scope` (the form value, already decoded).
pub fn evaluate(scope: &str) -> ScopeVerdict {
    let values: Vec<&str> = scope.split_whitespace().collect();
    let [value] = values.as_slice() else {
        return ScopeVerdict::Invalid { bad_format: false };
    };
    let Some(resource) = strip_default_suffix(value) else {
        return if looks_like_scope(value) {
            ScopeVerdict::NotDefault
        } else {
            ScopeVerdict::Invalid { bad_format: true }
        };
    };
    if is_graph(resource) {
        ScopeVerdict::Graph
    } else if is_resource_identifier(resource) {
        ScopeVerdict::UnknownResource(resource.to_owned())
    } else {
        ScopeVerdict::Invalid { bad_format: true }
    }
}

/// `https://graph.microsoft.com/.default` → `https://graph.microsoft.com` (suffix matched in
/// any case).
fn strip_default_suffix(value: &str) -> Option<&str> {
    const SUFFIX: &str = "/.default";
    let split = value.len().checked_sub(SUFFIX.len())?;
    let (resource, suffix) = (value.get(..split)?, value.get(split..)?);
    suffix.eq_ignore_ascii_case(SUFFIX).then_some(resource)
}

/// Graph by its URI (any case; the doubled slash of `https://graph.microsoft.com//.default` is
/// accepted as the service accepts it) or by its appId.
fn is_graph(resource: &str) -> bool {
    let uri = resource.strip_suffix('/').unwrap_or(resource);
    uri.eq_ignore_ascii_case(GRAPH_AUDIENCE) || resource.eq_ignore_ascii_case(GRAPH_APP_ID)
}

/// An application ID URI (`scheme://…` or `api://…`) or an appId GUID.
fn is_resource_identifier(resource: &str) -> bool {
    crate::sim::tenant::is_guid(resource)
        || url::Url::parse(resource).is_ok_and(|url| url.has_host() || url.scheme() == "api")
}

/// A delegated-style scope: `User.Read.All`, `https://graph.microsoft.com/User.Read`,
/// `{appId}/access_as_user`.
fn looks_like_scope(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/' | b':' | b'~'))
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_default_in_every_accepted_spelling() {
        for scope in [
            "https://graph.microsoft.com/.default",
            "HTTPS://Graph.Microsoft.com/.Default",
            "https://graph.microsoft.com//.default",
            "00000003-0000-0000-c000-000000000000/.default",
            "  https://graph.microsoft.com/.default  ",
        ] {
            assert_eq!(evaluate(scope), ScopeVerdict::Graph, "{scope:?}");
        }
    }

    #[test]
    fn delegated_style_scopes_lack_the_default_suffix() {
        for scope in [
            "https://graph.microsoft.com/User.Read",
            "User.Read.All",
            "api://b5a3c1d2/access_as_user",
            ".default",
        ] {
            assert_eq!(evaluate(scope), ScopeVerdict::NotDefault, "{scope:?}");
        }
    }

    #[test]
    fn other_resources_are_not_found() {
        assert_eq!(
            evaluate("https://management.azure.com/.default"),
            ScopeVerdict::UnknownResource("https://management.azure.com".to_owned())
        );
        assert_eq!(
            evaluate("api://5e1c9f0a-0000-4000-8000-000000000000/.default"),
            ScopeVerdict::UnknownResource("api://5e1c9f0a-0000-4000-8000-000000000000".to_owned())
        );
    }

    #[test]
    fn several_scopes_or_garbage_are_invalid() {
        assert_eq!(
            evaluate("https://graph.microsoft.com/.default https://management.azure.com/.default"),
            ScopeVerdict::Invalid { bad_format: false }
        );
        assert_eq!(
            evaluate("https://graph.microsoft.com/.default openid"),
            ScopeVerdict::Invalid { bad_format: false }
        );
        for garbage in ["<script>", "/.default", "%%%/.default", "1234"] {
            assert_eq!(
                evaluate(garbage),
                ScopeVerdict::Invalid { bad_format: true },
                "{garbage:?}"
            );
        }
    }
}
