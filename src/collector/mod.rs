//! The collector: the engine that keeps each profile's Copilot subscription alive
//! ([`keeper`]), fills gaps and reconciles push against the export API ([`poller`]), and tells
//! the UI what happened ([`update`]).
//!
//! Minimal module list written by the keeper engineer so the keeper and poller compile; the
//! lead owns this file (wiring, `serve`) and replaces it at merge. Depends on `graph`,
//! `config`, `clock` and the store; never on `tui` or `sim`.

pub mod keeper;
pub mod poller;
pub mod ports;
pub mod update;
