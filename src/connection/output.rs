//! The output queue: encoded frames waiting to be written to the transport.
//!
//! Frame headers, control frames, small payloads and everything a client
//! masks are copied into one contiguous buffer. With vectored output on,
//! large payloads that the application already holds as [`Bytes`] are
//! queued by reference instead, between the buffer's bytes, and reach the
//! transport with one vectored write of header and payload: the payload is
//! never copied in user space.

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes, BytesMut};

/// The smallest payload queued by reference. Below it a copy costs less
/// than the extra slice (and the reference count) it saves.
pub(super) const ZERO_COPY_MIN: usize = 2048;

#[derive(Default)]
pub(super) struct Output {
    /// The copied bytes, in order.
    buf: BytesMut,
    /// Payloads queued by reference, each with its place in the stream of
    /// copied bytes: it goes out after copied byte number `at` (counted
    /// from the first byte ever copied in).
    shared: VecDeque<(u64, Bytes)>,
    /// Copied bytes already written out: the stream position of `buf[0]`.
    written: u64,
    /// Bytes in `shared`.
    shared_len: usize,
}

impl Output {
    /// Bytes waiting to be written.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.buf.len() + self.shared_len
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer that copied bytes are appended to.
    #[inline]
    pub(super) fn buf(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Queues `payload` by reference after the bytes copied so far.
    pub(super) fn push_shared(&mut self, payload: Bytes) {
        if payload.is_empty() {
            return;
        }
        let at = self.written + self.buf.len() as u64;
        self.shared_len += payload.len();
        self.shared.push_back((at, payload));
    }

    /// The first contiguous run of waiting bytes.
    #[inline]
    pub(super) fn front(&self) -> &[u8] {
        match self.shared.front() {
            None => &self.buf,
            Some((at, payload)) => match self.copied_before(*at) {
                0 => payload,
                n => &self.buf[..n],
            },
        }
    }

    /// Fills `dst` with the waiting bytes in order; returns how many slices
    /// it used.
    pub(super) fn front_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        if self.shared.is_empty() {
            // The common case: everything is in the buffer.
            return match dst.first_mut() {
                Some(slot) if !self.buf.is_empty() => {
                    *slot = IoSlice::new(&self.buf);
                    1
                }
                _ => 0,
            };
        }
        let mut used = 0;
        let mut copied = 0; // bytes of `buf` already placed in `dst`
        let mut push = |slice: &'a [u8], used: &mut usize| {
            if slice.is_empty() || *used == dst.len() {
                return;
            }
            dst[*used] = IoSlice::new(slice);
            *used += 1;
        };
        for (at, payload) in &self.shared {
            let before = self.copied_before(*at);
            push(&self.buf[copied..before], &mut used);
            push(payload, &mut used);
            copied = before;
        }
        push(&self.buf[copied..], &mut used);
        used
    }

    /// Marks `n` bytes as written (at most what is waiting).
    pub(super) fn consume(&mut self, mut n: usize) {
        if self.shared.is_empty() && n >= self.buf.len() {
            // The common case: everything written. Clearing (rather than
            // advancing) keeps the buffer's view at the start of its
            // allocation, ready for the next message without a reserve.
            self.written += self.buf.len() as u64;
            self.buf.clear();
            return;
        }
        while n > 0 {
            match self.shared.front_mut() {
                None => {
                    let k = n.min(self.buf.len());
                    self.advance_buf(k);
                    return;
                }
                Some((at, payload)) => {
                    let before = (*at - self.written) as usize;
                    if before == 0 {
                        let k = n.min(payload.len());
                        payload.advance(k);
                        self.shared_len -= k;
                        n -= k;
                        if payload.is_empty() {
                            self.shared.pop_front();
                        }
                    } else {
                        let k = n.min(before);
                        self.advance_buf(k);
                        n -= k;
                    }
                }
            }
        }
    }

    /// Bytes of memory held: the buffer's capacity and the payloads queued
    /// by reference.
    pub(super) fn memory_usage(&self) -> usize {
        self.buf.capacity() + self.shared_len
    }

    /// Gives back all memory if nothing is waiting.
    pub(super) fn release(&mut self) {
        if self.is_empty() {
            super::spare::give(std::mem::take(&mut self.buf));
            *self = Output {
                written: self.written,
                ..Output::default()
            };
        }
    }

    /// Releases the buffer if nothing is waiting and it is large; keeps a
    /// small one for the next message. (The buffer is never shared: nothing
    /// is split off it.)
    #[inline]
    pub(super) fn release_if_empty(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > super::RETAINED_BUFFER {
            self.buf = BytesMut::new();
        }
    }

    /// How many bytes of `buf` go out before the copied-stream position `at`.
    #[inline]
    fn copied_before(&self, at: u64) -> usize {
        (at - self.written) as usize
    }

    #[inline]
    fn advance_buf(&mut self, k: usize) {
        if k == self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.advance(k);
        }
        self.written += k as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain_all(out: &mut Output, step: usize) -> Vec<u8> {
        let mut seen = Vec::new();
        let mut turns = 0;
        while !out.is_empty() {
            let front = out.front();
            assert!(!front.is_empty());
            let k = step.min(front.len());
            seen.extend_from_slice(&front[..k]);
            out.consume(k);
            turns += 1;
            assert!(turns < 10_000);
        }
        seen
    }

    fn sample() -> (Output, Vec<u8>) {
        let mut out = Output::default();
        let mut expected = Vec::new();
        let parts: [(&[u8], bool); 6] = [
            (b"head1", false),
            (b"PAYLOAD-ONE", true),
            (b"PAYLOAD-TWO", true),
            (b"h2", false),
            (b"", true),
            (b"tail", false),
        ];
        for (bytes, shared) in parts {
            if shared {
                out.push_shared(Bytes::copy_from_slice(bytes));
            } else {
                out.buf().extend_from_slice(bytes);
            }
            expected.extend_from_slice(bytes);
        }
        (out, expected)
    }

    #[test]
    fn drains_in_order_whatever_the_write_sizes() {
        for step in 1..40 {
            let (mut out, expected) = sample();
            assert_eq!(out.len(), expected.len());
            assert_eq!(drain_all(&mut out, step), expected, "step {step}");
            assert_eq!(out.memory_usage(), out.buf.capacity());
        }
    }

    #[test]
    fn vectored_view_matches_and_survives_partial_consumption() {
        for skip in 0..30 {
            let (mut out, expected) = sample();
            out.consume(skip);
            let mut slices = [IoSlice::new(&[]); 8];
            let n = out.front_vectored(&mut slices);
            let joined: Vec<u8> = slices[..n].iter().flat_map(|s| s.iter().copied()).collect();
            assert_eq!(joined, expected[skip.min(expected.len())..], "skip {skip}");
            assert!(slices[..n].iter().all(|s| !s.is_empty()));
        }
    }

    #[test]
    fn vectored_view_stops_at_the_slice_count() {
        let (out, expected) = sample();
        let mut slices = [IoSlice::new(&[]); 2];
        assert_eq!(out.front_vectored(&mut slices), 2);
        let joined: Vec<u8> = slices.iter().flat_map(|s| s.iter().copied()).collect();
        assert_eq!(joined, expected[..joined.len()]);
        assert_eq!(joined, b"head1PAYLOAD-ONE");
    }

    #[test]
    fn over_consumption_empties_the_queue() {
        let (mut out, _) = sample();
        out.consume(usize::MAX);
        assert!(out.is_empty());
        out.buf().extend_from_slice(b"next");
        assert_eq!(out.front(), b"next");
    }
}
