//! The question the Subscriptions tab asks before it changes anything: which action, on which
//! subscription (or which backfill window), in words for the confirm line, and the
//! [`Command`] it becomes once the user says yes. Every action here writes to Graph or the
//! store, so none runs on a single key press.
//!
//! Pure; depends on the console's command type only.

use chrono::{DateTime, TimeDelta, Utc};

use crate::console::Command;

/// Backfill windows, narrowest first: `b` asks about the first, each further `b` widens it.
const BACKFILL_WINDOWS_HOURS: [i64; 3] = [1, 6, 24];

/// An action waiting for yes or no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    /// Renew this subscription now.
    Renew {
        /// Graph's subscription id.
        subscription: String,
    },
    /// Reauthorize this subscription now.
    Reauthorize {
        /// Graph's subscription id.
        subscription: String,
    },
    /// Delete this subscription and create it afresh.
    Recreate {
        /// Graph's subscription id.
        subscription: String,
    },
    /// Fetch the last `hours` of interactions from the export API.
    Backfill {
        /// The window, ending when the user says yes.
        hours: i64,
    },
}

impl Confirm {
    /// The backfill question `b` asks: the narrowest window, or the next wider one when a
    /// backfill is already being asked about (the widest stays).
    pub fn backfill_after(current: Option<&Confirm>) -> Confirm {
        let hours = match current {
            Some(Confirm::Backfill { hours }) => BACKFILL_WINDOWS_HOURS
                .iter()
                .copied()
                .find(|&wider| wider > *hours)
                .unwrap_or(*hours),
            _ => BACKFILL_WINDOWS_HOURS[0],
        };
        Confirm::Backfill { hours }
    }

    /// The question, for the confirm line: what will happen, and what to know first.
    pub fn question(&self) -> String {
        match self {
            Confirm::Renew { subscription } => format!(
                "renew {subscription} now? (extends it to the 3-day cap; renewing also \
                 reauthorizes)"
            ),
            Confirm::Reauthorize { subscription } => format!(
                "reauthorize {subscription} now? (keeps its expiry; Graph advises against \
                 reauthorizing and renewing within 10 minutes)"
            ),
            Confirm::Recreate { subscription } => format!(
                "recreate {subscription}? (deletes it, creates a new one with the current \
                 certificate and lifecycle URL, and backfills the gap)"
            ),
            Confirm::Backfill { hours: 1 } => {
                "backfill the last hour from the export API? (b widens the window)".to_owned()
            }
            Confirm::Backfill { hours } => {
                format!(
                    "backfill the last {hours} hours from the export API? (b widens the window)"
                )
            }
        }
    }

    /// The subscription the question is about, if it is about one.
    pub fn subscription(&self) -> Option<&str> {
        match self {
            Confirm::Renew { subscription }
            | Confirm::Reauthorize { subscription }
            | Confirm::Recreate { subscription } => Some(subscription),
            Confirm::Backfill { .. } => None,
        }
    }

    /// The command a yes sends for `profile`; a backfill window ends at `now`.
    pub fn command(&self, profile: &str, now: DateTime<Utc>) -> Command {
        let profile = profile.to_owned();
        match self.clone() {
            Confirm::Renew { subscription } => Command::Renew {
                profile,
                subscription,
            },
            Confirm::Reauthorize { subscription } => Command::Reauthorize {
                profile,
                subscription,
            },
            Confirm::Recreate { subscription } => Command::Recreate {
                profile,
                subscription,
            },
            Confirm::Backfill { hours } => Command::Backfill {
                profile,
                from: now - TimeDelta::hours(hours),
                to: now,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    #[test]
    fn backfill_widens_one_step_at_a_time_and_stops_at_the_widest() {
        let first = Confirm::backfill_after(None);
        assert_eq!(first, Confirm::Backfill { hours: 1 });
        let second = Confirm::backfill_after(Some(&first));
        assert_eq!(second, Confirm::Backfill { hours: 6 });
        let third = Confirm::backfill_after(Some(&second));
        assert_eq!(third, Confirm::Backfill { hours: 24 });
        assert_eq!(Confirm::backfill_after(Some(&third)), third);
        let renew = Confirm::Renew {
            subscription: "s".into(),
        };
        assert_eq!(Confirm::backfill_after(Some(&renew)), first);
    }

    #[test]
    fn a_yes_names_its_target_and_a_backfill_ends_now() {
        let now: DateTime<Utc> = "2026-09-22T08:00:00Z".parse().unwrap();
        let renew = Confirm::Renew {
            subscription: "sub-1".into(),
        };
        assert!(renew.question().contains("sub-1"));
        assert_eq!(renew.subscription(), Some("sub-1"));
        match renew.command("contoso", now) {
            Command::Renew {
                profile,
                subscription,
            } => assert_eq!(
                (profile.as_str(), subscription.as_str()),
                ("contoso", "sub-1")
            ),
            other => panic!("{other:?}"),
        }
        match (Confirm::Backfill { hours: 6 }).command("contoso", now) {
            Command::Backfill { profile, from, to } => {
                assert_eq!(profile, "contoso");
                assert_eq!(to, now);
                assert_eq!(to - from, TimeDelta::hours(6));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            (Confirm::Backfill { hours: 1 })
                .question()
                .contains("the last hour")
        );
    }
}
