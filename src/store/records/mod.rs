//! The data the store keeps, as plain types: what the receiver, keeper and poller hand to the
//! store and what the UI, diagnosis and `/metrics` read back.
//!
//! These are records, not behaviour: serde (stable kebab-case names, because they are persisted
//! and shown in `--json`), `Debug`, `Clone`, `PartialEq`. They depend only on `graph::model`
//! (for [`InteractionRecord::from_graph`]) and on nothing that does I/O.

mod audit;
mod event;
mod inbox;
mod interaction;
mod latency;
mod notification;
mod subscription;

pub use audit::{AuditOutcome, AuditRecord};
pub use event::{
    AuditAction, Event, EventKind, KeeperAction, KeeperFailure, KeeperFailureKind, Outcome,
    PollTrigger, lifecycle_event_name,
};
pub use inbox::{Endpoint, RawBatch};
pub use interaction::{InteractionRecord, InteractionSource, InvalidInteraction};
pub use latency::LatencySummary;
pub use notification::{
    CertificateRef, Check, DecryptFailure, DecryptVerdict, NotificationRecord, RejectReason,
    TokenRejection, TokenVerdict,
};
pub use subscription::{ClientState, RandomUnavailable, SubscriptionRecord, SubscriptionState};
