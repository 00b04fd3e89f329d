//! An in-memory "socket" shared by every library in the codec benchmarks,
//! and a `block_on` that needs no runtime.
//!
//! Reads come from a pre-built buffer of frames, replayed in a cycle so that
//! a connection object lives across benchmark iterations (warm buffers, no
//! set-up in the timed loop). Each read returns at most [`READ_CHUNK`]
//! bytes, as a socket with 64 KiB ready would. Writes are copied into a
//! scratch buffer, at most [`WRITE_CHUNK`] bytes a call, as a kernel copies
//! into a socket buffer: a library that copies a payload once more before
//! writing pays for it, one that writes header and payload with a vectored
//! write does not.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most one read returns.
pub const READ_CHUNK: usize = 64 << 10;
/// The most one write takes.
pub const WRITE_CHUNK: usize = 256 << 10;

/// See the module documentation.
pub struct MemStream {
    input: Vec<u8>,
    pos: usize,
    scratch: Box<[u8]>,
    /// Bytes written so far.
    pub written: u64,
    /// Write calls so far (a vectored write counts once).
    pub writes: u64,
}

impl MemStream {
    /// A stream whose reads replay `input` forever (an empty `input`
    /// never has anything to read: reads are `Pending`).
    pub fn new(input: Vec<u8>) -> Self {
        MemStream {
            input,
            pos: 0,
            scratch: vec![0; WRITE_CHUNK].into_boxed_slice(),
            written: 0,
            writes: 0,
        }
    }

    /// A stream that is only written to.
    pub fn sink() -> Self {
        Self::new(Vec::new())
    }

    /// The next bytes a read would return, at most `max`: for the sans-IO
    /// core, which is handed slices instead of reading.
    pub fn read_chunk(&mut self, max: usize) -> &[u8] {
        if self.pos == self.input.len() {
            self.pos = 0;
        }
        let n = max.min(self.input.len() - self.pos);
        let start = self.pos;
        self.pos += n;
        &self.input[start..start + n]
    }

    /// Takes up to [`WRITE_CHUNK`] bytes of `data` (copying them, as a
    /// kernel would); returns how many.
    pub fn write_bytes(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(WRITE_CHUNK);
        self.scratch[..n].copy_from_slice(&data[..n]);
        std::hint::black_box(&self.scratch[..n]);
        self.written += n as u64;
        self.writes += 1;
        n
    }

    /// Writes all of `slices` as a socket would take them: vectored
    /// writes of at most [`WRITE_CHUNK`] bytes.
    pub fn write_all_vectored(&mut self, mut bufs: &mut [IoSlice<'_>]) {
        while !bufs.is_empty() {
            let n = self.write_vectored_bytes(bufs);
            IoSlice::advance_slices(&mut bufs, n);
        }
    }

    /// One vectored write: takes up to [`WRITE_CHUNK`] bytes from `bufs`
    /// (copying them); returns how many.
    pub fn write_vectored_bytes(&mut self, bufs: &[IoSlice<'_>]) -> usize {
        let mut n = 0;
        for buf in bufs {
            let take = buf.len().min(WRITE_CHUNK - n);
            self.scratch[n..n + take].copy_from_slice(&buf[..take]);
            n += take;
            if n == WRITE_CHUNK {
                break;
            }
        }
        std::hint::black_box(&self.scratch[..n]);
        self.written += n as u64;
        self.writes += 1;
        n
    }
}

impl AsyncRead for MemStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.input.is_empty() {
            return Poll::Pending;
        }
        let max = buf.remaining().min(READ_CHUNK);
        let chunk = self.read_chunk(max);
        buf.put_slice(chunk);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.write_bytes(buf)))
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(self.write_vectored_bytes(bufs)))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs a future to completion without a runtime. Every stream in the
/// codec benchmarks is always ready, so a future that stays pending is a
/// bug in the benchmark: this panics after many polls in a row.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("block_on: the future stayed pending (it waits for something that never comes)");
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn reads_cycle_and_writes_count() {
        let mut s = MemStream::new(vec![1, 2, 3]);
        let mut buf = [0; 5];
        let n = block_on(s.read(&mut buf)).unwrap();
        assert_eq!(&buf[..n], &[1, 2, 3]);
        let n = block_on(s.read(&mut buf)).unwrap();
        assert_eq!(&buf[..n], &[1, 2, 3]);
        block_on(s.write_all(&[0; 300_000])).unwrap();
        assert_eq!(s.written, 300_000);
        assert_eq!(s.writes, 2);
    }
}
