//! The `[control]` section: who besides the collector's own user may send commands through
//! its control socket. Optional; without it only the collector's user (and root) may write,
//! everyone else who can open the socket reads.
//!
//! Plain data; depends on serde only (the group is resolved to a gid by `control::access`).

use serde::{Deserialize, Serialize};

/// The control socket's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlConfig {
    /// Members of this group may write through the socket, and the socket (0660) and its
    /// directory (0750) belong to it (`pilotwatch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl ControlConfig {
    /// Whether nothing is set (the section is then left out when saving).
    pub fn is_default(&self) -> bool {
        self == &Self::default()
    }
}
