//! The `:` command line: parses what the user typed into what to do. Unknown commands, missing
//! arguments and commands that do not apply here (`:scenario` outside the demo, `:renew` with
//! no subscription) are refused with a message saying why; a refused line changes nothing.
//!
//! Pure; depends on the console's snapshot and command types and the tab identifiers only.

use super::tabs::TabId;
use crate::console::{Command, ProfileSnapshot, Snapshot};

/// What a command line asks for.
#[derive(Debug, Clone)]
pub enum Parsed {
    /// Show a tab.
    Tab(TabId),
    /// Run a command through the collector.
    Command(Command),
    /// Leave pilotwatch.
    Quit,
}

/// The commands, for the refusal message.
pub const KNOWN: &str = ":creds :subs :latency :feed :renew [ID] :scenario NAME :q";

/// Parses `line` (without the leading `:`) against what is on screen.
pub fn parse(
    line: &str,
    snapshot: Option<&Snapshot>,
    profile: Option<&ProfileSnapshot>,
) -> Result<Parsed, String> {
    let mut words = line.split_whitespace();
    let Some(verb) = words.next() else {
        return Err(format!("type a command: {KNOWN}"));
    };
    let argument = words.next();
    if let Some(extra) = words.next() {
        return Err(format!(
            "`:{verb}` takes at most one argument; `{extra}` is one too many"
        ));
    }
    let no_argument = |parsed: Parsed| match argument {
        None => Ok(parsed),
        Some(argument) => Err(format!("`:{verb}` takes no argument (got `{argument}`)")),
    };
    match verb {
        "creds" | "credentials" => no_argument(Parsed::Tab(TabId::Credentials)),
        "subs" | "subscriptions" => no_argument(Parsed::Tab(TabId::Subscriptions)),
        "latency" => no_argument(Parsed::Tab(TabId::Latency)),
        "feed" => no_argument(Parsed::Tab(TabId::Feed)),
        "q" | "quit" => no_argument(Parsed::Quit),
        "renew" => renew(argument, profile),
        "scenario" => scenario(argument, snapshot),
        other => Err(format!("unknown command `:{other}`; try {KNOWN}")),
    }
}

fn renew(argument: Option<&str>, profile: Option<&ProfileSnapshot>) -> Result<Parsed, String> {
    let Some(profile) = profile else {
        return Err(
            "no profile to renew a subscription of (no state from the collector yet)".into(),
        );
    };
    let ids: Vec<&str> = profile
        .subscriptions
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    let subscription = match (argument, ids.as_slice()) {
        (Some(wanted), _) => ids
            .iter()
            .find(|id| **id == wanted)
            .ok_or_else(|| format!("profile {} has no subscription `{wanted}`", profile.name))?,
        (None, []) => {
            return Err(format!(
                "profile {} has no subscription to renew",
                profile.name
            ));
        }
        (None, [only]) => only,
        (None, several) => {
            return Err(format!(
                "profile {} has {} subscriptions: say which, e.g. `:renew {}`",
                profile.name,
                several.len(),
                several.first().copied().unwrap_or_default()
            ));
        }
    };
    Ok(Parsed::Command(Command::Renew {
        profile: profile.name.clone(),
        subscription: (*subscription).to_owned(),
    }))
}

fn scenario(argument: Option<&str>, snapshot: Option<&Snapshot>) -> Result<Parsed, String> {
    let Some(simulation) = snapshot.and_then(|snapshot| snapshot.simulation.as_ref()) else {
        return Err(
            "`:scenario` works only in the demo (this collector talks to Microsoft Graph, not the simulator)"
                .into(),
        );
    };
    let known = simulation.scenarios.join(", ");
    let Some(name) = argument else {
        return Err(format!("`:scenario NAME`: one of {known}"));
    };
    if !simulation.scenarios.iter().any(|known| known == name) {
        return Err(format!(
            "no scenario named `{name}`; the simulator knows {known}"
        ));
    }
    Ok(Parsed::Command(Command::SwitchScenario {
        name: name.to_owned(),
    }))
}
