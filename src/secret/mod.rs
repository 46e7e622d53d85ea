//! Where a profile's client secret comes from, and how it is kept secret: a 0600 file under the
//! XDG data directory, an environment variable, or a command whose standard output is the secret
//! (pass, vault, systemd credentials). Secrets are `secrecy` types from the moment they are read;
//! they never reach logs, `Debug`, error messages or argv.
//!
//! Loading is blocking (`std::fs`, `std::process`): async callers use
//! [`SecretSource::load_off_runtime`]. Every error names the source and the fix, never the secret nor
//! a command's standard output.
//!
//! Depends on nothing else in the crate.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::zeroize::{Zeroize, Zeroizing};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use command::load_command;
use file::load_file;

mod command;
mod error;
mod file;
mod off_runtime;

pub use error::SecretError;
pub use file::{default_secret_path, store_secret_file};

/// Where a profile's client secret is read from. The configuration file names the source,
/// never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SecretSource {
    /// A file readable by its owner only (mode 0600), as ssh insists for keys.
    File {
        /// The file.
        path: PathBuf,
    },
    /// An environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// A command run without a shell; its standard output (one trailing newline removed) is
    /// the secret.
    Command {
        /// Program and arguments.
        argv: Vec<String>,
    },
}

/// How long a secret command may run before it is killed.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest secret file or command output accepted; a client secret is about 40 bytes, so
/// anything bigger is the wrong file or a chatty command.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

impl fmt::Display for SecretSource {
    /// Describes the source without the secret: the file path, the variable's name, or the
    /// command's program only (arguments may carry tokens).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { path } => write!(f, "file {}", path.display()),
            Self::Env { var } => write!(f, "environment variable {var}"),
            Self::Command { argv } => match argv.first() {
                Some(program) => write!(f, "command `{program}`"),
                None => f.write_str("empty command"),
            },
        }
    }
}

impl SecretSource {
    /// Reads the secret. Blocking (file I/O, or a command of up to [`COMMAND_TIMEOUT`]): async
    /// callers run it in `tokio::task::spawn_blocking`.
    pub fn load(&self) -> Result<SecretString, SecretError> {
        self.load_with_timeout(COMMAND_TIMEOUT)
    }

    /// [`SecretSource::load`] with a chosen limit for command sources (the other sources ignore it).
    pub fn load_with_timeout(&self, timeout: Duration) -> Result<SecretString, SecretError> {
        match self {
            Self::File { path } => load_file(path),
            Self::Env { var } => load_env(var, |name| std::env::var_os(name)),
            Self::Command { argv } => load_command(argv, timeout),
        }
    }
}

/// Reads at most [`MAX_SECRET_BYTES`]; `None` when there was more.
fn read_bounded(reader: impl Read) -> io::Result<Option<Zeroizing<Vec<u8>>>> {
    let mut bytes = Zeroizing::new(Vec::new());
    reader
        .take(MAX_SECRET_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok((bytes.len() <= MAX_SECRET_BYTES).then_some(bytes))
}

/// Turns raw bytes into the secret: UTF-8, one trailing newline (`\n` or `\r\n`) removed, not
/// empty. Every intermediate buffer is wiped.
fn secret_from_bytes(
    mut bytes: Zeroizing<Vec<u8>>,
    source_desc: &str,
) -> Result<SecretString, SecretError> {
    let len = bytes.len();
    if bytes.ends_with(b"\r\n") {
        bytes.truncate(len - 2);
    } else if bytes.ends_with(b"\n") {
        bytes.truncate(len - 1);
    }
    if bytes.is_empty() {
        return Err(SecretError::Empty {
            source_desc: source_desc.to_owned(),
        });
    }
    // Copied into an exactly sized allocation, so no reallocation leaves an unwiped copy behind;
    // `bytes` is wiped when dropped.
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(SecretString::from(text)),
        Err(_) => Err(SecretError::NotUtf8 {
            source_desc: source_desc.to_owned(),
        }),
    }
}

fn load_env(
    var: &str,
    lookup: impl FnOnce(&str) -> Option<OsString>,
) -> Result<SecretString, SecretError> {
    let value = lookup(var).ok_or_else(|| SecretError::EnvUnset {
        var: var.to_owned(),
    })?;
    if value.is_empty() {
        return Err(SecretError::EnvEmpty {
            var: var.to_owned(),
        });
    }
    match value.into_string() {
        Ok(mut text) => {
            let secret = SecretString::from(text.as_str());
            text.zeroize();
            Ok(secret)
        }
        Err(raw) => {
            raw.into_vec().zeroize();
            Err(SecretError::EnvNotUnicode {
                var: var.to_owned(),
            })
        }
    }
}

/// The first three characters of the secret, as the Azure portal shows them, so a user can tell
/// which secret is configured. Secrets shorter than 8 characters get an empty hint, because three
/// characters would give most of them away.
pub fn hint(secret: &SecretString) -> String {
    let value = secret.expose_secret();
    if value.chars().count() < 8 {
        return String::new();
    }
    value.chars().take(3).collect()
}

/// True when the value is shaped like a GUID: the classic mistake of pasting the secret's
/// "Secret ID" column from the portal instead of its "Value".
pub fn looks_like_secret_id(secret: &SecretString) -> bool {
    uuid::Uuid::try_parse(secret.expose_secret().trim()).is_ok()
}

/// Replaces every occurrence of the secret in `text` with `***`: a last line of defence before
/// anything is printed or logged.
pub fn redact(text: &str, secret: &SecretString) -> String {
    let value = secret.expose_secret();
    if value.is_empty() {
        text.to_owned()
    } else {
        text.replace(value, "***")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::path::Path;

    fn secret(value: &str) -> SecretString {
        SecretString::from(value)
    }

    #[test]
    fn hint_shows_three_characters_of_long_secrets_only() {
        assert_eq!(hint(&secret("Abc8Q~longsecretvalue")), "Abc");
        assert_eq!(hint(&secret("ÄÖÜ8Q~longsecret")), "ÄÖÜ");
        assert_eq!(hint(&secret("short")), "");
    }

    #[test]
    fn secret_ids_are_recognised_in_every_guid_form() {
        let id = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert!(looks_like_secret_id(&secret(id)));
        assert!(looks_like_secret_id(&secret(&format!(" {id}\t"))));
        assert!(looks_like_secret_id(&secret(&id.to_uppercase())));
        assert!(looks_like_secret_id(&secret(&id.replace('-', ""))));
        assert!(!looks_like_secret_id(&secret(
            "Xyz8Q~aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
        )));
        assert!(!looks_like_secret_id(&secret(&id[..30])));
    }

    #[test]
    fn redact_replaces_every_occurrence() {
        let s = secret("hunter2");
        assert_eq!(
            redact("a hunter2 b hunter2hunter2 c", &s),
            "a *** b ****** c"
        );
        assert_eq!(redact("nothing here", &s), "nothing here");
        assert_eq!(redact("text", &secret("")), "text");
    }

    #[test]
    fn one_trailing_newline_is_removed() {
        let cases = [
            (&b"abc\n"[..], "abc"),
            (b"abc\r\n", "abc"),
            (b"abc\n\n", "abc\n"),
            (b"abc", "abc"),
            (b" abc \n", " abc "),
        ];
        for (raw, expected) in cases {
            let loaded = secret_from_bytes(Zeroizing::new(raw.to_vec()), "test").unwrap();
            assert_eq!(loaded.expose_secret(), expected, "{raw:?}");
        }
    }

    #[test]
    fn empty_and_non_utf8_secrets_are_refused() {
        for raw in [&b""[..], b"\n", b"\r\n"] {
            let error = secret_from_bytes(Zeroizing::new(raw.to_vec()), "file x").unwrap_err();
            assert!(matches!(error, SecretError::Empty { .. }), "{raw:?}");
            assert_eq!(error.to_string(), "secret from file x is empty");
        }
        let error = secret_from_bytes(Zeroizing::new(vec![0xff, 0xfe]), "file x").unwrap_err();
        assert!(matches!(error, SecretError::NotUtf8 { .. }));
    }

    #[test]
    fn env_lookup_distinguishes_unset_empty_and_non_unicode() {
        let unset = load_env("PW_SECRET", |_| None).unwrap_err();
        assert!(matches!(unset, SecretError::EnvUnset { .. }));
        assert!(unset.to_string().contains("PW_SECRET is not set"));

        let empty = load_env("PW_SECRET", |_| Some(OsString::new())).unwrap_err();
        assert!(matches!(empty, SecretError::EnvEmpty { .. }));
        assert!(empty.to_string().contains("PW_SECRET"));

        use std::os::unix::ffi::OsStringExt;
        let bad = load_env("PW_SECRET", |_| {
            Some(OsString::from_vec(vec![b's', 0xff, b'x']))
        })
        .unwrap_err();
        assert!(matches!(bad, SecretError::EnvNotUnicode { .. }));

        let good = load_env("PW_SECRET", |name| {
            assert_eq!(name, "PW_SECRET");
            Some(OsString::from("s3cr3t-value"))
        })
        .unwrap();
        assert_eq!(good.expose_secret(), "s3cr3t-value");
    }

    #[test]
    fn display_names_the_source_without_arguments() {
        let file = SecretSource::File {
            path: PathBuf::from("/home/u/.local/share/pilotwatch/secrets/prod.secret"),
        };
        assert_eq!(
            file.to_string(),
            "file /home/u/.local/share/pilotwatch/secrets/prod.secret"
        );
        let env = SecretSource::Env {
            var: "PILOTWATCH_SECRET".into(),
        };
        assert_eq!(env.to_string(), "environment variable PILOTWATCH_SECRET");
        let command = SecretSource::Command {
            argv: vec!["vault".into(), "--token=tok3n".into(), "kv".into()],
        };
        assert_eq!(command.to_string(), "command `vault`");
        assert!(!command.to_string().contains("tok3n"));
        let empty = SecretSource::Command { argv: vec![] };
        assert_eq!(empty.to_string(), "empty command");
    }

    #[test]
    fn profile_names_cannot_escape_the_secrets_directory() {
        let data = Path::new("/data/pilotwatch");
        assert_eq!(
            default_secret_path(data, "prod-eu_2").unwrap(),
            PathBuf::from("/data/pilotwatch/secrets/prod-eu_2.secret")
        );
        assert!(default_secret_path(data, &"a".repeat(64)).is_ok());
        for bad in ["", "../x", "a/b", "a.b", "é", " a", &"a".repeat(65)] {
            let error = default_secret_path(data, bad).unwrap_err();
            assert!(
                matches!(error, SecretError::InvalidProfileName { .. }),
                "{bad:?}"
            );
        }
    }
}
