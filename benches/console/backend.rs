//! The terminal the console draws on in the bench: ratatui's real `CrosstermBackend` writing into
//! a byte-counting sink, so every figure counts the escape sequences a terminal would receive,
//! with the size fixed (there is no tty to ask) and, optionally, a shadow of the screen and a
//! log of every frame (when it was flushed, its bytes, which cells changed, whether the header
//! shows snapshot data).
//!
//! Depends on ratatui and crossterm only; never on the console's internals.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};

/// The bench's screen: the 200×50.
pub const WIDTH: u16 = 200;
pub const HEIGHT: u16 = 50;

/// Text in the header once a snapshot arrived (the stored count: `· N stored`).
const SNAPSHOT_MARK: &str = " stored";

/// An `io::Write` that keeps only the count.
#[derive(Debug, Clone, Default)]
pub struct CountingWriter {
    bytes: Arc<AtomicU64>,
}

impl io::Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One flushed frame.
#[derive(Debug, Clone)]
pub struct FrameRecord {
    pub at: Instant,
    /// Bytes written since the previous flush.
    pub bytes: u64,
    /// Cells the diff sent.
    pub cells: usize,
    /// The changed cells' text, in drawing order (at most 120 characters).
    pub changed: String,
    /// The header shows snapshot data.
    pub has_data: bool,
    /// The lowest screen row the diff touched (0 is the top).
    pub lowest_row: u16,
}

/// The shadow screen and the frame log, shared with whoever watches.
#[derive(Debug)]
struct Watch {
    screen: Buffer,
    frames: Arc<Mutex<Vec<FrameRecord>>>,
    cells: usize,
    changed: String,
    lowest_row: u16,
}

/// `CrosstermBackend` over a [`CountingWriter`], at a fixed size.
#[derive(Debug)]
pub struct BenchBackend {
    inner: CrosstermBackend<CountingWriter>,
    bytes: Arc<AtomicU64>,
    flushed_at: u64,
    cursor: Position,
    watch: Option<Watch>,
}

impl BenchBackend {
    /// A backend that only counts.
    pub fn counting() -> Self {
        let writer = CountingWriter::default();
        let bytes = Arc::clone(&writer.bytes);
        Self {
            inner: CrosstermBackend::new(writer),
            bytes,
            flushed_at: 0,
            cursor: Position::ORIGIN,
            watch: None,
        }
    }

    /// A backend that also logs every frame into the returned list.
    pub fn watched() -> (Self, Arc<Mutex<Vec<FrameRecord>>>) {
        let frames = Arc::new(Mutex::new(Vec::new()));
        let mut backend = Self::counting();
        backend.watch = Some(Watch {
            screen: Buffer::empty(Rect::new(0, 0, WIDTH, HEIGHT)),
            frames: Arc::clone(&frames),
            cells: 0,
            changed: String::new(),
            lowest_row: 0,
        });
        (backend, frames)
    }

    /// Every byte written so far, shared.
    pub fn bytes(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes)
    }
}

impl Backend for BenchBackend {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let Some(watch) = self.watch.as_mut() else {
            return self.inner.draw(content);
        };
        let cells: Vec<(u16, u16, &Cell)> = content.collect();
        watch.cells += cells.len();
        for (x, y, cell) in &cells {
            watch.lowest_row = watch.lowest_row.max(*y);
            if watch.changed.chars().count() < 120 {
                watch.changed.push_str(cell.symbol());
            }
            if let Some(shadow) = watch.screen.cell_mut((*x, *y)) {
                *shadow = (*cell).clone();
            }
        }
        self.inner.draw(cells.into_iter())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.inner.hide_cursor()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.inner.show_cursor()
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        // Asking a real backend would read the reply from a tty.
        Ok(self.cursor)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.cursor = position.into();
        self.inner.set_cursor_position(self.cursor)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        Ok(Size::new(WIDTH, HEIGHT))
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        Ok(WindowSize {
            columns_rows: Size::new(WIDTH, HEIGHT),
            pixels: Size::new(0, 0),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()?;
        let total = self.bytes.load(Ordering::Relaxed);
        let bytes = total - self.flushed_at;
        self.flushed_at = total;
        if let Some(watch) = self.watch.as_mut() {
            // The header is the top two lines.
            let header: String = (0..2)
                .flat_map(|y| (0..WIDTH).map(move |x| (x, y)))
                .filter_map(|at| watch.screen.cell(at))
                .map(Cell::symbol)
                .collect();
            watch.frames.lock().unwrap().push(FrameRecord {
                at: Instant::now(),
                bytes,
                cells: std::mem::take(&mut watch.cells),
                changed: std::mem::take(&mut watch.changed),
                has_data: header.contains(SNAPSHOT_MARK),
                lowest_row: std::mem::take(&mut watch.lowest_row),
            });
        }
        Ok(())
    }
}
