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
//! [`MAX_SPARE`] per thread, each at most [`MAX_SIZE`] bytes: the cache
//! holds at most 64 KiB per thread, whatever the number of connections.

use std::cell::RefCell;

use bytes::BytesMut;

use super::RETAINED_BUFFER;

/// The most buffers kept per thread.
const MAX_SPARE: usize = 8;

/// The largest buffer kept: the size buffers start at, with some slack for
/// the allocations that align a read.
const MAX_SIZE: usize = 2 * RETAINED_BUFFER;

thread_local! {
    static SPARE: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for `capacity` bytes, from the cache if it has
/// one and `capacity` is about the size kept (more than half of
/// [`RETAINED_BUFFER`], at most all of it), else new. A connection with
/// small limits asks for less and must not be handed more: its memory is
/// bounded by them.
pub(super) fn take(capacity: usize) -> BytesMut {
    if (RETAINED_BUFFER / 2 + 1..=RETAINED_BUFFER).contains(&capacity) {
        let spare = SPARE
            .try_with(|spare| spare.borrow_mut().pop())
            .ok()
            .flatten();
        if let Some(buf) = spare {
            return buf;
        }
    }
    BytesMut::with_capacity(capacity)
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
    if !(RETAINED_BUFFER..=MAX_SIZE).contains(&buf.capacity()) {
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

        // Too large, or never used: not kept.
        let mut large = BytesMut::with_capacity(4 * MAX_SIZE);
        large.put_u8(1);
        drop(large.split_to(1));
        give(large);
        give(BytesMut::new());
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), 0);
    }

    #[test]
    fn a_small_request_is_not_served_from_the_cache() {
        SPARE.with(|spare| spare.borrow_mut().clear());
        let mut buf = BytesMut::with_capacity(RETAINED_BUFFER);
        buf.put_u8(0);
        drop(buf.split_to(1));
        give(buf);
        // A connection whose frames are at most 16 bytes asks for 30.
        assert!(take(30).capacity() < RETAINED_BUFFER);
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), 1);
        assert!(take(RETAINED_BUFFER).capacity() >= RETAINED_BUFFER);
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), 0);
    }

    #[test]
    fn the_cache_is_bounded() {
        SPARE.with(|spare| spare.borrow_mut().clear());
        for _ in 0..3 * MAX_SPARE {
            let mut buf = BytesMut::with_capacity(RETAINED_BUFFER);
            buf.put_u8(0);
            drop(buf.split_to(1));
            give(buf);
        }
        assert_eq!(SPARE.with(|spare| spare.borrow().len()), MAX_SPARE);
        SPARE.with(|spare| spare.borrow_mut().clear());
    }
}
