//! One HTTP/2 stream as a byte stream, for the tokio adapter.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::handshake::StreamEnd;

/// The stream of an accepted extended CONNECT as `AsyncRead +
/// AsyncWrite`: DATA frames in, DATA frames out (RFC 8441 §5: after the
/// handshake the stream carries RFC 6455 frames).
///
/// h2's flow control is the back-pressure: received bytes are released to
/// the peer's window only as the WebSocket reads them, and a write waits
/// for window capacity before it queues a DATA frame, so a slow WebSocket
/// slows its own stream and no other.
///
/// Shutting it down ends the stream (END_STREAM); dropping it without a
/// shutdown, or [`end`](Self::end) with [`StreamEnd::Reset`], resets it
/// (RST_STREAM `CANCEL`). A reset from the peer reads as the end of the
/// stream, so the WebSocket ends abnormally (1006) as on a dropped TCP
/// connection, while the HTTP/2 connection and its other streams go on.
pub struct H2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// Received bytes not yet read.
    pending: Bytes,
    finished: bool,
}

impl std::fmt::Debug for H2Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Stream")
            .field("stream_id", &self.recv.stream_id().as_u32())
            .field("pending", &self.pending.len())
            .field("finished", &self.finished)
            .finish()
    }
}

impl H2Stream {
    /// The two halves of one h2 stream as one byte stream: for a WebSocket
    /// whose extended CONNECT was sent or answered with the `h2` crate
    /// directly ([`serve`](super::serve) and
    /// [`Http2Client`](super::Http2Client) make these themselves). Give
    /// the stream's other half the request's or response's body.
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> H2Stream {
        H2Stream {
            send,
            recv,
            pending: Bytes::new(),
            finished: false,
        }
    }

    /// Ends the stream as a connection's [`Outcome`](crate::Outcome) says
    /// ([`stream_end`](crate::Outcome::stream_end)): END_STREAM after an
    /// orderly close, RST_STREAM otherwise.
    pub fn end(&mut self, how: StreamEnd) {
        if self.finished {
            return;
        }
        self.finished = true;
        match how {
            StreamEnd::Finish => {
                let _ = self.send.send_data(Bytes::new(), true);
            }
            StreamEnd::Reset => self.send.send_reset(Reason::CANCEL),
        }
    }

    /// The HTTP/2 stream identifier.
    pub fn stream_id(&self) -> u32 {
        self.recv.stream_id().as_u32()
    }
}

fn h2_io(error: h2::Error) -> io::Error {
    if error.is_io() {
        error
            .into_io()
            .unwrap_or_else(|| io::ErrorKind::Other.into())
    } else {
        io::Error::other(error)
    }
}

impl AsyncRead for H2Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while this.pending.is_empty() {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => this.pending = data,
                // END_STREAM, or a reset by the peer (or of the connection):
                // the end of this byte stream.
                None => return Poll::Ready(Ok(())),
                Some(Err(e)) if e.is_reset() || e.is_go_away() => return Poll::Ready(Ok(())),
                Some(Err(e)) => return Poll::Ready(Err(h2_io(e))),
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending.split_to(n));
        // The window opens again by what the WebSocket took, no sooner.
        let _ = this.recv.flow_control().release_capacity(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for H2Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if this.finished {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        this.send.reserve_capacity(buf.len());
        loop {
            let capacity = this.send.capacity();
            if capacity > 0 {
                let n = capacity.min(buf.len());
                this.send
                    .send_data(Bytes::copy_from_slice(&buf[..n]), false)
                    .map_err(h2_io)?;
                return Poll::Ready(Ok(n));
            }
            match ready!(this.send.poll_capacity(cx)) {
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Poll::Ready(Err(h2_io(e))),
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Queued DATA frames are written by the connection's task.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().end(StreamEnd::Finish);
        Poll::Ready(Ok(()))
    }
}

impl Drop for H2Stream {
    fn drop(&mut self) {
        // Dropped before its end: the WebSocket did not finish, as a TCP
        // socket dropped without a shutdown.
        self.end(StreamEnd::Reset);
    }
}
