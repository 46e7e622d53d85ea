//! Recording an operator's command in the store's audit trail: who (an [`Operator`]), when
//! (the collector's clock), the command with its arguments, and what came of it. One recorder
//! for both ways a command reaches a collector: over the control socket (the operator is the
//! client's peer credentials) and from a console running its collector embedded (the operator
//! is the local user) — so "who renewed that subscription at 03:12" has one answer wherever it
//! was typed.
//!
//! A command's arguments are described here, by hand, so that a profile draft's secret can
//! never reach the trail: the description says only whether a new secret was given.
//!
//! Depends on the console's command types, the store's audit trail and its records; never on
//! the control socket (which depends on this).

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use super::ConsoleError;
use super::command::{Command, CommandOutcome, ExportFormat, ProfileDraft};
use crate::store::AuditTrail;
use crate::store::records::{AuditOutcome, AuditRecord};

/// Who sent a command, as the trail names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// Their uid (from the kernel: the socket's peer credentials, or this process's own).
    pub uid: u32,
    /// Their user name, or the uid as digits when the system does not know it.
    pub user: String,
    /// The sending process, when known.
    pub pid: Option<i32>,
    /// How the client described itself (`pilotwatch 0.1.0 tui`); its own words.
    pub client: String,
}

/// The command's name and its arguments as JSON (`{"command": "renew", "profile": …}`):
/// for the commands that cross the control socket, exactly the socket's own encoding.
pub fn describe(command: &Command) -> (&'static str, Value) {
    let (name, mut arguments) = match command {
        Command::TestCredentials { profile } => ("test-credentials", json!({ "profile": profile })),
        Command::Renew {
            profile,
            subscription,
        } => (
            "renew",
            json!({ "profile": profile, "subscription": subscription }),
        ),
        Command::Reauthorize {
            profile,
            subscription,
        } => (
            "reauthorize",
            json!({ "profile": profile, "subscription": subscription }),
        ),
        Command::Recreate {
            profile,
            subscription,
        } => (
            "recreate",
            json!({ "profile": profile, "subscription": subscription }),
        ),
        Command::Backfill { profile, from, to } => (
            "backfill",
            json!({ "profile": profile, "from": from, "to": to }),
        ),
        Command::SwitchScenario { name } => ("switch-scenario", json!({ "name": name })),
        Command::Export {
            filter,
            format,
            path,
        } => (
            "export",
            json!({
                "filter": filter,
                "format": match format {
                    ExportFormat::Jsonl => "jsonl",
                    ExportFormat::Csv => "csv",
                },
                "path": path.display().to_string(),
            }),
        ),
        Command::ValidateProfile { draft } => ("validate-profile", draft_arguments(draft)),
        Command::SaveProfile { draft, force } => {
            let mut arguments = draft_arguments(draft);
            arguments["force"] = json!(force);
            ("save-profile", arguments)
        }
        Command::RemoveProfile { profile } => ("remove-profile", json!({ "profile": profile })),
    };
    arguments["command"] = json!(name);
    (name, arguments)
}

/// A draft without its secret: only whether one was typed.
fn draft_arguments(draft: &ProfileDraft) -> Value {
    let secret = match &draft.secret {
        Some(secret) if !secret.expose_secret().is_empty() => "new",
        _ => "kept",
    };
    json!({
        "name": draft.name,
        "tenant": draft.tenant,
        "client_id": draft.client_id,
        "secret": secret,
    })
}

/// The audit outcome and message of a command's result.
pub fn judge(result: &Result<CommandOutcome, ConsoleError>) -> (AuditOutcome, String) {
    match result {
        Ok(outcome) if outcome.succeeded => (AuditOutcome::Succeeded, outcome.message.clone()),
        Ok(outcome) => (AuditOutcome::Failed, outcome.message.clone()),
        Err(ConsoleError::Refused(reason)) => (AuditOutcome::Refused, reason.clone()),
        Err(error) => (AuditOutcome::Failed, error.to_string()),
    }
}

/// Records that `operator` sent `command` and got `result`, at `at`. The command has happened
/// (or was refused) either way: a store that cannot record it is logged loudly, and the
/// operator still hears the truth, so this never fails.
pub async fn record(
    trail: &AuditTrail,
    at: DateTime<Utc>,
    operator: &Operator,
    command: &Command,
    result: &Result<CommandOutcome, ConsoleError>,
) {
    let (name, arguments) = describe(command);
    let (outcome, message) = judge(result);
    tracing::info!(
        uid = operator.uid,
        user = %operator.user,
        command = name,
        outcome = outcome.label(),
        "operator command"
    );
    let entry = AuditRecord {
        at,
        uid: operator.uid,
        user: operator.user.clone(),
        pid: operator.pid,
        client: operator.client.clone(),
        command: name.to_owned(),
        arguments,
        outcome,
        message,
    };
    if let Err(error) = trail.record(&entry).await {
        tracing::error!(%error, command = name, "cannot record a command in the audit trail");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use secrecy::SecretString;

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

    #[test]
    fn a_profile_draft_is_described_without_its_secret() {
        let draft = ProfileDraft {
            name: "contoso".into(),
            tenant: "contoso.onmicrosoft.com".into(),
            client_id: "11111111-2222-3333-4444-555555555555".into(),
            secret: Some(SecretString::from("hunter2-very-secret")),
        };
        let (name, arguments) = describe(&Command::SaveProfile {
            draft: draft.clone(),
            force: true,
        });
        assert_eq!(name, "save-profile");
        assert_eq!(arguments["secret"], "new");
        assert_eq!(arguments["force"], true);
        assert_eq!(arguments["command"], "save-profile");
        assert!(!arguments.to_string().contains("hunter2"), "{arguments}");
        let kept = ProfileDraft {
            secret: None,
            ..draft
        };
        let (_, arguments) = describe(&Command::ValidateProfile { draft: kept });
        assert_eq!(arguments["secret"], "kept");
    }
}
