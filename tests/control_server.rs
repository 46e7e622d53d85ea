//! The control socket's server, in-process: a fake collector backend behind a
//! `CollectorHandle` (the server is a transport adapter, so this is what it sees), real Unix
//! sockets in a temporary directory, and the store's real audit trail. Covers fan-out of
//! updates to ten clients, access (read-only by request, by another uid, by group), the audit
//! of every command, bad input closing only the offender, slow readers, the client limit, the
//! stale/live socket rule and the modes. The last test runs the real thing: a collector on the
//! simulator, switching its scenario over the socket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use pilotwatch::clock::{ManualClock, SharedClock};
use pilotwatch::collector::update::Update;
use pilotwatch::console::{
    CollectorHandle, CommandOutcome, Connection, ConsoleError, FeedFilter, FeedPage, FeedQuery,
    Request, Snapshot,
};
use pilotwatch::control::codec::{FrameReader, write_frame};
use pilotwatch::control::protocol::{
    Access, ClientFrame, FrameError, Hello, MAX_FRAME_BYTES, PROTOCOL_VERSION, ServerFrame,
    Welcome, WireAnswer, WireCommand, WireRequest, WireUpdate,
};
use pilotwatch::control::{
    AccessPolicy, ControlError, ControlGroup, ControlServer, Limits, RunningControl,
};
use pilotwatch::store::records::{AuditOutcome, Event, EventKind, KeeperAction, Outcome};
use pilotwatch::store::{Store, StoreOptions};
use tokio::io::AsyncWriteExt as _;
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::broadcast;

/// Longest wait for any one frame.
const WAIT: Duration = Duration::from_secs(5);

fn now() -> DateTime<Utc> {
    "2026-11-22T08:00:00Z".parse().unwrap()
}

fn my_uid() -> u32 {
    nix::unistd::Uid::current().as_raw()
}

fn my_gid() -> u32 {
    nix::unistd::Gid::current().as_raw()
}

/// The policy `serve` builds for itself, without a group.
fn owner_policy() -> AccessPolicy {
    AccessPolicy {
        owner_uid: my_uid(),
        root_writes: true,
        group: None,
    }
}

/// A collector owned by someone else: this test process is "another uid" (and not trusted as
/// root, since tests may run as root).
fn foreign_policy(group: Option<ControlGroup>) -> AccessPolicy {
    AccessPolicy {
        owner_uid: my_uid().wrapping_add(4242),
        root_writes: false,
        group,
    }
}

/// A collector backend that answers instantly, except feed pages (slow on purpose), and
/// counts the commands that reach it.
struct Fake {
    handle: CollectorHandle,
    updates: broadcast::Sender<Update>,
    commands: Arc<AtomicUsize>,
}

fn fake() -> Fake {
    let (updates, _) = broadcast::channel(1024);
    let (handle, mut served) = CollectorHandle::new(updates.clone(), Connection::Embedded);
    let commands = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&commands);
    tokio::spawn(async move {
        while let Some(request) = served.recv().await {
            match request {
                Request::Snapshot(reply) => drop(reply.send(Ok(snapshot()))),
                Request::Feed(_, reply) => {
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(1500)).await;
                        drop(reply.send(Ok(FeedPage::default())));
                    });
                }
                Request::Command(command, reply) => {
                    counted.fetch_add(1, Ordering::SeqCst);
                    drop(reply.send(Ok(CommandOutcome::done(format!("ran {command:?}")))));
                }
                Request::Activity(_, reply) => {
                    drop(reply.send(Err(ConsoleError::Refused("not in this fake".into()))))
                }
                Request::Latency(_, reply) => {
                    drop(reply.send(Err(ConsoleError::Refused("not in this fake".into()))))
                }
            }
        }
    });
    Fake {
        handle,
        updates,
        commands,
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        taken_at: now(),
        started_at: now(),
        pid: std::process::id(),
        version: "test".into(),
        simulation: None,
        profiles: Vec::new(),
        interactions_stored: 0,
        feed_head: Vec::new(),
        recent_audit: Vec::new(),
        dead_tasks: Vec::new(),
    }
}

fn update(n: usize) -> Update {
    keeper_update(format!("update {n}"))
}

fn keeper_update(message: String) -> Update {
    Update::Keeper(Event {
        at: now(),
        profile: "p".into(),
        kind: EventKind::keeper(KeeperAction::Renew, Outcome::Succeeded),
        message,
    })
}

fn message(frame: &ServerFrame) -> Option<String> {
    match frame {
        ServerFrame::Update(WireUpdate::Keeper(event)) => Some(event.message.clone()),
        _ => None,
    }
}

/// A server over a fake backend, its store and its socket.
struct Harness {
    fake: Fake,
    store: Store,
    socket: PathBuf,
    server: Option<RunningControl>,
    _dir: tempfile::TempDir,
}

impl Harness {
    async fn start(policy: AccessPolicy, limits: Limits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock: SharedClock = Arc::new(ManualClock::new(now()));
        let store = Store::open(
            &dir.path().join("store"),
            StoreOptions::default(),
            clock.clone(),
        )
        .unwrap();
        let socket = dir.path().join("run").join("control.sock");
        let fake = fake();
        let server = ControlServer::new(&socket, fake.handle.clone(), policy, store.audit(), clock)
            .with_limits(limits)
            .start()
            .await
            .unwrap();
        Self {
            fake,
            store,
            socket,
            server: Some(server),
            _dir: dir,
        }
    }

    async fn client(&self, readonly: bool) -> (Client, Welcome) {
        Client::attach(&self.socket, readonly).await
    }

    async fn stop(mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await;
        }
    }
}

struct Client {
    reader: FrameReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Client {
    async fn connect(path: &Path) -> Self {
        let (read, writer) = UnixStream::connect(path).await.unwrap().into_split();
        Self {
            reader: FrameReader::new(read),
            writer,
        }
    }

    async fn attach(path: &Path, readonly: bool) -> (Self, Welcome) {
        let mut client = Self::connect(path).await;
        client.hello(PROTOCOL_VERSION, readonly).await;
        match client.next().await {
            ServerFrame::Welcome(welcome) => (client, welcome),
            other => panic!("expected a welcome, got {other:?}"),
        }
    }

    async fn hello(&mut self, version: u32, readonly: bool) {
        let hello = ClientFrame::Hello(Hello {
            version,
            client: "control_server test".into(),
            readonly,
        });
        write_frame(&mut self.writer, &hello).await.unwrap();
    }

    async fn request(&mut self, id: u64, request: WireRequest) {
        let frame = ClientFrame::Request { id, request };
        write_frame(&mut self.writer, &frame).await.unwrap();
    }

    async fn next(&mut self) -> ServerFrame {
        tokio::time::timeout(WAIT, self.reader.next::<ServerFrame>())
            .await
            .expect("a frame in time")
            .expect("a frame")
    }

    /// The reply to `id`, skipping updates.
    async fn reply(&mut self, id: u64) -> Result<WireAnswer, ConsoleError> {
        loop {
            match self.next().await {
                ServerFrame::Reply { id: got, result } if got == id => return result,
                ServerFrame::Update(_) | ServerFrame::Reply { .. } => {}
                other => panic!("expected reply {id}, got {other:?}"),
            }
        }
    }

    /// The bye's reason, then proof the connection closed.
    async fn bye(&mut self) -> String {
        bye(&mut self.reader).await
    }
}

/// The bye's reason (skipping a welcome or updates before it), then proof the connection
/// closed.
async fn bye(reader: &mut FrameReader<OwnedReadHalf>) -> String {
    let reason = loop {
        let frame = tokio::time::timeout(WAIT, reader.next::<ServerFrame>())
            .await
            .expect("a frame in time")
            .expect("a frame");
        match frame {
            ServerFrame::Bye { reason } => break reason,
            ServerFrame::Update(_) | ServerFrame::Welcome(_) => {}
            other => panic!("expected a bye, got {other:?}"),
        }
    };
    let after = tokio::time::timeout(WAIT, reader.next::<ServerFrame>())
        .await
        .expect("the server closes after its bye");
    assert!(
        matches!(after, Err(FrameError::Closed | FrameError::Io(_))),
        "{after:?}"
    );
    reason
}

fn renew() -> WireCommand {
    WireCommand::Renew {
        profile: "p".into(),
        subscription: "sub-1".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_clients_receive_the_same_updates_in_the_same_order() {
    let harness = Harness::start(owner_policy(), Limits::default()).await;
    let mut clients = Vec::new();
    for _ in 0..10 {
        let (client, welcome) = harness.client(false).await;
        assert_eq!(welcome.version, PROTOCOL_VERSION);
        assert_eq!(welcome.pid, std::process::id());
        clients.push(client);
    }
    for n in 0..50 {
        harness.fake.updates.send(update(n)).unwrap();
    }
    let expected: Vec<String> = (0..50).map(|n| format!("update {n}")).collect();
    let mut readers = Vec::new();
    for mut client in clients {
        readers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while seen.len() < 50 {
                seen.extend(message(&client.next().await));
            }
            seen
        }));
    }
    for reader in readers {
        assert_eq!(reader.await.unwrap(), expected);
    }
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_clients_write_is_refused_and_audited_but_it_may_test_credentials() {
    let harness = Harness::start(owner_policy(), Limits::default()).await;
    let (mut client, welcome) = harness.client(true).await;
    assert_eq!(welcome.access, Access::ReadOnly);
    assert!(welcome.reason.contains("asked"), "{}", welcome.reason);

    client.request(1, WireRequest::Command(renew())).await;
    let Err(ConsoleError::Refused(reason)) = client.reply(1).await else {
        panic!("a read-only renew must be refused");
    };
    assert!(reason.starts_with("read-only:"), "{reason}");
    assert_eq!(harness.fake.commands.load(Ordering::SeqCst), 0);

    let test = WireCommand::TestCredentials {
        profile: "p".into(),
    };
    client.request(2, WireRequest::Command(test)).await;
    assert!(matches!(client.reply(2).await, Ok(WireAnswer::Command(o)) if o.succeeded));
    assert_eq!(harness.fake.commands.load(Ordering::SeqCst), 1);

    let trail = harness.store.audit().recent(10).unwrap();
    assert_eq!(trail.len(), 2, "{trail:?}");
    let (tested, refused) = (&trail[0], &trail[1]);
    assert_eq!(refused.command, "renew");
    assert_eq!(refused.outcome, AuditOutcome::Refused);
    assert_eq!(refused.uid, my_uid());
    assert_eq!(refused.pid, Some(std::process::id() as i32));
    assert_eq!(refused.client, "control_server test");
    assert_eq!(refused.arguments["subscription"], "sub-1");
    assert_eq!(refused.at, now());
    assert!(refused.message.starts_with("read-only:"));
    assert_eq!(tested.command, "test-credentials");
    assert_eq!(tested.outcome, AuditOutcome::Succeeded);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_uid_reads_only_unless_it_is_in_the_control_group() {
    let harness = Harness::start(foreign_policy(None), Limits::default()).await;
    let (mut client, welcome) = harness.client(false).await;
    assert_eq!(welcome.access, Access::ReadOnly);
    assert!(
        welcome.reason.contains(&format!("uid {}", my_uid())),
        "{}",
        welcome.reason
    );
    client.request(7, WireRequest::Command(renew())).await;
    assert!(
        matches!(client.reply(7).await, Err(ConsoleError::Refused(r)) if r.starts_with("read-only:"))
    );
    assert_eq!(harness.fake.commands.load(Ordering::SeqCst), 0);
    let trail = harness.store.audit().recent(10).unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].outcome, AuditOutcome::Refused);
    assert_eq!(trail[0].uid, my_uid());
    harness.stop().await;

    // The same uid, now a member (by its primary group) of the configured group, writes.
    let group = ControlGroup {
        name: "pilotwatch".into(),
        gid: my_gid(),
    };
    let harness = Harness::start(foreign_policy(Some(group)), Limits::default()).await;
    let (mut client, welcome) = harness.client(false).await;
    assert_eq!(welcome.access, Access::ReadWrite, "{}", welcome.reason);
    assert!(welcome.reason.contains("group pilotwatch"));
    client.request(8, WireRequest::Command(renew())).await;
    assert!(matches!(client.reply(8).await, Ok(WireAnswer::Command(o)) if o.succeeded));
    assert_eq!(harness.fake.commands.load(Ordering::SeqCst), 1);
    let trail = harness.store.audit().recent(10).unwrap();
    assert_eq!(trail[0].outcome, AuditOutcome::Succeeded);
    assert_eq!(trail[0].command, "renew");
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_mismatch_gets_a_bye_naming_both_versions() {
    let harness = Harness::start(owner_policy(), Limits::default()).await;
    let mut client = Client::connect(&harness.socket).await;
    client.hello(PROTOCOL_VERSION + 98, false).await;
    let reason = client.bye().await;
    assert!(reason.contains("version mismatch"), "{reason}");
    assert!(
        reason.contains(&format!("version {}", PROTOCOL_VERSION + 98)),
        "{reason}"
    );
    assert!(
        reason.contains(&format!("version {PROTOCOL_VERSION}")),
        "{reason}"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_closes_only_that_client() {
    let harness = Harness::start(owner_policy(), Limits::default()).await;
    let (mut observer, _) = harness.client(false).await;
    let hello = r#"{"hello":{"version":1,"client":"t","readonly":false}}"#;
    let cases: [(&str, String, &str); 4] = [
        (
            "malformed",
            format!("{hello}\n{{not json\n"),
            "malformed frame",
        ),
        (
            "unknown command",
            format!(
                "{hello}\n{}\n",
                r#"{"request":{"id":1,"request":{"command":{"command":"explode"}}}}"#
            ),
            "explode",
        ),
        (
            "second hello",
            format!("{hello}\n{hello}\n"),
            "second hello",
        ),
        (
            "request before hello",
            "{\"request\":{\"id\":1,\"request\":\"snapshot\"}}\n".into(),
            "before hello",
        ),
    ];
    for (n, (case, bytes, expected)) in cases.into_iter().enumerate() {
        let mut client = Client::connect(&harness.socket).await;
        client.writer.write_all(bytes.as_bytes()).await.unwrap();
        let reason = client.bye().await;
        assert!(reason.contains(expected), "{case}: {reason}");
        harness.fake.updates.send(update(n)).unwrap();
        let seen = message(&observer.next().await);
        assert_eq!(seen, Some(format!("update {n}")), "after {case}");
    }

    // Oversized: a line that never ends before the limit.
    let mut client = Client::connect(&harness.socket).await;
    client.hello(PROTOCOL_VERSION, false).await;
    assert!(matches!(client.next().await, ServerFrame::Welcome(_)));
    let Client {
        mut reader,
        mut writer,
    } = client;
    let flood = tokio::spawn(async move {
        let chunk = vec![b'x'; 256 * 1024];
        let mut sent = 0;
        while sent <= MAX_FRAME_BYTES {
            if writer.write_all(&chunk).await.is_err() {
                return;
            }
            sent += chunk.len();
        }
    });
    let reason = bye(&mut reader).await;
    assert!(reason.contains("longer than"), "{reason}");
    flood.await.unwrap();

    harness.fake.updates.send(update(99)).unwrap();
    assert_eq!(message(&observer.next().await), Some("update 99".into()));
    observer.request(5, WireRequest::Snapshot).await;
    assert!(matches!(
        observer.reply(5).await,
        Ok(WireAnswer::Snapshot(_))
    ));
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_delays_neither_other_requests_nor_updates() {
    let harness = Harness::start(owner_policy(), Limits::default()).await;
    let (mut client, _) = harness.client(false).await;
    let query = FeedQuery {
        filter: FeedFilter::default(),
        after: None,
        limit: 10,
    };
    client.request(1, WireRequest::Feed(query)).await;
    client.request(2, WireRequest::Snapshot).await;
    harness.fake.updates.send(update(1)).unwrap();
    let mut order = Vec::new();
    while order.len() < 3 {
        match client.next().await {
            ServerFrame::Reply { id, .. } => order.push(format!("reply {id}")),
            frame => order.extend(message(&frame)),
        }
    }
    assert_eq!(
        order.last().map(String::as_str),
        Some("reply 1"),
        "{order:?}"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_others_are_not() {
    let limits = Limits {
        outgoing_frames: 32,
        ..Limits::default()
    };
    let harness = Harness::start(owner_policy(), limits).await;
    let (mut stalled, _) = harness.client(false).await;
    let (mut reader, _) = harness.client(false).await;
    let counting = tokio::spawn(async move {
        let mut seen = 0;
        while seen < 200 {
            if message(&reader.next().await).is_some() {
                seen += 1;
            }
        }
        seen
    });
    let big = "x".repeat(64 * 1024);
    for n in 0..200 {
        harness
            .fake
            .updates
            .send(keeper_update(format!("{n} {big}")))
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(counting.await.unwrap(), 200);
    // The stalled client finds, once it reads at last, that the server gave up on it: the
    // stream ends, possibly inside the frame that was being written when it was cut off.
    let ended = tokio::time::timeout(WAIT, async {
        loop {
            match stalled.reader.next::<ServerFrame>().await {
                Ok(_) => {}
                Err(error) => return error,
            }
        }
    })
    .await
    .expect("the stalled client's stream ends");
    assert!(
        matches!(
            ended,
            FrameError::Closed | FrameError::Io(_) | FrameError::Malformed(_)
        ),
        "{ended:?}"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_beyond_the_limit_and_silent_ones_are_told_why() {
    let limits = Limits {
        max_clients: 2,
        hello_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let harness = Harness::start(owner_policy(), limits).await;
    let (_first, _) = harness.client(false).await;
    let mut silent = Client::connect(&harness.socket).await;
    let mut third = Client::connect(&harness.socket).await;
    let reason = third.bye().await;
    assert!(reason.contains("too many clients"), "{reason}");
    let reason = silent.bye().await;
    assert!(reason.contains("no hello within 300ms"), "{reason}");
    // The silent one's seat is free again.
    let (_again, welcome) = harness.client(false).await;
    assert_eq!(welcome.access, Access::ReadWrite);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modes_stale_and_live_sockets_and_a_clean_stop() {
    let mut harness = Harness::start(owner_policy(), Limits::default()).await;
    let dir = harness.socket.parent().unwrap().to_path_buf();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o750);
    assert_eq!(mode(&harness.socket), 0o660);

    // A live socket: a second server is refused and names the first one's pid.
    let clock: SharedClock = Arc::new(ManualClock::new(now()));
    let second = ControlServer::new(
        &harness.socket,
        harness.fake.handle.clone(),
        owner_policy(),
        harness.store.audit(),
        clock.clone(),
    )
    .start()
    .await;
    let Err(error @ ControlError::AlreadyRunning { .. }) = second else {
        panic!("a second server must be refused");
    };
    let text = error.to_string();
    assert!(
        text.contains("already runs") && text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );

    // Stopping says bye to attached clients and removes the socket.
    let (mut client, _) = harness.client(false).await;
    harness.server.take().unwrap().stop().await;
    assert!(client.bye().await.contains("stopping"));
    assert!(!harness.socket.exists());

    // A stale socket (nobody listening) is replaced.
    drop(std::os::unix::net::UnixListener::bind(&harness.socket).unwrap());
    assert!(harness.socket.exists());
    let server = ControlServer::new(
        &harness.socket,
        harness.fake.handle.clone(),
        owner_policy(),
        harness.store.audit(),
        clock,
    )
    .start()
    .await
    .unwrap();
    let (_client, welcome) = harness.client(false).await;
    assert_eq!(welcome.access, Access::ReadWrite);
    server.stop().await;
}

/// `serve --sim`'s building blocks: the simulator, a collector on it, the embedded handle
/// with the simulation target, and the control server on top. A client switches the scenario
/// over the socket, sees it in the next snapshot with the command at the head of the audit
/// trail, and still gets the collector's updates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_on_the_simulator_switches_scenario_over_the_socket_and_audits_it() {
    let run = common::collected::Setup::healthy()
        .switchable()
        .start()
        .await;
    let socket = run.data.path().join("run").join("control.sock");
    let server = ControlServer::new(
        &socket,
        run.handle.clone(),
        owner_policy(),
        run.collector.store().audit(),
        run.clock.clone(),
    )
    .start()
    .await
    .unwrap();

    let (mut client, welcome) = Client::attach(&socket, false).await;
    assert_eq!(welcome.access, Access::ReadWrite);
    let switch = WireCommand::SwitchScenario {
        name: "throttled".into(),
    };
    client.request(1, WireRequest::Command(switch)).await;
    let reply = client.reply(1).await;
    assert!(
        matches!(&reply, Ok(WireAnswer::Command(o)) if o.succeeded),
        "{reply:?}"
    );
    client.request(2, WireRequest::Snapshot).await;
    let Ok(WireAnswer::Snapshot(snapshot)) = client.reply(2).await else {
        panic!("a snapshot");
    };
    assert_eq!(snapshot.simulation.unwrap().scenario, "throttled");
    let audited = snapshot
        .recent_audit
        .first()
        .expect("the switch is audited");
    assert_eq!(audited.command, "switch-scenario");
    assert_eq!(audited.arguments["name"], "throttled");
    assert_eq!(audited.outcome, AuditOutcome::Succeeded);
    assert_eq!(audited.uid, my_uid());
    // Recorded once: the socket records it, the handle behind it does not again.
    assert_eq!(
        snapshot.recent_audit.len(),
        1,
        "{:?}",
        snapshot.recent_audit
    );
    let update = tokio::time::timeout(WAIT, async {
        loop {
            if let ServerFrame::Update(update) = client.next().await {
                return update;
            }
        }
    })
    .await;
    assert!(update.is_ok(), "the collector's updates reach the client");

    server.stop().await;
    run.stop().await;
}
