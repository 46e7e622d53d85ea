//! What an operator may order the collector to do with one profile's subscriptions and export
//! window — renew, reauthorize, recreate, backfill — and what it answers: an [`ActionReport`]
//! once the action has finished, or a [`CollectorCommandError`] saying why it was refused (bad
//! input, nothing was sent to Graph and nothing changed) or how Graph turned it down (typed as
//! the keeper types its own failures).
//!
//! Also the one check a backfill window must pass before the export API is called
//! ([`check_window`]): graph-facts §1.3 documents no longest `createdDateTime` window, so the
//! bound is pilotwatch's own, [`MAX_BACKFILL_SPAN`] (the store keeps a week, so a longer window
//! would fetch what retention drops again at once).
//!
//! Plain data and pure checks: no I/O, no clock (`now` is an argument). Depends on the
//! poller's report and error and the store's record types only.

use std::fmt;

use chrono::{DateTime, Duration, Utc};

use super::poller::{PollError, PollReport};
use crate::clock::stamp;
use crate::store::records::{KeeperFailure, SubscriptionState};

/// The longest window one backfill order may read: seven days, what the store keeps.
pub const MAX_BACKFILL_SPAN: Duration = Duration::days(7);

/// How far a window's end may lie ahead of the collector's clock and still count as "now": a
/// view computes "now" from its own clock, a moment before the order arrives.
pub const FUTURE_TOLERANCE: Duration = Duration::minutes(1);

/// What a finished order did.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionReport {
    /// `PATCH /subscriptions/{id}` extended the expiry (which also reauthorizes).
    Renewed {
        /// The profile.
        profile: String,
        /// The subscription.
        subscription: String,
        /// The expiry Graph granted.
        expires_at: DateTime<Utc>,
        /// When the keeper renews it next by itself.
        next_renewal: DateTime<Utc>,
    },
    /// `POST /subscriptions/{id}/reauthorize` answered 204; the expiry is unchanged.
    Reauthorized {
        /// The profile.
        profile: String,
        /// The subscription.
        subscription: String,
        /// Its expiry, unchanged.
        expires_at: DateTime<Utc>,
    },
    /// The subscription was deleted and a new one created on the same resource, with the
    /// current certificate and lifecycle URL; the poller was asked to backfill the gap.
    Recreated {
        /// The profile.
        profile: String,
        /// The deleted subscription.
        replaced: String,
        /// The new one.
        subscription: String,
        /// The new one's expiry.
        expires_at: DateTime<Utc>,
    },
    /// A window was read from the export API into the store.
    Backfilled(PollReport),
}

impl fmt::Display for ActionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Renewed {
                subscription,
                expires_at,
                next_renewal,
                ..
            } => write!(
                f,
                "renewed subscription {subscription} until {}; next renewal due {}",
                stamp(*expires_at),
                stamp(*next_renewal)
            ),
            Self::Reauthorized {
                subscription,
                expires_at,
                ..
            } => write!(
                f,
                "reauthorized subscription {subscription}; it still expires {}",
                stamp(*expires_at)
            ),
            Self::Recreated {
                replaced,
                subscription,
                expires_at,
                ..
            } => write!(
                f,
                "replaced subscription {replaced} by {subscription} (expiring {}); the gap between them is being backfilled",
                stamp(*expires_at)
            ),
            Self::Backfilled(report) => {
                write!(
                    f,
                    "read {} to {}: {} interactions, {} new",
                    stamp(report.from),
                    stamp(report.to),
                    report.fetched,
                    report.new
                )?;
                if !report.failed_users.is_empty() {
                    write!(f, "; {} users could not be read", report.failed_users.len())?;
                }
                if report.truncated {
                    f.write_str("; some histories had more pages than read")?;
                }
                Ok(())
            }
        }
    }
}

/// Why an order did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum CollectorCommandError {
    /// No running profile has that name. Nothing was sent.
    #[error("no profile named {name}; running profiles: {}", list(known))]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles there are.
        known: Vec<String>,
    },
    /// The profile keeps no subscription with that id. Nothing was sent.
    #[error("profile {profile} keeps no subscription {subscription}")]
    UnknownSubscription {
        /// The profile.
        profile: String,
        /// The id asked for.
        subscription: String,
    },
    /// The subscription is another profile's. Nothing was sent.
    #[error("subscription {subscription} belongs to profile {owner}, not {profile}")]
    OtherProfile {
        /// The profile named in the order.
        profile: String,
        /// The subscription.
        subscription: String,
        /// The profile it belongs to.
        owner: String,
    },
    /// pilotwatch kept the subscription once but no longer does. Nothing was sent.
    #[error(
        "subscription {subscription} of profile {profile} is no longer kept (it was {}); act on the profile's current subscription",
        state_name(*state)
    )]
    NotKept {
        /// The profile.
        profile: String,
        /// The subscription.
        subscription: String,
        /// What became of it.
        state: SubscriptionState,
    },
    /// Graph warns that a reauthorize and a PATCH on one subscription within 10 minutes leave
    /// it inconsistent (graph-facts §3.2). Nothing was sent.
    #[error(
        "subscription {subscription} was {previous} at {at}; Graph must not get a {action} within 10 minutes of that, so try again after {retry_after}"
    )]
    TooSoon {
        /// The subscription.
        subscription: String,
        /// What was asked: `renewal (PATCH)` or `reauthorize`.
        action: &'static str,
        /// What happened last: `renewed (PATCH)` or `reauthorized`.
        previous: &'static str,
        /// When.
        at: DateTime<Utc>,
        /// When the order would be accepted.
        retry_after: DateTime<Utc>,
    },
    /// A reauthorize now would leave no room for the renewal the subscription needs before it
    /// expires (no PATCH may follow within 10 minutes). Nothing was sent.
    #[error(
        "subscription {subscription} expires {expires_at}, too soon for a reauthorize (no renewal could follow within 10 minutes of it); renew it instead"
    )]
    ExpiresTooSoon {
        /// The subscription.
        subscription: String,
        /// Its expiry.
        expires_at: DateTime<Utc>,
    },
    /// The window is empty or reversed. Nothing was fetched.
    #[error("the window {from} to {to} is empty: its start must come before its end")]
    EmptyWindow {
        /// Start asked for.
        from: DateTime<Utc>,
        /// End asked for.
        to: DateTime<Utc>,
    },
    /// The window reaches into the future. Nothing was fetched.
    #[error("the window {from} to {to} lies in the future (it is {now} now)")]
    FutureWindow {
        /// Start asked for.
        from: DateTime<Utc>,
        /// End asked for.
        to: DateTime<Utc>,
        /// The collector's now.
        now: DateTime<Utc>,
    },
    /// The window is longer than one order may read. Nothing was fetched.
    #[error(
        "the window {from} to {to} is longer than {} days, the most one backfill reads; split it",
        MAX_BACKFILL_SPAN.num_days()
    )]
    WindowTooLong {
        /// Start asked for.
        from: DateTime<Utc>,
        /// End asked for.
        to: DateTime<Utc>,
    },
    /// The window starts before anything the store keeps. Nothing was fetched.
    #[error(
        "the window starts {from}, before {oldest}: the store keeps no older interactions, so they would be dropped again at once"
    )]
    WindowTooOld {
        /// Start asked for.
        from: DateTime<Utc>,
        /// The oldest start accepted.
        oldest: DateTime<Utc>,
    },
    /// Graph refused or failed the action; `failure` is its answer, typed.
    #[error("{message}")]
    Graph {
        /// What was attempted and what Graph said, for a human.
        message: String,
        /// Graph's answer, typed as the keeper's events type it.
        failure: KeeperFailure,
    },
    /// The backfill could not run (the licensed users could not be listed, or the store
    /// failed).
    #[error("the backfill failed: {0}")]
    Backfill(#[source] PollError),
    /// The profile's keeper has stopped (the collector is shutting down, or the profile has
    /// no notification URLs to keep a subscription for).
    #[error(
        "the subscription keeper of profile {profile} is not running (the collector is stopping, or the profile has no notification URLs)"
    )]
    NotRunning {
        /// The profile.
        profile: String,
    },
}

impl CollectorCommandError {
    /// True when the order was refused before anything was attempted (bad input, or the
    /// moment forbids it); false when it was attempted and failed.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            Self::Graph { .. } | Self::Backfill(_) | Self::NotRunning { .. }
        )
    }
}

fn state_name(state: SubscriptionState) -> &'static str {
    match state {
        SubscriptionState::Active => "active",
        SubscriptionState::Removed => "removed by Graph",
        SubscriptionState::Replaced => "replaced",
        SubscriptionState::Deleted => "deleted",
    }
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

/// The window a backfill order for `[from, to)` reads at `now`, or why it is refused: empty
/// or reversed, reaching into the future (beyond [`FUTURE_TOLERANCE`]; a tolerated end is read
/// up to `now`), longer than [`MAX_BACKFILL_SPAN`], or starting more than `lookback` ago (what
/// the store keeps).
pub fn check_window(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    lookback: Duration,
) -> Result<(DateTime<Utc>, DateTime<Utc>), CollectorCommandError> {
    if from >= to {
        return Err(CollectorCommandError::EmptyWindow { from, to });
    }
    let to_now = to.min(now);
    if to > now + FUTURE_TOLERANCE || from >= to_now {
        return Err(CollectorCommandError::FutureWindow { from, to, now });
    }
    if to - from > MAX_BACKFILL_SPAN {
        return Err(CollectorCommandError::WindowTooLong { from, to });
    }
    let oldest = now
        .checked_sub_signed(lookback)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    if from < oldest {
        return Err(CollectorCommandError::WindowTooOld { from, oldest });
    }
    Ok((from, to_now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn a_window_within_the_week_up_to_now_is_read() {
        let now = at("2026-11-22T12:00:00Z");
        let week = Duration::days(7);
        assert_eq!(
            check_window(at("2026-11-22T10:00:00Z"), now, now, week).unwrap(),
            (at("2026-11-22T10:00:00Z"), now)
        );
        // An end a moment ahead (another clock) is read up to now.
        assert_eq!(
            check_window(
                at("2026-11-22T10:00:00Z"),
                at("2026-11-22T12:00:30Z"),
                now,
                week
            )
            .unwrap(),
            (at("2026-11-22T10:00:00Z"), now)
        );
        assert!(check_window(at("2026-11-15T12:00:00Z"), now, now, week).is_ok());
    }

    #[test]
    fn bad_windows_are_refused_with_the_reason() {
        let now = at("2026-11-22T12:00:00Z");
        let week = Duration::days(7);
        let refused = |from: &str, to: &str| check_window(at(from), at(to), now, week).unwrap_err();
        assert!(matches!(
            refused("2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z"),
            CollectorCommandError::EmptyWindow { .. }
        ));
        assert!(matches!(
            refused("2026-11-22T11:00:00Z", "2026-11-22T10:00:00Z"),
            CollectorCommandError::EmptyWindow { .. }
        ));
        assert!(matches!(
            refused("2026-11-22T10:00:00Z", "2026-11-22T14:00:00Z"),
            CollectorCommandError::FutureWindow { .. }
        ));
        assert!(matches!(
            refused("2026-11-22T12:00:10Z", "2026-11-22T12:00:40Z"),
            CollectorCommandError::FutureWindow { .. }
        ));
        assert!(matches!(
            refused("2026-11-14T11:00:00Z", "2026-11-22T11:00:00Z"),
            CollectorCommandError::WindowTooLong { .. }
        ));
        assert!(matches!(
            refused("2026-11-15T11:00:00Z", "2026-11-15T12:00:00Z"),
            CollectorCommandError::WindowTooOld { .. }
        ));
        for error in [
            refused("2026-11-22T11:00:00Z", "2026-11-22T10:00:00Z"),
            refused("2026-11-14T11:00:00Z", "2026-11-22T11:00:00Z"),
        ] {
            assert!(error.is_refusal(), "{error}");
        }
    }

    #[test]
    fn an_absurd_lookback_does_not_overflow() {
        let now = at("2026-11-22T12:00:00Z");
        assert!(check_window(at("2026-11-22T10:00:00Z"), now, now, Duration::MAX).is_ok());
    }
}
