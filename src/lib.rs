//! pilotwatch: the terminal operations console for Microsoft 365 Copilot interaction export.
//!
//! The crate is a library so that `tests/` and `benches/` exercise the same code the binary
//! runs. Modules follow `DESIGN.md`: `graph::model` is the wire contract, `sim` the Graph
//! simulator (which shares only the model and the clock with everything else).

pub mod cli;
pub mod clock;
pub mod collector;
pub mod commands;
pub mod config;
pub mod console;
pub mod control;
pub mod creds;
pub mod diagnose;
pub mod graph;
pub mod private_file;
pub mod receiver;
pub mod secret;
pub mod severity;
pub mod sim;
pub mod status;
pub mod store;
pub mod terminal_text;
pub mod tui;
