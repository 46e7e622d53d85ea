//! The tree a `$filter` parses into: comparisons of properties with typed literals, `in`,
//! function calls, and `and` / `or` / `not`; displayed back as OData text for error messages.
//!
//! Depends on chrono only.

use std::fmt;

use chrono::{DateTime, Utc};

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
    pub(super) fn from_keyword(word: &str) -> Option<Self> {
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
