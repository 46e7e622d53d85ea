//! What a view may ask the collector to do, and what it answers. Every command names its
//! target explicitly (profile, subscription), so an audit line can say exactly what was done.
//!
//! Plain data; depends on the query types only. The draft profile's secret is a
//! `secrecy` type: it is never printed, logged or serialized back.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::query::FeedFilter;

/// A request to act.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case")]
pub enum Command {
    /// Probe a profile's credentials now (token, roles, licences, secret expiry).
    TestCredentials {
        /// The profile.
        profile: String,
    },
    /// Renew a subscription now.
    Renew {
        /// The profile owning it.
        profile: String,
        /// Graph's subscription id.
        subscription: String,
    },
    /// Reauthorize a subscription now.
    Reauthorize {
        /// The profile owning it.
        profile: String,
        /// Graph's subscription id.
        subscription: String,
    },
    /// Delete a subscription and create it afresh (with the current certificate and
    /// lifecycle URL), backfilling the gap.
    Recreate {
        /// The profile owning it.
        profile: String,
        /// Graph's subscription id.
        subscription: String,
    },
    /// Fetch a window of interactions from the export API into the store.
    Backfill {
        /// The profile.
        profile: String,
        /// Window start.
        from: DateTime<Utc>,
        /// Window end.
        to: DateTime<Utc>,
    },
    /// Switch the simulator's scenario (only when the collector runs against the simulator).
    SwitchScenario {
        /// The scenario's name.
        name: String,
    },
    /// Write the interactions matching `filter` to a file.
    Export {
        /// Which interactions.
        filter: FeedFilter,
        /// JSON lines or CSV.
        format: ExportFormat,
        /// Where (created; an existing file is not overwritten).
        path: PathBuf,
    },
    /// Probe a profile that is not saved yet, to validate a form before saving.
    ValidateProfile {
        /// The draft.
        draft: ProfileDraft,
    },
    /// Save a profile (add, or replace the one with the same name), after validating it.
    SaveProfile {
        /// The draft.
        draft: ProfileDraft,
        /// Save even when the credentials cannot be validated (`creds add --force`): the
        /// form's explicit "save anyway" after a failed validation.
        #[serde(default)]
        force: bool,
    },
    /// Remove a profile from the configuration (its secret file too).
    RemoveProfile {
        /// The profile.
        profile: String,
    },
}

impl Command {
    /// Whether the command changes anything (read-only clients may send only the others).
    pub fn writes(&self) -> bool {
        !matches!(
            self,
            Self::TestCredentials { .. } | Self::ValidateProfile { .. }
        )
    }
}

/// Export file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExportFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// A profile as the credentials form edits it.
#[derive(Debug, Clone, Deserialize)]
pub struct ProfileDraft {
    /// The profile's name.
    pub name: String,
    /// Tenant id or domain.
    pub tenant: String,
    /// Application (client) id.
    pub client_id: String,
    /// The client secret's value; `None` keeps the saved one (editing other fields).
    pub secret: Option<SecretString>,
}

/// What came of a command, in one line for the screen (and the audit trail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutcome {
    /// Whether it did what was asked.
    pub succeeded: bool,
    /// What happened, for a human.
    pub message: String,
}

impl CommandOutcome {
    /// It worked.
    pub fn done(message: impl Into<String>) -> Self {
        Self {
            succeeded: true,
            message: message.into(),
        }
    }

    /// It was tried and did not work.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            succeeded: false,
            message: message.into(),
        }
    }
}
