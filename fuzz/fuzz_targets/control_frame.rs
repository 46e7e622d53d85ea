//! The control socket's frame decoder on arbitrary bytes: as a line handed to `decode`, and as
//! a byte stream through `FrameReader` (newlines, invalid UTF-8, endless lines). Nothing may
//! panic; every outcome is a frame or a `FrameError`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pilotwatch::control::codec::FrameReader;
use pilotwatch::control::protocol::{ClientFrame, ServerFrame, decode};

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        let _ = decode::<ClientFrame>(line);
        let _ = decode::<ServerFrame>(line);
    }
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    runtime.block_on(async {
        let mut reader = FrameReader::new(data);
        // Each call consumes at least one line or ends the stream, so this terminates.
        for _ in 0..=data.len() {
            if reader.next::<ClientFrame>().await.is_err_and(|error| {
                matches!(error, pilotwatch::control::protocol::FrameError::Closed)
            }) {
                break;
            }
        }
    });
});
