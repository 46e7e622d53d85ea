//! Frames over a byte stream: one JSON line each, read with a bounded line codec so a peer
//! that never sends a newline costs at most [`MAX_FRAME_BYTES`] of memory, never more.
//!
//! Depends on the protocol's frame types and tokio's codec; knows nothing of sockets or of
//! who is on the other end.

use futures_util::StreamExt as _;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};

use super::protocol::{FrameError, MAX_FRAME_BYTES, decode, encode};

/// Reads frames from `R`, one line each.
#[derive(Debug)]
pub struct FrameReader<R> {
    lines: FramedRead<R, LinesCodec>,
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// Frames from `reader`, each at most [`MAX_FRAME_BYTES`].
    pub fn new(reader: R) -> Self {
        Self {
            lines: FramedRead::new(reader, LinesCodec::new_with_max_length(MAX_FRAME_BYTES)),
        }
    }

    /// The next frame; [`FrameError::Closed`] once the peer has closed.
    pub async fn next<T: DeserializeOwned>(&mut self) -> Result<T, FrameError> {
        match self.lines.next().await {
            None => Err(FrameError::Closed),
            Some(Ok(line)) => decode(&line),
            Some(Err(LinesCodecError::MaxLineLengthExceeded)) => Err(FrameError::TooLarge {
                limit: MAX_FRAME_BYTES,
            }),
            Some(Err(LinesCodecError::Io(error)))
                if error.kind() == std::io::ErrorKind::InvalidData =>
            {
                Err(FrameError::Malformed("not UTF-8".into()))
            }
            Some(Err(LinesCodecError::Io(error))) => Err(FrameError::Io(error)),
        }
    }
}

/// Writes one frame and flushes it.
pub async fn write_frame<W: AsyncWrite + Unpin, T: Serialize>(
    writer: &mut W,
    frame: &T,
) -> Result<(), FrameError> {
    let line = encode(frame)?;
    writer.write_all(line.as_bytes()).await?;
    writer.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use tokio::io::AsyncWriteExt as _;

    use super::*;
    use crate::control::protocol::{ClientFrame, Hello, PROTOCOL_VERSION};

    #[tokio::test]
    async fn frames_come_through_then_closed_when_the_peer_hangs_up() {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let hello = ClientFrame::Hello(Hello {
            version: PROTOCOL_VERSION,
            client: "t".into(),
            readonly: false,
        });
        write_frame(&mut client, &hello).await.unwrap();
        write_frame(&mut client, &hello).await.unwrap();
        drop(client);
        let mut reader = FrameReader::new(server);
        for _ in 0..2 {
            assert!(matches!(
                reader.next::<ClientFrame>().await,
                Ok(ClientFrame::Hello(_))
            ));
        }
        assert!(matches!(
            reader.next::<ClientFrame>().await,
            Err(FrameError::Closed)
        ));
    }

    #[tokio::test]
    async fn a_line_past_the_limit_and_bytes_that_are_not_utf8_are_refused() {
        let (mut client, server) = tokio::io::duplex(64 * 1024);
        let writer = tokio::spawn(async move {
            let chunk = vec![b'a'; 64 * 1024];
            let mut sent = 0;
            while sent <= MAX_FRAME_BYTES {
                if client.write_all(&chunk).await.is_err() {
                    return;
                }
                sent += chunk.len();
            }
        });
        let mut reader = FrameReader::new(server);
        assert!(matches!(
            reader.next::<ClientFrame>().await,
            Err(FrameError::TooLarge { .. })
        ));
        drop(reader);
        writer.await.unwrap();

        let (mut client, server) = tokio::io::duplex(1024);
        client.write_all(b"{\"hello\":\xff}\n").await.unwrap();
        let mut reader = FrameReader::new(server);
        assert!(matches!(
            reader.next::<ClientFrame>().await,
            Err(FrameError::Malformed(_))
        ));
    }
}
