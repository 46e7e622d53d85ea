//! [`SecretError`]: why a secret could not be loaded or stored, each variant naming the source
//! and the fix. Depends on nothing else in the crate.

use std::io;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use super::{MAX_SECRET_BYTES, stderr_suffix};

/// Why a secret could not be loaded or stored. No variant ever carries the secret, a command's
/// standard output, or an environment variable's value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The secret file does not exist.
    #[error("secret file {} does not exist; create it (mode 600) or point the profile at the right file", path.display())]
    FileMissing {
        /// The file.
        path: PathBuf,
    },
    /// The secret path is a symbolic link; the permission check must see the real file.
    #[error("secret file {} is a symbolic link to {}; point the profile at the file itself", path.display(), target.display())]
    FileIsSymlink {
        /// The link.
        path: PathBuf,
        /// Where it points.
        target: PathBuf,
    },
    /// The secret path is a directory, socket, device or FIFO.
    #[error("secret file {} is not a regular file; point the profile at a regular file", path.display())]
    FileNotRegular {
        /// The path.
        path: PathBuf,
    },
    /// Group or others may access the file (ssh refuses such keys for the same reason).
    #[error("secret file {} is readable or writable by group or others (mode {mode:04o}); run: chmod 600 {}", path.display(), path.display())]
    FileTooOpen {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file or the command output is too large to be a client secret.
    #[error(
        "secret from {source_desc} is larger than {MAX_SECRET_BYTES} bytes; it is not a client secret"
    )]
    TooLarge {
        /// The source, as [`SecretSource`]'s `Display` describes it.
        source_desc: String,
    },
    /// The secret is not valid UTF-8.
    #[error("secret from {source_desc} is not valid UTF-8")]
    NotUtf8 {
        /// The source, as [`SecretSource`]'s `Display` describes it.
        source_desc: String,
    },
    /// The secret is empty (after removing one trailing newline).
    #[error("secret from {source_desc} is empty")]
    Empty {
        /// The source, as [`SecretSource`]'s `Display` describes it.
        source_desc: String,
    },
    /// Reading, writing or creating a file failed.
    #[error("{action} {}: {error}", path.display())]
    Io {
        /// What was being done ("could not read secret file", ...).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        error: io::Error,
    },
    /// The environment variable is not set.
    #[error("environment variable {var} is not set; export it or choose another secret source")]
    EnvUnset {
        /// The variable's name.
        var: String,
    },
    /// The environment variable is set but empty.
    #[error("environment variable {var} is set but empty")]
    EnvEmpty {
        /// The variable's name.
        var: String,
    },
    /// The environment variable's value is not valid UTF-8.
    #[error("environment variable {var} is not valid UTF-8")]
    EnvNotUnicode {
        /// The variable's name.
        var: String,
    },
    /// A command source with no program.
    #[error("secret command is empty; give at least the program to run")]
    CommandEmpty,
    /// The program could not be started.
    #[error("could not run secret command `{program}`: {error}")]
    CommandSpawn {
        /// The program (never its arguments).
        program: String,
        /// The operating system's reason.
        #[source]
        error: io::Error,
    },
    /// The command exited unsuccessfully.
    #[error(
        "secret command `{program}` failed ({status}){}",
        stderr_suffix(stderr)
    )]
    CommandFailed {
        /// The program (never its arguments).
        program: String,
        /// How it ended.
        status: ExitStatus,
        /// The first line of its standard error, at most 200 characters.
        stderr: String,
    },
    /// The command ran longer than the timeout and was killed.
    #[error("secret command `{program}` did not finish within {}; it was killed", humantime::format_duration(*timeout))]
    CommandTimeout {
        /// The program (never its arguments).
        program: String,
        /// The limit it exceeded.
        timeout: Duration,
    },
    /// Waiting for the command failed.
    #[error("could not wait for secret command `{program}`: {error}")]
    CommandWait {
        /// The program (never its arguments).
        program: String,
        /// The operating system's reason.
        #[source]
        error: io::Error,
    },
    /// The blocking task that loads the secret stopped without an answer (a bug or a
    /// shutting-down runtime, reported rather than unwrapped).
    #[error("the secret loader stopped unexpectedly: {reason}")]
    LoaderStopped {
        /// The task's failure.
        reason: String,
    },
    /// A profile name that cannot become a file name.
    #[error("profile name {name:?} is invalid: use 1 to 64 letters, digits, '-' or '_'")]
    InvalidProfileName {
        /// The rejected name.
        name: String,
    },
}
