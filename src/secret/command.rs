//! Secret commands (pass, vault, systemd credentials): run without a shell, stdin closed, a
//! deadline enforced; standard output is the secret, standard error only ever quoted in errors.
//!
//! Part of `secret`; depends on nothing else in the crate.

use std::io::{self, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use secrecy::zeroize::Zeroizing;

use super::{SecretError, read_bounded, secret_from_bytes};

/// The longest stderr excerpt quoted in an error.
const STDERR_EXCERPT_CHARS: usize = 200;

/// How often a running secret command is polled for completion.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Runs the command without a shell, stdin closed, and takes its standard output as the secret.
/// Only the direct child is killed on timeout: a grandchild still holding the pipes is
/// abandoned rather than waited for, so the caller never waits past the limit. (The child is not
/// moved to its own process group, which would let the group be killed, because tools such as
/// `pass` may need the terminal for a pinentry.)
pub(super) fn load_command(
    argv: &[String],
    timeout: Duration,
) -> Result<SecretString, SecretError> {
    let (program, args) = argv.split_first().ok_or(SecretError::CommandEmpty)?;
    let deadline = Instant::now() + timeout;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| SecretError::CommandSpawn {
            program: program.clone(),
            error,
        })?;
    let stdout = child.stdout.take().map(|pipe| spawn_reader(pipe, true));
    let stderr = child.stderr.take().map(|pipe| spawn_reader(pipe, false));
    let timed_out = || SecretError::CommandTimeout {
        program: program.clone(),
        timeout,
    };
    let status = match wait_until(&mut child, deadline) {
        Ok(Some(status)) => status,
        Ok(None) => {
            kill_and_reap(&mut child);
            return Err(timed_out());
        }
        Err(error) => {
            kill_and_reap(&mut child);
            return Err(SecretError::CommandWait {
                program: program.clone(),
                error,
            });
        }
    };
    let stdout = match stdout.map(|rx| receive_until(&rx, deadline)) {
        Some(Some(output)) => output,
        Some(None) => return Err(timed_out()),
        None => ReadOutcome::Bytes(Zeroizing::new(Vec::new())),
    };
    let source_desc = format!("command `{program}`");
    if !status.success() {
        let stderr = match stderr.map(|rx| receive_until(&rx, deadline)) {
            Some(Some(ReadOutcome::Bytes(bytes))) => first_line_excerpt(&bytes),
            _ => String::new(),
        };
        // A failing command may still have printed the secret, and echo it on stderr.
        let stderr = match &stdout {
            ReadOutcome::Bytes(out) => redact_bytes(&stderr, out),
            _ => stderr,
        };
        return Err(SecretError::CommandFailed {
            program: program.clone(),
            status,
            stderr,
        });
    }
    match stdout {
        ReadOutcome::Bytes(bytes) => secret_from_bytes(bytes, &source_desc),
        ReadOutcome::TooLarge => Err(SecretError::TooLarge { source_desc }),
        ReadOutcome::Failed(error) => Err(SecretError::CommandWait {
            program: program.clone(),
            error,
        }),
    }
}

/// What a pipe reader thread produced.
enum ReadOutcome {
    Bytes(Zeroizing<Vec<u8>>),
    TooLarge,
    Failed(io::Error),
}

/// Reads a pipe on its own thread so that neither pipe can fill up and block the child.
/// Standard output is bounded; standard error is read to the same bound and then drained.
fn spawn_reader(pipe: impl Read + Send + 'static, bounded: bool) -> mpsc::Receiver<ReadOutcome> {
    let (tx, rx) = mpsc::sync_channel(1);
    thread::spawn(move || {
        let mut pipe = pipe;
        let outcome = match read_bounded(&mut pipe) {
            Ok(Some(bytes)) => ReadOutcome::Bytes(bytes),
            Ok(None) if bounded => ReadOutcome::TooLarge,
            Ok(None) => ReadOutcome::Bytes(Zeroizing::new(Vec::new())),
            Err(error) => ReadOutcome::Failed(error),
        };
        if !bounded {
            let _ = io::copy(&mut pipe, &mut io::sink());
        }
        let _ = tx.send(outcome);
    });
    rx
}

fn receive_until(rx: &mpsc::Receiver<ReadOutcome>, deadline: Instant) -> Option<ReadOutcome> {
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .ok()
}

fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        thread::sleep(left.min(POLL_INTERVAL));
    }
}

fn kill_and_reap(child: &mut Child) {
    // Both can only fail if the child already exited and was reaped, which is the goal.
    let _ = child.kill();
    let _ = child.wait();
}

/// The first line of `bytes`, lossily decoded, at most [`STDERR_EXCERPT_CHARS`] characters.
fn first_line_excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    line.trim().chars().take(STDERR_EXCERPT_CHARS).collect()
}

fn redact_bytes(text: &str, secret: &[u8]) -> String {
    let trimmed = secret
        .strip_suffix(b"\n")
        .map(|s| s.strip_suffix(b"\r").unwrap_or(s))
        .unwrap_or(secret);
    match std::str::from_utf8(trimmed) {
        Ok(s) if !s.is_empty() => text.replace(s, "***"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_excerpt_is_the_first_non_blank_line_truncated() {
        assert_eq!(
            first_line_excerpt(b"\n  error: denied  \nmore"),
            "error: denied"
        );
        let long = "x".repeat(500);
        assert_eq!(first_line_excerpt(long.as_bytes()).chars().count(), 200);
        assert_eq!(first_line_excerpt(b""), "");
        assert_eq!(
            redact_bytes("token abc was rejected", b"abc\r\n"),
            "token *** was rejected"
        );
    }
}
