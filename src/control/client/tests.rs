//! The client's pure parts, pinned: where it looks for the socket, what a welcome grants, and
//! how each way attaching fails reads on a status bar.
#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn the_flag_wins_else_the_first_candidate_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sock");
    let present = dir.path().join("present.sock");
    std::fs::write(&present, b"").unwrap();
    let candidates = vec![missing.clone(), present.clone()];
    assert_eq!(discover(None, &candidates), Some(present));
    assert_eq!(discover(Some(&missing), &candidates), Some(missing.clone()));
    assert_eq!(discover(None, std::slice::from_ref(&missing)), None);
}

#[test]
fn only_something_at_the_socket_gives_a_reason_and_only_no_answer_is_silent() {
    let path = PathBuf::from("/run/pilotwatch/control.sock");
    let io = |kind| io::Error::from(kind);
    let absent = AttachError::Absent {
        path: path.clone(),
        source: io(io::ErrorKind::NotFound),
    };
    assert_eq!((absent.reason(), absent.is_silent()), (None, false));
    let cases = [
        (
            AttachError::Dial {
                path: path.clone(),
                source: io(io::ErrorKind::PermissionDenied),
            },
            "cannot connect to its socket: permission denied",
            false,
        ),
        (
            AttachError::Refused {
                path: path.clone(),
                reason: "too many clients (64)".into(),
            },
            "the collector refused us: too many clients (64)",
            false,
        ),
        (
            AttachError::Version {
                path: path.clone(),
                theirs: 2,
                ours: 1,
            },
            "the collector speaks control protocol v2, this pilotwatch v1: run the same \
             version on both sides",
            false,
        ),
        (
            AttachError::Timeout {
                path: path.clone(),
                after: HANDSHAKE_TIMEOUT,
            },
            "the collector did not answer the hello within 5s",
            true,
        ),
        (
            AttachError::Handshake {
                path,
                source: FrameError::Closed,
            },
            "the handshake broke: ",
            true,
        ),
    ];
    for (error, reason, silent) in cases {
        let said = error.reason().unwrap();
        assert!(said.starts_with(reason), "{said:?} for {error:?}");
        assert!(!said.contains("/run/pilotwatch"), "{said:?}");
        assert_eq!(error.is_silent(), silent, "{error:?}");
    }
}

#[test]
fn the_system_socket_comes_before_the_users() {
    let candidates = default_candidates(Some(Path::new("/run/user/1000/pilotwatch")));
    assert_eq!(
        candidates,
        vec![
            PathBuf::from("/run/pilotwatch/control.sock"),
            PathBuf::from("/run/user/1000/pilotwatch/control.sock"),
        ]
    );
    assert_eq!(default_candidates(None).len(), 1);
}

#[test]
fn a_welcome_in_another_version_is_refused_and_access_maps_to_read_write() {
    let path = Path::new("/tmp/x.sock");
    let mut welcome = Welcome {
        version: PROTOCOL_VERSION,
        pid: 7,
        access: Access::ReadOnly,
        reason: "you asked".into(),
    };
    assert_eq!(
        welcomed(path, &welcome).unwrap(),
        Connection::Attached {
            pid: 7,
            read_write: false
        }
    );
    welcome.version = PROTOCOL_VERSION + 1;
    let error = welcomed(path, &welcome).unwrap_err();
    assert!(!error.is_absent());
    assert!(
        error.to_string().contains("speaks control protocol v2"),
        "{error}"
    );
}
