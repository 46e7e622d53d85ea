//! The table: every figure as the median over the runs, each goal of issue 6's benchmark with
//! PASS or MISS, and what the idle and live windows actually wrote.
//!
//! Depends on the child's results only.

use crate::child::{LIVE_RATE, RunResult};
use crate::median;

/// Issue 6's goals.
const FIRST_FRAME_GOAL_MS: f64 = 150.0;
const RENDER_P99_GOAL_US: f64 = 2_000.0;
const RSS_GOAL_MIB: f64 = 60.0;

fn over(runs: &[RunResult], value: impl Fn(&RunResult) -> f64) -> f64 {
    median(runs.iter().map(value).collect())
}

fn verdict(pass: bool) -> &'static str {
    if pass { "PASS" } else { "MISS" }
}

fn row(label: &str, value: &str, goal: &str) {
    println!("  {label:<58} {value:<26} {goal}");
}

fn goal_row(label: &str, value: f64, unit: &str, goal: f64, pass: bool) {
    row(
        label,
        &format!("{value:>9.1} {unit}"),
        &format!("goal ≤ {goal} {unit}: {}", verdict(pass)),
    );
}

/// Prints the table for `runs`.
pub fn print(runs: &[RunResult]) {
    let Some(first) = runs.first() else {
        println!("no run finished");
        return;
    };
    println!(
        "medians of {} run(s); store holds {:.0} interactions during the runs",
        runs.len(),
        over(runs, |r| r.interactions_stored as f64)
    );
    println!();
    println!("time to first frame showing snapshot data (200×50):");
    let console = over(runs, |r| r.first_frame_console_ms);
    goal_row(
        "  console alone (handle ready → first data frame)",
        console,
        "ms",
        FIRST_FRAME_GOAL_MS,
        console <= FIRST_FRAME_GOAL_MS,
    );
    let with_collector = over(runs, |r| r.first_frame_with_collector_ms);
    goal_row(
        "  collector open + console (Collector::start → data frame)",
        with_collector,
        "ms",
        FIRST_FRAME_GOAL_MS,
        with_collector <= FIRST_FRAME_GOAL_MS,
    );
    row(
        "    of which Collector::start + embedded::serve",
        &format!("{:>9.1} ms", over(runs, |r| r.collector_open_ms)),
        "",
    );
    row(
        "    of which sled opening the store (alone, after the run)",
        &format!("{:>9.1} ms", over(runs, |r| r.store_open_ms)),
        "",
    );
    row(
        "    of which the console on the just-started collector",
        &format!("{:>9.1} ms", over(runs, |r| r.first_frame_after_ready_ms)),
        "",
    );
    println!();
    println!(
        "render per frame (Terminal::draw: render + diff + write), {} frames per tab:",
        first.tabs.first().map_or(0, |t| t.frames)
    );
    for (index, tab) in first.tabs.iter().enumerate() {
        let at = |pick: fn(&crate::render::TabFrames) -> f64| {
            over(runs, |r| r.tabs.get(index).map_or(f64::NAN, pick))
        };
        let p99 = at(|t| t.p99_us);
        row(
            &format!("  {} p50 / p99 / max", tab.tab),
            &format!(
                "{:>5.0} / {:>5.0} / {:>5.0} µs",
                at(|t| t.p50_us),
                p99,
                at(|t| t.max_us)
            ),
            &format!(
                "goal p99 ≤ {RENDER_P99_GOAL_US} µs: {}",
                verdict(p99 <= RENDER_P99_GOAL_US)
            ),
        );
        row(
            &format!(
                "  {} bytes per frame (median) / on switching to it",
                tab.tab
            ),
            &format!(
                "{:>7.0} / {:>6.0} B",
                at(|t| t.bytes_median),
                at(|t| t.switch_bytes as f64)
            ),
            "",
        );
    }
    println!();
    println!(
        "live feed: feed tab following, {LIVE_RATE} interactions/s through simulator → receiver → store:"
    );
    row(
        "  bytes written per second",
        &format!("{:>9.0} B/s", over(runs, |r| r.live.per_second())),
        "",
    );
    row(
        "  frames per second / bytes per frame (median)",
        &format!(
            "{:>5.1} / {:>6.0} B",
            over(runs, |r| r.live.frames_per_second()),
            over(runs, |r| r.live.bytes_per_frame)
        ),
        "",
    );
    row(
        "  interactions the console was told of, per second",
        &format!(
            "{:>9.1} /s",
            over(runs, |r| r.live_interactions as f64 / r.live.seconds)
        ),
        "",
    );
    println!();
    println!("idle: feed tab following, nothing arriving:");
    let idle_bytes = over(runs, |r| r.idle.per_second());
    row(
        "  bytes written per second",
        &format!("{idle_bytes:>9.1} B/s"),
        &format!(
            "goal nothing written when nothing changed: {}",
            if runs.iter().all(|r| r.idle.bytes == 0) {
                "PASS"
            } else if runs.iter().all(|r| r.idle.header_only) {
                "PASS (only the header's clock)"
            } else {
                "MISS (see the frames below)"
            }
        ),
    );
    row(
        "  frames per second",
        &format!("{:>9.2} /s", over(runs, |r| r.idle.frames_per_second())),
        "",
    );
    for sample in &first.idle.samples {
        println!("    an idle frame changed {sample}");
    }
    row(
        "  CPU, whole process (simulator, collector, console)",
        &format!("{:>9.2} % of a core", over(runs, |r| r.idle_cpu_percent)),
        "",
    );
    println!();
    println!("resident memory (VmRSS, peak VmHWM):");
    let mib = |rss: fn(&RunResult) -> crate::process::Rss| {
        format!(
            "{:>6.1} MiB, peak {:.1}",
            over(runs, |r| rss(r).current_mib),
            over(runs, |r| rss(r).peak_mib)
        )
    };
    row(
        "  simulator started (the baseline)",
        &mib(|r| r.rss_sim),
        "",
    );
    row(
        "  + collector open on the store",
        &mib(|r| r.rss_collector),
        "",
    );
    row("  + console's first frame", &mib(|r| r.rss_console), "");
    let end = over(runs, |r| r.rss_end.current_mib);
    let peak = over(runs, |r| r.rss_end.peak_mib);
    row(
        "  at the end (after the live feed)",
        &format!("{end:>6.1} MiB, peak {peak:.1}"),
        &format!(
            "goal ≤ {RSS_GOAL_MIB} MiB (peak): {}",
            verdict(peak <= RSS_GOAL_MIB)
        ),
    );
    row(
        "  of which not the simulator (end minus baseline)",
        &format!(
            "{:>6.1} MiB",
            over(runs, |r| r.rss_end.current_mib - r.rss_sim.current_mib)
        ),
        &format!(
            "goal ≤ {RSS_GOAL_MIB} MiB: {}",
            verdict(over(runs, |r| r.rss_end.current_mib - r.rss_sim.current_mib) <= RSS_GOAL_MIB)
        ),
    );
}
