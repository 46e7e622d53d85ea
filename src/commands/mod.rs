//! What each subcommand does, between the parsed command line and the library.
//!
//! May depend on every other module; nothing depends on it but `main`.

pub mod creds;
pub mod sim;
