//! Group commit: many callers, one flush.
//!
//! Every caller of `commit()` takes a ticket. If no flush is running, the caller starts one
//! that covers every ticket issued so far (their writes all happened before their tickets, so
//! before the flush starts); callers that arrive while a flush runs wait for the next one,
//! which one of them starts when the current one ends. So a burst of N concurrent commits costs
//! about two flushes, not N.
//!
//! The flush runs on a detached blocking task that records its own result: a caller whose
//! future is dropped (a cancelled HTTP request) cannot leave the committer stuck "flushing".
//!
//! Depends on tokio's `watch` and the standard library; what a flush does is the caller's.

use std::sync::{Mutex, PoisonError};

use tokio::sync::watch;

use super::error::StoreError;

/// Counters for `/metrics` and for tests that check commits are grouped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Calls to `commit()`.
    pub commits: u64,
    /// Flushes actually performed.
    pub flushes: u64,
    /// Flushes that failed.
    pub failed_flushes: u64,
}

#[derive(Debug, Default)]
struct State {
    issued: u64,
    flushing: bool,
    stats: CommitStats,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Progress {
    /// Every ticket up to this one is durable.
    durable_through: u64,
    /// The last failed flush: the tickets it covered and why it failed.
    failed: Option<(u64, String)>,
}

/// What a caller does next.
#[derive(Debug)]
pub(crate) enum Step {
    /// Its writes are durable (or the flush covering them failed).
    Done(Result<(), StoreError>),
    /// Start a flush covering tickets up to `target`, then wait.
    Lead(u64),
    /// A flush is running that does not cover it: wait for it to end.
    Wait,
}

#[derive(Debug)]
pub(crate) struct GroupCommit {
    state: Mutex<State>,
    progress: watch::Sender<Progress>,
}

impl GroupCommit {
    pub(crate) fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            progress: watch::Sender::new(Progress::default()),
        }
    }

    /// Registers a caller; its writes so far are covered by any flush that starts after this.
    pub(crate) fn ticket(&self) -> (u64, watch::Receiver<Progress>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.issued += 1;
        state.stats.commits += 1;
        (state.issued, self.progress.subscribe())
    }

    /// Decides what the holder of `ticket` does next.
    pub(crate) fn step(&self, ticket: u64, progress: &mut watch::Receiver<Progress>) -> Step {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let seen = progress.borrow_and_update().clone();
        if seen.durable_through >= ticket {
            return Step::Done(Ok(()));
        }
        if let Some((_, reason)) = seen.failed.filter(|(covered, _)| *covered >= ticket) {
            return Step::Done(Err(StoreError::FlushFailed(reason)));
        }
        if state.flushing {
            return Step::Wait;
        }
        state.flushing = true;
        state.stats.flushes += 1;
        Step::Lead(state.issued)
    }

    /// Records the end of the flush that covered tickets up to `target`.
    pub(crate) fn finish(&self, target: u64, result: Result<(), StoreError>) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.flushing = false;
        if result.is_err() {
            state.stats.failed_flushes += 1;
        }
        self.progress.send_modify(|progress| match result {
            Ok(()) => progress.durable_through = progress.durable_through.max(target),
            Err(error) => progress.failed = Some((target, error.to_string())),
        });
    }

    pub(crate) fn stats(&self) -> CommitStats {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_during_a_flush_wait_for_the_next_one() {
        let commit = GroupCommit::new();
        let (first, mut first_rx) = commit.ticket();
        let Step::Lead(target) = commit.step(first, &mut first_rx) else {
            panic!("the first caller leads")
        };
        let (second, mut second_rx) = commit.ticket();
        assert!(matches!(commit.step(second, &mut second_rx), Step::Wait));
        commit.finish(target, Ok(()));
        assert!(matches!(
            commit.step(first, &mut first_rx),
            Step::Done(Ok(()))
        ));
        // The flush started before the second caller's ticket: it must not count for it.
        assert!(matches!(commit.step(second, &mut second_rx), Step::Lead(2)));
        commit.finish(2, Err(StoreError::FlushFailed("disk full".into())));
        assert!(matches!(
            commit.step(second, &mut second_rx),
            Step::Done(Err(StoreError::FlushFailed(_)))
        ));
        assert_eq!(
            commit.stats(),
            CommitStats {
                commits: 2,
                flushes: 2,
                failed_flushes: 1
            }
        );
    }
}
