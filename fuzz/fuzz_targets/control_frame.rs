//! The control socket's frame decoder on arbitrary bytes, three ways: the input as one line
//! handed to `decode::<ClientFrame>` and `decode::<ServerFrame>`, and as a byte stream through
//! `FrameReader` (newlines, invalid UTF-8, lines that never end, reads split anywhere). Nothing
//! may panic; every outcome is a frame or a `FrameError`; a decoded frame encodes again into a
//! line the other side reads back; and the stream reaches `Closed` after at most one answer per
//! line.
//!
//! A line past `MAX_FRAME_BYTES` is not generated here: past the limit the reader refuses it
//! and ends the stream whatever the bytes were, so every such input would cost 8 MiB of
//! scanning (about 18 ms, two hundred ordinary inputs) to reach the same branch. The codec's
//! unit tests and `tests/control_server.rs` pin that refusal.
//!
//! Owns the harness only: it depends on `pilotwatch::control`'s public codec and protocol, and
//! on no runtime (the reader is in memory, so its futures are polled directly, never parked).
#![no_main]

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use libfuzzer_sys::fuzz_target;
use pilotwatch::control::codec::FrameReader;
use pilotwatch::control::protocol::{ClientFrame, FrameError, ServerFrame, decode, encode};
use tokio::io::{AsyncRead, ReadBuf};

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        client_frames_round_trip(line);
        server_frames_cross_back(line);
    }
    read_the_stream(data);
});

/// A client frame that decodes is one the client could have sent: encoding it gives a line that
/// decodes to the same frame (compared by its encoding, the frames having no `PartialEq`).
fn client_frames_round_trip(line: &str) {
    let Ok(frame) = decode::<ClientFrame>(line) else {
        return;
    };
    let Ok(encoded) = encode(&frame) else {
        panic!("a decoded client frame does not encode: {frame:?}");
    };
    let again = match decode::<ClientFrame>(encoded.trim_end()) {
        Ok(again) => again,
        Err(error) => panic!("{encoded:?} does not decode back: {error}"),
    };
    let Ok(reencoded) = encode(&again) else {
        panic!("a re-decoded client frame does not encode: {again:?}");
    };
    assert_eq!(
        encoded, reencoded,
        "a client frame changed crossing the wire"
    );
}

/// A server frame that decodes encodes into a line a client reads back (by value it may differ
/// in the last bit of a float, which serde_json parses best-effort).
fn server_frames_cross_back(line: &str) {
    let Ok(frame) = decode::<ServerFrame>(line) else {
        return;
    };
    let Ok(encoded) = encode(&frame) else {
        panic!("a decoded server frame does not encode: {frame:?}");
    };
    if let Err(error) = decode::<ServerFrame>(encoded.trim_end()) {
        panic!("{encoded:?} does not decode back: {error}");
    }
}

/// Reads `data` to its end as client frames. Each read consumes a line (or what is left after the
/// last newline) or finds the end, so `Closed` comes within one answer per line and one more.
fn read_the_stream(data: &[u8]) {
    let mut reader = FrameReader::new(Stream { rest: data });
    let bound = data.iter().filter(|&&byte| byte == b'\n').count() + 2;
    for _ in 0..bound {
        match now(reader.next::<ClientFrame>()) {
            Err(FrameError::Closed) => return,
            Err(FrameError::Io(error)) => panic!("an in-memory stream failed: {error}"),
            Ok(_) | Err(FrameError::Malformed(_) | FrameError::TooLarge { .. }) => {}
        }
    }
    panic!("no end of stream after {bound} frames");
}

/// Polls a future that cannot wait (everything it reads is in memory) to its answer.
fn now<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("reading an in-memory stream waited"),
    }
}

/// The input as a peer might send it, in reads whose sizes the bytes themselves choose (so a
/// line, a UTF-8 sequence or the newline after it arrives split at any point).
struct Stream<'a> {
    rest: &'a [u8],
}

impl AsyncRead for Stream<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // 1 to 64 bytes, by the first byte of what is left.
        let chunk = self
            .rest
            .first()
            .map_or(0, |&byte| usize::from(byte & 0x3f) + 1);
        let take = chunk.min(self.rest.len()).min(buf.remaining());
        let (head, tail) = self.rest.split_at(take);
        buf.put_slice(head);
        self.rest = tail;
        Poll::Ready(Ok(()))
    }
}
