//! A small per-thread cache of empty buffers of the size a connection reads
//! and writes small messages with.
//!
//! [`Connection::release_memory`](super::Connection::release_memory) gives a
//! quiet connection's buffers back so that thousands of idle connections
//! hold almost nothing. A connection that is quiet between every message
//! (a chat member, a dashboard client: one message, then nothing ready)
//! would then pay an allocation and a free of each buffer per message. The
//! buffers go here instead, and the next connection on the thread that
//! needs one takes it back: a few buffers per thread serve any number of
//! connections, since a thread works on one connection at a time.
//!
//! Only buffers that nothing else points into are kept (not one whose
//! memory is shared with a payload handed to the application), at most
//! [`MAX_SPARE`] per thread, each of exactly [`KEPT_SIZE`] bytes: the cache
//! holds at most 32 KiB per thread, whatever the number of connections.

use std::cell::RefCell;

use bytes::BytesMut;

use super::RETAINED_BUFFER;

/// The most buffers kept per thread.
const MAX_SPARE: usize = 8;

/// The size of the buffers kept: exactly the size buffers start at, so
/// that a buffer from the cache is no larger than a new one.
const KEPT_SIZE: usize = RETAINED_BUFFER;

thread_local! {
    static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for `capacity` bytes. A request of about the
/// kept size (more than half of it, at most all of it) gets a buffer of
/// exactly [`KEPT_SIZE`], from the cache if it has one, else new: what a
/// connection holds then does not depend on the connections the thread
/// served before it (a cached buffer of twice the size once took a closed
/// connection past its memory bound, found by the connection fuzzers). A
/// connection with small limits asks for less and gets what it asks for:
/// its memory is bounded by them.
pub(super) fn take(capacity: usize) -> BytesMut {
    if !(KEPT_SIZE / 2 + 1..=KEPT_SIZE).contains(&capacity) {
        return BytesMut::with_capacity(capacity);
    }
    SPARE
        .try_with(|spare| spare.borrow_mut().pop())
        .ok()
        .flatten()
        .unwrap_or_else(|| BytesMut::with_capacity(KEPT_SIZE))
}

/// Keeps `buf` for another connection on this thread if it is empty, of the
/// size kept, and its memory is its own; otherwise drops it.
pub(super) fn give(mut buf: BytesMut) {
    if !buf.is_empty() || buf.capacity() == 0 {
        return;
    }
    // `try_reclaim` asks for more room than the buffer has: it succeeds
    // only by taking back the memory in front of it (bytes already
    // consumed or split off), which the bytes crate does only when no
    // other handle points into the allocation. A buffer that cannot prove
    // that is dropped.
    if !buf.try_reclaim(buf.capacity() + 1) {
        return;
    }
    if buf.capacity() != KEPT_SIZE {
        return;
    }
    // During thread teardown the cache may be gone: the buffer is dropped.
    let _ = SPARE.try_with(|spare| {
        let mut spare = spare.borrow_mut();
        if spare.len() < MAX_SPARE {
            spare.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use bytes::BufMut;

    use super::*;

    /// An empty buffer of `capacity` bytes that has been written to and
    /// consumed, as a connection's buffer is when it goes quiet.
    fn emptied(capacity: usize) -> BytesMut {
        let mut buf = BytesMut::with_capacity(capacity);
        buf.put_u8(0);
        drop(buf.split_to(1));
        buf
    }

    #[test]
    fn an_emptied_buffer_is_reused_and_a_shared_one_is_not() {
        // Empty the cache this test thread may have filled.
        SPARE.with(|spare| spare.borrow_mut().clear());

        let mut used = BytesMut::with_capacity(RETAINED_BUFFER);
        used.put_slice(b"a payload");
        let address = used.as_ptr() as usize;
        drop(used.split_to(9));
        give(used);
        let again = take(RETAINED_BUFFER);
        assert_eq!(again.as_ptr() as usize, address);
        assert!(again.is_empty() && again.capacity() >= RETAINED_BUFFER);

        // A payload handed out still points into this one: not kept.
        let mut shared = BytesMut::with_capacity(RETAINED_BUFFER);
        shared.put_slice(b"held");
        let payload = shared.split_to(4).freeze();
        give(shared);
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), 0);
        assert_eq!(&payload[..], b"held");

        // Larger than the kept size (even by a doubling), or never used:
        // not kept.
        for size in [2 * KEPT_SIZE, 4 * KEPT_SIZE] {
            give(emptied(size));
        }
        give(BytesMut::new());
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), 0);
    }

    #[test]
    fn a_small_request_is_not_served_from_the_cache() {
        SPARE.with(|spare| spare.borrow_mut().clear());
        give(emptied(RETAINED_BUFFER));
        // A connection whose frames are at most 16 bytes asks for 30.
        assert!(take(30).capacity() < RETAINED_BUFFER);
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), 1);
        assert!(take(RETAINED_BUFFER).capacity() >= RETAINED_BUFFER);
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), 0);
    }

    #[test]
    fn what_a_request_gets_does_not_depend_on_the_cache() {
        for filled in [false, true] {
            SPARE.with(|spare| spare.borrow_mut().clear());
            if filled {
                give(emptied(KEPT_SIZE));
                assert_eq!(SPARE.with(|spare| spare.borrow().len()), 1);
            }
            assert_eq!(take(KEPT_SIZE / 2 + 1).capacity(), KEPT_SIZE, "{filled}");
            assert_eq!(SPARE.with(|spare| spare.borrow().len()), 0);
        }
    }

    #[test]
    fn the_cache_is_bounded() {
        SPARE.with(|spare| spare.borrow_mut().clear());
        for _ in 0..3 * MAX_SPARE {
            give(emptied(RETAINED_BUFFER));
        }
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), MAX_SPARE);
        SPARE.with(|spare| spare.borrow_mut().clear());
    }
}
