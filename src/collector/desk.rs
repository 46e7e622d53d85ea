//! The collector's order desk: where an operator's "renew now", "reauthorize", "recreate" and
//! "backfill this window" arrive (from the TUI's Subscriptions tab, later the control socket)
//! and are routed to the profile's part that carries them out. Each returns only once the
//! action has finished, with an [`ActionReport`] or a typed [`CollectorCommandError`].
//!
//! Subscription orders go to the profile's keeper task ([`KeeperOrders`]), the only writer of
//! subscriptions. A backfill is a window read by a poller of its own beside the profile's
//! polling loop, so an operator never waits behind a long initial backfill; the store keeps
//! each interaction once whichever read it first. A backfill window is checked before any
//! request ([`check_window`]).
//!
//! Depends on the keeper's order handle, the poller, the clock and the command types; never on
//! the TUI or the simulator.

use std::sync::Arc;

use chrono::Duration;

use super::command::{ActionReport, CollectorCommandError, check_window};
use super::engine::Collector;
use super::keeper::KeeperOrders;
use super::poller::{GapReason, PollKind, Poller};
use crate::clock::SharedClock;

/// One profile's way to take orders.
pub(super) struct ProfileDesk {
    /// Its keeper's order channel.
    pub orders: KeeperOrders,
    /// Reads operator-requested windows; the same profile, Graph client, store and updates as
    /// the profile's polling loop.
    pub poller: Poller,
    /// The collector's clock.
    pub clock: SharedClock,
    /// How far back a window may start: what the store keeps.
    pub lookback: Duration,
}

impl std::fmt::Debug for ProfileDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileDesk")
            .field("profile", &self.orders.profile())
            .finish_non_exhaustive()
    }
}

impl Collector {
    /// A handle that takes orders for this collector's profiles, for a view's backend to keep
    /// (it outlives no profile: once the collector stops, orders answer `NotRunning`).
    pub fn orders(&self) -> OrderDesk {
        OrderDesk {
            desks: self.desks.clone(),
        }
    }

    /// [`OrderDesk::renew`].
    pub async fn renew(
        &self,
        profile: &str,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.orders().renew(profile, subscription).await
    }

    /// [`OrderDesk::reauthorize`].
    pub async fn reauthorize(
        &self,
        profile: &str,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.orders().reauthorize(profile, subscription).await
    }

    /// [`OrderDesk::recreate`].
    pub async fn recreate(
        &self,
        profile: &str,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.orders().recreate(profile, subscription).await
    }

    /// [`OrderDesk::backfill`].
    pub async fn backfill(
        &self,
        profile: &str,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.orders().backfill(profile, from, to).await
    }
}

/// Where orders for a collector's profiles go; cheap to clone.
#[derive(Debug, Clone)]
pub struct OrderDesk {
    desks: Vec<Arc<ProfileDesk>>,
}

impl OrderDesk {
    /// Renews `subscription` of `profile` now: one PATCH with the longest lifetime the keeper
    /// asks for (graph-facts §3.2: it also reauthorizes). Refused with no request when the
    /// profile or subscription is unknown, or an explicit reauthorize was under 10 minutes ago.
    pub async fn renew(
        &self,
        profile: &str,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.desk(profile)?.orders.renew(subscription).await
    }

    /// Reauthorizes `subscription` of `profile` now (`POST /subscriptions/{id}/reauthorize`;
    /// the expiry stays). Refused with no request when the profile or subscription is unknown,
    /// a PATCH was under 10 minutes ago, or the subscription expires too soon for the renewal
    /// that could then only follow 10 minutes later.
    pub async fn reauthorize(
        &self,
        profile: &str,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.desk(profile)?.orders.reauthorize(subscription).await
    }

    /// Deletes `subscription` of `profile` and creates its replacement on the same resource
    /// with the current certificate and lifecycle URL, then has the poller backfill the gap.
    /// Refused with no request when the profile or subscription is unknown.
    pub async fn recreate(
        &self,
        profile: &str,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.desk(profile)?.orders.recreate(subscription).await
    }

    /// Reads `[from, to)` of `profile`'s Copilot interactions from the export API into the
    /// store (every licensed user), answering how many were fetched and how many were new. The
    /// poll is recorded as operator-requested. Refused with no request when the profile is
    /// unknown or the window is empty, in the future, longer than
    /// [`MAX_BACKFILL_SPAN`](super::command::MAX_BACKFILL_SPAN) or older than the store keeps.
    pub async fn backfill(
        &self,
        profile: &str,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<ActionReport, CollectorCommandError> {
        let desk = self.desk(profile)?;
        let (from, to) = check_window(from, to, desk.clock.now(), desk.lookback)?;
        desk.poller
            .poll(PollKind::Gap(GapReason::Requested), from, to)
            .await
            .map(ActionReport::Backfilled)
            .map_err(CollectorCommandError::Backfill)
    }

    /// The desk of `profile`, or the refusal naming the profiles there are.
    fn desk(&self, profile: &str) -> Result<&ProfileDesk, CollectorCommandError> {
        self.desks
            .iter()
            .find(|desk| desk.orders.profile() == profile)
            .map(|desk| &**desk)
            .ok_or_else(|| CollectorCommandError::UnknownProfile {
                name: profile.to_owned(),
                known: self
                    .desks
                    .iter()
                    .map(|desk| desk.orders.profile().to_owned())
                    .collect(),
            })
    }
}
