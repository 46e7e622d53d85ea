//! Command outcomes as the screen shows them: [`OutcomeLine`], and a command in words
//! ([`describe`]) for the status line, the outcome list and "already running". Pure; depends on
//! the console's command type only.

use crate::console::Command;

/// One command's outcome, as the screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeLine {
    /// The profile it concerned, if any.
    pub profile: Option<String>,
    /// What was asked, in words.
    pub what: String,
    /// Whether it did what was asked.
    pub succeeded: bool,
    /// What happened.
    pub message: String,
}

/// A command in words, for the status line and outcomes.
pub fn describe(command: &Command) -> String {
    match command {
        Command::TestCredentials { profile } => format!("test credentials of {profile}"),
        Command::Renew {
            profile,
            subscription,
        } => format!("renew {subscription} ({profile})"),
        Command::Reauthorize {
            profile,
            subscription,
        } => {
            format!("reauthorize {subscription} ({profile})")
        }
        Command::Recreate {
            profile,
            subscription,
        } => format!("recreate {subscription} ({profile})"),
        Command::Backfill { profile, from, to } => format!("backfill {profile} {from} → {to}"),
        Command::SwitchScenario { name } => format!("switch scenario to {name}"),
        Command::Export { path, .. } => format!("export to {}", path.display()),
        Command::ValidateProfile { draft } => format!("validate profile {}", draft.name),
        Command::SaveProfile { draft, force } => {
            let anyway = if *force { " anyway (unvalidated)" } else { "" };
            format!("save profile {}{anyway}", draft.name)
        }
        Command::RemoveProfile { profile } => format!("remove profile {profile}"),
    }
}

/// The profile a command concerns, if any.
pub fn profile_of(command: &Command) -> Option<&str> {
    match command {
        Command::TestCredentials { profile }
        | Command::Renew { profile, .. }
        | Command::Reauthorize { profile, .. }
        | Command::Recreate { profile, .. }
        | Command::Backfill { profile, .. }
        | Command::RemoveProfile { profile } => Some(profile),
        Command::ValidateProfile { draft } | Command::SaveProfile { draft, .. } => {
            Some(&draft.name)
        }
        Command::SwitchScenario { .. } | Command::Export { .. } => None,
    }
}
