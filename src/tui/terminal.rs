//! The terminal's lifetime: [`TerminalGuard`] puts it in raw mode on the alternate screen (with
//! mouse capture only when asked, so copy and paste keep working) and restores it however the
//! console ends — on return, on error (the guard drops), and on panic (a chained panic hook
//! restores first, so the panic message lands on a sane screen).
//!
//! SIGHUP is deliberately **not** handled anywhere in the console. crossterm's unix event
//! source never returns once its tty is gone (crossterm-rs/crossterm#793): a process that
//! catches SIGHUP and keeps polling spins a core forever (`reliability-notes.md`, measured).
//! With the default disposition the kernel ends us when the SSH session drops, which is what an
//! operator wants; and should the event stream end or fail first, the runner exits.
//!
//! Depends on crossterm and ratatui only.

use std::io::{self, Stdout, Write as _};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{cursor, execute};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// Whether the terminal is in the console's mode now (read by the panic hook).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Whether mouse capture is on (so restoring turns it off).
static MOUSE: AtomicBool = AtomicBool::new(false);
static HOOK: Once = Once::new();

/// Holds the terminal in the console's mode; restores it when dropped.
#[derive(Debug)]
pub struct TerminalGuard {
    _private: (),
}

impl TerminalGuard {
    /// Raw mode, alternate screen, hidden cursor, and mouse capture if `mouse`; a terminal to
    /// draw on. On failure whatever was already switched is switched back.
    pub fn enter(mouse: bool) -> io::Result<(Self, Terminal<CrosstermBackend<Stdout>>)> {
        install_panic_hook();
        let guard = Self { _private: () };
        enable_raw_mode()?;
        ACTIVE.store(true, Ordering::SeqCst);
        let mut stdout = io::stdout();
        execute!(stdout, EnterAlternateScreen, cursor::Hide)?;
        if mouse {
            execute!(stdout, EnableMouseCapture)?;
            MOUSE.store(true, Ordering::SeqCst);
        }
        let terminal = Terminal::new(CrosstermBackend::new(stdout))?;
        Ok((guard, terminal))
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as the shell left it; best effort, and only once.
fn restore() {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut stdout = io::stdout();
    if MOUSE.swap(false, Ordering::SeqCst) {
        let _ = execute!(stdout, DisableMouseCapture);
    }
    let _ = execute!(stdout, LeaveAlternateScreen, cursor::Show);
    let _ = disable_raw_mode();
    let _ = stdout.flush();
}

/// Chains a hook that restores the terminal before the previous hook (color-eyre's report)
/// prints; installed once per process.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
