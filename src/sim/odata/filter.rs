//! `$filter` text → [`Expr`], by a tokenizer and a recursive-descent parser with OData's
//! precedence (`or` < `and` < `not` < comparison). Literals are typed while tokenizing: quoted
//! strings, `DateTimeOffset` (`2025-11-24T00:00:00Z`), numbers, GUIDs, `true`/`false`/`null`;
//! anything else is a malformed literal.
//!
//! Nothing here knows a property name: endpoints interpret the tree. Depends on chrono only.

use std::fmt;

use chrono::{DateTime, Utc};

/// Longest `$filter` accepted (characters); Graph's own limit is undocumented.
pub const MAX_FILTER_LEN: usize = 4096;

/// Deepest nesting of parentheses and `not` accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// Why a `$filter` was refused. `Display` gives the message Graph answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid filter clause: {0}")]
pub struct FilterError(pub String);

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
    /// `has` (enum flags)
    Has,
}

impl CompareOp {
    fn from_keyword(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            "has" => Self::Has,
            _ => return None,
        })
    }

    /// The operator's keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
            Self::Has => "has",
        }
    }
}

/// A typed literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` (quotes doubled inside).
    String(String),
    /// An unquoted `DateTimeOffset`.
    DateTime(DateTime<Utc>),
    /// An integer or decimal, as written.
    Number(String),
    /// An unquoted GUID, as written.
    Guid(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(text) => write!(f, "'{}'", text.replace('\'', "''")),
            Self::DateTime(at) => write!(
                f,
                "{}",
                at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
            Self::Number(text) | Self::Guid(text) => f.write_str(text),
            Self::Bool(value) => write!(f, "{value}"),
            Self::Null => f.write_str("null"),
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A property path such as `appClass` or `from/user/id`.
    Property(String),
    /// A literal.
    Literal(Literal),
}

impl fmt::Display for Operand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Property(path) => f.write_str(path),
            Self::Literal(literal) => literal.fmt(f),
        }
    }
}

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `a and b`
    And(Box<Expr>, Box<Expr>),
    /// `a or b`
    Or(Box<Expr>, Box<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `left op right`
    Compare {
        /// Left operand.
        left: Operand,
        /// Operator.
        op: CompareOp,
        /// Right operand.
        right: Operand,
    },
    /// `left in (v1, v2, …)`
    In {
        /// The tested operand.
        left: Operand,
        /// The candidates.
        values: Vec<Literal>,
    },
    /// A function call such as `contains(appClass,'Word')`.
    Call {
        /// Function name as written.
        function: String,
        /// Arguments.
        args: Vec<Operand>,
    },
}

impl Expr {
    /// The conjuncts of a chain of `and`s (a single clause for anything else).
    pub fn conjuncts(&self) -> Vec<&Expr> {
        match self {
            Self::And(left, right) => {
                let mut all = left.conjuncts();
                all.extend(right.conjuncts());
                all
            }
            other => vec![other],
        }
    }

    /// The disjuncts of a chain of `or`s (a single clause for anything else).
    pub fn disjuncts(&self) -> Vec<&Expr> {
        match self {
            Self::Or(left, right) => {
                let mut all = left.disjuncts();
                all.extend(right.disjuncts());
                all
            }
            other => vec![other],
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::And(left, right) => write!(f, "{} and {}", Grouped(left), Grouped(right)),
            Self::Or(left, right) => write!(f, "{left} or {right}"),
            Self::Not(inner) => write!(f, "not {}", Grouped(inner)),
            Self::Compare { left, op, right } => write!(f, "{left} {} {right}", op.keyword()),
            Self::In { left, values } => {
                let values: Vec<String> = values.iter().map(ToString::to_string).collect();
                write!(f, "{left} in ({})", values.join(","))
            }
            Self::Call { function, args } => {
                let args: Vec<String> = args.iter().map(ToString::to_string).collect();
                write!(f, "{function}({})", args.join(","))
            }
        }
    }
}

/// Displays an `or` in parentheses where precedence needs them.
struct Grouped<'a>(&'a Expr);

impl fmt::Display for Grouped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Expr::Or(..) => write!(f, "({})", self.0),
            other => other.fmt(f),
        }
    }
}

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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    /// Identifier, keyword or property path.
    Word(String),
    Literal(Literal),
    End,
}

/// A token and the character position it starts at.
type Positioned = (Token, usize);

fn tokenize(text: &str) -> Result<Vec<Positioned>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut at = 0;
    while let Some(&c) = chars.get(at) {
        let start = at;
        match c {
            c if c.is_whitespace() => {
                at += 1;
                continue;
            }
            '(' => {
                tokens.push((Token::Open, start));
                at += 1;
            }
            ')' => {
                tokens.push((Token::Close, start));
                at += 1;
            }
            ',' => {
                tokens.push((Token::Comma, start));
                at += 1;
            }
            '\'' => {
                let (value, end) = quoted(&chars, start, text)?;
                tokens.push((Token::Literal(Literal::String(value)), start));
                at = end;
            }
            c if c.is_ascii_digit() || (c == '-' && next_is_digit(&chars, at)) => {
                let end = scan(&chars, at, |c| {
                    c.is_ascii_alphanumeric() || matches!(c, '-' | '+' | ':' | '.')
                });
                let raw: String = chars.get(start..end).unwrap_or_default().iter().collect();
                tokens.push((Token::Literal(typed_literal(&raw)?), start));
                at = end;
            }
            c if c.is_ascii_hexdigit() && guid_at(&chars, at).is_some() => {
                let guid = guid_at(&chars, at).unwrap_or_default();
                at += guid.len();
                tokens.push((Token::Literal(Literal::Guid(guid)), start));
            }
            c if c.is_alphabetic() || c == '_' || c == '@' || c == '$' => {
                let end = scan(&chars, at, |c| {
                    c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | '@' | '$')
                });
                let word: String = chars.get(start..end).unwrap_or_default().iter().collect();
                let token = match word.to_ascii_lowercase().as_str() {
                    "true" => Token::Literal(Literal::Bool(true)),
                    "false" => Token::Literal(Literal::Bool(false)),
                    "null" => Token::Literal(Literal::Null),
                    _ => Token::Word(word),
                };
                tokens.push((token, start));
                at = end;
            }
            other => {
                return Err(FilterError(format!(
                    "syntax error: character '{other}' is not valid at position {start} in '{text}'."
                )));
            }
        }
    }
    tokens.push((Token::End, chars.len()));
    Ok(tokens)
}

/// An unquoted GUID starting at `at` (and not running on into a longer word).
fn guid_at(chars: &[char], at: usize) -> Option<String> {
    let candidate: String = chars.get(at..at + 36)?.iter().collect();
    let runs_on = chars
        .get(at + 36)
        .is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (is_guid(&candidate) && !runs_on).then_some(candidate)
}

fn next_is_digit(chars: &[char], at: usize) -> bool {
    chars.get(at + 1).is_some_and(char::is_ascii_digit)
}

fn scan(chars: &[char], from: usize, keep: impl Fn(char) -> bool) -> usize {
    let mut end = from;
    while chars.get(end).is_some_and(|&c| keep(c)) {
        end += 1;
    }
    end
}

/// A quoted string starting at `start`; `''` is an escaped quote. Returns the value and the
/// position after the closing quote.
fn quoted(chars: &[char], start: usize, text: &str) -> Result<(String, usize), FilterError> {
    let mut value = String::new();
    let mut at = start + 1;
    loop {
        match chars.get(at) {
            Some('\'') if chars.get(at + 1) == Some(&'\'') => {
                value.push('\'');
                at += 2;
            }
            Some('\'') => return Ok((value, at + 1)),
            Some(&c) => {
                value.push(c);
                at += 1;
            }
            None => {
                return Err(FilterError(format!(
                    "unterminated string literal at position {start} in '{text}'."
                )));
            }
        }
    }
}

/// Types an unquoted literal that starts with a digit (or `-digit`).
fn typed_literal(raw: &str) -> Result<Literal, FilterError> {
    if raw.contains('T') || raw.contains(':') {
        return DateTime::parse_from_rfc3339(raw)
            .map(|at| Literal::DateTime(at.with_timezone(&Utc)))
            .map_err(|_| {
                FilterError(format!(
                    "'{raw}' is not a valid DateTimeOffset literal; use the form 2025-11-24T00:00:00Z."
                ))
            });
    }
    if is_guid(raw) {
        return Ok(Literal::Guid(raw.to_owned()));
    }
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if all_digits(whole) && fraction.is_none_or(all_digits) {
        return Ok(Literal::Number(raw.to_owned()));
    }
    Err(FilterError(format!("'{raw}' is not a valid literal.")))
}

fn is_guid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
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
