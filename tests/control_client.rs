//! The control socket's client against a fake collector on a real Unix socket: attaching
//! gives a handle whose snapshot, feed and command requests round-trip and whose updates
//! arrive; a goodbye on hello, a missing or stale socket each read as what they are; a
//! read-only welcome makes the connection read-only; a collector restart fails what was
//! pending with `Disconnected` (never a hang), takes the link Disconnected → Connected, and the
//! console says "disconnected — retrying" then "attached to pid N" again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod control_support;
mod tui_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use control_support::{Behaviour, FakeCollector, NEVER_ANSWERED};
use pilotwatch::collector::update::Update;
use pilotwatch::console::{
    CollectorHandle, Command, Connection, ConsoleError, ExportFormat, FeedFilter, FeedQuery,
    LinkState,
};
use pilotwatch::control::client::{self, AttachOptions};
use pilotwatch::control::protocol::{Access, ServerFrame, WireCommand};
use pilotwatch::tui::{Theme, TuiOptions, drive};
use ratatui::Terminal;
use tokio::sync::watch;
use tui_support::{CountingBackend, Screen};

/// Long enough for any step here, short enough that a hang fails fast.
const PATIENCE: Duration = Duration::from_secs(4);

fn behaviour(pid: u32) -> Behaviour {
    Behaviour {
        pid,
        access: Access::ReadWrite,
        bye: None,
        snapshot: tui_support::snapshot(),
    }
}

fn socket(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("control.sock")
}

async fn attach(path: &Path, readonly: bool) -> CollectorHandle {
    client::attach(path, AttachOptions::new("test", readonly))
        .await
        .unwrap()
}

/// Waits until the link satisfies `wanted`, returning that state.
async fn link_becomes(
    link: &mut watch::Receiver<LinkState>,
    wanted: impl Fn(&LinkState) -> bool,
) -> LinkState {
    let state = tokio::time::timeout(PATIENCE, link.wait_for(|state| wanted(state)))
        .await
        .expect("the link did not change as expected")
        .expect("the link's backend ended");
    state.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_feed_commands_and_updates_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = FakeCollector::start(&socket(&dir), behaviour(4242));
    let handle = attach(&fake.path, false).await;
    let hello = fake.hellos.recv().await.unwrap();
    assert!(hello.client.starts_with("pilotwatch ") && hello.client.ends_with(" test"));
    assert!(!hello.readonly);
    assert_eq!(
        handle.connection(),
        Connection::Attached {
            pid: 4242,
            read_write: true
        }
    );

    assert_eq!(handle.snapshot().await.unwrap(), tui_support::snapshot());
    let page = handle
        .feed(FeedQuery {
            filter: FeedFilter::default(),
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(page.rows, tui_support::snapshot().feed_head);

    let renew = Command::Renew {
        profile: "contoso".into(),
        subscription: "sub-1".into(),
    };
    let outcome = handle.command(renew).await.unwrap();
    assert!(
        outcome.succeeded && outcome.message.contains("Renew"),
        "{outcome:?}"
    );
    assert!(matches!(
        fake.commands.recv().await.unwrap(),
        WireCommand::Renew { subscription, .. } if subscription == "sub-1"
    ));

    // Export never crosses: refused here, and the collector hears nothing of it.
    let export = Command::Export {
        filter: FeedFilter::default(),
        format: ExportFormat::Csv,
        path: dir.path().join("out.csv"),
    };
    assert!(matches!(
        handle.command(export).await,
        Err(ConsoleError::Refused(why)) if why.contains("exports by reading the feed")
    ));
    assert!(fake.commands.try_recv().is_err());

    // A reply nobody waits for is ignored; the connection and later requests are unharmed.
    fake.send(ServerFrame::Reply {
        id: u64::MAX,
        result: Err(ConsoleError::Failed("stray".into())),
    });
    assert_eq!(handle.snapshot().await.unwrap().pid, 4242);
    assert!(handle.link().borrow().is_connected());

    let mut updates = handle.updates();
    let record = tui_support::snapshot().feed_head[0].clone();
    fake.push(&Update::Interaction(record.clone()));
    let update = tokio::time::timeout(PATIENCE, updates.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(update, Update::Interaction(got) if got == record));

    // Dropped updates make the link republish "connected": the view's cue to resync.
    let mut link = handle.link();
    fake.lag(3);
    tokio::time::timeout(PATIENCE, link.changed())
        .await
        .unwrap()
        .unwrap();
    assert!(link.borrow_and_update().is_connected());
    fake.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goodbye_on_hello_is_a_clear_error_not_an_absent_collector() {
    let dir = tempfile::tempdir().unwrap();
    let mut refusing = behaviour(1);
    refusing.bye = Some("protocol version 1 is not spoken here (this collector speaks 2)".into());
    let fake = FakeCollector::start(&socket(&dir), refusing);
    let error = client::attach(&fake.path, AttachOptions::new("test", false))
        .await
        .unwrap_err();
    assert!(!error.is_absent());
    let message = error.to_string();
    assert!(
        message.contains("refused this client") && message.contains("this collector speaks 2"),
        "{message}"
    );
    // Auto-attach must not treat it as "nothing runs" (which would open the store).
    let candidates = vec![fake.path.clone()];
    assert!(
        client::attach_running(None, &candidates, AttachOptions::new("test", false))
            .await
            .is_err()
    );
    fake.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_socket_or_a_stale_one_means_no_collector_runs() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sock");
    let error = client::attach(&missing, AttachOptions::new("test", false))
        .await
        .unwrap_err();
    assert!(error.is_absent(), "{error}");

    // A collector that died left its socket file behind: nobody accepts on it.
    let stale = socket(&dir);
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let candidates = vec![missing.clone(), stale.clone()];
    let attached = client::attach_running(None, &candidates, AttachOptions::new("test", false))
        .await
        .unwrap();
    assert!(attached.is_none());

    // An explicit path must answer: no quiet fallback to an embedded collector.
    let error = client::attach_running(Some(&missing), &[], AttachOptions::new("test", false))
        .await
        .unwrap_err();
    assert!(error.is_absent());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_asked_or_granted_makes_the_connection_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut fake = FakeCollector::start(&socket(&dir), behaviour(7));
    let asked = attach(&fake.path, true).await;
    assert!(fake.hellos.recv().await.unwrap().readonly);
    assert_eq!(
        asked.connection(),
        Connection::Attached {
            pid: 7,
            read_write: false
        }
    );
    fake.stop().await;

    let mut granted = behaviour(8);
    granted.access = Access::ReadOnly;
    let fake = FakeCollector::start(&socket(&dir), granted);
    let handle = attach(&fake.path, false).await;
    assert_eq!(
        handle.connection(),
        Connection::Attached {
            pid: 8,
            read_write: false
        }
    );
    let renew = Command::Renew {
        profile: "contoso".into(),
        subscription: "sub-1".into(),
    };
    assert!(matches!(
        handle.command(renew).await,
        Err(ConsoleError::Refused(why)) if why.starts_with("read-only")
    ));
    fake.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_collector_fails_pending_requests_then_is_reattached() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket(&dir);
    let mut fake = FakeCollector::start(&path, behaviour(4242));
    let handle = attach(&path, false).await;
    let mut link = handle.link();

    let asking = handle.clone();
    let pending = tokio::spawn(async move {
        asking
            .command(Command::TestCredentials {
                profile: NEVER_ANSWERED.into(),
            })
            .await
    });
    // The collector has it and will never answer; then it goes away.
    fake.commands.recv().await.unwrap();
    fake.stop().await;

    let result = tokio::time::timeout(PATIENCE, pending)
        .await
        .expect("a pending request hung when the collector went away")
        .unwrap();
    assert_eq!(result, Err(ConsoleError::Disconnected));
    let down = link_becomes(&mut link, |state| !state.is_connected()).await;
    match down {
        LinkState::Disconnected {
            last,
            retry_in,
            reason,
            ..
        } => {
            assert_eq!(
                reason, None,
                "nothing listens, so there is no reason to give"
            );
            assert_eq!(
                last,
                Connection::Attached {
                    pid: 4242,
                    read_write: true
                }
            );
            assert!(retry_in <= Duration::from_secs(5), "{retry_in:?}");
        }
        LinkState::Connected(_) => unreachable!(),
    }
    // While it is down, requests are answered at once, not queued.
    let quick = tokio::time::timeout(Duration::from_secs(1), handle.snapshot()).await;
    assert_eq!(quick.unwrap(), Err(ConsoleError::Disconnected));

    // A collector that answers but refuses is no reconnection: the link stays down and says
    // why; nothing answering at all is said as no reason.
    let mut refusing = behaviour(5151);
    refusing.bye = Some("too many clients (64)".into());
    let refusing = FakeCollector::start(&path, refusing);
    let refused = link_becomes(&mut link, |state| {
        matches!(
            state,
            LinkState::Disconnected {
                reason: Some(_),
                ..
            }
        )
    })
    .await;
    let LinkState::Disconnected { reason, .. } = refused else {
        unreachable!()
    };
    assert_eq!(
        reason.as_deref(),
        Some("the collector refused us: too many clients (64)")
    );
    refusing.stop().await;

    let _fake = FakeCollector::start(&path, behaviour(5151));
    let up = link_becomes(&mut link, LinkState::is_connected).await;
    assert_eq!(
        up,
        LinkState::Connected(Connection::Attached {
            pid: 5151,
            read_write: true
        })
    );
    assert_eq!(&handle.connection(), up.connection());
    assert_eq!(handle.snapshot().await.unwrap().pid, 4242);
}

fn options() -> TuiOptions {
    TuiOptions {
        profile: None,
        theme: Theme::built_in("default").unwrap(),
        mouse: false,
        readonly: false,
    }
}

async fn shows(screen: &Screen, text: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if screen.text().contains(text) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the screen never showed {text:?}:\n{}", screen.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_says_disconnected_retrying_then_attached_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = socket(&dir);
    let fake = FakeCollector::start(&path, behaviour(4242));
    let handle = attach(&path, false).await;
    let (backend, screen) = CountingBackend::watched(120, 30);
    let (quit, quitting) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        let mut terminal = Terminal::new(backend).unwrap();
        let options = options();
        let shutdown = async {
            let _ = quitting.await;
        };
        drive(
            &mut terminal,
            futures_util::stream::pending(),
            handle,
            &options,
            shutdown,
        )
        .await
    });

    shows(&screen, "attached to pid 4242 as read-write").await;
    shows(&screen, "contoso").await;
    fake.stop().await;
    shows(&screen, "disconnected — retrying in").await;
    let stale = screen.text();
    assert!(stale.contains("showing the last state"), "{stale}");
    assert!(
        stale.contains("UNKN"),
        "the state is said in words too:\n{stale}"
    );
    assert!(stale.contains("disconnected from pid 4242"), "{stale}");
    // The last data stays browsable.
    assert!(stale.contains("contoso"), "{stale}");

    // Something answers but will not take us (an upgraded collector): the console says why,
    // keeps the last data and keeps trying, so fixing it needs no restart of the console.
    let mut upgraded = behaviour(4343);
    upgraded.bye = Some("this collector speaks control protocol v2".into());
    let refusing = FakeCollector::start(&path, upgraded);
    shows(
        &screen,
        "UNKN the collector refused us: this collector speaks control protocol v2 — retrying in",
    )
    .await;
    let refused = screen.text();
    assert!(refused.contains("disconnected from pid 4242"), "{refused}");
    assert!(refused.contains("contoso"), "{refused}");
    refusing.stop().await;

    let _fake = FakeCollector::start(&path, behaviour(4343));
    shows(&screen, "attached to pid 4343 as read-write").await;
    let again = screen.text();
    assert!(!again.contains("disconnected"), "{again}");

    quit.send(()).unwrap();
    tokio::time::timeout(PATIENCE, running)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

/// Runs the real binary with `args`, its XDG directories (runtime included) under `home`.
async fn pilotwatch(home: &Path, args: &[&str]) -> std::process::Output {
    let home = home.to_path_buf();
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_pilotwatch"))
            .args(&args)
            .env("XDG_RUNTIME_DIR", home.join("run"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_STATE_HOME", home.join("state"))
            .env_remove("RUNTIME_DIRECTORY")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    });
    tokio::time::timeout(Duration::from_secs(8), run)
        .await
        .expect("pilotwatch did not exit")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_pilotwatch_finds_the_users_socket_and_a_refusal_stops_it_before_the_store() {
    let home = tempfile::tempdir().unwrap();
    let runtime = home.path().join("run").join("pilotwatch");
    std::fs::create_dir_all(&runtime).unwrap();
    let mut refusing = behaviour(4242);
    refusing.bye = Some("this collector speaks control protocol v2".into());
    let mut fake = FakeCollector::start(&runtime.join("control.sock"), refusing);

    let output = pilotwatch(home.path(), &["--readonly"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("refused this client") && stderr.contains("protocol v2"),
        "{stderr}"
    );
    // It found the socket by itself, asked read-only, and never fell back to an embedded
    // collector (which would have complained about the missing profiles instead).
    let hello = fake.hellos.recv().await.unwrap();
    assert!(
        hello.readonly && hello.client.ends_with(" tui"),
        "{hello:?}"
    );
    assert!(!stderr.contains("no profiles are configured"), "{stderr}");
    fake.stop().await;

    // Nothing listening any more: the console falls back to its own collector, which here has
    // no profiles to run.
    let output = pilotwatch(home.path(), &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no profiles are configured"), "{stderr}");

    // An explicit socket that nobody serves is an error, not a fallback.
    let missing = home.path().join("elsewhere.sock");
    let output = pilotwatch(
        home.path(),
        &["--control-socket", missing.to_str().unwrap()],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no collector answers at"), "{stderr}");
}
