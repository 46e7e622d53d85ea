//! The wire format, pinned: literal frames as a peer would type them, round trips of every
//! frame kind, refusals of what must not cross, and a bounded storm of malformed input that
//! must come back as errors, never as a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::*;
use crate::console::{ExportFormat, ProfileDraft};
use crate::store::records::{EventKind, KeeperAction, Outcome};

fn hello() -> ClientFrame {
    ClientFrame::Hello(Hello {
        version: PROTOCOL_VERSION,
        client: "pilotwatch test".into(),
        readonly: true,
    })
}

#[test]
fn frames_read_as_documented() {
    let line = encode(&hello()).unwrap();
    assert_eq!(
        line,
        "{\"hello\":{\"version\":1,\"client\":\"pilotwatch test\",\"readonly\":true}}\n"
    );
    let request: ClientFrame = decode(r#"{"request":{"id":7,"request":"snapshot"}}"#).unwrap();
    assert!(matches!(
        request,
        ClientFrame::Request {
            id: 7,
            request: WireRequest::Snapshot
        }
    ));
    let command: ClientFrame = decode(
        r#"{"request":{"id":8,"request":{"command":{"command":"renew","profile":"contoso","subscription":"s-1"}}}}"#,
    )
    .unwrap();
    let ClientFrame::Request {
        request: WireRequest::Command(command),
        ..
    } = command
    else {
        panic!("a command");
    };
    assert_eq!(
        command,
        WireCommand::Renew {
            profile: "contoso".into(),
            subscription: "s-1".into()
        }
    );
    assert!(Command::from(command).writes());
}

#[test]
fn every_server_frame_survives_the_wire() {
    let frames = [
        ServerFrame::Welcome(Welcome {
            version: PROTOCOL_VERSION,
            pid: 42,
            access: Access::ReadOnly,
            reason: "read-only: you asked".into(),
        }),
        ServerFrame::Reply {
            id: 3,
            result: Ok(WireAnswer::Command(CommandOutcome::done("renewed"))),
        },
        ServerFrame::Reply {
            id: 4,
            result: Err(ConsoleError::Refused("read-only".into())),
        },
        ServerFrame::Reply {
            id: 5,
            result: Ok(WireAnswer::Feed(FeedPage::default())),
        },
        ServerFrame::Lagged { missed: 12 },
        ServerFrame::Bye {
            reason: "protocol version 2 is not spoken here".into(),
        },
    ];
    for frame in frames {
        let line = encode(&frame).unwrap();
        assert!(line.ends_with('\n') && !line.trim_end().contains('\n'));
        let back: ServerFrame = decode(line.trim_end()).unwrap();
        assert_eq!(encode(&back).unwrap(), line, "{frame:?}");
    }
}

#[test]
fn updates_cross_and_come_back_the_same() {
    let event = Event {
        at: "2026-11-22T08:00:00Z".parse().unwrap(),
        profile: "contoso".into(),
        kind: EventKind::keeper(KeeperAction::Renew, Outcome::Succeeded),
        message: "renewed".into(),
    };
    let wire = WireUpdate::from(&Update::Keeper(event.clone()));
    let line = encode(&ServerFrame::Update(wire)).unwrap();
    let ServerFrame::Update(back) = decode(line.trim_end()).unwrap() else {
        panic!("an update");
    };
    assert!(matches!(Update::from(back), Update::Keeper(e) if e == event));
}

#[test]
fn commands_that_must_not_cross_the_socket_are_refused_with_the_way_round() {
    let export = Command::Export {
        filter: FeedFilter::default(),
        format: ExportFormat::Csv,
        path: "/tmp/x.csv".into(),
    };
    let Err(ConsoleError::Refused(why)) = WireCommand::from_command(export) else {
        panic!("export stays local");
    };
    assert!(why.contains("feed itself"), "{why}");
    let save = Command::SaveProfile {
        draft: ProfileDraft {
            name: "x".into(),
            tenant: "t".into(),
            client_id: "c".into(),
            secret: Some("s3cr3t-value".to_owned().into()),
        },
        force: false,
    };
    let Err(ConsoleError::Refused(why)) = WireCommand::from_command(save) else {
        panic!("profile edits stay on the host");
    };
    assert!(
        why.contains("creds add") && !why.contains("s3cr3t"),
        "{why}"
    );
    let test = WireCommand::from_command(Command::TestCredentials {
        profile: "p".into(),
    })
    .unwrap();
    let test = Command::from(test);
    assert!(!test.writes());
    assert!(matches!(test, Command::TestCredentials { profile } if profile == "p"));
}

#[test]
fn unknown_commands_fields_and_frames_are_malformed() {
    for line in [
        r#"{"request":{"id":1,"request":{"command":{"command":"format-disk"}}}}"#,
        r#"{"request":{"id":1,"request":{"command":{"command":"export","filter":{},"format":"csv","path":"/etc/passwd"}}}}"#,
        r#"{"hello":{"version":1,"client":"x","readonly":false,"admin":true}}"#,
        r#"{"hello":{"version":1,"client":"x"}}"#,
        r#"{"request":{"id":-1,"request":"snapshot"}}"#,
        r#"{"goodbye":{}}"#,
        "[]",
        "",
        "{\"hello\":",
    ] {
        assert!(
            matches!(decode::<ClientFrame>(line), Err(FrameError::Malformed(_))),
            "{line}"
        );
    }
}

#[test]
fn an_oversized_frame_is_refused_before_it_is_parsed() {
    let line = format!("\"{}\"", "a".repeat(MAX_FRAME_BYTES));
    assert!(matches!(
        decode::<ClientFrame>(&line),
        Err(FrameError::TooLarge { .. })
    ));
}

#[test]
fn a_storm_of_malformed_input_yields_errors_never_a_panic() {
    let mut rng = StdRng::seed_from_u64(7);
    let valid = encode(&hello()).unwrap();
    for round in 0..20_000 {
        let line: String = if round % 2 == 0 {
            let len = rng.random_range(0..64);
            (0..len)
                .map(|_| char::from(rng.random_range(0x20u8..0x7f)))
                .collect()
        } else {
            // A valid frame with one byte changed, dropped or doubled.
            let mut bytes = valid.trim_end().as_bytes().to_vec();
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..3) {
                0 => bytes[at] = rng.random_range(0x20u8..0x7f),
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, bytes[at]),
            }
            String::from_utf8_lossy(&bytes).into_owned()
        };
        let _ = decode::<ClientFrame>(&line);
        let _ = decode::<ServerFrame>(&line);
    }
}
