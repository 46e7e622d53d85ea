//! The `pilotwatch sim` binary as a user runs it: flags, the files it writes, clear errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pilotwatch() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilotwatch"));
    command.env_remove("PILOTWATCH_LOG").env("NO_COLOR", "1");
    command
}

/// Starts `pilotwatch sim` on ephemeral ports and waits until it has written its files.
fn start_sim(dir: &std::path::Path, extra: &[&str]) -> (Running, serde_json::Value) {
    let tenant_out = dir.join("t.json");
    let ca_out = dir.join("ca.pem");
    let mut child = pilotwatch()
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--https-listen",
            "127.0.0.1:0",
        ])
        .arg("--tenant-out")
        .arg(&tenant_out)
        .arg("--ca-out")
        .arg(&ca_out)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        let line = lines.next().unwrap().unwrap();
        let done = line.starts_with("tenant ");
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(
        seen.iter()
            .any(|l| l.starts_with("listening on http://127.0.0.1:")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.starts_with("listening on https://")),
        "{seen:?}"
    );
    let tenant: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tenant_out).unwrap()).unwrap();
    (running, tenant)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_writes_tenant_and_ca_files_and_serves_both_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let (_running, tenant) = start_sim(
        dir.path(),
        &["--scenario", "secret-id-pasted", "--seed", "9"],
    );

    for key in [
        "listen",
        "https_listen",
        "tenant_id",
        "tenant_domain",
        "client_id",
        "client_secret",
    ] {
        assert!(tenant[key].is_string(), "{key} missing from --tenant-out");
    }
    for key in ["secret_key_id", "secret_hint", "change_tracking_app_id"] {
        assert!(tenant[key].is_string(), "{key} missing from --tenant-out");
    }
    let users = tenant["users"].as_array().unwrap();
    assert!(users.len() >= 2);
    for user in users {
        for key in ["id", "displayName", "userPrincipalName"] {
            assert!(user[key].is_string(), "user.{key} missing");
        }
        assert!(user["licensed"].is_boolean());
    }
    assert_eq!(
        tenant["configured"]["client_secret"],
        tenant["secret_key_id"]
    );
    let mode = std::fs::metadata(dir.path().join("t.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "the tenant file holds a secret: owner-only"
    );

    let ca = std::fs::read(dir.path().join("ca.pem")).unwrap();
    let https = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
        .build()
        .unwrap();
    let port = tenant["https_listen"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let answer = https
        .get(format!("https://localhost:{port}/_sim/clock"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let base = format!("http://{}", tenant["listen"].as_str().unwrap());
    let scenario: serde_json::Value = http
        .get(format!("{base}/_sim/scenario"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(scenario["name"], "secret-id-pasted");
}

#[test]
fn same_seed_gives_the_same_tenant() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_x, first) = start_sim(a.path(), &["--seed", "42"]);
    let (_y, second) = start_sim(b.path(), &["--seed", "42"]);
    assert_eq!(first["tenant_id"], second["tenant_id"]);
    assert_eq!(first["client_secret"], second["client_secret"]);
    assert_eq!(first["users"], second["users"]);
}

#[test]
fn list_scenarios_names_every_builtin() {
    let output = pilotwatch()
        .args(["sim", "--list-scenarios"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    for name in [
        "healthy",
        "app-role-assignment-required",
        "graph-outage",
        "cert-rotated",
    ] {
        assert!(
            text.lines().any(|line| line.starts_with(name)),
            "{name} not listed:\n{text}"
        );
    }
}

#[test]
fn bad_input_is_a_clear_error_and_a_failing_exit() {
    let unknown = pilotwatch()
        .args(["sim", "--scenario", "no-such-thing"])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("unknown scenario") && message.contains("healthy"),
        "{message}"
    );

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        "name = \"x\"\nsummary = \"y\"\n[delivery]\nmax_batch = 0\n",
    )
    .unwrap();
    let invalid = pilotwatch()
        .args(["sim", "--scenario"])
        .arg(&broken)
        .output()
        .unwrap();
    assert!(!invalid.status.success());
    assert!(String::from_utf8_lossy(&invalid.stderr).contains("max_batch"));

    let speed = pilotwatch()
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--https-listen",
            "127.0.0.1:0",
            "--speed",
            "0",
        ])
        .output()
        .unwrap();
    assert!(!speed.status.success());
    assert!(String::from_utf8_lossy(&speed.stderr).contains("speed"));

    let address = pilotwatch()
        .args(["sim", "--listen", "not-an-address"])
        .output()
        .unwrap();
    assert_eq!(
        address.status.code(),
        Some(64),
        "usage errors exit 64 (EX_USAGE)"
    );

    let ca = pilotwatch()
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--https-listen",
            "127.0.0.1:0",
        ])
        .arg("--receiver-ca")
        .arg(dir.path().join("missing.pem"))
        .output()
        .unwrap();
    assert!(!ca.status.success());
    assert!(String::from_utf8_lossy(&ca.stderr).contains("receiver CA"));
}
