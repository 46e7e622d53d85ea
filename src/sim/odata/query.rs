//! System query options (`$top`, `$select`, `$filter`, `$skiptoken`, …) split out of a raw query
//! string, with the checks every endpoint shares: each option at most once, options an endpoint
//! does not support refused, `$top` and `$select` values validated.
//!
//! Values are decoded as `application/x-www-form-urlencoded` (`%XX`, and `+` as a space), as
//! Graph's ASP.NET front end does. Options are matched without their `$` and case-insensitively
//! (Graph accepts `$top`, `top` and `$TOP` alike); parameters that are not OData system options
//! are custom query options, which OData says a service ignores. Depends on `url` only.

use std::collections::BTreeMap;

/// Every OData system query option name (without `$`), so that a supported-elsewhere option
/// gets "not supported here" rather than being ignored as a custom parameter.
const SYSTEM_OPTIONS: [&str; 14] = [
    "filter",
    "select",
    "expand",
    "orderby",
    "top",
    "skip",
    "skiptoken",
    "count",
    "search",
    "format",
    "apply",
    "compute",
    "deltatoken",
    "index",
];

/// Longest raw query string read.
const MAX_QUERY_LEN: usize = 16 * 1024;

/// Why a query string was refused (answered as `400 BadRequest`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// The system query options of one request, by lower-case name without `$`.
#[derive(Debug, Clone, Default)]
pub struct QueryOptions {
    options: BTreeMap<String, String>,
}

impl QueryOptions {
    /// Splits `raw` (the URI's query, without `?`); `supported` lists the option names (lower
    /// case, no `$`) this endpoint accepts. Any other system option, a `$`-prefixed unknown
    /// one, or a repeated one is an error.
    pub fn parse(raw: Option<&str>, supported: &[&str]) -> Result<Self, QueryError> {
        let raw = raw.unwrap_or_default();
        if raw.len() > MAX_QUERY_LEN {
            return Err(QueryError(
                "The query string is longer than the service accepts.".to_owned(),
            ));
        }
        let mut options = BTreeMap::new();
        for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
            let written = name.trim();
            let bare = written
                .strip_prefix('$')
                .unwrap_or(written)
                .to_ascii_lowercase();
            let is_system = SYSTEM_OPTIONS.contains(&bare.as_str());
            if !is_system {
                if written.starts_with('$') {
                    return Err(QueryError(format!(
                        "The query parameter '{written}' is not supported."
                    )));
                }
                continue;
            }
            if !supported.contains(&bare.as_str()) {
                // UNVERIFIED: what Graph answers for an OData option an API does not support
                // varies by workload; the simulator refuses it rather than silently ignoring it,
                // so a client never believes an option took effect when it did not.
                return Err(QueryError(format!(
                    "Query option '${bare}' is not supported by this API."
                )));
            }
            if options.insert(bare.clone(), value.into_owned()).is_some() {
                return Err(QueryError(format!(
                    "Query option '${bare}' was specified more than once, but it must be specified at most once."
                )));
            }
        }
        Ok(Self { options })
    }

    /// The raw (decoded) value of option `name` (lower case, no `$`).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.options.get(name).map(String::as_str)
    }

    /// `$top`: `default` when absent; refused unless an integer in `1..=max`.
    pub fn top(&self, default: usize, max: usize) -> Result<usize, QueryError> {
        let Some(raw) = self.get("top") else {
            return Ok(default);
        };
        let trimmed = raw.trim();
        let value: i64 = trimmed.parse().map_err(|_| {
            QueryError(format!(
                "Invalid value '{raw}' for $top query option found. The $top query option requires a non-negative integer value."
            ))
        })?;
        if value < 1 {
            return Err(QueryError(format!(
                "Invalid value '{raw}' for $top query option found. The $top query option requires a positive integer value."
            )));
        }
        match usize::try_from(value) {
            Ok(value) if value <= max => Ok(value),
            _ => Err(QueryError(format!(
                "The limit of '{max}' for Top query has been exceeded. The value from the incoming request is '{trimmed}'."
            ))),
        }
    }

    /// `$select`: `None` when absent, else the properties named, in the order given, spelled as
    /// in `known` (matched case-insensitively), without repeats. `entity` names the type in
    /// the error for an unknown property.
    pub fn select(
        &self,
        known: &[&'static str],
        entity: &str,
    ) -> Result<Option<Vec<&'static str>>, QueryError> {
        let Some(raw) = self.get("select") else {
            return Ok(None);
        };
        let mut selected = Vec::new();
        for name in raw.split(',').map(str::trim) {
            if name.is_empty() {
                return Err(QueryError(format!(
                    "Syntax error: the $select value '{raw}' has an empty property name."
                )));
            }
            let Some(property) = known.iter().find(|p| p.eq_ignore_ascii_case(name)) else {
                return Err(QueryError(format!(
                    "Could not find a property named '{name}' on type 'microsoft.graph.{entity}'."
                )));
            };
            if !selected.contains(property) {
                selected.push(*property);
            }
        }
        Ok(Some(selected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_decoded_and_matched_without_dollar_or_case() {
        let query = QueryOptions::parse(
            Some("$top=5&%24filter=appClass+eq+%27x%27&custom=1&SkipToken=abc"),
            &["top", "filter", "skiptoken"],
        )
        .unwrap();
        assert_eq!(query.get("top"), Some("5"));
        assert_eq!(query.get("filter"), Some("appClass eq 'x'"));
        assert_eq!(query.get("skiptoken"), Some("abc"));
        assert_eq!(query.get("custom"), None, "custom options are ignored");
    }

    #[test]
    fn unsupported_unknown_and_repeated_options_are_refused() {
        let supported = ["top", "filter"];
        for bad in [
            "$select=id",
            "$orderby=id",
            "$count=true",
            "$bogus=1",
            "$top=1&top=2",
        ] {
            assert!(
                QueryOptions::parse(Some(bad), &supported).is_err(),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn top_defaults_and_bounds() {
        let parse = |raw: &str| QueryOptions::parse(Some(raw), &["top"]).unwrap();
        assert_eq!(parse("").top(100, 1000), Ok(100));
        assert_eq!(parse("$top=1000").top(100, 1000), Ok(1000));
        for bad in [
            "$top=0",
            "$top=-1",
            "$top=1001",
            "$top=abc",
            "$top=1.5",
            "$top=",
        ] {
            assert!(parse(bad).top(100, 1000).is_err(), "{bad} accepted");
        }
        let message = parse("$top=5000").top(100, 1000).unwrap_err().0;
        assert!(message.contains("'1000'"), "{message}");
    }

    #[test]
    fn select_spells_properties_canonically_and_names_unknown_ones() {
        let known = ["id", "appId", "displayName"];
        let query = QueryOptions::parse(Some("$select=APPID, id,appid"), &["select"]).unwrap();
        assert_eq!(
            query.select(&known, "servicePrincipal").unwrap(),
            Some(vec!["appId", "id"])
        );
        let query = QueryOptions::parse(Some("$select=id,nope"), &["select"]).unwrap();
        let message = query.select(&known, "servicePrincipal").unwrap_err().0;
        assert!(
            message.contains("'nope'") && message.contains("microsoft.graph.servicePrincipal"),
            "{message}"
        );
        let query = QueryOptions::parse(Some("$select=id,,appId"), &["select"]).unwrap();
        assert!(query.select(&known, "servicePrincipal").is_err());
    }
}
