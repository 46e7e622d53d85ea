//! The OData query language as the simulated Graph reads it: system query options (`$top`,
//! `$select`, `$filter`, …) split out of a request's query string, and `$filter` parsed by a
//! small recursive-descent parser into an expression tree.
//!
//! This module knows the *syntax* only: which properties, operators and literals an endpoint
//! accepts is decided by the endpoint (e.g. `export` allows `createdDateTime gt/lt` and
//! `appClass eq … or …`; a subscription resource's `$filter` allows `appClass eq` and
//! `conversationType eq/ne`). It depends on nothing else in the crate.

mod expr;
pub mod filter;
mod lexer;
pub mod query;

pub use expr::{CompareOp, Expr, Literal, Operand};
pub use filter::FilterError;
pub use query::{QueryError, QueryOptions};
