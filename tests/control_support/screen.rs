//! A [`TestBackend`] whose last flushed screen a test can read while the console still runs,
//! to watch the status bar change as the collector goes away and comes back.

use std::sync::{Arc, Mutex};

use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};

/// The backend; [`Screen`] is the test's view of it.
#[derive(Debug)]
pub struct ScreenBackend {
    inner: TestBackend,
    shown: Screen,
}

/// The text on screen at the last flush.
#[derive(Debug, Clone, Default)]
pub struct Screen(Arc<Mutex<String>>);

impl Screen {
    /// What was on screen at the last flush.
    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }
}

impl ScreenBackend {
    pub fn new(width: u16, height: u16) -> (Self, Screen) {
        let shown = Screen::default();
        let backend = Self {
            inner: TestBackend::new(width, height),
            shown: shown.clone(),
        };
        (backend, shown)
    }
}

impl Backend for ScreenBackend {
    type Error = <TestBackend as Backend>::Error;

    fn draw<'a, I>(&mut self, content: I) -> Result<(), Self::Error>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Self::Error> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Self::Error> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Self::Error> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Self::Error> {
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Self::Error> {
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Self::Error> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Self::Error> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        *self.shown.0.lock().unwrap() = self.inner.to_string();
        self.inner.flush()
    }
}
