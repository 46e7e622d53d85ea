//! The console over a large store (issue 6's benchmark): with 1,000,000 interactions at 200×50,
//! time to first frame, render time and bytes per frame on every tab, bytes per second with a
//! 10/s live feed, what is written when nothing changes, idle CPU and resident memory, against
//! the goals (first frame ≤ 150 ms, render p99 ≤ 2 ms, RSS ≤ 60 MB, nothing written
//! when nothing changed).
//!
//! The parent builds (or reuses) the store under `target/console-bench/` ([`store`]), then runs
//! each measurement in a fresh child process (`--child`, the bench binary re-executed), so
//! resident memory counts the simulator, the collector and the console only ([`child`]); it
//! prints medians over the runs ([`report`]). The console is the real one: `tui::drive` on
//! ratatui's `CrosstermBackend` writing into a byte-counting sink ([`backend`], [`console`]),
//! and the pure app and view timed frame by frame ([`render`]), over a real collector and the
//! in-process simulator on loopback ([`world`]).
//!
//! `cargo bench --bench console` (N = 5 runs; `-- --runs N`; `-- --interactions N`), or
//! `cargo bench --bench console -- --quick` (100,000 interactions, one short run) for a smoke
//! test. Run without `--bench` (as `cargo test --all-targets` does) it only says how to run it.
//! Numbers are printed, not asserted; nothing is written outside `target/console-bench/`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    clippy::cast_precision_loss
)]

mod backend;
mod child;
mod console;
mod process;
mod render;
mod report;
mod store;
mod world;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use child::RunResult;

/// Any single wait longer than this means the bench is broken, not slow.
pub(crate) const DEADLINE: Duration = Duration::from_secs(60);

/// How much to measure.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Plan {
    pub interactions: u64,
    pub runs: usize,
    /// Timed frames per tab.
    pub frames: usize,
    pub idle: Duration,
    pub live: Duration,
    /// sled's cache instead of the store's default (a diagnostic for resident memory).
    pub sled_cache_mib: Option<u64>,
}

impl Plan {
    fn full() -> Self {
        Self {
            interactions: 1_000_000,
            runs: 5,
            frames: 300,
            idle: Duration::from_secs(10),
            live: Duration::from_secs(10),
            sled_cache_mib: None,
        }
    }

    fn quick() -> Self {
        Self {
            interactions: 100_000,
            runs: 1,
            frames: 60,
            idle: Duration::from_secs(3),
            live: Duration::from_secs(3),
            sled_cache_mib: None,
        }
    }
}

/// The middle value (the upper one of an even count).
pub(crate) fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The `q` quantile of `sorted` (nearest rank).
pub(crate) fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// What the command line asked for.
enum Mode {
    /// Not run by `cargo bench`: say how to run it.
    Explain,
    Parent(Plan),
    Child(PathBuf, Plan),
}

fn parse(args: &[String]) -> Mode {
    if let [flag, dir, plan] = args
        && flag == "--child"
    {
        return Mode::Child(PathBuf::from(dir), serde_json::from_str(plan).unwrap());
    }
    if !args.iter().any(|arg| arg == "--bench") {
        return Mode::Explain;
    }
    let mut plan = Plan::full();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u64 {
            args.next()
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--bench" => {}
            "--quick" => plan = Plan::quick(),
            "--runs" => plan.runs = usize::try_from(value("--runs")).unwrap().max(1),
            "--interactions" => plan.interactions = value("--interactions").max(1),
            "--sled-cache-mib" => plan.sled_cache_mib = Some(value("--sled-cache-mib")),
            other => panic!(
                "unknown argument {other:?}; try --quick, --runs N, --interactions N, --sled-cache-mib N"
            ),
        }
    }
    Mode::Parent(plan)
}

/// `target/`: where cargo put this binary (`target/release/deps/console-…`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().to_path_buf()
}

/// One measuring run in a fresh process.
fn run_child(data_dir: &Path, plan: &Plan) -> RunResult {
    let output = Command::new(std::env::current_exe().unwrap())
        .arg("--child")
        .arg(data_dir)
        .arg(serde_json::to_string(plan).unwrap())
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the child failed: {stdout}");
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("RESULT "))
        .unwrap_or_else(|| panic!("the child printed no result: {stdout}"));
    serde_json::from_str(line).unwrap()
}

fn parent(plan: &Plan) {
    let started = Instant::now();
    println!("console bench on {}", process::machine());
    let root = target_dir().join("console-bench");
    let built = store::prepare(&root, plan.interactions);
    if built.reused {
        println!(
            "store of {} interactions reused from {} (built for {})",
            built.count,
            store::data_dir(&root, plan.interactions).display(),
            built.newest.format("%Y-%m-%d %H:%M UTC")
        );
    } else {
        println!(
            "store of {} interactions over {} days built in {:.1} s ({:.0} interactions/s, bulk transactions)",
            built.count,
            store::SPAN_DAYS,
            built.seconds,
            built.count as f64 / built.seconds
        );
    }
    let data_dir = store::data_dir(&root, plan.interactions);
    let mut runs = Vec::new();
    for run in 1..=plan.runs {
        let run_started = Instant::now();
        runs.push(run_child(&data_dir, plan));
        eprintln!(
            "run {run}/{} done in {:.1} s",
            plan.runs,
            run_started.elapsed().as_secs_f64()
        );
    }
    report::print(&runs);
    println!();
    println!(
        "load average at the end {}; whole bench {:.0} s",
        process::load_average(),
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(&args) {
        Mode::Explain => {
            println!("the console bench runs under `cargo bench --bench console [-- --quick]`");
        }
        Mode::Parent(plan) => parent(&plan),
        Mode::Child(data_dir, plan) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            let result = runtime.block_on(child::run(&data_dir, &plan));
            println!("RESULT {}", serde_json::to_string(&result).unwrap());
        }
    }
}
