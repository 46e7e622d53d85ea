//! [`Action`]: what a user meant by a key, independent of which key it was. The keymap turns
//! key presses into actions; [`App`](super::app::App) turns actions into state changes and
//! effects. Naming follows `tui-anchors.md` §8.2: an action is a user intent, a `Command` is
//! what the collector is asked to do.
//!
//! Plain data; depends on the tab identifiers only.

use super::tabs::TabId;

/// A user intent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Open or close the help overlay.
    Help,
    /// Filter what is shown (the help list, later the feed).
    Filter,
    /// Open the `:` command line.
    CommandLine,
    /// Leave pilotwatch.
    Quit,
    /// Open or close the collector's audit trail (who sent which command, and how it went).
    AuditTrail,
    /// Close the topmost overlay or prompt.
    Back,
    /// The next tab.
    NextTab,
    /// The previous tab.
    PrevTab,
    /// A tab by its number.
    GoTab(TabId),
    /// Move the selection or scroll down one line.
    Down,
    /// Move the selection or scroll up one line.
    Up,
    /// To the first line.
    Top,
    /// To the last line.
    Bottom,
    /// One page up.
    PageUp,
    /// One page down.
    PageDown,
    /// Open the selected item, or confirm a prompt.
    Open,
    /// Ask the collector for fresh state now.
    Refresh,
    /// Show the next configured profile.
    NextProfile,
    /// Probe the shown profile's credentials now (Credentials tab).
    TestCredentials,
    /// Renew the selected subscription now (Subscriptions tab; asks to confirm).
    Renew,
    /// Reauthorize the selected subscription now (Subscriptions tab; asks to confirm).
    Reauthorize,
    /// Delete and recreate the selected subscription (Subscriptions tab; asks to confirm).
    Recreate,
    /// Backfill a recent window of interactions (Subscriptions tab; asks to confirm).
    Backfill,
    /// Yes to the question asked (the Subscriptions tab's actions, the Credentials tab's remove).
    Confirm,
    /// No to the question asked (Subscriptions tab's confirmations).
    Cancel,
    /// Open the profile form for a new profile (Credentials tab).
    NewProfile,
    /// Open the profile form on the shown profile (Credentials tab).
    EditProfile,
    /// Remove the shown profile (Credentials tab; asks to confirm).
    RemoveProfile,
    /// The profile form's next field.
    NextField,
    /// The profile form's previous field.
    PreviousField,
    /// Save the profile form's draft although its validation failed.
    SaveAnyway,
    /// Follow new interactions, or pause (Feed tab).
    Follow,
    /// Show or hide users × apps (Feed tab).
    Activity,
    /// Export the filtered selection to a file (Feed tab).
    Export,
    /// Show the next, longer time window, wrapping round (Latency tab).
    NextWindow,
    /// Show the previous time window (Latency tab).
    PreviousWindow,
}

impl Action {
    /// Whether it moves a selection or scrolls.
    pub fn is_movement(self) -> bool {
        matches!(
            self,
            Action::Up
                | Action::Down
                | Action::Top
                | Action::Bottom
                | Action::PageUp
                | Action::PageDown
        )
    }

    /// Every action, so tests can prove each is reachable from some key.
    pub const ALL: &'static [Action] = &[
        Action::Help,
        Action::Filter,
        Action::CommandLine,
        Action::Quit,
        Action::Back,
        Action::NextTab,
        Action::PrevTab,
        Action::GoTab(TabId::Credentials),
        Action::GoTab(TabId::Subscriptions),
        Action::GoTab(TabId::Latency),
        Action::GoTab(TabId::Feed),
        Action::Down,
        Action::Up,
        Action::Top,
        Action::Bottom,
        Action::PageUp,
        Action::PageDown,
        Action::Open,
        Action::Refresh,
        Action::NextProfile,
        Action::TestCredentials,
        Action::Renew,
        Action::Reauthorize,
        Action::Recreate,
        Action::Backfill,
        Action::Confirm,
        Action::Cancel,
        Action::NewProfile,
        Action::EditProfile,
        Action::RemoveProfile,
        Action::NextField,
        Action::PreviousField,
        Action::SaveAnyway,
        Action::Follow,
        Action::Activity,
        Action::Export,
        Action::NextWindow,
        Action::PreviousWindow,
    ];
}
