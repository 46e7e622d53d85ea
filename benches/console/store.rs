//! The bench's interaction store: a realistic synthetic history (the simulated tenant's licensed
//! users, the six Copilot experiences weighted as the simulator weights them, sessions of a few
//! prompt/response pairs, responses a few seconds after their prompts, a mix of notification and
//! export sources) spread over [`SPAN_DAYS`] days up to the moment it was built, written with the
//! store's own bulk path (`Interactions::insert_all_if_absent`, one transaction per chunk).
//!
//! Built once under `target/console-bench/` and reused while [`STORE_VERSION`], the count and
//! its age allow: retention keeps seven days and counts age from the collector's clock, which is
//! the real time, so a store older than [`MAX_REUSE_AGE`] is rebuilt. The runs themselves add
//! the live feed's few hundred interactions and retention trims the oldest back to the count, so
//! a reused store stays the same size.
//!
//! Depends on the store, the simulator's tenant and app catalogue only; never on the console.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use pilotwatch::clock::{ManualClock, SharedClock};
use pilotwatch::sim::activity::AppKind;
use pilotwatch::sim::tenant::Tenant;
use pilotwatch::store::records::{InteractionRecord, InteractionSource};
use pilotwatch::store::{Durability, Store, StoreOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// Bump when the generated history changes shape: a cached store of another version is rebuilt.
pub const STORE_VERSION: u32 = 1;
/// The history covers this many days before the build (inside the seven days retention keeps).
pub const SPAN_DAYS: i64 = 5;
/// A cached store older than this is rebuilt, so retention never trims it by age mid-run.
pub const MAX_REUSE_AGE: Duration = Duration::hours(24);
/// Interactions per bulk transaction (sled holds a transaction's writes in memory).
const CHUNK: usize = 5_000;
/// The simulator's seed: the same tenant, so stored users are the simulator's users.
pub const TENANT_SEED: u64 = 1;

/// What a cached store was built as (`built.json` beside it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Built {
    pub version: u32,
    pub count: u64,
    pub newest: DateTime<Utc>,
    /// How long building took, in seconds (0 when it was reused).
    pub seconds: f64,
    pub reused: bool,
}

/// The collector data directory holding the store (`DIR/store`) of `count` interactions,
/// built unless a fresh enough one is cached.
pub fn prepare(root: &Path, count: u64) -> Built {
    let data_dir = data_dir(root, count);
    let marker = data_dir.join("built.json");
    let now = Utc::now();
    if let Ok(text) = std::fs::read_to_string(&marker)
        && let Ok(built) = serde_json::from_str::<Built>(&text)
        && built.version == STORE_VERSION
        && built.count == count
        && now - built.newest < MAX_REUSE_AGE
    {
        return Built {
            seconds: 0.0,
            reused: true,
            ..built
        };
    }
    if data_dir.exists() {
        std::fs::remove_dir_all(&data_dir).unwrap();
    }
    std::fs::create_dir_all(&data_dir).unwrap();
    let started = Instant::now();
    build(&data_dir.join("store"), count, now);
    let built = Built {
        version: STORE_VERSION,
        count,
        newest: now,
        seconds: started.elapsed().as_secs_f64(),
        reused: false,
    };
    std::fs::write(&marker, serde_json::to_string(&built).unwrap()).unwrap();
    built
}

/// Where the collector data directory for `count` interactions lives.
pub fn data_dir(root: &Path, count: u64) -> PathBuf {
    root.join(format!("v{STORE_VERSION}-{count}"))
}

/// Writes `count` interactions ending at `newest` into a fresh store at `dir`.
fn build(dir: &Path, count: u64, newest: DateTime<Utc>) {
    let clock: SharedClock = Arc::new(ManualClock::new(newest));
    // Flush, not fsync: this is a bulk load; the final commit makes it durable.
    let options = StoreOptions {
        durability: Durability::Flush,
        flush_every_ms: None,
        ..StoreOptions::default()
    };
    let store = Store::open(dir, options, clock).unwrap();
    let interactions = store.interactions();
    let history = History::new(newest, count);
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut written = 0;
    for record in history {
        chunk.push(record);
        if chunk.len() == CHUNK {
            written += interactions.insert_all_if_absent(&chunk).unwrap();
            chunk.clear();
        }
    }
    written += interactions.insert_all_if_absent(&chunk).unwrap();
    assert_eq!(written, count, "every generated interaction is new");
    assert_eq!(interactions.count().unwrap(), count);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(store.commit()).unwrap();
}

/// One user's current Copilot conversation.
struct Session {
    id: String,
    kind: AppKind,
}

/// The synthetic history, newest pair first (prompt then response, each pair's response
/// the newer of the two).
struct History {
    rng: StdRng,
    users: Vec<(String, String)>,
    sessions: Vec<Option<Session>>,
    newest: DateTime<Utc>,
    /// Milliseconds between consecutive pairs: the span shared evenly.
    gap_ms: i64,
    pair: i64,
    remaining: u64,
    pending_prompt: Option<InteractionRecord>,
}

impl History {
    fn new(newest: DateTime<Utc>, count: u64) -> Self {
        let tenant = Tenant::generate(TENANT_SEED, newest);
        let users: Vec<(String, String)> = tenant
            .users
            .iter()
            .filter(|user| user.has_copilot_seat)
            .map(|user| (user.id.clone(), user.display_name.clone()))
            .collect();
        let pairs = i64::try_from(count.div_ceil(2)).unwrap().max(1);
        let span_ms = Duration::days(SPAN_DAYS).num_milliseconds();
        Self {
            rng: StdRng::seed_from_u64(TENANT_SEED),
            sessions: users.iter().map(|_| None).collect(),
            users,
            newest,
            // At least 20 ms so a response never overtakes the next older pair's id.
            gap_ms: (span_ms / pairs).max(20),
            pair: 0,
            remaining: count,
            pending_prompt: None,
        }
    }

    fn uuid(&mut self) -> String {
        uuid::Uuid::from_u128(self.rng.random()).to_string()
    }

    /// The next pair: the response is returned now, its prompt on the next call.
    fn make_pair(&mut self) -> InteractionRecord {
        let user = self.rng.random_range(0..self.users.len());
        let (user_id, name) = self.users[user].clone();
        // A user keeps a conversation going for a few pairs, then starts another.
        if self.sessions[user].is_none() || self.rng.random_bool(0.25) {
            let kind = AppKind::random(&mut self.rng);
            self.sessions[user] = Some(Session {
                id: self.uuid(),
                kind,
            });
        }
        let (session_id, kind) = {
            let session = self.sessions[user].as_ref().unwrap();
            (session.id.clone(), session.kind)
        };
        let request_id = self.uuid();
        // Ids are epoch milliseconds, as Graph's are; the slot keeps them unique.
        let slot = self.newest - Duration::milliseconds(self.gap_ms * (self.pair + 1));
        self.pair += 1;
        let answer_ms = self.rng.random_range(1_500..9_000).min(self.gap_ms - 1);
        let prompt_at = slot;
        let response_at = slot + Duration::milliseconds(answer_ms);
        let source = if self.rng.random_bool(0.9) {
            InteractionSource::Notification
        } else {
            InteractionSource::Poll
        };
        let seen = |at: DateTime<Utc>, rng: &mut StdRng| {
            at + Duration::milliseconds(rng.random_range(800..6_000))
        };
        let prompt = InteractionRecord {
            id: prompt_at.timestamp_millis().to_string(),
            user_id: Some(user_id.clone()),
            session_id: Some(session_id.clone()),
            request_id: Some(request_id.clone()),
            app_class: kind.app_class().to_owned(),
            interaction_type: "userPrompt".to_owned(),
            conversation_type: Some(kind.conversation_type().to_owned()),
            created_at: prompt_at,
            from_display_name: Some(name),
            attachments: self.rng.random_range(0..3),
            links: self.rng.random_range(0..2),
            contexts: self.rng.random_range(0..3),
            body: None,
            source,
            first_seen_at: seen(prompt_at, &mut self.rng),
        };
        let response = InteractionRecord {
            id: response_at.timestamp_millis().to_string(),
            user_id: Some(user_id),
            session_id: Some(session_id),
            request_id: Some(request_id),
            app_class: kind.app_class().to_owned(),
            interaction_type: "aiResponse".to_owned(),
            conversation_type: Some(kind.conversation_type().to_owned()),
            created_at: response_at,
            from_display_name: Some(kind.bot_name().to_owned()),
            attachments: 0,
            links: self.rng.random_range(0..4),
            contexts: 0,
            body: None,
            source,
            first_seen_at: seen(response_at, &mut self.rng),
        };
        self.pending_prompt = Some(prompt);
        response
    }
}

impl Iterator for History {
    type Item = InteractionRecord;

    fn next(&mut self) -> Option<InteractionRecord> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        match self.pending_prompt.take() {
            Some(prompt) => Some(prompt),
            None => Some(self.make_pair()),
        }
    }
}
