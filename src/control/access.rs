//! Who may change things through the control socket. A client gets read-write access iff it
//! did not ask for read-only AND its peer uid (from `SO_PEERCRED`, never from anything it says)
//! is the collector's own, root's, or a member of the configured control group (as its primary
//! group or a supplementary one). Everyone else who can open the socket reads.
//!
//! [`decide`] is pure: the peer's groups are looked up beforehand ([`Peer::lookup`], the one
//! place that asks the system's user database, via `nix`), so the rule is unit-tested with
//! made-up uids and groups. Depends on the protocol's [`Access`] and `nix` only.

use nix::unistd::{Gid, Group, Uid, User};

use super::protocol::Access;

/// The uid root has everywhere.
const ROOT_UID: u32 = 0;

/// The group whose members may write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlGroup {
    /// Its name, for messages.
    pub name: String,
    /// Its gid.
    pub gid: u32,
}

/// Who may write. `pilotwatch serve` builds it from its own process ([`Self::for_this_process`]);
/// tests build it by hand to play "another uid".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPolicy {
    /// The collector's own uid: its owner always writes.
    pub owner_uid: u32,
    /// Whether uid 0 writes. True in production (root can write to the store anyway); tests
    /// that run as root turn it off to see the refusal an ordinary user gets.
    pub root_writes: bool,
    /// Members of this group write too.
    pub group: Option<ControlGroup>,
}

/// Why the access policy could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The configured group does not exist on this host.
    #[error(
        "the control group {0:?} does not exist on this host (create it with `groupadd {0}` or \
         change [control] group in the configuration)"
    )]
    NoSuchGroup(String),
    /// The user database could not be read.
    #[error("cannot look up group {name:?}: {source}")]
    Lookup {
        /// The group.
        name: String,
        /// Why.
        source: nix::Error,
    },
}

impl AccessPolicy {
    /// This process as the owner, root writing, and members of `group` (by name) writing.
    pub fn for_this_process(group: Option<&str>) -> Result<Self, AccessError> {
        let group = match group {
            None => None,
            Some(name) => {
                let found = Group::from_name(name).map_err(|source| AccessError::Lookup {
                    name: name.to_owned(),
                    source,
                })?;
                let found = found.ok_or_else(|| AccessError::NoSuchGroup(name.to_owned()))?;
                Some(ControlGroup {
                    name: name.to_owned(),
                    gid: found.gid.as_raw(),
                })
            }
        };
        Ok(Self {
            owner_uid: Uid::current().as_raw(),
            root_writes: true,
            group,
        })
    }
}

/// The other end of a connection, as the kernel and the user database describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its uid (`SO_PEERCRED`).
    pub uid: u32,
    /// Its primary gid (`SO_PEERCRED`).
    pub gid: u32,
    /// Its pid, when the kernel gave one.
    pub pid: Option<i32>,
    /// Its user name, or the uid as digits when the user database does not know it.
    pub user: String,
    /// Every group the user belongs to (primary and supplementary, `getgrouplist`).
    pub groups: Vec<u32>,
}

impl Peer {
    /// Completes the kernel's credentials from the user database. Blocking (NSS may ask the
    /// network): call it on the blocking pool. A user the database does not know keeps its
    /// uid as its name and only the kernel's primary gid as its groups.
    pub fn lookup(uid: u32, gid: u32, pid: Option<i32>) -> Self {
        let user = User::from_uid(Uid::from_raw(uid)).ok().flatten();
        let mut groups = vec![gid];
        let name = match user {
            Some(user) => {
                if let Ok(name) = std::ffi::CString::new(user.name.as_bytes())
                    && let Ok(list) = nix::unistd::getgrouplist(&name, user.gid)
                {
                    groups.extend(list.into_iter().map(Gid::as_raw));
                }
                user.name
            }
            None => uid.to_string(),
        };
        groups.sort_unstable();
        groups.dedup();
        Self {
            uid,
            gid,
            pid,
            user: name,
            groups,
        }
    }
}

/// The access `peer` gets when it asked for read-only (`readonly`) or not, and why, in words
/// the client shows ("read-only: uid 1001 (bob) is not in group pilotwatch").
pub fn decide(policy: &AccessPolicy, peer: &Peer, readonly: bool) -> (Access, String) {
    if readonly {
        return (
            Access::ReadOnly,
            "read-only: the client asked for it".into(),
        );
    }
    let who = format!("uid {} ({})", peer.uid, peer.user);
    if peer.uid == policy.owner_uid {
        return (
            Access::ReadWrite,
            format!("read-write: {who} runs the collector"),
        );
    }
    if policy.root_writes && peer.uid == ROOT_UID {
        return (Access::ReadWrite, format!("read-write: {who} is root"));
    }
    match &policy.group {
        Some(group) if peer.groups.contains(&group.gid) || peer.gid == group.gid => (
            Access::ReadWrite,
            format!("read-write: {who} is in group {}", group.name),
        ),
        Some(group) => (
            Access::ReadOnly,
            format!(
                "read-only: {who} is neither the collector's user nor in group {}",
                group.name
            ),
        ),
        None => (
            Access::ReadOnly,
            format!(
                "read-only: {who} is not the collector's user and no [control] group is \
                 configured"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(group: Option<u32>) -> AccessPolicy {
        AccessPolicy {
            owner_uid: 990,
            root_writes: true,
            group: group.map(|gid| ControlGroup {
                name: "pilotwatch".into(),
                gid,
            }),
        }
    }

    fn peer(uid: u32, gid: u32, groups: &[u32]) -> Peer {
        Peer {
            uid,
            gid,
            pid: Some(1),
            user: format!("user{uid}"),
            groups: groups.to_vec(),
        }
    }

    #[test]
    fn the_owner_and_root_write_unless_they_ask_for_read_only() {
        let (access, reason) = decide(&policy(None), &peer(990, 990, &[990]), false);
        assert_eq!(access, Access::ReadWrite);
        assert!(reason.contains("runs the collector"), "{reason}");
        assert_eq!(
            decide(&policy(None), &peer(0, 0, &[0]), false).0,
            Access::ReadWrite
        );
        let (access, reason) = decide(&policy(None), &peer(990, 990, &[990]), true);
        assert_eq!(access, Access::ReadOnly);
        assert!(reason.contains("asked"), "{reason}");
    }

    #[test]
    fn root_reads_when_the_policy_does_not_trust_it() {
        let mut strict = policy(None);
        strict.root_writes = false;
        assert_eq!(
            decide(&strict, &peer(0, 0, &[0]), false).0,
            Access::ReadOnly
        );
    }

    #[test]
    fn group_members_write_by_primary_or_supplementary_group() {
        let with_group = policy(Some(4242));
        assert_eq!(
            decide(&with_group, &peer(1001, 4242, &[]), false).0,
            Access::ReadWrite
        );
        let (access, reason) = decide(&with_group, &peer(1002, 100, &[100, 4242]), false);
        assert_eq!(access, Access::ReadWrite);
        assert!(reason.contains("group pilotwatch"), "{reason}");
    }

    #[test]
    fn others_read_and_are_told_why() {
        let (access, reason) = decide(&policy(Some(4242)), &peer(1003, 100, &[100]), false);
        assert_eq!(access, Access::ReadOnly);
        assert!(reason.contains("uid 1003 (user1003)"), "{reason}");
        assert!(
            reason.contains("neither") && reason.contains("pilotwatch"),
            "{reason}"
        );
        let (access, reason) = decide(&policy(None), &peer(1003, 100, &[100]), false);
        assert_eq!(access, Access::ReadOnly);
        assert!(reason.contains("no [control] group"), "{reason}");
    }

    #[test]
    fn an_unknown_uid_keeps_its_number_as_its_name() {
        let peer = Peer::lookup(3_999_999_999, 4242, None);
        assert_eq!(peer.user, "3999999999");
        assert_eq!(peer.groups, [4242]);
    }
}
