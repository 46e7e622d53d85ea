//! The control socket: how `pilotwatch` views and CLI twins reach the one collector that owns
//! the store (`pilotwatch serve`). [`protocol`] is the versioned JSON-lines wire format and
//! [`codec`] reads and writes it over any byte stream.
//!
//! Depends on the console's request and answer types and the collector's updates; never on
//! the TUI or the Graph client.

pub mod codec;
pub mod protocol;
