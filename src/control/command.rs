//! A command that arrived over the socket: refused when it writes and the client may only
//! read, otherwise run through the collector handle; either way recorded in the store's audit
//! trail ([`crate::console::audit`]: who by peer credentials, when by the collector's clock,
//! the command with its arguments, what came of it) before the client hears the answer.
//!
//! Depends on the console handle, the access decision's result and the store's audit trail;
//! never on the socket itself.

use crate::clock::SharedClock;
use crate::console::audit::{self, Operator};
use crate::console::{CollectorHandle, Command, CommandOutcome, ConsoleError};
use crate::store::AuditTrail;

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

impl Caller {
    /// The operator the audit trail names.
    fn operator(&self) -> Operator {
        Operator {
            uid: self.peer.uid,
            user: self.peer.user.clone(),
            pid: self.peer.pid,
            client: self.client.clone(),
        }
    }
}

impl Desk {
    /// Runs (or refuses) `command` for `caller` and audits it.
    pub async fn run(
        &self,
        caller: &Caller,
        command: WireCommand,
    ) -> Result<CommandOutcome, ConsoleError> {
        let command: Command = command.into();
        let result = if command.writes() && caller.access == Access::ReadOnly {
            let (name, _) = audit::describe(&command);
            Err(ConsoleError::Refused(format!(
                "{} ({name} changes the collector and needs read-write access)",
                caller.reason
            )))
        } else {
            self.handle.command(command.clone()).await
        };
        audit::record(
            &self.audit,
            self.clock.now(),
            &caller.operator(),
            &command,
            &result,
        )
        .await;
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_trail_describes_a_command_as_the_socket_encodes_it() {
        let from = "2026-11-20T08:00:00Z".parse().unwrap();
        let to = "2026-11-20T09:00:00Z".parse().unwrap();
        let commands = [
            WireCommand::TestCredentials {
                profile: "contoso".into(),
            },
            WireCommand::Renew {
                profile: "contoso".into(),
                subscription: "sub-1".into(),
            },
            WireCommand::Reauthorize {
                profile: "contoso".into(),
                subscription: "sub-1".into(),
            },
            WireCommand::Recreate {
                profile: "contoso".into(),
                subscription: "sub-1".into(),
            },
            WireCommand::Backfill {
                profile: "contoso".into(),
                from,
                to,
            },
            WireCommand::SwitchScenario {
                name: "throttled".into(),
            },
        ];
        for wire in commands {
            let encoded = serde_json::to_value(&wire).unwrap();
            let (name, described) = audit::describe(&wire.into());
            assert_eq!(described, encoded);
            assert_eq!(encoded["command"], name);
        }
    }
}
