//! The console end to end in a real terminal: `pilotwatch demo` runs inside tmux (its own
//! server socket, a fixed 160×48 window, logs and state in a temporary directory), and the test
//! reads the screen as an engineer would: interactions arrive, tabs switch, the feed filters,
//! a scenario switch to `app-role-assignment-required` is diagnosed as null validation tokens,
//! and when the tmux session is killed (the SSH hang-up case) the process is gone within 2 s.
//!
//! tmux is required (`.ci/run` installs it); without it the test fails saying so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tmux_support;

use std::time::{Duration, Instant};

use tmux_support::{Tmux, alive, env, stored};

/// The session the demo runs in.
const DEMO: &str = "demo";

#[test]
fn the_demo_runs_diagnoses_a_scenario_switch_and_dies_with_its_terminal() {
    let state = tempfile::tempdir().unwrap();
    let session = Tmux::new("test");
    session.start(
        DEMO,
        &["demo", "--speed", "20"],
        &[
            env("XDG_STATE_HOME", state.path()),
            env("XDG_DATA_HOME", state.path()),
            env("XDG_CONFIG_HOME", state.path()),
            "NO_COLOR=".to_owned(),
        ],
    );
    let pid = session.pane_pid(DEMO);

    // The simulated tenant's history is backfilled, then live interactions arrive.
    session.wait_for(
        DEMO,
        "the healthy demo with stored interactions",
        |screen| screen.contains("scenario healthy") && stored(screen) > 0,
    );

    // Tabs switch by number; each shows its own body.
    for (key, body) in [
        ("2", "Empty-dashboard ladder"),
        ("3", "Delivery latency"),
        ("4", "stored"),
    ] {
        session.keys(DEMO, &[key]);
        session.wait_for(DEMO, body, |screen| {
            screen.lines().skip(3).any(|line| line.contains(body))
        });
    }

    // The feed lists interactions and filters them.
    session.wait_for(DEMO, "feed rows", |screen| screen.contains("following"));
    session.keys(DEMO, &["/"]);
    session.literal(DEMO, "app:teams");
    session.keys(DEMO, &["Enter"]);
    session.wait_for(DEMO, "the filtered feed", |screen| {
        screen
            .lines()
            .nth(3)
            .is_some_and(|line| line.contains("/app:teams") && line.contains("matching"))
    });

    // The scenario switch is diagnosed: null validation tokens, critical, in the header.
    session.keys(DEMO, &[":"]);
    session.literal(DEMO, "scenario app-role-assignment-required");
    session.keys(DEMO, &["Enter"]);
    session.wait_for(DEMO, "the null-token finding", |screen| {
        let badge = screen.lines().nth(1).unwrap_or_default();
        badge.contains("CRIT") && badge.contains("validationTokens null")
    });

    // The SSH hang-up case: the terminal goes away and the process with it, within 2 s.
    assert!(alive(pid), "the demo is running before the hang-up");
    session.kill();
    let deadline = Instant::now() + Duration::from_secs(2);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(pid),
        "pilotwatch (pid {pid}) outlived its terminal by 2 s"
    );
}
