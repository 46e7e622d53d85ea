//! One measuring run, in a process of its own (the bench re-executes itself with `--child`), so
//! the resident memory it reports is the simulator, the collector over the store and the console,
//! and nothing of the parent's store build. The run, in order:
//!
//! 1. the quiet simulator starts (its memory is the baseline);
//! 2. the collector opens the store and the embedded backend serves a handle (`collector open`),
//!    and the console starts on it at once: time to its first frame showing snapshot data,
//!    measured from the collector's start;
//! 3. once the keeper holds a subscription, a second console starts on the ready handle: time
//!    to its first data frame, the console alone;
//! 4. render time and bytes per frame on every tab ([`crate::render`]);
//! 5. the first console on the feed tab, following, for the idle window: bytes written, frames,
//!    CPU time of the whole process;
//! 6. the live window: 10 interactions a second through the real notification path, bytes and
//!    frames written, interactions the console was told about;
//! 7. resident memory, current and peak.
//!
//! Prints one `RESULT {json}` line for the parent. Depends on the bench's other modules.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pilotwatch::clock::{SharedClock, SystemClock};
use pilotwatch::collector::update::Update;
use pilotwatch::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::Plan;
use crate::console::{Console, Window};
use crate::process::{Rss, cpu_seconds, rss};
use crate::render::{TabFrames, every_tab};
use crate::world::{World, start_sim};

/// The live feed's rate: interactions per second (a prompt/response pair every 200 ms).
pub const LIVE_RATE: u32 = 10;
/// How long the live feed runs before its window opens.
pub const LIVE_WARM_UP: Duration = Duration::from_secs(5);

/// What one window of the first console wrote.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Written {
    pub seconds: f64,
    pub bytes: u64,
    pub frames: usize,
    /// Median bytes of the frames written.
    pub bytes_per_frame: f64,
    /// What the first few frames changed (their changed cells' text).
    pub samples: Vec<String>,
    /// Every frame touched the header's two lines only.
    pub header_only: bool,
}

impl Written {
    fn of(window: &Window) -> Self {
        #[allow(clippy::cast_precision_loss)]
        let sizes: Vec<f64> = window.frames.iter().map(|f| f.bytes as f64).collect();
        Self {
            seconds: window.seconds,
            bytes: window.bytes,
            frames: window.frames.len(),
            bytes_per_frame: if sizes.is_empty() {
                0.0
            } else {
                crate::median(sizes)
            },
            samples: window
                .frames
                .iter()
                .take(3)
                .map(|f| {
                    format!(
                        "{} cell(s) in row {}: {:?}",
                        f.cells, f.lowest_row, f.changed
                    )
                })
                .collect(),
            header_only: window.frames.iter().all(|f| f.lowest_row <= 1),
        }
    }

    #[allow(clippy::cast_precision_loss)]
    pub fn per_second(&self) -> f64 {
        self.bytes as f64 / self.seconds
    }

    #[allow(clippy::cast_precision_loss)]
    pub fn frames_per_second(&self) -> f64 {
        self.frames as f64 / self.seconds
    }
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    pub interactions_stored: u64,
    pub collector_open_ms: f64,
    /// `Store::open` of the same store alone, after the collector closed it.
    pub store_open_ms: f64,
    pub first_frame_with_collector_ms: f64,
    /// The first console, from the handle being ready (the collector still starting).
    pub first_frame_after_ready_ms: f64,
    pub first_frame_console_ms: f64,
    pub tabs: Vec<TabFrames>,
    pub idle: Written,
    pub idle_cpu_percent: f64,
    pub live: Written,
    /// `Update::Interaction`s broadcast during the live window.
    pub live_interactions: u64,
    pub rss_sim: Rss,
    pub rss_collector: Rss,
    pub rss_console: Rss,
    pub rss_end: Rss,
}

/// How long sled takes to open the store alone. Measured after everything else, so the
/// memory figures never include a second copy of sled's state.
fn store_open_ms(data_dir: &Path, plan: &Plan) -> f64 {
    let clock: SharedClock = Arc::new(SystemClock);
    // The collector's last tasks may still hold the directory lock for a moment.
    let deadline = Instant::now() + crate::DEADLINE;
    let (started, store) = loop {
        let started = Instant::now();
        match Store::open(
            &data_dir.join("store"),
            crate::world::store_options(plan),
            clock.clone(),
        ) {
            Ok(store) => break (started, store),
            Err(StoreError::Locked { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(error) => panic!("cannot open the store: {error}"),
        }
    };
    let elapsed = started.elapsed();
    drop(store);
    elapsed.as_secs_f64() * 1e3
}

fn millis(from: Instant, to: Instant) -> f64 {
    (to - from).as_secs_f64() * 1e3
}

pub async fn run(data_dir: &Path, plan: &Plan) -> RunResult {
    let sim = start_sim().await;
    let rss_sim = rss();
    let world = World::open(sim, data_dir, plan).await;
    // Read before the console starts: what it adds is its share.
    let rss_collector = rss();
    let first = Console::start(world.handle.clone());
    let first_frame = first.first_data_frame().await;
    let rss_console = rss();
    let collector_open_ms = world.collector_open.as_secs_f64() * 1e3;
    let first_frame_with_collector_ms = millis(world.opened_at, first_frame);
    let first_frame_after_ready_ms = millis(world.ready_at, first_frame);
    world.subscribed().await;

    let second_started = Instant::now();
    let second = Console::start(world.handle.clone());
    let second_frame = second.first_data_frame().await;
    second.quit().await;

    let tabs = every_tab(&world.handle, plan.frames).await;
    let interactions_stored = world.handle.snapshot().await.unwrap().interactions_stored;

    first.press('4');
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let cpu_before = cpu_seconds();
    let idle = first.window(plan.idle, |_| async {}).await;
    let idle_cpu_percent = 100.0 * (cpu_seconds() - cpu_before) / idle.seconds;

    let seen = Arc::new(AtomicU64::new(0));
    let mut updates = world.handle.updates();
    let counting = tokio::spawn({
        let seen = Arc::clone(&seen);
        async move {
            while let Ok(update) = updates.recv().await {
                if matches!(update, Update::Interaction(_)) {
                    seen.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    // Notifications reach the receiver with Graph's delivery latency (simulated): the feed
    // runs for a while before the window so the window sees the steady rate.
    let generating = tokio::spawn({
        let state = Arc::clone(&world.sim.state);
        async move {
            let mut ticks = tokio::time::interval(Duration::from_secs(2) / LIVE_RATE);
            loop {
                ticks.tick().await;
                crate::world::generate_pair(&state);
            }
        }
    });
    tokio::time::sleep(LIVE_WARM_UP).await;
    let live = first
        .window(plan.live, |_| async {
            seen.store(0, Ordering::Relaxed);
        })
        .await;
    generating.abort();
    let live_interactions = seen.load(Ordering::Relaxed);
    counting.abort();
    let rss_end = rss();
    first.quit().await;
    world.stop().await;
    let store_open_ms = store_open_ms(data_dir, plan);
    RunResult {
        interactions_stored,
        collector_open_ms,
        store_open_ms,
        first_frame_with_collector_ms,
        first_frame_after_ready_ms,
        first_frame_console_ms: millis(second_started, second_frame),
        tabs,
        idle: Written::of(&idle),
        idle_cpu_percent,
        live: Written::of(&live),
        live_interactions,
        rss_sim,
        rss_collector,
        rss_console,
        rss_end,
    }
}
