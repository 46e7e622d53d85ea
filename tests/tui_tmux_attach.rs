//! Many engineers, one collector, in real terminals: `pilotwatch serve --sim healthy` runs with
//! its control socket in a private directory, and two `pilotwatch` consoles in tmux attach to
//! it. Both say whom they are attached to, both show the same live feed; when the collector
//! stops both say they are disconnected and retrying instead of freezing, and when it is started
//! again both reattach to the new process by themselves.
//!
//! tmux is required (`.ci/run` installs it); without it the test fails saying so.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tmux_support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tmux_support::{Tmux, WAIT, env, stored};

/// `pilotwatch serve` as a child process, killed when dropped.
struct Serve(Child);

impl Serve {
    /// Starts `serve --sim healthy` on `socket`, keeping its store and state under `dir`, and
    /// waits until its socket is there.
    fn start(dir: &Path, socket: &Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_pilotwatch"));
        command
            .args(["serve", "--sim", "healthy", "--speed", "20"])
            .arg("--control-socket")
            .arg(socket)
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--status-bind", "127.0.0.1:0"])
            .env("XDG_STATE_HOME", dir)
            .env("XDG_CONFIG_HOME", dir)
            .env("XDG_DATA_HOME", dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut serve = Serve(command.spawn().unwrap());
        let deadline = Instant::now() + WAIT;
        // A socket left by a killed serve stays on disk; only one that answers counts.
        while std::os::unix::net::UnixStream::connect(socket).is_err() {
            assert!(Instant::now() < deadline, "serve never opened its socket");
            assert!(serve.0.try_wait().unwrap().is_none(), "serve exited early");
            std::thread::sleep(Duration::from_millis(100));
        }
        serve
    }

    /// Kills it, as a crash or `systemctl kill` would.
    fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The feed rows of `screen` (below the header, tab bar and the feed's status line) as their
/// time and session: the columns that read the same on every console (a user's display name
/// may be resolved on one a moment before the other).
fn feed_rows(screen: &str) -> Vec<(String, String)> {
    screen
        .lines()
        .skip(6)
        .filter_map(|line| {
            let line = line.trim_start_matches(['›', '▶', ' ']);
            let time = line.get(..14)?.to_owned();
            let session = line
                .split_whitespace()
                .find(|word| word.starts_with("19:"))?
                .to_owned();
            Some((time, session))
        })
        .collect()
}

#[test]
fn two_consoles_attach_to_one_collector_see_the_same_feed_and_reattach_after_its_restart() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o750)).unwrap();
    let socket = run.join("control.sock");
    let mut serve = Serve::start(dir.path(), &socket);
    let pid = serve.0.id();

    let tmux = Tmux::new("attach");
    let environment = [
        env("XDG_STATE_HOME", dir.path()),
        env("XDG_CONFIG_HOME", dir.path()),
        env("XDG_DATA_HOME", dir.path()),
        "NO_COLOR=".to_owned(),
    ];
    let console = ["--control-socket", socket.to_str().unwrap()];
    for name in ["alice", "bob"] {
        tmux.start(name, &console, &environment);
    }
    let attached = format!("attached to pid {pid} as read-write");
    for name in ["alice", "bob"] {
        tmux.wait_for(name, &attached, |screen| {
            screen
                .lines()
                .next()
                .unwrap_or_default()
                .contains(&attached)
                && stored(screen) > 0
        });
        tmux.keys(name, &["4"]);
    }

    // What one console shows of the feed, the other shows too: both follow the same feed, so
    // once the history backfill has settled they show the same rows.
    let deadline = Instant::now() + WAIT;
    loop {
        let (alice, bob) = (tmux.screen("alice"), tmux.screen("bob"));
        let shared = feed_rows(&alice)
            .iter()
            .filter(|row| feed_rows(&bob).contains(row))
            .count();
        if shared >= 5 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the two consoles never showed the same rows:\n{alice}\n{bob}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // The collector goes away: both say so and keep their last screen.
    serve.kill();
    for name in ["alice", "bob"] {
        let screen = tmux.wait_for(name, "disconnected — retrying", |screen| {
            screen.lines().take(2).any(|line| line.contains("retrying"))
        });
        assert!(screen.contains("disconnected"), "{screen}");
    }
    // The last data stays: the feed rows and the stored count, not a blank screen.
    let bob = tmux.screen("bob");
    assert!(
        !feed_rows(&bob).is_empty() && stored(&bob) > 0,
        "the last data stays browsable:\n{bob}"
    );

    // The collector comes back (same store, same socket, a new process): both consoles find it
    // by themselves, say whom they are attached to now, and the feed moves again.
    let before = stored(&bob);
    let serve = Serve::start(dir.path(), &socket);
    let reattached = format!("attached to pid {} as read-write", serve.0.id());
    for name in ["alice", "bob"] {
        tmux.wait_for(name, &reattached, |screen| {
            screen
                .lines()
                .next()
                .unwrap_or_default()
                .contains(&reattached)
                && stored(screen) > before
        });
    }
}
