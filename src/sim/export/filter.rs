//! What `$filter` means on `getAllEnterpriseInteractions` (graph-facts §1.3): `createdDateTime`
//! with `gt` and `lt` — both bounds or neither — and `appClass eq '…'` joined by `or`
//! (optionally parenthesised), the groups combined with `and`. Every other property, operator,
//! function or literal is an invalid clause.
//!
//! Interprets the tree `odata::filter` parses; depends on it and `graph::model`.

use chrono::{DateTime, Utc};

use crate::graph::model::AiInteraction;
use crate::sim::odata::{CompareOp, Expr, Literal, Operand, filter};

/// The message for a filter with only one `createdDateTime` bound.
pub const BOTH_BOUNDS_REQUIRED: &str =
    "The filter on createdDateTime requires both a lower (gt) and an upper (lt) bound.";

/// A checked export filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportFilter {
    /// `createdDateTime gt …` (exclusive).
    pub after: Option<DateTime<Utc>>,
    /// `createdDateTime lt …` (exclusive).
    pub before: Option<DateTime<Utc>>,
    /// `appClass eq … or …`, any of which matches (compared ignoring case).
    pub app_classes: Option<Vec<String>>,
}

impl ExportFilter {
    /// Parses and checks a `$filter` value; the error is Graph's message.
    pub fn parse(text: &str) -> Result<Self, String> {
        let expr = filter::parse(text).map_err(|error| error.to_string())?;
        let mut checked = Self::default();
        for clause in expr.conjuncts() {
            checked.add(clause)?;
        }
        if checked.after.is_some() != checked.before.is_some() {
            return Err(BOTH_BOUNDS_REQUIRED.to_owned());
        }
        Ok(checked)
    }

    /// True when `item` passes the filter.
    pub fn matches(&self, item: &AiInteraction) -> bool {
        self.after
            .is_none_or(|after| item.created_date_time > after)
            && self
                .before
                .is_none_or(|before| item.created_date_time < before)
            && self.app_classes.as_ref().is_none_or(|classes| {
                classes
                    .iter()
                    .any(|class| class.eq_ignore_ascii_case(&item.app_class))
            })
    }

    fn add(&mut self, clause: &Expr) -> Result<(), String> {
        if let Some((op, literal)) = comparison_on(clause, "createdDateTime") {
            return self.add_bound(op, literal);
        }
        if clause
            .disjuncts()
            .iter()
            .all(|part| refers_to(part, "appClass"))
        {
            let classes = app_classes(clause)?;
            if self.app_classes.is_some() {
                return Err(invalid(
                    clause,
                    "appClass may appear in one group only: appClass eq '…' or appClass eq '…'.",
                ));
            }
            self.app_classes = Some(classes);
            return Ok(());
        }
        Err(invalid(
            clause,
            "this API filters only on createdDateTime (gt and lt, both bounds) and appClass (eq, combined with or).",
        ))
    }

    fn add_bound(&mut self, op: CompareOp, literal: &Literal) -> Result<(), String> {
        let clause = format!("createdDateTime {} {literal}", op.keyword());
        let Literal::DateTime(at) = literal else {
            return Err(format!(
                "Invalid filter clause: '{clause}': createdDateTime must be compared with a DateTimeOffset literal such as 2025-11-24T00:00:00Z (unquoted)."
            ));
        };
        let slot = match op {
            CompareOp::Gt => &mut self.after,
            CompareOp::Lt => &mut self.before,
            _ => {
                return Err(format!(
                    "Invalid filter clause: '{clause}': only 'gt' and 'lt' are supported on createdDateTime."
                ));
            }
        };
        if slot.is_some() {
            return Err(format!(
                "Invalid filter clause: '{clause}': createdDateTime may have one 'gt' and one 'lt' bound."
            ));
        }
        *slot = Some(*at);
        Ok(())
    }
}

/// `(op, literal)` when `clause` is `<property> op <literal>`.
fn comparison_on<'a>(clause: &'a Expr, property: &str) -> Option<(CompareOp, &'a Literal)> {
    match clause {
        Expr::Compare {
            left: Operand::Property(name),
            op,
            right: Operand::Literal(literal),
        } if name.eq_ignore_ascii_case(property) => Some((*op, literal)),
        _ => None,
    }
}

/// True when `clause` is a comparison of `property` with a literal.
fn refers_to(clause: &Expr, property: &str) -> bool {
    comparison_on(clause, property).is_some()
}

/// The values of `appClass eq 'a' or appClass eq 'b' …`.
fn app_classes(clause: &Expr) -> Result<Vec<String>, String> {
    clause
        .disjuncts()
        .into_iter()
        .map(|part| match comparison_on(part, "appClass") {
            Some((CompareOp::Eq, Literal::String(value))) => Ok(value.clone()),
            Some((CompareOp::Eq, _)) => Err(invalid(
                part,
                "appClass must be compared with a quoted string.",
            )),
            _ => Err(invalid(part, "only 'eq' is supported on appClass.")),
        })
        .collect()
}

fn invalid(clause: &Expr, why: &str) -> String {
    format!("Invalid filter clause: '{clause}': {why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORD: &str = "IPM.SkypeTeams.Message.Copilot.Word";
    const CHAT: &str = "IPM.SkypeTeams.Message.Copilot.BizChat";

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_documented_examples_are_accepted() {
        let bounds = ExportFilter::parse(
            "createdDateTime gt 2025-11-24T00:00:00Z and createdDateTime lt 2025-11-25T00:00:00Z",
        )
        .unwrap();
        assert_eq!(bounds.after, Some(at("2025-11-24T00:00:00Z")));
        assert_eq!(bounds.before, Some(at("2025-11-25T00:00:00Z")));
        let classes =
            ExportFilter::parse(&format!("appClass eq '{WORD}' or appClass eq '{CHAT}'")).unwrap();
        assert_eq!(
            classes.app_classes,
            Some(vec![WORD.to_owned(), CHAT.to_owned()])
        );
        let both = ExportFilter::parse(&format!(
            "(appClass eq '{WORD}' or appClass eq '{CHAT}') and createdDateTime gt 2025-11-24T00:00:00Z and createdDateTime lt 2025-11-25T00:00:00Z"
        ))
        .unwrap();
        assert!(both.app_classes.is_some() && both.after.is_some() && both.before.is_some());
        let reordered = ExportFilter::parse(&format!(
            "createdDateTime lt 2025-11-25T00:00:00Z and appClass eq '{WORD}' and createdDateTime gt 2025-11-24T00:00:00Z"
        ))
        .unwrap();
        assert_eq!(reordered.app_classes, Some(vec![WORD.to_owned()]));
    }

    #[test]
    fn one_bound_alone_is_refused_with_the_documented_rule() {
        for one in [
            "createdDateTime gt 2025-11-24T00:00:00Z",
            "createdDateTime lt 2025-11-24T00:00:00Z",
            "appClass eq 'x' and createdDateTime gt 2025-11-24T00:00:00Z",
        ] {
            assert_eq!(ExportFilter::parse(one).unwrap_err(), BOTH_BOUNDS_REQUIRED);
        }
    }

    #[test]
    fn everything_else_is_an_invalid_clause() {
        for bad in [
            "conversationType eq 'bizchat'",
            "createdDateTime ge 2025-11-24T00:00:00Z and createdDateTime lt 2025-11-25T00:00:00Z",
            "createdDateTime gt '2025-11-24T00:00:00Z' and createdDateTime lt 2025-11-25T00:00:00Z",
            "createdDateTime gt 2025-11-24T00:00:00Z and createdDateTime gt 2025-11-23T00:00:00Z and createdDateTime lt 2025-11-25T00:00:00Z",
            "appClass ne 'x'",
            "appClass eq 1",
            "appClass eq 'a' or createdDateTime gt 2025-11-24T00:00:00Z",
            "appClass eq 'a' or appClass eq 'b' and createdDateTime gt 2025-11-24T00:00:00Z and createdDateTime lt 2025-11-25T00:00:00Z",
            "appClass eq 'a' and appClass eq 'b'",
            "not (appClass eq 'a')",
            "contains(appClass,'Word')",
            "startswith(appClass,'IPM')",
            "appClass in ('a','b')",
            "'x' eq appClass",
            "from/user/id eq 'u'",
            "createdDateTime gt 2025-11-24",
        ] {
            let message = ExportFilter::parse(bad).unwrap_err();
            assert!(
                message.starts_with("Invalid filter clause: "),
                "{bad}: {message}"
            );
        }
    }

    #[test]
    fn bounds_are_exclusive_and_classes_ignore_case() {
        let filter = ExportFilter::parse(&format!(
            "appClass eq '{}' and createdDateTime gt 2025-11-24T00:00:00Z and createdDateTime lt 2025-11-25T00:00:00Z",
            WORD.to_lowercase()
        ))
        .unwrap();
        let item = |class: &str, created: &str| AiInteraction {
            id: "1".to_owned(),
            session_id: String::new(),
            request_id: String::new(),
            app_class: class.to_owned(),
            interaction_type: crate::graph::model::InteractionType::UserPrompt,
            conversation_type: None,
            etag: None,
            created_date_time: at(created),
            locale: None,
            body: None,
            from: None,
            attachments: Vec::new(),
            links: Vec::new(),
            contexts: Vec::new(),
            mentions: Vec::new(),
        };
        assert!(filter.matches(&item(WORD, "2025-11-24T12:00:00Z")));
        assert!(!filter.matches(&item(CHAT, "2025-11-24T12:00:00Z")));
        assert!(!filter.matches(&item(WORD, "2025-11-24T00:00:00Z")));
        assert!(!filter.matches(&item(WORD, "2025-11-25T00:00:00Z")));
        assert!(ExportFilter::default().matches(&item(CHAT, "2020-01-01T00:00:00Z")));
    }
}
