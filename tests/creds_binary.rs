//! The `pilotwatch` binary's `creds` commands as an operator runs them: real process, real
//! standard streams, XDG directories in a temporary home, and the most verbose logging. After a
//! full round (add, list, test, rm, a refused add) the secret appears in no captured output and in
//! no file but its own 0600 secret file, and the exit codes are the documented ones.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::TestSim;
use common::workspace::mode;
use secrecy::ExposeSecret;

/// One finished run of the binary.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A temporary home with the XDG variables pointing into it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn secret_file(&self, profile: &str) -> PathBuf {
        self.root()
            .join("data/pilotwatch/secrets")
            .join(format!("{profile}.secret"))
    }

    /// Runs `pilotwatch ARGS...` with `stdin` piped in, off the async runtime (the simulator
    /// answering it runs on that runtime).
    async fn run(&self, args: &[&str], stdin: &str) -> Run {
        let root = self.root().to_path_buf();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let stdin = stdin.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
                .args(&args)
                .env_clear()
                .env("HOME", &root)
                .env("XDG_CONFIG_HOME", root.join("config"))
                .env("XDG_DATA_HOME", root.join("data"))
                .env("XDG_STATE_HOME", root.join("state"))
                .env("PILOTWATCH_LOG", "trace")
                .env("NO_COLOR", "1")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(stdin.as_bytes())
                .unwrap();
            let output = child.wait_with_output().unwrap();
            Run {
                code: output.status.code().unwrap(),
                stdout: String::from_utf8(output.stdout).unwrap(),
                stderr: String::from_utf8(output.stderr).unwrap(),
            }
        })
        .await
        .unwrap()
    }

    fn files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else {
                    found.push(path);
                }
            }
        }
        let mut found = Vec::new();
        walk(self.root(), &mut found);
        found
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_creds_round_leaks_the_secret_nowhere_and_exits_as_documented() {
    let sim = TestSim::start("healthy").await;
    let state = &sim.sim.state;
    let secret = state.configured_secret().expose_secret().to_owned();
    let client_id = state.configured_client_id();
    let home = Home::new();
    let add = |name: &'static str, tenant: String| {
        let base = sim.base.clone();
        let client_id = client_id.clone();
        let secret = secret.clone();
        let home = &home;
        async move {
            home.run(
                &[
                    "creds",
                    "add",
                    name,
                    "--tenant",
                    &tenant,
                    "--client-id",
                    &client_id,
                    "--authority",
                    &base,
                    "--graph-url",
                    &base,
                    "--secret-stdin",
                ],
                &format!("{secret}\n"),
            )
            .await
        }
    };

    let mut runs = Vec::new();
    let added = add("prod", state.tenant.id.clone()).await;
    assert_eq!(added.code, 0, "{}{}", added.stdout, added.stderr);
    runs.push(added);
    let refused = add("stray", "0f8fad5b-d9cb-469f-a165-70867728950e".to_owned()).await;
    assert_eq!(refused.code, 2, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("AADSTS90002"), "{}", refused.stderr);
    runs.push(refused);

    let tested = home.run(&["creds", "test", "prod"], "").await;
    assert_eq!(tested.code, 0, "{}{}", tested.stdout, tested.stderr);
    assert!(
        tested.stdout.starts_with("profile prod"),
        "{}",
        tested.stdout
    );
    runs.push(tested);
    let json = home.run(&["creds", "test", "--json"], "").await;
    assert_eq!(json.code, 0);
    let reports: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(reports[0]["severity"], "ok", "{}", json.stdout);
    runs.push(json);
    let listed = home.run(&["creds", "list"], "").await;
    assert_eq!(listed.code, 0);
    assert!(
        listed.stdout.contains(&format!("{}…", &secret[..3])),
        "{}",
        listed.stdout
    );
    runs.push(listed);
    let unknown = home.run(&["creds", "test", "ghost"], "").await;
    assert_eq!(unknown.code, 3, "{}", unknown.stderr);
    runs.push(unknown);
    // A command line that does not parse is neither CRITICAL (2) nor "refused" (2): EX_USAGE.
    let usage = home.run(&["creds", "test", "--frob"], "").await;
    assert_eq!(usage.code, 64, "{}", usage.stderr);

    // The most verbose logging really logged (so the check below means something).
    assert!(
        runs.iter().any(|run| run.stderr.contains("TRACE")),
        "no trace output"
    );
    // Every JWT (the access tokens the runs obtained) starts with `eyJ`, base64 of `{"`.
    for run in &runs {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(!text.contains(&secret), "secret on {stream}:\n{text}");
            assert!(!text.contains("eyJ"), "a token on {stream}:\n{text}");
        }
    }
    let own = home.secret_file("prod");
    let files = home.files();
    assert!(files.contains(&own), "{files:?}");
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("config/pilotwatch/config.toml"))
    );
    for file in &files {
        let text = std::fs::read(file).unwrap();
        let holds = text.windows(secret.len()).any(|w| w == secret.as_bytes());
        if *file == own {
            assert!(holds);
            assert_eq!(mode(file), 0o600);
        } else {
            assert!(!holds, "the secret leaked into {}", file.display());
        }
        assert!(
            !text.windows(3).any(|w| w == b"eyJ"),
            "a token leaked into {}",
            file.display()
        );
    }

    let removed = home.run(&["creds", "rm", "prod"], "").await;
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert!(!own.exists());
    sim.stop().await;
}
