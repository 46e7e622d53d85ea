//! The console's event loop driven without a terminal: an injected event stream, a frame-
//! counting `TestBackend`, and a fake backend answering the real `CollectorHandle`'s requests.
//! Proves that a key becomes the right command, that an update costs exactly one redraw, that
//! nothing is drawn when nothing changed, that a collector that stops answering shows a notice
//! instead of freezing, and that a vanished terminal ends the loop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod tui_support;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode};
use futures_util::Stream;
use pilotwatch::collector::update::Update;
use pilotwatch::console::{
    CollectorHandle, Command, CommandOutcome, Connection, ConsoleError, Request,
};
use pilotwatch::tui::{Theme, TuiError, TuiOptions, drive};
use ratatui::Terminal;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tui_support::{CountingBackend, press};

type Events = std::pin::Pin<Box<dyn Stream<Item = io::Result<TermEvent>> + Send>>;

fn event_stream() -> (mpsc::UnboundedSender<io::Result<TermEvent>>, Events) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|event| (event, receiver))
    });
    (sender, Box::pin(stream))
}

fn options() -> TuiOptions {
    TuiOptions {
        profile: None,
        theme: Theme::built_in("default").unwrap(),
        mouse: false,
        readonly: false,
    }
}

/// A backend that serves snapshots of the fixture and reports each command it receives.
fn fake_backend(mut served: mpsc::Receiver<Request>, commands: mpsc::UnboundedSender<Command>) {
    tokio::spawn(async move {
        while let Some(request) = served.recv().await {
            match request {
                Request::Snapshot(reply) => {
                    let _ = reply.send(Ok(tui_support::snapshot()));
                }
                Request::Command(command, reply) => {
                    let _ = commands.send(command);
                    let _ = reply.send(Ok(CommandOutcome::done(
                        "token granted; all 8 checks passed",
                    )));
                }
                Request::Feed(_, reply) => {
                    let _ = reply.send(Err(ConsoleError::Refused("not in this test".into())));
                }
                Request::Activity(_, reply) => {
                    let _ = reply.send(Err(ConsoleError::Refused("not in this test".into())));
                }
                Request::Latency(_, reply) => {
                    let _ = reply.send(Err(ConsoleError::Refused("not in this test".into())));
                }
            }
        }
    });
}

type Running = JoinHandle<(Result<(), TuiError>, Terminal<CountingBackend>)>;

fn start(handle: CollectorHandle, events: Events) -> (Running, Arc<AtomicUsize>) {
    let (backend, frames) = CountingBackend::new(100, 30);
    let mut terminal = Terminal::new(backend).unwrap();
    let running = tokio::spawn(async move {
        let options = options();
        let result = drive(
            &mut terminal,
            events,
            handle,
            &options,
            std::future::pending(),
        )
        .await;
        (result, terminal)
    });
    (running, frames)
}

async fn wait_for(what: &str, mut condition: impl FnMut() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn finish(running: Running) -> Terminal<CountingBackend> {
    let (result, terminal) = tokio::time::timeout(Duration::from_secs(3), running)
        .await
        .expect("the loop did not end")
        .unwrap();
    result.unwrap();
    terminal
}

fn screen(terminal: &Terminal<CountingBackend>) -> String {
    terminal.backend().inner.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t_on_the_credentials_tab_tests_the_shown_profile_and_shows_the_outcome() {
    let (updates, _) = broadcast::channel(16);
    let (handle, served) = CollectorHandle::new(updates, Connection::Embedded);
    let (commands_tx, mut commands) = mpsc::unbounded_channel();
    fake_backend(served, commands_tx);
    let (keys, events) = event_stream();
    let (running, frames) = start(handle, events);
    wait_for("the first frame", || frames.load(Ordering::SeqCst) > 0).await;

    keys.send(press(KeyCode::Char('t'))).unwrap();
    let command = tokio::time::timeout(Duration::from_secs(2), commands.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(&command, Command::TestCredentials { profile } if profile == "contoso"),
        "{command:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    keys.send(press(KeyCode::Char('q'))).unwrap();
    let terminal = finish(running).await;
    let screen = screen(&terminal);
    assert!(
        screen.contains("token granted; all 8 checks passed"),
        "{screen}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_costs_exactly_one_redraw_and_quiet_costs_none() {
    let (updates, _) = broadcast::channel(16);
    let (handle, served) = CollectorHandle::new(updates.clone(), Connection::Embedded);
    let (commands_tx, _commands) = mpsc::unbounded_channel();
    fake_backend(served, commands_tx);
    let (keys, events) = event_stream();
    let (running, frames) = start(handle, events);
    // The first frame, then time for the snapshot to arrive and be drawn (in that frame or
    // the next, depending on whether it beat the first frame tick).
    wait_for("the first frame", || frames.load(Ordering::SeqCst) >= 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let settled = frames.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        frames.load(Ordering::SeqCst),
        settled,
        "drew with nothing changed"
    );

    updates
        .send(Update::Interaction(tui_support::interaction("m-2")))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        frames.load(Ordering::SeqCst),
        settled + 1,
        "one update, one frame"
    );

    keys.send(press(KeyCode::Char('q'))).unwrap();
    let terminal = finish(running).await;
    assert!(
        screen(&terminal).contains("1235 stored"),
        "{}",
        screen(&terminal)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_stops_answering_shows_a_notice_not_a_frozen_screen() {
    let (updates, _) = broadcast::channel(16);
    let (handle, served) = CollectorHandle::new(updates, Connection::Embedded);
    drop(served);
    let (keys, events) = event_stream();
    let (running, frames) = start(handle, events);
    wait_for("a frame", || frames.load(Ordering::SeqCst) > 0).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Still responsive: help opens.
    keys.send(press(KeyCode::Char('?'))).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    keys.send(press(KeyCode::Esc)).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    keys.send(press(KeyCode::Char('q'))).unwrap();
    let terminal = finish(running).await;
    let screen = screen(&terminal);
    assert!(screen.contains("collector not answering"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_ends_when_the_terminal_goes_away() {
    let (updates, _) = broadcast::channel(16);
    let (handle, served) = CollectorHandle::new(updates, Connection::Embedded);
    let (commands_tx, _commands) = mpsc::unbounded_channel();
    fake_backend(served, commands_tx);
    let (keys, events) = event_stream();
    let (running, frames) = start(handle, events);
    wait_for("a frame", || frames.load(Ordering::SeqCst) > 0).await;
    keys.send(Err(io::Error::other("input/output error")))
        .unwrap();
    finish(running).await;

    // And when the stream simply ends.
    let (updates, _) = broadcast::channel(16);
    let (handle, served) = CollectorHandle::new(updates, Connection::Embedded);
    let (commands_tx, _commands) = mpsc::unbounded_channel();
    fake_backend(served, commands_tx);
    let (keys, events) = event_stream();
    let (running, _) = start(handle, events);
    drop(keys);
    finish(running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_panics_on_a_request_shows_not_answering_and_keeps_drawing() {
    let (updates, _) = broadcast::channel(16);
    let (handle, mut served) = CollectorHandle::new(updates, Connection::Embedded);
    // The embedded backend's request task dying mid-request: the reply is dropped unanswered
    // as the panic unwinds, and nothing serves requests any more.
    let backend = tokio::spawn(async move {
        let request = served.recv().await;
        assert!(matches!(request, Some(Request::Snapshot(_))));
        panic!("the backend panics while answering (test)");
    });
    let (keys, events) = event_stream();
    let (running, frames) = start(handle, events);
    // A panic hook capturing a backtrace can take a while; the reply is gone once it unwound.
    let died = tokio::time::timeout(Duration::from_secs(5), backend)
        .await
        .expect("the backend never got the first request");
    assert!(died.unwrap_err().is_panic());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let settled = frames.load(Ordering::SeqCst);
    // Still drawing: the help overlay opens and closes, each a frame.
    keys.send(press(KeyCode::Char('?'))).unwrap();
    wait_for("the help overlay's frame", || {
        frames.load(Ordering::SeqCst) > settled
    })
    .await;
    keys.send(press(KeyCode::Esc)).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    keys.send(press(KeyCode::Char('q'))).unwrap();
    let terminal = tokio::time::timeout(Duration::from_secs(3), finish(running))
        .await
        .expect("the loop hung after the backend died");
    let screen = screen(&terminal);
    assert!(screen.contains("collector not answering"), "{screen}");
}
