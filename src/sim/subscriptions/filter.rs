//! `$filter` appended to a Copilot subscription resource (graph-facts §2): only top-level
//! aiInteraction properties may be filtered, nested paths such as `from/user/id` are refused.
//! The simulator applies what the pusher can honour: `appClass eq '…'` joined by `or`, and
//! `conversationType eq '…'` (joined by `or`) or `ne '…'` (joined by `and`); conditions on
//! different properties are joined by `and`. Anything else is answered with a clear 400.
//!
//! Pure: no state, no I/O. Depends on the registry's filter type only.

use super::Refusal;
use crate::sim::registry::ConversationTypeFilter;

/// Deepest parenthesis nesting accepted (keeps hostile input from exhausting the stack).
const MAX_DEPTH: usize = 16;

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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Text(String),
    Open,
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparison {
    property: String,
    op: Op,
    value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    Compare(Comparison),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

fn syntax(why: &str) -> Refusal {
    Refusal::invalid(format!(
        "Invalid $filter on the subscription resource: {why}"
    ))
}

fn tokenize(text: &str) -> Result<Vec<Token>, Refusal> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            chars.next();
            tokens.push(if c == '(' { Token::Open } else { Token::Close });
        } else if c == '\'' {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    None => return Err(syntax("a string literal is not closed.")),
                    Some('\'') if chars.peek() == Some(&'\'') => {
                        chars.next();
                        value.push('\'');
                    }
                    Some('\'') => break,
                    Some(other) => value.push(other),
                }
            }
            tokens.push(Token::Text(value));
        } else if c.is_alphanumeric() || "/_.$@-".contains(c) {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphanumeric() || "/_.$@-".contains(c) {
                    word.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push(Token::Word(word));
        } else {
            return Err(syntax(&format!("unexpected character '{c}'.")));
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    comparisons: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self, depth: usize) -> Result<Expr, Refusal> {
        let first = self.and(depth)?;
        if !self.keyword("or") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.keyword("or") {
            self.at += 1;
            items.push(self.and(depth)?);
        }
        Ok(Expr::Or(items))
    }

    fn and(&mut self, depth: usize) -> Result<Expr, Refusal> {
        let first = self.primary(depth)?;
        if !self.keyword("and") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.keyword("and") {
            self.at += 1;
            items.push(self.primary(depth)?);
        }
        Ok(Expr::And(items))
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, Refusal> {
        if self.peek() == Some(&Token::Open) {
            if depth >= MAX_DEPTH {
                return Err(syntax("parentheses are nested too deeply."));
            }
            self.at += 1;
            let inner = self.or(depth + 1)?;
            return match self.next() {
                Some(Token::Close) => Ok(inner),
                _ => Err(syntax("a parenthesis is not closed.")),
            };
        }
        self.comparison().map(Expr::Compare)
    }

    fn comparison(&mut self) -> Result<Comparison, Refusal> {
        self.comparisons += 1;
        if self.comparisons > MAX_COMPARISONS {
            return Err(syntax("too many conditions."));
        }
        let property = match self.next() {
            Some(Token::Word(word)) => word,
            _ => return Err(syntax("expected a property name.")),
        };
        if property.contains('/') {
            let shown: String = property.chars().take(100).collect();
            return Err(Refusal::invalid(format!(
                "Filtering on nested properties such as '{shown}' is not supported for this subscription resource; $filter may use top-level aiInteraction properties only."
            )));
        }
        let op = match self.next() {
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("eq") => Op::Eq,
            Some(Token::Word(word)) if word.eq_ignore_ascii_case("ne") => Op::Ne,
            Some(Token::Word(word)) => {
                let shown: String = word.chars().take(20).collect();
                return Err(syntax(&format!(
                    "operator '{shown}' is not supported here; use eq or ne."
                )));
            }
            _ => return Err(syntax("expected eq or ne after a property name.")),
        };
        match self.next() {
            Some(Token::Text(value)) => Ok(Comparison {
                property,
                op,
                value,
            }),
            _ => Err(syntax("expected a quoted string value.")),
        }
    }
}

/// Parses the text after `$filter=` (already percent-decoded).
pub fn parse_filter(text: &str) -> Result<ResourceFilter, Refusal> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        comparisons: 0,
    };
    if parser.tokens.is_empty() {
        return Err(syntax("the expression is empty."));
    }
    let expr = parser.or(0)?;
    if parser.at < parser.tokens.len() {
        return Err(syntax("unexpected text after the expression."));
    }
    let conjuncts = match expr {
        Expr::And(items) => items,
        other => vec![other],
    };
    let mut filter = ResourceFilter::default();
    for conjunct in conjuncts {
        let comparisons = disjunction(conjunct)?;
        apply(&mut filter, comparisons)?;
    }
    Ok(filter)
}

/// A conjunct must be one comparison or comparisons joined by `or`.
fn disjunction(expr: Expr) -> Result<Vec<Comparison>, Refusal> {
    let unsupported = || {
        syntax(
            "the simulator supports conditions joined by 'or' on one property, combined with 'and' across properties.",
        )
    };
    match expr {
        Expr::Compare(comparison) => Ok(vec![comparison]),
        Expr::Or(items) => items
            .into_iter()
            .map(|item| match item {
                Expr::Compare(comparison) => Ok(comparison),
                _ => Err(unsupported()),
            })
            .collect(),
        Expr::And(items) => {
            // `(a and b)` inside a conjunct: flatten it when every part is a comparison.
            let mut flat = Vec::new();
            for item in items {
                match item {
                    Expr::Compare(comparison) => flat.push(comparison),
                    _ => return Err(unsupported()),
                }
            }
            if flat.len() == 1 {
                Ok(flat)
            } else {
                Err(unsupported())
            }
        }
    }
}

fn apply(filter: &mut ResourceFilter, comparisons: Vec<Comparison>) -> Result<(), Refusal> {
    let Some(first) = comparisons.first() else {
        return Err(syntax("the expression is empty."));
    };
    let property = first.property.clone();
    if comparisons.iter().any(|c| c.property != property) {
        return Err(syntax(
            "conditions joined by 'or' must all be on the same property.",
        ));
    }
    let all = |op: Op| comparisons.iter().all(|c| c.op == op);
    let values = || {
        comparisons
            .iter()
            .map(|c| c.value.clone())
            .collect::<Vec<_>>()
    };
    match property.as_str() {
        "appClass" => {
            if !all(Op::Eq) {
                return Err(syntax("appClass supports 'eq' joined by 'or' only."));
            }
            if filter.app_classes.is_some() {
                return Err(syntax("give all appClass values in one 'or' group."));
            }
            filter.app_classes = Some(values());
        }
        "conversationType" => {
            let next = match (&filter.conversation_types, all(Op::Eq), all(Op::Ne)) {
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
}
