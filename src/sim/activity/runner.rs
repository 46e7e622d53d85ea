//! The live generator: arrivals in simulated time, each interaction published at its
//! `createdDateTime` (a prompt first, its answer 1–8 s later, never early).
//!
//! It wakes at least once a real second, so a scenario switch or a clock jump takes effect
//! promptly. A forward clock jump is skipped, not replayed: generating (and notifying) days of
//! activity in one burst would flood every receiver; answers already due are still published.
//!
//! Depends on the activity parts and the simulator's state.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};

use super::book::Bump;
use super::synth::{PairRequest, Synth};
use super::{
    AppKind, accept, licensed_users, next_candidate, pick_user, reply_delay, taken_in_log,
};
use crate::clock::Clock;
use crate::sim::ledger::Generated;
use crate::sim::state::SimState;

/// Longest real sleep between passes.
const MAX_NAP: StdDuration = StdDuration::from_secs(1);

/// Shortest real sleep between passes (no busy loop when something is due "now").
const MIN_NAP: StdDuration = StdDuration::from_millis(2);

/// Real time a pass may lag behind before a gap counts as a clock jump rather than slowness.
const JUMP_SLACK_REAL_SECS: f64 = 5.0;

/// Most candidate arrivals one pass works through; beyond it (an extreme rate at an extreme
/// `--speed`) the backlog is skipped so a pass always ends.
const MAX_CANDIDATES_PER_PASS: u32 = 20_000;

/// Simulated slack on top of that (covers scenario skew changes of a minute or less).
const JUMP_SLACK: Duration = Duration::seconds(60);

/// Runs until the simulator shuts down.
pub async fn run(state: Arc<SimState>) {
    let mut runner = Runner::new(state.now());
    loop {
        let due_in = runner.pass(&state);
        let nap = due_in
            .map_or(MAX_NAP, |span| state.clock.real_duration(span))
            .clamp(MIN_NAP, MAX_NAP);
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(nap) => {}
        }
    }
}

/// The generator's position in simulated time.
#[derive(Debug)]
struct Runner {
    /// Simulated time of the last pass.
    cursor: DateTime<Utc>,
    /// The next candidate arrival, if the rate is not zero.
    next: Option<DateTime<Utc>>,
    /// The rate `next` was drawn for (peak pairs per hour).
    rate: f64,
    /// Interactions waiting for their `createdDateTime`, by (ms, sequence).
    pending: BTreeMap<(i64, u64), Generated>,
    sequence: u64,
}

impl Runner {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            cursor: now,
            next: None,
            rate: 0.0,
            pending: BTreeMap::new(),
            sequence: 0,
        }
    }

    /// Generates the arrivals up to now, publishes what is due, and says how long (simulated)
    /// until the next thing is due.
    fn pass(&mut self, state: &SimState) -> Option<Duration> {
        let now = state.now();
        let scenario = state.scenario();
        let activity = &scenario.activity;
        let slack = JUMP_SLACK
            + Duration::milliseconds((JUMP_SLACK_REAL_SECS * 1000.0 * state.clock.speed()) as i64);
        if now < self.cursor || now - self.cursor > slack {
            tracing::debug!(from = %self.cursor, to = %now, "clock jumped; activity generation skips the gap");
            self.next = None;
        }
        if activity.pairs_per_hour != self.rate {
            self.rate = activity.pairs_per_hour;
            self.next = None;
        }
        if self.next.is_none() {
            let mut rng = state.rng();
            self.next = next_candidate(&mut *rng, now, self.rate);
        }
        let licensed = licensed_users(state);
        let synth = Synth::new(&state.tenant, &state.activity);
        let taken = |ms: i64| taken_in_log(state, ms);
        let mut candidates = 0;
        while let Some(candidate) = self.next.filter(|candidate| *candidate <= now) {
            candidates += 1;
            if candidates > MAX_CANDIDATES_PER_PASS {
                tracing::warn!(
                    rate = self.rate,
                    "activity rate too high for the clock speed; skipping the backlog"
                );
                self.next = None;
                break;
            }
            let mut rng = state.rng();
            if accept(&mut *rng, candidate, activity.day_night)
                && let Some(user) = pick_user(&mut *rng, &licensed)
            {
                let request = PairRequest {
                    user,
                    kind: AppKind::random(&mut *rng),
                    prompt_at: candidate,
                    reply_after: reply_delay(&mut *rng),
                    bump: Bump::Later,
                };
                for generated in synth.pair(&mut *rng, &request, &taken) {
                    self.enqueue(generated);
                }
            }
            self.next = next_candidate(&mut *rng, candidate, self.rate);
        }
        self.cursor = now;
        self.publish_due(state, now);
        let next_pending = self
            .pending
            .keys()
            .next()
            .map(|(ms, _)| super::wire::millis_to_time(*ms));
        [self.next, next_pending]
            .into_iter()
            .flatten()
            .min()
            .map(|due| due - now)
    }

    fn enqueue(&mut self, generated: Generated) {
        self.sequence += 1;
        let ms = generated.interaction.created_date_time.timestamp_millis();
        self.pending.insert((ms, self.sequence), generated);
    }

    fn publish_due(&mut self, state: &SimState, now: DateTime<Utc>) {
        let now_ms = now.timestamp_millis();
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now_ms {
                break;
            }
            state.publish(entry.remove());
        }
    }
}
