//! A tmux server of a test's own (its own socket name, no user configuration) with named
//! sessions running `pilotwatch` at a fixed 160×48, and the means to read their screens and
//! type into them as an engineer would. Killing the server is the SSH hang-up.
//!
//! tmux is required (`.ci/run` installs it); without it the test fails saying so.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Longest wait for any one thing to appear on screen.
pub const WAIT: Duration = Duration::from_secs(30);

/// The tmux server; dropped, it is killed with every session in it.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server of this test's own, named after `tag` and the test process.
    pub fn new(tag: &str) -> Self {
        Self {
            socket: format!("pilotwatch-{tag}-{}", std::process::id()),
        }
    }

    /// Starts session `name` running `pilotwatch ARGS` with `env` (`NAME=value`) set.
    pub fn start(&self, name: &str, args: &[&str], env: &[String]) {
        let mut command = Command::new("tmux");
        command
            .args(["-L", &self.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-s", name, "-x", "160", "-y", "48"]);
        for pair in env {
            command.args(["-e", pair]);
        }
        command
            .arg("--")
            .arg(env!("CARGO_BIN_EXE_pilotwatch"))
            .args(args);
        let output = command.output().unwrap_or_else(|error| {
            panic!("tmux is required for this test (apt-get install tmux): {error}")
        });
        assert!(output.status.success(), "tmux: {}", text(&output));
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    /// What session `name` shows.
    pub fn screen(&self, name: &str) -> String {
        text(&self.tmux(&["capture-pane", "-p", "-t", name]))
    }

    /// Types `keys` (tmux key names) into session `name`.
    pub fn keys(&self, name: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", name];
        args.extend_from_slice(keys);
        assert!(self.tmux(&args).status.success());
    }

    /// Types `literal` text into session `name`.
    pub fn literal(&self, name: &str, literal: &str) {
        assert!(
            self.tmux(&["send-keys", "-t", name, "-l", literal])
                .status
                .success()
        );
    }

    /// Waits until session `name`'s screen satisfies `ready`; fails with the screen otherwise.
    pub fn wait_for(&self, name: &str, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let screen = self.screen(name);
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} in {name}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The pid of the program session `name` runs.
    pub fn pane_pid(&self, name: &str) -> u32 {
        let output = self.tmux(&["display-message", "-p", "-t", name, "#{pane_pid}"]);
        text(&output).trim().parse().unwrap()
    }

    /// Kills the server and every session: the terminals go away.
    pub fn kill(&self) {
        self.tmux(&["kill-server"]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `NAME=path`, for [`Tmux::start`]'s environment.
pub fn env(name: &str, value: &Path) -> String {
    format!("{name}={}", value.display())
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Whether process `pid` still runs (a zombie does not count).
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|stat| !stat.contains(") Z "))
            .unwrap_or(false)
}

/// The number in the header's "N stored".
pub fn stored(screen: &str) -> u64 {
    let header = screen.lines().next().unwrap_or_default();
    header
        .split(" · ")
        .find_map(|part| part.trim().strip_suffix(" stored"))
        .and_then(|count| count.trim().parse().ok())
        .unwrap_or(0)
}
