//! The poller: reads the Copilot export API per licensed user over `createdDateTime` windows
//! and puts what notifications did not deliver into the store, de-duplicated by interaction id.
//!
//! Three kinds of poll share one code path ([`Poller::poll`]): the **initial backfill** of a
//! configurable window at start (it also covers the collector's downtime), **gap fills** the
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
//! Files: this one holds the loop and the poll itself; `journal` (events and updates),
//! `window` (chunks and paths), `users` (licensed users), `report`, `options`, `ports`.
//!
//! Depends on the Graph client, the config profile, the clock, the store's record types and the
//! [`PollerStore`] seam; never on the keeper's logic, the store's engine, the TUI or the
//! simulator.

mod journal;
mod options;
mod ports;
mod report;
mod users;
pub mod window;

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt as _;
use futures_util::stream;
use tokio::sync::{Mutex, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::keeper::plan::backoff_delay;
use super::update::Update;
use crate::clock::SharedClock;
use crate::config::Profile;
use crate::graph::http::{GraphClient, RequestError};
use crate::graph::model::AiInteraction;
use crate::store::records::{InteractionRecord, InteractionSource};

pub use options::{PollError, PollOptions};
pub use ports::PollerStore;
pub use report::{Gap, GapReason, PollKind, PollReport, UserFailure};
pub use users::has_copilot;

/// Shortest real pause of the loop (a manual clock converts every span to zero).
const MIN_NAP: StdDuration = StdDuration::from_millis(10);

/// Longest real pause: the clock is re-read at least this often.
const MAX_NAP: StdDuration = StdDuration::from_secs(1);

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

/// What one user's history held in the window.
type UserResult = Result<(Vec<AiInteraction>, bool), RequestError>;

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

    /// Reconciles everything since `since` (at least the usual window), up to the settled
    /// present. Returns the report and where the next reconciliation may start: the window's
    /// end when it completed, else `since` again.
    async fn reconcile_since(
        &self,
        since: DateTime<Utc>,
    ) -> (Result<PollReport, PollError>, DateTime<Utc>) {
        let to = self.clock.now() - self.options.reconcile_settle;
        let from = since.min(to - self.options.reconcile_window);
        let result = self.poll(PollKind::Reconcile, from, to).await;
        let next = match &result {
            Ok(report) if report.complete() => to,
            _ => since,
        };
        (result, next)
    }

    /// Runs until `shutdown`: the initial backfill, then gap fills as they arrive and a
    /// reconciliation every `reconcile_every`.
    pub async fn run(self, mut gaps: mpsc::Receiver<Gap>, shutdown: CancellationToken) {
        let now = self.clock.now();
        let mut jobs = VecDeque::from([Job {
            kind: PollKind::Backfill,
            from: now - self.options.initial_backfill,
            to: now,
            attempts: 0,
        }]);
        let mut next_reconcile = now + self.options.reconcile_every;
        // Reconciliation windows are contiguous from the end of the initial backfill: a slow
        // backfill, a subscription created late (a Graph outage at start) or a failed
        // reconciliation leaves no hour that is neither backfilled nor reconciled.
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
                let Some((_, next)) = shutdown
                    .run_until_cancelled(self.reconcile_since(reconciled_to))
                    .await
                else {
                    return;
                };
                reconciled_to = next;
                continue;
            }
            let nap = self
                .clock
                .real_duration(next_reconcile - now)
                .clamp(MIN_NAP, MAX_NAP);
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

    /// One poll of `[from, to)`: every licensed user, every chunk, classified and stored;
    /// the report is recorded and broadcast.
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
        let results: Vec<(String, UserResult)> = stream::iter(users.iter().cloned())
            .map(|user| async move {
                let result = self.read_user(&user, from, to).await;
                (user, result)
            })
            .buffer_unordered(self.options.concurrency.max(1))
            .collect()
            .await;
        let seen_at = self.clock.now();
        let mut report = PollReport {
            profile: self.profile.name.clone(),
            kind,
            from,
            to,
            finished_at: seen_at,
            users_polled: 0,
            fetched: 0,
            new: 0,
            via_notifications: 0,
            missing: 0,
            skipped: 0,
            failed_users: Vec::new(),
            truncated: false,
        };
        let mut seen = HashSet::new();
        for (user, result) in results {
            match result {
                Ok((items, truncated)) => {
                    report.users_polled = report.users_polled.saturating_add(1);
                    report.truncated |= truncated;
                    for item in items {
                        if seen.insert(item.id.clone()) {
                            self.classify(&item, &user, seen_at, &mut report)?;
                        }
                    }
                }
                Err(error) => report.failed_users.push(UserFailure {
                    user_id: user,
                    error: error.to_string(),
                }),
            }
        }
        report.finished_at = self.clock.now();
        self.record(&report);
        Ok(report)
    }

    /// Counts one exported interaction and stores it when it is new.
    fn classify(
        &self,
        item: &AiInteraction,
        owner: &str,
        seen_at: DateTime<Utc>,
        report: &mut PollReport,
    ) -> Result<(), PollError> {
        report.fetched += 1;
        match self.store.interaction(&item.id)? {
            Some(stored) if stored.source == InteractionSource::Notification => {
                report.via_notifications += 1;
            }
            Some(_) => report.missing += 1,
            None => {
                let mut record = match InteractionRecord::from_graph(
                    item,
                    InteractionSource::Poll,
                    seen_at,
                    self.profile.store_bodies,
                ) {
                    Ok(record) => record,
                    Err(error) => {
                        // Counted as fetched, never stored: one unusable item must not fail
                        // the whole window (which would be retried and given up).
                        tracing::warn!(target: "pilotwatch::collector::poller", profile = %self.profile.name, user = owner, %error, "export item skipped");
                        report.skipped += 1;
                        report.missing += 1;
                        return Ok(());
                    }
                };
                // The export API is per user: the mailbox read is the owner, also for
                // responses, whose `from` is the Copilot application.
                record.user_id = Some(owner.to_owned());
                if self.store.insert_if_absent(&record)? {
                    report.new += 1;
                    report.missing += 1;
                    let _ = self.updates.send(Update::Interaction(record));
                } else {
                    // Only the receiver can have stored it since the lookup: a notification
                    // delivered it.
                    report.via_notifications += 1;
                }
            }
        }
        Ok(())
    }

    /// One user's interactions in `[from, to)`, chunk by chunk; true when a chunk had more
    /// pages than `max_pages`.
    async fn read_user(&self, user: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> UserResult {
        let mut items = Vec::new();
        let mut truncated = false;
        for (start, end) in window::chunks(from, to, self.options.chunk) {
            let path = window::export_path(user, start, end, self.options.page_size.clamp(1, 1000));
            let page = self
                .graph
                .get_all::<AiInteraction>(&path, self.options.max_pages)
                .await?;
            truncated |= page.truncated;
            items.extend(page.items);
        }
        Ok((items, truncated))
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

/// Adds arrived gaps to the queue, merged among themselves.
fn enqueue(jobs: &mut VecDeque<Job>, arrived: Vec<Gap>) {
    for gap in window::merge_gaps(arrived) {
        jobs.push_back(Job {
            kind: PollKind::Gap(gap.reason),
            from: gap.from,
            to: gap.to,
            attempts: 0,
        });
    }
}
