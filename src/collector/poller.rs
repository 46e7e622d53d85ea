//! The poller: reads the Copilot export API per licensed user over `createdDateTime` windows
//! and puts what notifications did not deliver into the store, de-duplicated by interaction id.
//!
//! Three kinds of poll share one code path ([`Poller::poll`]): the **initial backfill** of a
//! configurable window at start, reaching back to just before the last accepted notification
//! so the collector's downtime is read too (at most the store's 7-day retention), **gap fills** the
//! keeper requests after `missed`, a removal or a replacement (queued gaps are merged), and a
//! periodic **reconciliation** over a recent, settled window that counts how many exported
//! interactions notifications delivered — the fact behind "the push path is broken while users
//! are active". Every poll ends in a [`PollReport`], an event and an [`Update`].
//!
//! Rules followed (graph-facts §1.1–1.3, §1.6, §7): one call chain per user (there is no
//! tenant-wide read); both `createdDateTime` bounds on every filter; `@odata.nextLink` followed
//! verbatim through the shared [`GraphClient`] (its per-tenant budget keeps the poller under the
//! 30 requests/s export limit, and it honours `Retry-After`); only users with the Copilot Chat
//! plan enabled are read. Failures back off exponentially (never a tight loop), and a window is
//! retried a bounded number of times.
//!
//! Files: this one holds the loop and the poll itself; `intake` (one user's history read and
//! stored chunk by chunk), `journal` (events and updates), `window` (chunks, paths, backfill
//! and reconciliation windows), `users` (licensed users), `report`, `options`, `ports`.
//!
//! Depends on the Graph client, the config profile, the clock, the store's record types and the
//! [`PollerStore`] seam; never on the keeper's logic, the store's engine, the TUI or the
//! simulator.

mod intake;
mod journal;
mod options;
mod ports;
mod report;
mod users;
pub mod window;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures_util::{StreamExt as _, TryStreamExt as _, stream};
use tokio::sync::{Mutex, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use self::intake::{Seen, Tally, UserRead};
use super::keeper::plan::{MIN_NAP, backoff_delay, nap};
use super::update::Update;
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::http::GraphClient;
use crate::store::StoreError;

pub use options::{PollError, PollOptions};
pub use ports::PollerStore;
pub use report::{Gap, GapReason, PollKind, PollReport, UserFailure};
pub use users::{has_copilot, licensed_users};

/// Reads one profile's Copilot interactions from the export API.
pub struct Poller {
    profile: Profile,
    graph: GraphClient,
    store: Arc<dyn PollerStore>,
    clock: SharedClock,
    updates: broadcast::Sender<Update>,
    options: PollOptions,
    /// The licensed users and when they were read.
    users: Mutex<Option<UserList>>,
}

impl fmt::Debug for Poller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Poller")
            .field("profile", &self.profile.name)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A queued window.
#[derive(Debug, Clone, Copy)]
struct Job {
    kind: PollKind,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    attempts: u32,
}

/// The licensed users' ids and when they were read.
type UserList = (DateTime<Utc>, Arc<Vec<String>>);

impl Poller {
    /// A poller for `profile`.
    pub fn new(
        profile: Profile,
        graph: GraphClient,
        store: impl PollerStore,
        clock: SharedClock,
        updates: broadcast::Sender<Update>,
        options: PollOptions,
    ) -> Self {
        Self {
            profile,
            graph,
            store: Arc::new(store),
            clock,
            updates,
            options,
            users: Mutex::new(None),
        }
    }

    /// Reads `[from, to)` for every licensed user (an initial or on-demand backfill).
    pub async fn backfill(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<PollReport, PollError> {
        self.poll(PollKind::Backfill, from, to).await
    }

    /// Fills one gap.
    pub async fn fill_gap(&self, gap: Gap) -> Result<PollReport, PollError> {
        self.poll(PollKind::Gap(gap.reason), gap.from, gap.to).await
    }

    /// Compares the export API with what notifications delivered over the settled recent
    /// window (and stores what they did not deliver).
    pub async fn reconcile(&self) -> Result<PollReport, PollError> {
        let to = self.clock.now() - self.options.reconcile_settle;
        self.poll(PollKind::Reconcile, to - self.options.reconcile_window, to)
            .await
    }

    /// Runs until `shutdown`: the initial backfill (which also covers the collector's
    /// downtime), then gap fills as they arrive and a reconciliation every `reconcile_every`.
    ///
    /// Every window is a job in one queue: an incomplete or failed one is retried with backoff
    /// up to `max_attempts` times, then given up with an event. Reconciliation windows are
    /// contiguous from the start and always advance, so a failing user or a truncated history
    /// costs a bounded number of retries of one bounded window, never an ever-growing one.
    pub async fn run(self, mut gaps: mpsc::Receiver<Gap>, shutdown: CancellationToken) {
        let now = self.clock.now();
        let mut jobs = VecDeque::new();
        let from = window::backfill_start(now, self.last_accepted_at(), &self.options);
        if from < now {
            jobs.push_back(Job::new(PollKind::Backfill, from, now));
        }
        let mut next_reconcile = now + self.options.reconcile_every;
        // From the end of the initial backfill: no hour is neither backfilled nor reconciled.
        let mut reconciled_to = now;
        let mut gaps_open = true;
        loop {
            let mut arrived = Vec::new();
            while let Ok(gap) = gaps.try_recv() {
                arrived.push(gap);
            }
            enqueue(&mut jobs, arrived);
            if let Some(job) = jobs.front().copied() {
                let Some(result) = shutdown
                    .run_until_cancelled(self.poll(job.kind, job.from, job.to))
                    .await
                else {
                    return;
                };
                let complete = matches!(&result, Ok(report) if report.complete());
                if complete || job.attempts + 1 >= self.options.max_attempts.max(1) {
                    jobs.pop_front();
                    if !complete {
                        self.give_up(&job, &result);
                    }
                    continue;
                }
                let attempts = job.attempts + 1;
                if let Some(front) = jobs.front_mut() {
                    front.attempts = attempts;
                }
                let wait = self.backoff(attempts);
                if let Err(error) = &result {
                    tracing::warn!(target: "pilotwatch::collector::poller", profile = %self.profile.name, %error, "poll failed; retrying");
                }
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = tokio::time::sleep(self.clock.real_duration(wait).max(MIN_NAP)) => {}
                }
                continue;
            }
            let now = self.clock.now();
            if next_reconcile <= now {
                next_reconcile = now + self.options.reconcile_every;
                for (from, to) in window::reconcile_windows(reconciled_to, now, &self.options) {
                    reconciled_to = reconciled_to.max(to);
                    jobs.push_back(Job::new(PollKind::Reconcile, from, to));
                }
                continue;
            }
            let nap = nap(self.clock.real_duration(next_reconcile - now));
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(nap) => {}
                gap = gaps.recv(), if gaps_open => match gap {
                    Some(gap) => enqueue(&mut jobs, vec![gap]),
                    None => gaps_open = false,
                },
            }
        }
    }

    /// One poll of `[from, to)`: every licensed user, chunk by chunk, classified and stored
    /// as it arrives; the report is recorded and broadcast. Only a store failure (or no list
    /// of licensed users) is an error; users Graph could not read are in the report.
    pub async fn poll(
        &self,
        kind: PollKind,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<PollReport, PollError> {
        if to <= from {
            return Err(PollError::EmptyWindow { from, to });
        }
        let users = self.licensed_users().await?;
        let seen = Seen::default();
        let reads: Vec<(String, UserRead)> = stream::iter(users.iter().cloned())
            .map(|user| {
                let seen = &seen;
                async move {
                    let read = self.read_user(&user, from, to, seen).await?;
                    Ok::<_, StoreError>((user, read))
                }
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .try_collect()
            .await?;
        let mut tally = Tally::default();
        let mut report = PollReport {
            profile: self.profile.name.clone(),
            kind,
            from,
            to,
            finished_at: self.clock.now(),
            users_polled: 0,
            fetched: 0,
            new: 0,
            via_notifications: 0,
            missing: 0,
            skipped: 0,
            failed_users: Vec::new(),
            truncated: false,
            newest_created_at: None,
        };
        for (user, read) in reads {
            tally.add(read.tally);
            report.truncated |= read.truncated;
            match read.failure {
                None => report.users_polled = report.users_polled.saturating_add(1),
                Some(error) => report.failed_users.push(UserFailure {
                    user_id: user,
                    error: error.to_string(),
                }),
            }
        }
        report.fetched = tally.fetched;
        report.new = tally.new;
        report.via_notifications = tally.via_notifications;
        report.missing = tally.missing;
        report.newest_created_at = tally.newest_created_at;
        report.skipped = tally.skipped;
        self.record(&report);
        Ok(report)
    }

    /// When the profile last accepted a notification; unknown (the usual backfill) when the
    /// store cannot say.
    fn last_accepted_at(&self) -> Option<DateTime<Utc>> {
        self.store
            .last_accepted_at(&self.profile.name)
            .unwrap_or_else(|error| {
                tracing::warn!(target: "pilotwatch::collector::poller", profile = %self.profile.name, %error, "cannot read the last accepted notification time; the initial backfill does not cover the downtime");
                None
            })
    }

    /// The licensed users, read again when the cached list is older than
    /// `users_refresh_every`; a stale list is used when Graph cannot be read.
    async fn licensed_users(&self) -> Result<Arc<Vec<String>>, PollError> {
        let mut cache = self.users.lock().await;
        let now = self.clock.now();
        if let Some((read_at, users)) = cache.as_ref()
            && now - *read_at < self.options.users_refresh_every
        {
            return Ok(users.clone());
        }
        match users::licensed_users(&self.graph).await {
            Ok(users) => {
                let users = Arc::new(users);
                *cache = Some((now, users.clone()));
                Ok(users)
            }
            Err(error) => match cache.as_ref() {
                Some((_, users)) => {
                    tracing::warn!(target: "pilotwatch::collector::poller", %error, "cannot refresh the licensed users; using the last list");
                    Ok(users.clone())
                }
                None => Err(PollError::Users(Box::new(error))),
            },
        }
    }

    /// Equal-jitter backoff after `attempts` failures.
    fn backoff(&self, attempts: u32) -> Duration {
        backoff_delay(
            self.options.retry_first,
            self.options.retry_max,
            attempts,
            &mut rand::rng(),
        )
    }
}

impl Job {
    fn new(kind: PollKind, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self {
            kind,
            from,
            to,
            attempts: 0,
        }
    }
}

/// Adds arrived gaps to the queue, merged among themselves.
fn enqueue(jobs: &mut VecDeque<Job>, arrived: Vec<Gap>) {
    for gap in window::merge_gaps(arrived) {
        jobs.push_back(Job::new(PollKind::Gap(gap.reason), gap.from, gap.to));
    }
}
