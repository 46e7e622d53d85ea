//! The control socket: how `pilotwatch` views and CLI twins reach the one collector that owns
//! the store (`pilotwatch serve`). [`protocol`] is the versioned JSON-lines wire format and
//! [`codec`] reads and writes it over any byte stream. [`server`] is what `serve` exposes:
//! [`socket`] says where it listens and with which permissions, [`access`] who may write, and
//! every command that crosses is recorded in the store's audit trail. [`client`] attaches a
//! view to a running collector and hands it an ordinary [`crate::console::CollectorHandle`].
//!
//! Depends on the console's request and answer types, the collector's updates and the store's
//! audit trail; never on the TUI or the Graph client.

pub mod access;
pub mod client;
pub mod codec;
mod command;
pub mod error;
pub mod protocol;
pub mod server;
mod session;
pub mod socket;

pub use access::{AccessPolicy, ControlGroup};
pub use error::ControlError;
pub use server::{ControlServer, RunningControl};
pub use session::Limits;
