//! The store's and Graph's side of a profile's facts: how full the store is against its
//! retention limits and whether a corrupt store was moved aside recently; how Graph answered our
//! requests (the client's traffic summary, mapped).
//!
//! Pure: values in, facts out. Depends on the store's record types, the Graph client's traffic
//! summary and `diagnose::facts` only.

use chrono::{DateTime, Utc};

use crate::diagnose::facts::{GraphTraffic, MovedAside, StoreFacts};
use crate::graph::http::TrafficSummary;
use crate::store::Retention;
use crate::store::records::{AuditAction, Event, EventKind};

/// What the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreCounts {
    /// Interactions held.
    pub interactions: u64,
    /// The oldest interaction's `createdDateTime`.
    pub oldest_created_at: Option<DateTime<Utc>>,
}

/// The store facts: `events` is the recent event log (oldest first), in which the latest
/// `StoreMovedAside` audit event, if any, is the store set aside.
pub fn store_facts(counts: StoreCounts, retention: &Retention, events: &[Event]) -> StoreFacts {
    let moved_aside = events.iter().rev().find_map(|event| match &event.kind {
        EventKind::Audit {
            action: AuditAction::StoreMovedAside { path },
        } => Some(MovedAside {
            at: event.at,
            path: path.clone(),
        }),
        _ => None,
    });
    StoreFacts {
        interactions: counts.interactions,
        max_interactions: retention.max_interactions,
        retention_days: u32::try_from(retention.max_age.num_days().max(0)).unwrap_or(u32::MAX),
        oldest_created_at: counts.oldest_created_at,
        moved_aside,
    }
}

/// Graph's answers as diagnosis reads them.
pub fn graph_traffic(summary: TrafficSummary) -> GraphTraffic {
    GraphTraffic {
        window_minutes: summary.window_minutes,
        requests: summary.requests,
        throttled: summary.throttled,
        failed: summary.failed,
        trouble_since: summary.trouble_since,
        last_request_id: summary.last_request_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_retention_and_the_latest_move_aside_is_reported() {
        let at: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        let audit = |minutes, path: &str| Event {
            at: at + chrono::Duration::minutes(minutes),
            profile: String::new(),
            kind: EventKind::Audit {
                action: AuditAction::StoreMovedAside { path: path.into() },
            },
            message: String::new(),
        };
        let retention = Retention {
            max_age: chrono::Duration::days(7),
            max_interactions: 1_000,
        };
        let counts = StoreCounts {
            interactions: 900,
            oldest_created_at: Some(at),
        };
        let facts = store_facts(counts, &retention, &[audit(0, "/a"), audit(5, "/b")]);
        assert_eq!(facts.max_interactions, 1_000);
        assert_eq!(facts.retention_days, 7);
        assert_eq!(facts.interactions, 900);
        let moved = facts.moved_aside.unwrap();
        assert_eq!(
            (moved.path.as_str(), moved.at),
            ("/b", at + chrono::Duration::minutes(5))
        );
        assert_eq!(store_facts(counts, &retention, &[]).moved_aside, None);
    }
}
