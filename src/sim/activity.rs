//! The synthetic tenant's Copilot usage: prompt/response pairs for licensed users only, arriving
//! as a Poisson process whose rate follows the working week (`shape`), in the experiences real
//! tenants use most (`apps`), with realistic sessions, bodies, attachments, links, contexts and
//! mentions (`synth`, `content`, `book`).
//!
//! Three entry points: [`seed_history`] fills `scenario.activity.history_days` of past activity
//! at start without notifying anyone (it happened before the simulator "existed"); [`run`]
//! generates in simulated time and publishes every interaction at its `createdDateTime`; and
//! [`generate_now`] serves `POST /_sim/interactions`. All randomness comes from `state.rng()`,
//! so the same seed and start time give the same history.
//!
//! Depends on the simulator's state, tenant, ledger and scenario, and on `graph::model`.

mod apps;
mod book;
mod content;
mod runner;
pub mod shape;
mod synth;
mod wire;

use std::sync::{Arc, PoisonError};

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand_distr::{Distribution, Exp};
use serde::Deserialize;

pub use apps::AppKind;
pub use book::ActivityBook;
use book::Bump;
use synth::{PairRequest, Synth};

use super::ledger::{Generated, MAX_INTERACTIONS};
use super::scenario::Activity;
use super::state::SimState;
use super::tenant::SimUser;
use crate::graph::model::AiInteraction;
use crate::graph::model::well_known::APP_CLASSES;

/// Most pairs one `POST /_sim/interactions` may ask for.
pub const MAX_PAIRS_PER_REQUEST: u32 = 1000;

/// Most pairs of history generated (the interaction log keeps `MAX_INTERACTIONS` items): with
/// an extreme rate only the most recent part of `history_days` is made.
const MAX_HISTORY_PAIRS: usize = MAX_INTERACTIONS / 2;

/// History stops this long before start, so every answer in it lies in the past.
const HISTORY_MARGIN: Duration = Duration::seconds(10);

/// `POST /_sim/interactions`: make interactions now.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateRequest {
    /// Prompt/response pairs to make (1–1000).
    pub pairs: u32,
    /// Whose (default: a random licensed user).
    pub user_id: Option<String>,
    /// Which app class (default: random, weighted as the generator weights it).
    pub app_class: Option<String>,
}

/// Makes `request.pairs` pairs now — each prompt a few seconds ago, its answer by now — publishes
/// them (notifications included) and returns them oldest first. Refuses unknown or unlicensed
/// users, unknown app classes and pair counts outside 1–1000.
pub fn generate_now(
    state: &SimState,
    request: &GenerateRequest,
) -> Result<Vec<AiInteraction>, String> {
    if !(1..=MAX_PAIRS_PER_REQUEST).contains(&request.pairs) {
        return Err(format!(
            "pairs must be between 1 and {MAX_PAIRS_PER_REQUEST}, got {}",
            request.pairs
        ));
    }
    let kind = match &request.app_class {
        Some(value) => Some(AppKind::from_app_class(value).ok_or_else(|| {
            format!(
                "unknown appClass {value:?}; known: {}",
                APP_CLASSES.join(", ")
            )
        })?),
        None => None,
    };
    let licensed = licensed_users(state);
    let chosen = match &request.user_id {
        Some(id) => {
            let user = state
                .tenant
                .user(id)
                .ok_or_else(|| format!("unknown user {id:?}; see GET /_sim/tenant"))?;
            if !state.is_licensed(&user.id) {
                return Err(format!(
                    "user {id:?} holds no Copilot licence under scenario {:?}; Copilot activity exists only for licensed users",
                    state.scenario().name
                ));
            }
            Some(user)
        }
        None if licensed.is_empty() => {
            return Err(format!(
                "no user holds a Copilot licence under scenario {:?}",
                state.scenario().name
            ));
        }
        None => None,
    };

    let now = state.now();
    let synth = Synth::new(&state.tenant, &state.activity);
    let taken = |ms: i64| taken_in_log(state, ms);
    let pairs = i64::from(request.pairs);
    let mut made = Vec::new();
    {
        let mut rng = state.rng();
        for index in 0..pairs {
            let Some(user) = chosen.or_else(|| pick_user(&mut *rng, &licensed)) else {
                break;
            };
            let kind = kind.unwrap_or_else(|| AppKind::random(&mut *rng));
            // Answers land in the last few milliseconds before now, a prompt 2–6 s earlier.
            let response_at = now - Duration::milliseconds((pairs - 1 - index) * 3);
            let reply_after = Duration::milliseconds(rng.random_range(2_000..=6_000));
            let request = PairRequest {
                user,
                kind,
                prompt_at: response_at - reply_after,
                reply_after,
                bump: Bump::Earlier,
            };
            made.extend(synth.pair(&mut *rng, &request, &taken));
        }
    }
    made.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    let interactions = made
        .iter()
        .map(|generated| generated.interaction.as_ref().clone())
        .collect();
    for generated in made {
        state.publish(generated);
    }
    Ok(interactions)
}

/// Fills `scenario.activity.history_days` of past activity into the interaction log, without
/// notifying anyone. Called once at start, before the generator runs.
pub fn seed_history(state: &SimState) {
    let scenario = state.scenario();
    let now = state.now();
    let from = now - Duration::days(i64::from(scenario.activity.history_days));
    let licensed = licensed_users(state);
    let synth = Synth::new(&state.tenant, &state.activity);
    let items = {
        let mut rng = state.rng();
        history(
            &mut *rng,
            &synth,
            &licensed,
            &scenario.activity,
            from,
            now - HISTORY_MARGIN,
        )
    };
    let count = items.len();
    let mut log = state
        .interactions
        .write()
        .unwrap_or_else(PoisonError::into_inner);
    for generated in items {
        log.push(generated);
    }
    tracing::debug!(count, "seeded Copilot interaction history");
}

/// Generates in simulated time until the simulator shuts down.
pub async fn run(state: Arc<SimState>) {
    runner::run(state).await;
}

/// The pairs of `[from, to)`, oldest first: arrivals of the scenario's rate and shape, for
/// `users` (the licensed ones).
fn history<R: Rng + ?Sized>(
    rng: &mut R,
    synth: &Synth<'_>,
    users: &[&SimUser],
    activity: &Activity,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Generated> {
    let mut made = Vec::new();
    if users.is_empty() || activity.pairs_per_hour <= 0.0 {
        return made;
    }
    let mut at = history_start(from, to, activity.pairs_per_hour);
    while let Some(next) = next_candidate(rng, at, activity.pairs_per_hour) {
        if next >= to {
            break;
        }
        at = next;
        if !accept(rng, next, activity.day_night) {
            continue;
        }
        let Some(user) = pick_user(rng, users) else {
            break;
        };
        let request = PairRequest {
            user,
            kind: AppKind::random(rng),
            prompt_at: next,
            reply_after: reply_delay(rng),
            bump: Bump::Later,
        };
        made.extend(synth.pair(rng, &request, &|_| false));
    }
    made.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    made
}

/// Where history generation starts: `from`, or later when the rate would make more pairs than
/// the log keeps (an older history would be dropped as soon as it was made).
fn history_start(from: DateTime<Utc>, to: DateTime<Utc>, pairs_per_hour: f64) -> DateTime<Utc> {
    let hours = MAX_HISTORY_PAIRS as f64 / pairs_per_hour.max(f64::MIN_POSITIVE);
    let longest = Duration::seconds((hours * 3600.0).min(1.0e10) as i64);
    from.max(to - longest)
}

/// The next candidate arrival after `after` at the peak rate (thinning: a candidate becomes an
/// arrival with probability `shape::activity_level`, which makes the accepted ones a Poisson
/// process of the shaped rate). `None` when the rate is zero.
fn next_candidate<R: Rng + ?Sized>(
    rng: &mut R,
    after: DateTime<Utc>,
    pairs_per_hour: f64,
) -> Option<DateTime<Utc>> {
    let per_second = pairs_per_hour / 3600.0;
    let gap = Exp::new(per_second).ok()?.sample(rng);
    if !gap.is_finite() || gap > 1.0e9 {
        return None;
    }
    Some(after + Duration::microseconds((gap * 1.0e6) as i64))
}

/// Whether a candidate at `at` becomes an arrival.
fn accept<R: Rng + ?Sized>(rng: &mut R, at: DateTime<Utc>, day_night: bool) -> bool {
    !day_night || rng.random_bool(shape::activity_level(at).clamp(0.0, 1.0))
}

/// How long Copilot takes to answer: 1–8 s.
fn reply_delay<R: Rng + ?Sized>(rng: &mut R) -> Duration {
    Duration::milliseconds(rng.random_range(1_000..=8_000))
}

/// A licensed user, the first ones busier than the last (real usage is uneven).
fn pick_user<'a, R: Rng + ?Sized>(rng: &mut R, users: &[&'a SimUser]) -> Option<&'a SimUser> {
    let count = users.len();
    let weight = |index: usize| count - index + 1;
    let total: usize = (0..count).map(weight).sum();
    if total == 0 {
        return None;
    }
    let mut pick = rng.random_range(0..total);
    for (index, user) in users.iter().enumerate() {
        if pick < weight(index) {
            return Some(user);
        }
        pick -= weight(index);
    }
    users.last().copied()
}

fn licensed_users(state: &SimState) -> Vec<&SimUser> {
    state
        .tenant
        .users
        .iter()
        .filter(|user| state.is_licensed(&user.id))
        .collect()
}

/// True when an interaction of the log already has `ms` as its `createdDateTime`. The log is
/// ordered by time and new ids are near its end, so the scan from the back is short.
fn taken_in_log(state: &SimState, ms: i64) -> bool {
    let log = state
        .interactions
        .read()
        .unwrap_or_else(PoisonError::into_inner);
    log.iter()
        .rev()
        .map(|generated| generated.interaction.created_date_time.timestamp_millis())
        .take_while(|existing| *existing >= ms)
        .any(|existing| existing == ms)
}

fn order_key(generated: &Generated) -> (DateTime<Utc>, &str) {
    (
        generated.interaction.created_date_time,
        generated.interaction.id.as_str(),
    )
}

#[cfg(test)]
mod tests;
