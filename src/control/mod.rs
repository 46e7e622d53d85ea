//! The control socket: how `pilotwatch` views and CLI twins reach the one collector that owns
//! the store (`pilotwatch serve`). [`protocol`] is the versioned JSON-lines wire format and
//! [`codec`] reads and writes it over any byte stream; [`client`] attaches a view to a running
//! collector and hands it an ordinary [`crate::console::CollectorHandle`].
//!
//! Depends on the console's request and answer types and the collector's updates; never on
//! the TUI or the Graph client.

pub mod client;
pub mod codec;
pub mod protocol;
