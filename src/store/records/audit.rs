//! Entries of the audit trail: one per operator command that reached the collector, over its
//! control socket or typed into a console running it embedded, with who sent it (uid, user name,
//! pid, the client's own description), when (the collector's clock), what exactly (the command and
//! its arguments as JSON) and what came of it. Refusals are recorded too: a read-only client trying
//! to renew is exactly what an incident review wants to see.
//!
//! Plain data; depends on nothing that does I/O. Secrets never reach it: a profile edit typed
//! into an embedded console is recorded with only whether a new secret was given
//! ([`crate::console::audit`]), and none crosses the socket.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One audited command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// When the collector finished with it (its clock).
    pub at: DateTime<Utc>,
    /// The sender's uid, from the socket's peer credentials (not from anything it said), or
    /// the embedded console's own.
    pub uid: u32,
    /// The sender's user name, or the uid as a number when the system does not know it.
    pub user: String,
    /// The sender's process id, when the kernel reported one.
    pub pid: Option<i32>,
    /// How the client described itself in its hello (`pilotwatch 0.1.0 tui`); untrusted.
    pub client: String,
    /// The command's name (`renew`, `backfill`, `switch-scenario`, …).
    pub command: String,
    /// The command with its arguments, as the socket encodes it (a profile's secret only as
    /// `"new"` or `"kept"`).
    pub arguments: serde_json::Value,
    /// What came of it.
    pub outcome: AuditOutcome,
    /// The outcome's message (what was done, why it failed or was refused).
    pub message: String,
}

/// What came of an audited command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditOutcome {
    /// It ran and did what was asked.
    Succeeded,
    /// It ran and failed, or could not run.
    Failed,
    /// It was not run: read-only access, bad arguments, a moment Graph forbids.
    Refused,
}

impl AuditOutcome {
    /// The stable lowercase label (`succeeded`, `failed`, `refused`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn records_round_trip_with_stable_names() {
        let record = AuditRecord {
            at: "2026-11-22T08:00:00Z".parse().unwrap(),
            uid: 1001,
            user: "alice".into(),
            pid: Some(4242),
            client: "pilotwatch 0.1.0 tui".into(),
            command: "renew".into(),
            arguments: serde_json::json!({"command": "renew", "profile": "p", "subscription": "s"}),
            outcome: AuditOutcome::Refused,
            message: "read-only: you asked".into(),
        };
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["outcome"], "refused");
        assert_eq!(json["arguments"]["subscription"], "s");
        assert_eq!(serde_json::from_value::<AuditRecord>(json).unwrap(), record);
        assert_eq!(AuditOutcome::Succeeded.label(), "succeeded");
    }
}
