//! The credential report: one typed [`CredentialReport`] per profile saying whether its
//! credentials work, what the app may do, and — when something is wrong — exactly what and how
//! to fix it, in plain words. The TUI's Credentials tab, `pilotwatch creds test [--json]` and
//! `pilotwatch check` all show this same report.
//!
//! Facts in, report out: the probe (elsewhere) gathers [`CredentialFacts`] with I/O; [`assess`]
//! judges them and [`render`] prints the result. Nothing here does I/O or reads a clock, and
//! nothing here ever sees a secret — only its source, three-character hint and shape.

mod assess;
mod facts;
mod render;
mod report;

pub use assess::assess;
pub use facts::{CredentialFacts, Readable, SecretFacts, SecretShape, ServerClock, TokenFacts};
pub use render::{render, tag};
pub use report::{
    Availability, Check, CheckId, ClockSkewSection, CredentialReport, ExpirySource,
    LicencesSection, PlanStatus, RolesSection, SampledUser, SecretSection, ServicePrincipalSection,
    TokenSection, TokenStatus,
};
