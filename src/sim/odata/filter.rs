//! `$filter` text → [`Expr`]: the tokens of `lexer`, read by a recursive-descent parser with
//! OData's precedence (`or` < `and` < `not` < comparison). Depth and length are bounded, so
//! hostile input is refused rather than exhausting the stack.
//!
//! Nothing here knows a property name: endpoints interpret the tree. Depends on the sibling
//! `expr` and `lexer` modules only.

use super::expr::{CompareOp, Expr, Literal, Operand};
use super::lexer::{Positioned, Token, tokenize};

/// Longest `$filter` accepted (characters); Graph's own limit is undocumented.
pub const MAX_FILTER_LEN: usize = 4096;

/// Deepest nesting of parentheses and `not` accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// Why a `$filter` was refused. `Display` gives the message Graph answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter clause: {0}")]
pub struct FilterError(pub String);

/// Parses a `$filter` value.
pub fn parse(text: &str) -> Result<Expr, FilterError> {
    if text.chars().count() > MAX_FILTER_LEN {
        return Err(FilterError(format!(
            "the filter is longer than {MAX_FILTER_LEN} characters."
        )));
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        text,
        tokens,
        next: 0,
        depth: 0,
    };
    let expr = parser.or_expr()?;
    match parser.peek() {
        Token::End => Ok(expr),
        _ => Err(parser.syntax_error()),
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<Positioned>,
    next: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        self.tokens
            .get(self.next)
            .map_or(&Token::End, |(token, _)| token)
    }

    fn position(&self) -> usize {
        self.tokens
            .get(self.next)
            .map_or(self.text.chars().count(), |(_, at)| *at)
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if self.next < self.tokens.len() {
            self.next += 1;
        }
        token
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Token::Word(word) if word.eq_ignore_ascii_case(keyword))
    }

    fn syntax_error(&self) -> FilterError {
        FilterError(format!(
            "syntax error at position {} in '{}'.",
            self.position(),
            self.text
        ))
    }

    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError(format!(
                "the filter is nested more than {MAX_DEPTH} levels deep."
            )));
        }
        Ok(())
    }

    fn or_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and_expr()?;
        while self.peek_keyword("or") {
            self.advance();
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.advance();
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.enter()?;
        let expr = if self.peek_keyword("not") {
            self.advance();
            Expr::Not(Box::new(self.unary()?))
        } else if *self.peek() == Token::Open {
            self.advance();
            let inner = self.or_expr()?;
            if self.advance() != Token::Close {
                return Err(self.syntax_error());
            }
            inner
        } else {
            self.comparison()?
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let left = self.operand()?;
        if let Operand::Property(function) = &left
            && *self.peek() == Token::Open
        {
            let function = function.clone();
            return self.call(function);
        }
        let Token::Word(word) = self.peek().clone() else {
            return Err(self.syntax_error());
        };
        if word.eq_ignore_ascii_case("in") {
            self.advance();
            return Ok(Expr::In {
                left,
                values: self.literal_list()?,
            });
        }
        let Some(op) = CompareOp::from_keyword(&word) else {
            return Err(FilterError(format!(
                "'{word}' at position {} is not a comparison operator in '{}'.",
                self.position(),
                self.text
            )));
        };
        self.advance();
        let right = self.operand()?;
        Ok(Expr::Compare { left, op, right })
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        match self.advance() {
            Token::Word(word) if is_reserved(&word) => {
                self.next = self.next.saturating_sub(1);
                Err(self.syntax_error())
            }
            Token::Word(word) => Ok(Operand::Property(word)),
            Token::Literal(literal) => Ok(Operand::Literal(literal)),
            _ => {
                self.next = self.next.saturating_sub(1);
                Err(self.syntax_error())
            }
        }
    }

    /// `name(arg, …)`; the name was already read and the next token is `(`.
    fn call(&mut self, function: String) -> Result<Expr, FilterError> {
        self.advance();
        let mut args = Vec::new();
        if *self.peek() != Token::Close {
            loop {
                args.push(self.operand()?);
                match self.advance() {
                    Token::Comma => continue,
                    Token::Close => break,
                    _ => return Err(self.syntax_error()),
                }
            }
        } else {
            self.advance();
        }
        Ok(Expr::Call { function, args })
    }

    /// `(literal, …)` after `in`.
    fn literal_list(&mut self) -> Result<Vec<Literal>, FilterError> {
        if self.advance() != Token::Open {
            return Err(self.syntax_error());
        }
        let mut values = Vec::new();
        loop {
            match self.advance() {
                Token::Literal(literal) => values.push(literal),
                _ => return Err(self.syntax_error()),
            }
            match self.advance() {
                Token::Comma => continue,
                Token::Close => return Ok(values),
                _ => return Err(self.syntax_error()),
            }
        }
    }
}

fn is_reserved(word: &str) -> bool {
    [
        "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "has", "in",
    ]
    .iter()
    .any(|keyword| word.eq_ignore_ascii_case(keyword))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn prop(name: &str) -> Operand {
        Operand::Property(name.to_owned())
    }

    fn string(text: &str) -> Operand {
        Operand::Literal(Literal::String(text.to_owned()))
    }

    #[test]
    fn a_comparison_with_a_datetime_literal() {
        let expr = parse("createdDateTime gt 2025-11-24T00:00:00Z").unwrap();
        let at = "2025-11-24T00:00:00Z".parse().unwrap();
        assert_eq!(
            expr,
            Expr::Compare {
                left: prop("createdDateTime"),
                op: CompareOp::Gt,
                right: Operand::Literal(Literal::DateTime(at)),
            }
        );
    }

    #[test]
    fn offsets_and_fractions_are_normalised_to_utc() {
        let expr = parse("createdDateTime lt 2025-11-24T01:30:00.250+01:00").unwrap();
        let Expr::Compare {
            right: Operand::Literal(Literal::DateTime(at)),
            ..
        } = expr
        else {
            panic!("not a datetime comparison: {expr:?}");
        };
        assert_eq!(
            at,
            "2025-11-24T00:30:00.250Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_override() {
        let loose = parse("appClass eq 'A' or appClass eq 'B' and x eq 1").unwrap();
        assert!(matches!(loose, Expr::Or(..)), "{loose:?}");
        let grouped = parse("(appClass eq 'A' or appClass eq 'B') and x eq 1").unwrap();
        let conjuncts = grouped.conjuncts();
        assert_eq!(conjuncts.len(), 2);
        assert_eq!(conjuncts[0].disjuncts().len(), 2);
        assert_eq!(
            grouped.to_string(),
            "(appClass eq 'A' or appClass eq 'B') and x eq 1"
        );
    }

    #[test]
    fn strings_unescape_doubled_quotes_and_keywords_ignore_case() {
        let expr = parse("displayName EQ 'O''Brien'").unwrap();
        assert_eq!(
            expr,
            Expr::Compare {
                left: prop("displayName"),
                op: CompareOp::Eq,
                right: string("O'Brien"),
            }
        );
    }

    #[test]
    fn functions_in_not_and_typed_literals_parse() {
        let call = parse("contains(appClass,'Word')").unwrap();
        assert_eq!(
            call,
            Expr::Call {
                function: "contains".to_owned(),
                args: vec![prop("appClass"), string("Word")],
            }
        );
        let within = parse("appClass in ('A', 'B')").unwrap();
        assert!(matches!(within, Expr::In { ref values, .. } if values.len() == 2));
        let negated = parse("not (id eq 12 or id eq -3.5)").unwrap();
        assert!(matches!(negated, Expr::Not(_)));
        let guid = parse("from/user/id eq 6b3c2f1e-2d4a-4b7e-9c1d-0a1b2c3d4e5f").unwrap();
        assert!(matches!(
            guid,
            Expr::Compare {
                right: Operand::Literal(Literal::Guid(_)),
                ..
            }
        ));
        let letter_guid = parse("id eq fb8d773d-7ef8-4ec0-a117-179f88add510").unwrap();
        assert!(matches!(
            letter_guid,
            Expr::Compare {
                right: Operand::Literal(Literal::Guid(_)),
                ..
            }
        ));
        let flags = parse("flag eq true and other ne null").unwrap();
        assert_eq!(flags.conjuncts().len(), 2);
    }

    #[test]
    fn malformed_filters_are_refused_with_the_graph_prefix() {
        for bad in [
            "",
            "createdDateTime gt",
            "createdDateTime gt 2025-13-45T00:00:00Z",
            "createdDateTime gt 2025-11-24T00:00:00",
            "createdDateTime gt 2025-11-24 00:00:00Z",
            "appClass eq 'unterminated",
            "appClass equals 'x'",
            "appClass eq 'a' or",
            "(appClass eq 'a'",
            "appClass eq 'a')",
            "appClass eq 'a' appClass eq 'b'",
            "and eq 'x'",
            "appClass eq 12abc",
            "appClass eq \"double\"",
            "appClass eq 'a' ; drop",
            "contains(appClass 'x')",
            "appClass in 'a'",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(
                error.to_string().starts_with("Invalid filter clause: "),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn hostile_nesting_and_length_are_refused_not_overflowed() {
        let deep = format!("{}a eq 1{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).unwrap_err().0.contains("nested"));
        let nots = format!("{}a eq 1", "not ".repeat(200));
        assert!(parse(&nots).is_err());
        let long = format!("appClass eq '{}'", "x".repeat(MAX_FILTER_LEN));
        assert!(parse(&long).unwrap_err().0.contains("longer"));
    }
}
