//! The credential report: one typed [`CredentialReport`] per profile saying whether its
//! credentials work, what the app may do, and — when something is wrong — exactly what and how
//! to fix it, in plain words. The TUI's Credentials tab, `pilotwatch creds test [--json]` and
//! `pilotwatch check` all show this same report.
//!
//! Facts in, report out: [`probe`] gathers [`CredentialFacts`] with I/O and is the only module
//! here that does (and the only one that holds the secret, just long enough to ask for a token);
//! [`assess`] judges the facts and [`render`] prints the result. The facts and the report carry
//! only the secret's source, three-character hint and shape, never the secret.

mod assess;
mod facts;
pub mod probe;
mod refusal;
mod render;
mod report;

pub use assess::assess;
#[cfg(test)]
pub(crate) use assess::test_facts;
pub use facts::{CredentialFacts, Readable, SecretFacts, SecretShape, ServerClock, TokenFacts};
pub use refusal::explain_refusal;
pub use render::{render, render_check, tag};
pub use report::{
    Availability, Check, CheckId, ClockSkewSection, CredentialReport, ExpirySource,
    LicencesSection, PlanStatus, RolesSection, SampledUser, SecretSection, ServicePrincipalSection,
    TokenSection, TokenStatus,
};
