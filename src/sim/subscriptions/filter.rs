//! What `$filter` means when appended to a Copilot subscription resource (graph-facts §2):
//! only top-level aiInteraction properties may be filtered, nested paths such as
//! `from/user/id` are refused. The simulator applies what the pusher can honour:
//! `appClass eq '…'` joined by `or`, and `conversationType eq '…'` (joined by `or`) or
//! `ne '…'` (joined by `and`); conditions on different properties are joined by `and`.
//! Anything else is answered with a clear 400.
//!
//! Interprets the tree `odata::filter` parses (the syntax lives there). Pure: no state, no
//! I/O. Depends on `odata` and the registry's filter type only.

use super::Refusal;
use crate::sim::odata::{CompareOp, Expr, Literal, Operand, filter};
use crate::sim::registry::ConversationTypeFilter;

/// Most comparisons in one filter.
const MAX_COMPARISONS: usize = 64;

/// Top-level aiInteraction properties (graph-facts §1.5) other than the two the simulator
/// filters on: valid in Graph's eyes, but not honoured here.
const OTHER_TOP_LEVEL: [&str; 9] = [
    "id",
    "sessionId",
    "requestId",
    "interactionType",
    "etag",
    "createdDateTime",
    "locale",
    "body",
    "attachments",
];

/// What a resource's `$filter` lets through.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceFilter {
    /// Accepted `appClass` values (`None`: all).
    pub app_classes: Option<Vec<String>>,
    /// The `conversationType` condition (`None`: all).
    pub conversation_types: Option<ConversationTypeFilter>,
}

impl ResourceFilter {
    /// Canonical text: two filters meaning the same compare equal (duplicate detection).
    pub fn canonical(&self) -> String {
        let sorted = |values: &[String]| {
            let mut values: Vec<String> = values.iter().map(|v| v.to_ascii_lowercase()).collect();
            values.sort();
            values.dedup();
            values.join("|")
        };
        let mut parts = Vec::new();
        if let Some(classes) = &self.app_classes {
            parts.push(format!("appClass in ({})", sorted(classes)));
        }
        match &self.conversation_types {
            Some(ConversationTypeFilter::OneOf(values)) => {
                parts.push(format!("conversationType in ({})", sorted(values)));
            }
            Some(ConversationTypeFilter::NoneOf(values)) => {
                parts.push(format!("conversationType notin ({})", sorted(values)));
            }
            None => {}
        }
        parts.join(" and ")
    }
}

/// One `property eq|ne 'value'` condition, borrowed from the parsed tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Comparison<'a> {
    property: &'a str,
    op: CompareOp,
    value: &'a str,
}

fn syntax(why: &str) -> Refusal {
    Refusal::invalid(format!(
        "Invalid $filter on the subscription resource: {why}"
    ))
}

/// Parses the text after `$filter=` (already percent-decoded).
pub fn parse_filter(text: &str) -> Result<ResourceFilter, Refusal> {
    let expr = filter::parse(text).map_err(|error| syntax(&error.0))?;
    let mut leaves = Vec::new();
    collect_leaves(&expr, &mut leaves);
    if leaves.len() > MAX_COMPARISONS {
        return Err(syntax("too many conditions."));
    }
    if let Some(path) = leaves.iter().find_map(|leaf| nested_path(leaf)) {
        let shown: String = path.chars().take(100).collect();
        return Err(Refusal::invalid(format!(
            "Filtering on nested properties such as '{shown}' is not supported for this subscription resource; $filter may use top-level aiInteraction properties only."
        )));
    }
    let mut filter = ResourceFilter::default();
    for conjunct in expr.conjuncts() {
        let comparisons = disjunction(conjunct)?;
        apply(&mut filter, &comparisons)?;
    }
    Ok(filter)
}

/// The comparisons, `in`s and calls of `expr`, left to right.
fn collect_leaves<'a>(expr: &'a Expr, leaves: &mut Vec<&'a Expr>) {
    match expr {
        Expr::And(left, right) | Expr::Or(left, right) => {
            collect_leaves(left, leaves);
            collect_leaves(right, leaves);
        }
        Expr::Not(inner) => collect_leaves(inner, leaves),
        leaf => leaves.push(leaf),
    }
}

/// The property path with a `/` a leaf tests, if any (Graph refuses those before anything
/// else about the condition).
fn nested_path(leaf: &Expr) -> Option<&str> {
    match leaf {
        Expr::Compare {
            left: Operand::Property(path),
            ..
        }
        | Expr::In {
            left: Operand::Property(path),
            ..
        } if path.contains('/') => Some(path),
        _ => None,
    }
}

/// A conjunct must be one comparison or comparisons joined by `or`.
fn disjunction(conjunct: &Expr) -> Result<Vec<Comparison<'_>>, Refusal> {
    conjunct.disjuncts().into_iter().map(comparison).collect()
}

fn comparison(expr: &Expr) -> Result<Comparison<'_>, Refusal> {
    let Expr::Compare { left, op, right } = expr else {
        return Err(syntax(
            "the simulator supports conditions joined by 'or' on one property, combined with 'and' across properties.",
        ));
    };
    let Operand::Property(property) = left else {
        return Err(syntax("expected a property name."));
    };
    if !matches!(op, CompareOp::Eq | CompareOp::Ne) {
        return Err(syntax(&format!(
            "operator '{}' is not supported here; use eq or ne.",
            op.keyword()
        )));
    }
    let Operand::Literal(Literal::String(value)) = right else {
        return Err(syntax("expected a quoted string value."));
    };
    Ok(Comparison {
        property,
        op: *op,
        value,
    })
}

fn apply(filter: &mut ResourceFilter, comparisons: &[Comparison<'_>]) -> Result<(), Refusal> {
    let Some(first) = comparisons.first() else {
        return Err(syntax("the expression is empty."));
    };
    let property = first.property;
    if comparisons.iter().any(|c| c.property != property) {
        return Err(syntax(
            "conditions joined by 'or' must all be on the same property.",
        ));
    }
    let all = |op: CompareOp| comparisons.iter().all(|c| c.op == op);
    let values = || {
        comparisons
            .iter()
            .map(|c| c.value.to_owned())
            .collect::<Vec<_>>()
    };
    match property {
        "appClass" => {
            if !all(CompareOp::Eq) {
                return Err(syntax("appClass supports 'eq' joined by 'or' only."));
            }
            if filter.app_classes.is_some() {
                return Err(syntax("give all appClass values in one 'or' group."));
            }
            filter.app_classes = Some(values());
        }
        "conversationType" => {
            let next = match (
                &filter.conversation_types,
                all(CompareOp::Eq),
                all(CompareOp::Ne),
            ) {
                (None, true, _) => ConversationTypeFilter::OneOf(values()),
                (None, _, true) if comparisons.len() == 1 => {
                    ConversationTypeFilter::NoneOf(values())
                }
                (Some(ConversationTypeFilter::NoneOf(known)), _, true)
                    if comparisons.len() == 1 =>
                {
                    let mut merged = known.clone();
                    merged.extend(values());
                    ConversationTypeFilter::NoneOf(merged)
                }
                _ => {
                    return Err(syntax(
                        "conversationType supports 'eq' joined by 'or', or 'ne' joined by 'and'.",
                    ));
                }
            };
            filter.conversation_types = Some(next);
        }
        other if OTHER_TOP_LEVEL.contains(&other) => {
            return Err(Refusal::invalid(format!(
                "The simulator filters subscriptions on appClass and conversationType only; '{other}' is not supported."
            )));
        }
        other => {
            let shown: String = other.chars().take(100).collect();
            return Err(Refusal::invalid(format!(
                "Could not find a property named '{shown}' on type 'microsoft.graph.aiInteraction'."
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn app_class_eq_joined_by_or() {
        let filter = parse_filter(
            "appClass eq 'IPM.SkypeTeams.Message.Copilot.Word' or appClass eq 'IPM.SkypeTeams.Message.Copilot.BizChat'",
        )
        .unwrap();
        assert_eq!(
            filter.app_classes.unwrap(),
            vec![
                "IPM.SkypeTeams.Message.Copilot.Word",
                "IPM.SkypeTeams.Message.Copilot.BizChat"
            ]
        );
        assert!(filter.conversation_types.is_none());
    }

    #[test]
    fn conversation_type_ne_and_eq_combine_with_app_class() {
        let filter = parse_filter("conversationType ne 'bizchat'").unwrap();
        assert_eq!(
            filter.conversation_types,
            Some(ConversationTypeFilter::NoneOf(vec!["bizchat".into()]))
        );
        let filter = parse_filter(
            "(appClass eq 'A' or appClass eq 'B') and conversationType ne 'x' and conversationType ne 'y'",
        )
        .unwrap();
        assert_eq!(filter.app_classes.unwrap().len(), 2);
        assert_eq!(
            filter.conversation_types,
            Some(ConversationTypeFilter::NoneOf(vec!["x".into(), "y".into()]))
        );
        let filter = parse_filter("conversationType eq 'appchat'").unwrap();
        assert_eq!(
            filter.conversation_types,
            Some(ConversationTypeFilter::OneOf(vec!["appchat".into()]))
        );
    }

    #[test]
    fn nested_paths_are_refused_by_name() {
        let refusal = parse_filter("from/user/id eq '1234'").unwrap_err();
        assert!(refusal.message.contains("nested"), "{}", refusal.message);
        assert!(refusal.message.contains("from/user/id"));
    }

    #[test]
    fn malformed_and_unsupported_filters_are_refused() {
        for bad in [
            "",
            "appClass eq",
            "appClass eq 'A",
            "appClass gt 'A'",
            "appClass ne 'A'",
            "appClass eq 'A' or conversationType eq 'b'",
            "conversationType ne 'a' or conversationType ne 'b'",
            "appClass eq 'A' and appClass eq 'B'",
            "interactionType eq 'userPrompt'",
            "noSuchProperty eq 'x'",
            "(appClass eq 'A'",
            "appClass eq 'A' extra",
            &"(".repeat(100),
        ] {
            assert!(parse_filter(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quotes_escape_and_canonical_form_ignores_order_and_case() {
        let filter = parse_filter("conversationType eq 'it''s'").unwrap();
        assert_eq!(
            filter.conversation_types,
            Some(ConversationTypeFilter::OneOf(vec!["it's".into()]))
        );
        let a = parse_filter("appClass eq 'A' or appClass eq 'b'").unwrap();
        let b = parse_filter("appClass eq 'B' or appClass eq 'a'").unwrap();
        assert_eq!(a.canonical(), b.canonical());
    }

    #[test]
    fn redundant_parentheses_and_nested_paths_anywhere_in_the_tree() {
        let flat = parse_filter("appClass eq 'A' or appClass eq 'B' or appClass eq 'C'").unwrap();
        let grouped =
            parse_filter("appClass eq 'A' or (appClass eq 'B' or appClass eq 'C')").unwrap();
        assert_eq!(flat, grouped);
        let grouped = parse_filter(
            "appClass eq 'A' and (conversationType ne 'x' and conversationType ne 'y')",
        )
        .unwrap();
        assert_eq!(
            grouped.conversation_types,
            Some(ConversationTypeFilter::NoneOf(vec!["x".into(), "y".into()]))
        );
        for nested in [
            "appClass eq 'A' and from/user/id eq 'x'",
            "not (from/user/id eq 'x')",
            "from/user/id in ('a', 'b')",
            "from/user/id eq 6b3c2f1e-2d4a-4b7e-9c1d-0a1b2c3d4e5f",
        ] {
            let refusal = parse_filter(nested).unwrap_err();
            assert!(
                refusal.message.contains("'from/user/id'"),
                "{nested}: {refusal}"
            );
        }
        for unsupported in [
            "not appClass eq 'A'",
            "appClass in ('A', 'B')",
            "contains(appClass, 'Word')",
            "'A' eq appClass",
            "appClass eq conversationType",
            "appClass eq 12",
            "appClass eq 'A' or (appClass eq 'B' and conversationType eq 'x')",
        ] {
            let refusal = parse_filter(unsupported).unwrap_err();
            assert_eq!(
                refusal.status,
                axum::http::StatusCode::BAD_REQUEST,
                "{unsupported}"
            );
        }
        let too_many = vec!["appClass eq 'A'"; MAX_COMPARISONS + 1].join(" or ");
        assert!(
            parse_filter(&too_many)
                .unwrap_err()
                .message
                .contains("too many")
        );
    }
}
