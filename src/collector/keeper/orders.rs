//! Orders to a running keeper: renew, reauthorize or recreate one subscription now. An order
//! travels to the keeper's own task over a channel and is answered on a oneshot once the
//! action has finished, so the keeper stays the only writer of subscriptions and an order
//! never races its plan: orders queue behind the action in progress and are served before the
//! next planned one.
//!
//! [`KeeperOrders`] is the sending side (cheap to clone; the collector holds one per profile);
//! the keeper's loop serves the receiving side (`operator` carries the orders out), and
//! [`Origin`] marks what an operator asked for in the event log. Depends on the collector's
//! command types only.

use tokio::sync::{mpsc, oneshot};

use crate::collector::command::{ActionReport, CollectorCommandError};

/// Orders waiting for the keeper before senders wait too.
const ORDER_BUFFER: usize = 16;

/// What an order asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OrderKind {
    /// `PATCH` a new expiry now.
    Renew,
    /// `POST /subscriptions/{id}/reauthorize` now.
    Reauthorize,
    /// Delete and create afresh, then backfill the gap.
    Recreate,
}

/// One order and where its answer goes.
#[derive(Debug)]
pub(super) struct Order {
    pub kind: OrderKind,
    /// Graph's id of the subscription acted on; it selects the unit (per-user scope).
    pub subscription: String,
    pub reply: oneshot::Sender<Result<ActionReport, CollectorCommandError>>,
}

/// Both ends of a keeper's order channel: the keeper keeps the receiver for its loop and hands
/// out senders.
pub(super) fn channel() -> (mpsc::Sender<Order>, mpsc::Receiver<Order>) {
    mpsc::channel(ORDER_BUFFER)
}

/// Sends orders to one profile's keeper; take it with [`super::Keeper::orders`] before
/// [`super::Keeper::run`].
#[derive(Debug, Clone)]
pub struct KeeperOrders {
    profile: String,
    sender: mpsc::Sender<Order>,
}

impl KeeperOrders {
    pub(super) fn new(profile: String, sender: mpsc::Sender<Order>) -> Self {
        Self { profile, sender }
    }

    /// The profile whose keeper this reaches.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Renews `subscription` now (a PATCH, which also reauthorizes it).
    pub async fn renew(&self, subscription: &str) -> Result<ActionReport, CollectorCommandError> {
        self.send(OrderKind::Renew, subscription).await
    }

    /// Reauthorizes `subscription` now (`POST /reauthorize`; the expiry stays).
    pub async fn reauthorize(
        &self,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.send(OrderKind::Reauthorize, subscription).await
    }

    /// Deletes `subscription` and creates it afresh with the current certificate and lifecycle
    /// URL, then has the gap backfilled.
    pub async fn recreate(
        &self,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        self.send(OrderKind::Recreate, subscription).await
    }

    async fn send(
        &self,
        kind: OrderKind,
        subscription: &str,
    ) -> Result<ActionReport, CollectorCommandError> {
        let not_running = || CollectorCommandError::NotRunning {
            profile: self.profile.clone(),
        };
        let (reply, answer) = oneshot::channel();
        let order = Order {
            kind,
            subscription: subscription.to_owned(),
            reply,
        };
        self.sender.send(order).await.map_err(|_| not_running())?;
        answer.await.map_err(|_| not_running())?
    }
}

/// Who asked for an action; an operator's is said so in its event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// The keeper's own plan (a schedule, a lifecycle signal, a rotation).
    Plan,
    /// An operator's order (the TUI, the control socket).
    Operator,
}

impl Origin {
    /// What an event's message starts with.
    pub(super) fn prefix(self) -> &'static str {
        match self {
            Self::Plan => "",
            Self::Operator => "on the operator's request: ",
        }
    }
}

/// The next order, or never when the channel is gone.
pub(super) async fn next_order(orders: &mut Option<mpsc::Receiver<Order>>) -> Option<Order> {
    match orders {
        Some(receiver) => receiver.recv().await,
        None => std::future::pending().await,
    }
}
