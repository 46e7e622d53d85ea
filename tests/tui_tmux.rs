//! The console end to end in a real terminal: `pilotwatch demo` runs inside tmux (its own
//! server socket, a fixed 160×48 window, logs and state in a temporary directory), and the test
//! reads the screen as an engineer would: interactions arrive, tabs switch, the feed filters,
//! a scenario switch to `app-role-assignment-required` is diagnosed as null validation tokens,
//! and when the tmux session is killed (the SSH hang-up case) the process is gone within 2 s.
//!
//! tmux is required (`.ci/run` installs it); without it the test fails saying so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Longest wait for any one thing to appear on screen.
const WAIT: Duration = Duration::from_secs(30);

/// A tmux server of our own with one session running `pilotwatch demo`.
struct Session {
    socket: String,
    _state: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str]) -> Self {
        let state = tempfile::tempdir().unwrap();
        let socket = format!("pilotwatch-test-{}", std::process::id());
        let mut command = Command::new("tmux");
        command
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-s", "demo", "-x", "160", "-y", "48"])
            .args(["-e", &env("XDG_STATE_HOME", state.path())])
            .args(["-e", &env("XDG_DATA_HOME", state.path())])
            .args(["-e", &env("XDG_CONFIG_HOME", state.path())])
            .args(["-e", "NO_COLOR="])
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_pilotwatch"))
            .args(args);
        let output = command.output().unwrap_or_else(|error| {
            panic!("tmux is required for this test (apt-get install tmux): {error}")
        });
        assert!(output.status.success(), "tmux: {}", text(&output));
        Self {
            socket,
            _state: state,
        }
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        text(&self.tmux(&["capture-pane", "-p", "-t", "demo"]))
    }

    /// Types `keys` (tmux key names, or literal text with `-l`).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "demo"];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    fn literal(&self, text: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", "demo", "-l", text])
                .status
                .success()
        );
    }

    /// Waits until the screen satisfies `ready`; fails with the screen otherwise.
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn pane_pid(&self) -> u32 {
        let output = self.tmux(&["display-message", "-p", "-t", "demo", "#{pane_pid}"]);
        text(&output).trim().parse().unwrap()
    }

    fn kill(&self) {
        self.tmux(&["kill-server"]);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.kill();
    }
}

fn env(name: &str, value: &Path) -> String {
    format!("{name}={}", value.display())
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.contains(") Z "))
            .unwrap_or(false)
}

/// The number in the header's "N stored".
fn stored(screen: &str) -> u64 {
    let header = screen.lines().next().unwrap_or_default();
    header
        .split(" · ")
        .find_map(|part| part.trim().strip_suffix(" stored"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn the_demo_runs_diagnoses_a_scenario_switch_and_dies_with_its_terminal() {
    let session = Session::start(&["demo", "--speed", "20"]);
    let pid = session.pane_pid();

    // The simulated tenant's history is backfilled, then live interactions arrive.
    session.wait_for("the healthy demo with stored interactions", |screen| {
        screen.contains("scenario healthy") && stored(screen) > 0
    });

    // Tabs switch by number; each shows its own body.
    for (key, body) in [
        ("2", "Empty-dashboard ladder"),
        ("3", "Delivery latency"),
        ("4", "stored"),
    ] {
        session.keys(&[key]);
        session.wait_for(body, |screen| {
            screen.lines().skip(3).any(|line| line.contains(body))
        });
    }

    // The feed lists interactions and filters them.
    session.wait_for("feed rows", |screen| screen.contains("following"));
    session.keys(&["/"]);
    session.literal("app:teams");
    session.keys(&["Enter"]);
    session.wait_for("the filtered feed", |screen| {
        screen
            .lines()
            .nth(3)
            .is_some_and(|line| line.contains("/app:teams") && line.contains("matching"))
    });

    // The scenario switch is diagnosed: null validation tokens, critical, in the header.
    session.keys(&[":"]);
    session.literal("scenario app-role-assignment-required");
    session.keys(&["Enter"]);
    session.wait_for("the null-token finding", |screen| {
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
