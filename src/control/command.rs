//! A command that arrived over the socket: refused when it writes and the client may only
//! read, otherwise run through the collector handle; either way recorded in the store's audit
//! trail (who by peer credentials, when by the collector's clock, the command with its
//! arguments, what came of it) before the client hears the answer.
//!
//! Depends on the console handle, the access decision's result and the store's audit trail;
//! never on the socket itself.

use crate::clock::SharedClock;
use crate::console::{CollectorHandle, CommandOutcome, ConsoleError};
use crate::store::AuditTrail;
use crate::store::records::{AuditOutcome, AuditRecord};

use super::access::Peer;
use super::protocol::{Access, WireCommand};

/// One connected client as the audit trail names it.
#[derive(Debug, Clone)]
pub(super) struct Caller {
    /// Who, by the kernel and the user database.
    pub peer: Peer,
    /// How it described itself (made printable, cut to size).
    pub client: String,
    /// What it may do.
    pub access: Access,
    /// Why (the welcome's reason).
    pub reason: String,
}

/// Where commands go and where they are recorded.
#[derive(Debug, Clone)]
pub(super) struct Desk {
    pub handle: CollectorHandle,
    pub audit: AuditTrail,
    pub clock: SharedClock,
}

impl Desk {
    /// Runs (or refuses) `command` for `caller` and audits it.
    pub async fn run(
        &self,
        caller: &Caller,
        command: WireCommand,
    ) -> Result<CommandOutcome, ConsoleError> {
        let arguments = serde_json::to_value(&command).unwrap_or(serde_json::Value::Null);
        let name = arguments
            .get("command")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        let result = if command.writes() && caller.access == Access::ReadOnly {
            Err(ConsoleError::Refused(format!(
                "{} ({name} changes the collector and needs read-write access)",
                caller.reason
            )))
        } else {
            self.handle.command(command.into()).await
        };
        let (outcome, message) = judge(&result);
        tracing::info!(
            uid = caller.peer.uid,
            user = %caller.peer.user,
            command = %name,
            outcome = outcome.label(),
            "control command"
        );
        let record = AuditRecord {
            at: self.clock.now(),
            uid: caller.peer.uid,
            user: caller.peer.user.clone(),
            pid: caller.peer.pid,
            client: caller.client.clone(),
            command: name,
            arguments,
            outcome,
            message,
        };
        // The command has happened (or was refused) either way: a store that cannot record it
        // is reported loudly, and the client still hears the truth.
        if let Err(error) = self.audit.record(&record).await {
            tracing::error!(%error, command = %record.command, "cannot record a command in the audit trail");
        }
        result
    }
}

/// The audit outcome and message of a command's result.
fn judge(result: &Result<CommandOutcome, ConsoleError>) -> (AuditOutcome, String) {
    match result {
        Ok(outcome) if outcome.succeeded => (AuditOutcome::Succeeded, outcome.message.clone()),
        Ok(outcome) => (AuditOutcome::Failed, outcome.message.clone()),
        Err(ConsoleError::Refused(reason)) => (AuditOutcome::Refused, reason.clone()),
        Err(error) => (AuditOutcome::Failed, error.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_map_to_audit_outcomes() {
        assert_eq!(
            judge(&Ok(CommandOutcome::done("renewed"))),
            (AuditOutcome::Succeeded, "renewed".into())
        );
        assert_eq!(
            judge(&Ok(CommandOutcome::failed("403"))).0,
            AuditOutcome::Failed
        );
        assert_eq!(
            judge(&Err(ConsoleError::Refused("read-only: x".into()))),
            (AuditOutcome::Refused, "read-only: x".into())
        );
        assert_eq!(
            judge(&Err(ConsoleError::Disconnected)).0,
            AuditOutcome::Failed
        );
    }
}
