//! The OData collection envelope (`value` plus paging annotations).

use serde::{Deserialize, Serialize};

/// A page of a Graph collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection<T> {
    /// `@odata.context`.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    /// `@odata.count`, when the service volunteers it.
    #[serde(
        rename = "@odata.count",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<u64>,
    /// `@odata.nextLink`: follow it verbatim until it is absent.
    #[serde(
        rename = "@odata.nextLink",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
    /// The items of this page.
    pub value: Vec<T>,
}
