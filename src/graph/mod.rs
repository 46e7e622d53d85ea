//! The client side of Microsoft identity and Microsoft Graph.
//!
//! For now this holds only [`model`], the serde types both the simulator and the client speak.
//! The model depends on nothing else in the crate.

pub mod model;
