//! The real event loop (`tui::drive`) on a [`BenchBackend`], as the console runs it: keys come
//! from a channel instead of a tty, frames go to the counting writer, and the frame log tells
//! when the first frame showing snapshot data was flushed and what each later frame wrote.
//!
//! Depends on the TUI's public runner and the bench's backend only.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use futures_util::Stream;
use pilotwatch::console::CollectorHandle;
use pilotwatch::tui::{Theme, TuiOptions, drive};
use ratatui::Terminal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::backend::{BenchBackend, FrameRecord};

type Events = std::pin::Pin<Box<dyn Stream<Item = io::Result<TermEvent>> + Send>>;

/// A console loop running in a task of its own.
pub struct Console {
    keys: mpsc::UnboundedSender<io::Result<TermEvent>>,
    frames: Arc<Mutex<Vec<FrameRecord>>>,
    bytes: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

/// What was written over a window of time.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub seconds: f64,
    pub bytes: u64,
    pub frames: Vec<FrameRecord>,
}

impl Console {
    /// Starts `drive` on `handle` with the default theme, as `pilotwatch demo` would.
    pub fn start(handle: CollectorHandle) -> Self {
        let (backend, frames) = BenchBackend::watched();
        let bytes = backend.bytes();
        let (keys, receiver) = mpsc::unbounded_channel();
        let events: Events = Box::pin(futures_util::stream::unfold(
            receiver,
            |mut receiver| async move { receiver.recv().await.map(|event| (event, receiver)) },
        ));
        let task = tokio::spawn(async move {
            let mut terminal = Terminal::new(backend).unwrap();
            let options = TuiOptions {
                profile: None,
                theme: Theme::built_in("default").unwrap(),
                mouse: false,
                readonly: false,
            };
            drive(
                &mut terminal,
                events,
                handle,
                &options,
                std::future::pending(),
            )
            .await
            .unwrap();
        });
        Self {
            keys,
            frames,
            bytes,
            task,
        }
    }

    /// When the first frame showing snapshot data was flushed (bounded wait).
    pub async fn first_data_frame(&self) -> Instant {
        let deadline = Instant::now() + crate::DEADLINE;
        loop {
            if let Some(frame) = self.frames.lock().unwrap().iter().find(|f| f.has_data) {
                return frame.at;
            }
            assert!(Instant::now() < deadline, "no frame showed snapshot data");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Presses `key`.
    pub fn press(&self, key: char) {
        let event = TermEvent::Key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE));
        self.keys.send(Ok(event)).unwrap();
    }

    /// Lets `during` run for `length`, and returns what the console wrote meanwhile.
    pub async fn window<F: std::future::Future<Output = ()>>(
        &self,
        length: Duration,
        during: impl FnOnce(Instant) -> F,
    ) -> Window {
        let frames_before = self.frames.lock().unwrap().len();
        let bytes_before = self.bytes.load(Ordering::SeqCst);
        let started = Instant::now();
        let end = started + length;
        tokio::join!(during(end), tokio::time::sleep_until(end.into()));
        let seconds = started.elapsed().as_secs_f64();
        Window {
            seconds,
            bytes: self.bytes.load(Ordering::SeqCst) - bytes_before,
            frames: self.frames.lock().unwrap()[frames_before..].to_vec(),
        }
    }

    /// Quits with `q` and waits for the loop to end.
    pub async fn quit(self) {
        self.press('q');
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the console did not quit")
            .unwrap();
    }
}
