//! The collector: the engine that keeps each profile's Copilot subscription alive
//! ([`keeper`]), receives its notifications (`crate::receiver`), fills gaps and reconciles push
//! against the export API ([`poller`]), persists everything (`crate::store`) and tells the UI
//! what happened ([`update`]), supervises its tasks ([`supervise`]: a dead task is recorded
//! and announced, never silently missing), and diagnoses each profile from what they saw ([`facts`]).
//! [`engine`] wires them per profile; [`ports`] adapts the store and
//! the key pair to the narrow traits the parts are written against. An operator's orders
//! (renew, reauthorize, recreate, backfill now; [`command`]) arrive at the collector's `desk`.
//!
//! Depends on `graph`, `config`, `clock`, `secret`, `store`, `receiver`, `creds` (the probe)
//! and `diagnose`; never on `tui` or `sim`.

mod background;
pub mod command;
pub mod delivery;
mod desk;
pub mod engine;
pub mod facts;
pub mod keeper;
pub mod names;
pub mod poller;
pub mod ports;
pub mod rotation;
mod setup;
pub mod supervise;
pub mod update;

pub use command::{ActionReport, CollectorCommandError};
pub use desk::OrderDesk;
pub use engine::{Collector, CollectorOptions};
pub use rotation::{CertificateRotation, RotationError};
pub use setup::{CollectorError, DEFAULT_RECEIVER_BIND, key_paths};
pub use supervise::{EndReason, TaskBoard, TaskDeath};
