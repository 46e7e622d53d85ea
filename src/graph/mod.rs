//! The client side of Microsoft identity and Microsoft Graph.
//!
//! [`model`] holds the serde types both the simulator and the client speak; [`auth`] obtains
//! client-credentials tokens; [`http`] sends Graph requests (budget, retries, paging, errors); [`directory`] reads the
//! objects credential diagnosis needs.
//! The model depends on nothing else in the crate.

pub mod auth;
pub mod directory;
pub mod http;
pub mod model;
