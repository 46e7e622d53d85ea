//! Where a profile's client secret comes from, and how it is kept secret: a 0600 file under the
//! XDG data directory, an environment variable, or a command whose standard output is the secret
//! (pass, vault, systemd credentials). Secrets are `secrecy` types from the moment they are read;
//! they never reach logs, `Debug`, error messages or argv.
//!
//! Depends on nothing else in the crate.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

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
