//! [`VerdictBoard`]: the latest verdict of each profile, in configuration order, held in memory
//! for whoever asks (`pilotwatch check`, `/metrics`, the TUI) through `diagnose::VerdictSource`.
//! Written by the diagnosis round only; reading never waits on I/O.
//!
//! Depends on `diagnose` only.

use std::sync::{Arc, PoisonError, RwLock};

use crate::diagnose::{Diagnosis, ProfileVerdict, VerdictSource};
use crate::severity::Severity;

/// The latest verdicts. Cheap to clone; clones share the board.
#[derive(Debug, Clone, Default)]
pub struct VerdictBoard {
    slots: Arc<RwLock<Vec<Option<ProfileVerdict>>>>,
}

impl VerdictBoard {
    /// A board for `profiles` profiles, none judged yet.
    pub fn new(profiles: usize) -> Self {
        Self {
            slots: Arc::new(RwLock::new(vec![None; profiles])),
        }
    }

    /// Puts `verdict` in slot `index`; returns whether its findings (codes and severities)
    /// differ from the one it replaces. An index beyond the board is ignored.
    pub fn publish(&self, index: usize, verdict: ProfileVerdict) -> bool {
        let mut slots = self.slots.write().unwrap_or_else(PoisonError::into_inner);
        let Some(slot) = slots.get_mut(index) else {
            return false;
        };
        let changed = slot
            .as_ref()
            .is_none_or(|old| findings_key(&old.diagnosis) != findings_key(&verdict.diagnosis));
        *slot = Some(verdict);
        changed
    }
}

impl VerdictSource for VerdictBoard {
    fn verdicts(&self) -> Vec<ProfileVerdict> {
        self.slots
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .flatten()
            .cloned()
            .collect()
    }
}

/// What "the findings changed" compares: each finding's code and severity (evidence counts
/// move every round and are not news).
fn findings_key(diagnosis: &Diagnosis) -> Vec<(&'static str, Severity)> {
    let mut key: Vec<_> = diagnosis
        .findings
        .iter()
        .map(|finding| (finding.code.as_str(), finding.severity))
        .collect();
    key.sort_unstable_by_key(|(code, _)| *code);
    key
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::diagnose::facts::{FactSource, StoreFacts};
    use crate::diagnose::{Facts, diagnose};

    fn verdict(profile: &str, interactions: u64, moved_aside: bool) -> ProfileVerdict {
        let now: DateTime<Utc> = "2026-11-22T08:00:00Z".parse().unwrap();
        let facts = Facts {
            profile: profile.into(),
            client_id: None,
            thresholds: Default::default(),
            source: FactSource::Direct,
            credentials: None,
            subscriptions: None,
            delivery: None,
            export: None,
            graph: None,
            store: Some(StoreFacts {
                interactions,
                max_interactions: 1_000_000,
                retention_days: 7,
                oldest_created_at: None,
                moved_aside: moved_aside.then(|| crate::diagnose::facts::MovedAside {
                    at: now,
                    path: "/data/store.corrupt-1".into(),
                }),
            }),
            dead_tasks: Vec::new(),
        };
        let diagnosis = diagnose(&facts, now);
        ProfileVerdict { facts, diagnosis }
    }

    #[test]
    fn only_a_change_of_findings_is_news_and_verdicts_keep_profile_order() {
        let board = VerdictBoard::new(2);
        assert!(board.verdicts().is_empty());
        assert!(board.publish(1, verdict("fabrikam", 1, false)));
        assert!(board.publish(0, verdict("contoso", 1, false)));
        assert!(
            !board.publish(0, verdict("contoso", 2, false)),
            "the same findings with other evidence are not news"
        );
        assert!(board.publish(0, verdict("contoso", 2, true)));
        let profiles: Vec<String> = board
            .verdicts()
            .into_iter()
            .map(|v| v.diagnosis.profile)
            .collect();
        assert_eq!(profiles, ["contoso", "fabrikam"]);
        assert!(!board.publish(5, verdict("nobody", 1, false)));
    }
}
