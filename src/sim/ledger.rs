//! The simulator's ground truth: every interaction it generated and every delivery attempt it
//! made, with the outcome. Tests read them through `/_sim/` to check what a client saw against
//! what really happened.
//!
//! Depends on `graph::model` only.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::graph::model::AiInteraction;

/// Interactions kept for the export API and ground truth; the oldest go first beyond this.
pub const MAX_INTERACTIONS: usize = 500_000;

/// Delivery attempts kept for ground truth.
pub const MAX_DELIVERIES: usize = 100_000;

/// One generated interaction and who it belongs to.
#[derive(Debug, Clone, Serialize)]
pub struct Generated {
    /// The user whose history holds it.
    pub user_id: String,
    /// The interaction.
    pub interaction: Arc<AiInteraction>,
}

/// Every interaction, ordered by `createdDateTime` (ties by id).
#[derive(Debug, Default)]
pub struct InteractionLog {
    items: VecDeque<Generated>,
}

impl InteractionLog {
    /// Adds an interaction, keeping the log ordered; drops the oldest beyond the cap.
    pub fn push(&mut self, generated: Generated) {
        let key = |g: &Generated| (g.interaction.created_date_time, g.interaction.id.clone());
        let new_key = key(&generated);
        let at = self
            .items
            .partition_point(|existing| key(existing) <= new_key);
        self.items.insert(at, generated);
        while self.items.len() > MAX_INTERACTIONS {
            self.items.pop_front();
        }
    }

    /// All interactions, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Generated> {
        self.items.iter()
    }

    /// How many are kept.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing was generated.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// What was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryKind {
    /// The `?validationToken=` handshake.
    Validation,
    /// A change notification batch.
    Change,
    /// A lifecycle notification batch.
    Lifecycle,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum DeliveryOutcome {
    /// 2xx within the deadline.
    Delivered,
    /// 2xx, but after the 3 s deadline: counts as slow and is retried.
    Slow,
    /// Non-2xx answer.
    Rejected {
        /// The status.
        status: u16,
    },
    /// No answer: connection refused, TLS failure, timeout.
    Failed {
        /// Why.
        reason: String,
    },
    /// Not sent: the endpoint is in Graph's drop state, or retries ran out.
    Dropped {
        /// Why.
        reason: String,
    },
}

/// One delivery attempt.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAttempt {
    /// Sequence number.
    pub seq: u64,
    /// Kind of request.
    pub kind: DeliveryKind,
    /// Target URL.
    pub url: String,
    /// Simulated time the attempt started.
    pub at: DateTime<Utc>,
    /// 1 for the first try.
    pub attempt: u32,
    /// Subscriptions in the batch.
    pub subscription_ids: Vec<String>,
    /// Interaction ids in the batch (change notifications).
    pub interaction_ids: Vec<String>,
    /// Real milliseconds until the answer (or failure).
    pub elapsed_ms: u64,
    /// Outcome.
    pub outcome: DeliveryOutcome,
}

/// Every delivery attempt, oldest first.
#[derive(Debug, Default)]
pub struct DeliveryLog {
    attempts: VecDeque<DeliveryAttempt>,
    next_seq: u64,
}

impl DeliveryLog {
    /// Records an attempt (its `seq` is assigned here) and returns the sequence number.
    pub fn record(&mut self, mut attempt: DeliveryAttempt) -> u64 {
        self.next_seq += 1;
        attempt.seq = self.next_seq;
        self.attempts.push_back(attempt);
        while self.attempts.len() > MAX_DELIVERIES {
            self.attempts.pop_front();
        }
        self.next_seq
    }

    /// All attempts, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &DeliveryAttempt> {
        self.attempts.iter()
    }
}
