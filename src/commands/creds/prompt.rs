//! Where `creds add` gets what the operator types: a plain line (profile name, tenant, client
//! id), a secret read without echo, or a secret piped on standard input. [`Input`] is the seam:
//! [`TerminalInput`] is the real terminal, [`ScriptedInput`] answers from memory so tests run
//! in-process without a terminal.
//!
//! Depends on nothing else in the crate. Never prints or logs a secret; a secret is held in
//! zeroized buffers until it becomes a `SecretString`.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, IsTerminal, Write};

use secrecy::SecretString;
use secrecy::zeroize::Zeroizing;

use crate::secret::MAX_SECRET_BYTES;

/// Why a line or a secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// Reading from the terminal or standard input failed.
    #[error("cannot read {what}: {source}")]
    Io {
        /// What was being read ("the secret from standard input", ...).
        what: &'static str,
        /// Why.
        source: io::Error,
    },
    /// Standard input ended before anything was read.
    #[error("{what} is empty")]
    Empty {
        /// What was being read.
        what: &'static str,
    },
    /// The input is too large to be what was asked for.
    #[error("{what} is larger than {MAX_SECRET_BYTES} bytes")]
    TooLarge {
        /// What was being read.
        what: &'static str,
    },
    /// The input is not valid UTF-8.
    #[error("{what} is not valid UTF-8")]
    NotUtf8 {
        /// What was being read.
        what: &'static str,
    },
}

/// What `creds add` reads from the operator.
pub trait Input: Send {
    /// True when a person is at a terminal to answer prompts.
    fn is_interactive(&self) -> bool;

    /// Shows `prompt` and reads one line (without its newline, surrounding blanks trimmed).
    fn read_line(&mut self, prompt: &str) -> Result<String, InputError>;

    /// Shows `prompt` and reads a secret without echoing it.
    fn read_hidden(&mut self, prompt: &str) -> Result<SecretString, InputError>;

    /// Reads the first line of standard input as the secret (`--secret-stdin`); the trailing
    /// newline is removed and an empty line is an error.
    fn read_piped_secret(&mut self) -> Result<SecretString, InputError>;
}

/// The process's terminal and standard input.
#[derive(Debug, Default, Clone, Copy)]
pub struct TerminalInput;

impl Input for TerminalInput {
    fn is_interactive(&self) -> bool {
        io::stdin().is_terminal()
    }

    fn read_line(&mut self, prompt: &str) -> Result<String, InputError> {
        let what = "an answer from the terminal";
        let io_error = |source| InputError::Io { what, source };
        let mut stderr = io::stderr().lock();
        write!(stderr, "{prompt}").map_err(io_error)?;
        stderr.flush().map_err(io_error)?;
        let mut line = String::new();
        let read = io::stdin().lock().read_line(&mut line).map_err(io_error)?;
        if read == 0 {
            return Err(InputError::Empty { what });
        }
        Ok(line.trim().to_owned())
    }

    fn read_hidden(&mut self, prompt: &str) -> Result<SecretString, InputError> {
        let what = "the secret from the terminal";
        // rpassword reads from the controlling terminal with echo off and restores it after.
        let typed = Zeroizing::new(
            rpassword::prompt_password(prompt).map_err(|source| InputError::Io { what, source })?,
        );
        secret_from_line(typed.as_bytes(), what)
    }

    fn read_piped_secret(&mut self) -> Result<SecretString, InputError> {
        let what = "the secret from standard input";
        let mut line = Zeroizing::new(Vec::new());
        let stdin = io::stdin().lock();
        // One byte past the limit tells "too large" from "exactly at the limit".
        let mut bounded = io::Read::take(stdin, MAX_SECRET_BYTES as u64 + 1);
        bounded
            .read_until(b'\n', &mut line)
            .map_err(|source| InputError::Io { what, source })?;
        secret_from_line(&line, what)
    }
}

/// One line as a secret: at most [`MAX_SECRET_BYTES`], UTF-8, one trailing `\n` or `\r\n`
/// removed, not empty. Inner and surrounding spaces are kept: they may be part of the secret.
fn secret_from_line(raw: &[u8], what: &'static str) -> Result<SecretString, InputError> {
    if raw.len() > MAX_SECRET_BYTES {
        return Err(InputError::TooLarge { what });
    }
    let line = raw
        .strip_suffix(b"\n")
        .map(|rest| rest.strip_suffix(b"\r").unwrap_or(rest))
        .unwrap_or(raw);
    if line.is_empty() {
        return Err(InputError::Empty { what });
    }
    std::str::from_utf8(line)
        .map(SecretString::from)
        .map_err(|_| InputError::NotUtf8 { what })
}

/// Answers from memory, for tests and embedding: queued lines for prompts, a queued hidden
/// secret, and bytes standing for standard input. Records every prompt shown.
#[derive(Default)]
pub struct ScriptedInput {
    interactive: bool,
    lines: VecDeque<String>,
    hidden: VecDeque<SecretString>,
    stdin: Zeroizing<Vec<u8>>,
    prompts: Vec<String>,
}

impl fmt::Debug for ScriptedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScriptedInput")
            .field("interactive", &self.interactive)
            .field("lines", &self.lines)
            .field("hidden", &format_args!("[{} redacted]", self.hidden.len()))
            .field("stdin", &format_args!("[{} bytes]", self.stdin.len()))
            .finish_non_exhaustive()
    }
}

impl ScriptedInput {
    /// No terminal and empty standard input: what a script or CI job sees.
    pub fn non_interactive() -> Self {
        Self::default()
    }

    /// A person at a terminal, who will type these answers to the prompts in order.
    pub fn interactive<I, S>(lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            interactive: true,
            lines: lines.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Adds a secret the person will type at the no-echo prompt.
    pub fn with_hidden(mut self, secret: SecretString) -> Self {
        self.hidden.push_back(secret);
        self
    }

    /// Sets what standard input holds.
    pub fn with_stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Zeroizing::new(bytes.into());
        self
    }

    /// Every prompt shown so far, in order.
    pub fn prompts(&self) -> &[String] {
        &self.prompts
    }
}

impl Input for ScriptedInput {
    fn is_interactive(&self) -> bool {
        self.interactive
    }

    fn read_line(&mut self, prompt: &str) -> Result<String, InputError> {
        self.prompts.push(prompt.to_owned());
        self.lines
            .pop_front()
            .map(|line| line.trim().to_owned())
            .ok_or(InputError::Empty {
                what: "an answer from the terminal",
            })
    }

    fn read_hidden(&mut self, prompt: &str) -> Result<SecretString, InputError> {
        self.prompts.push(prompt.to_owned());
        self.hidden.pop_front().ok_or(InputError::Empty {
            what: "the secret from the terminal",
        })
    }

    fn read_piped_secret(&mut self) -> Result<SecretString, InputError> {
        let end = self
            .stdin
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.stdin.len(), |newline| newline + 1);
        let line = self.stdin.get(..end).unwrap_or_default();
        secret_from_line(line, "the secret from standard input")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn one_trailing_newline_is_removed_and_blanks_are_kept() {
        for (raw, expected) in [
            (&b"abc\n"[..], "abc"),
            (b"abc\r\n", "abc"),
            (b"abc", "abc"),
            (b" a b \n", " a b "),
        ] {
            let secret = secret_from_line(raw, "test").unwrap();
            assert_eq!(secret.expose_secret(), expected, "{raw:?}");
        }
    }

    #[test]
    fn empty_oversized_and_non_utf8_lines_are_refused() {
        for raw in [&b""[..], b"\n", b"\r\n"] {
            assert!(matches!(
                secret_from_line(raw, "t"),
                Err(InputError::Empty { .. })
            ));
        }
        let big = vec![b'a'; MAX_SECRET_BYTES + 1];
        assert!(matches!(
            secret_from_line(&big, "t"),
            Err(InputError::TooLarge { .. })
        ));
        assert!(matches!(
            secret_from_line(&[0xff, b'\n'], "t"),
            Err(InputError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn scripted_stdin_yields_only_the_first_line() {
        let mut input = ScriptedInput::non_interactive().with_stdin("first\nsecond\n");
        assert_eq!(input.read_piped_secret().unwrap().expose_secret(), "first");
        let mut empty = ScriptedInput::non_interactive();
        assert!(matches!(
            empty.read_piped_secret(),
            Err(InputError::Empty { .. })
        ));
    }

    #[test]
    fn scripted_debug_hides_the_secrets() {
        let input = ScriptedInput::interactive(["a"])
            .with_hidden(SecretString::from("hunter2-secret"))
            .with_stdin("piped-secret\n");
        let debug = format!("{input:?}");
        assert!(
            !debug.contains("hunter2") && !debug.contains("piped"),
            "{debug}"
        );
    }
}
