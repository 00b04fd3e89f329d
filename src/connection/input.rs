//! The receive buffers and the policy that sizes them: where received bytes
//! are put, how much memory is kept between reads and frames, and when it
//! is given back. No protocol rule lives here; `recv.rs` decodes what this
//! holds.
//!
//! The aims, measured in `benches/`: a payload is handed out as a slice of
//! the buffer it was received in (no copy), a large payload is not moved
//! while it arrives, the memory of a large frame is not kept for small
//! ones, and an idle connection holds almost nothing.

use bytes::{Bytes, BytesMut};

use crate::frame::{FrameHeader, MAX_HEADER_LEN};

/// The received bytes not yet decoded, in one or two buffers.
#[derive(Default)]
pub(super) struct Input {
    /// Received bytes not yet decoded. When a frame's header has been read,
    /// it starts with that frame's payload.
    buf: BytesMut,
    /// Received bytes that follow the frame in progress, when a read
    /// carried the end of a large frame and the start of the next: they
    /// get an allocation of their own, sized for their frame, instead of
    /// being moved out of the large frame's buffer later. When empty, it
    /// may hold a spare allocation for the next such split.
    next: BytesMut,
    /// The size of the last `receive` call: the room left behind a
    /// payload for the bytes that arrive with its end.
    last_read: usize,
    /// The payload length of the last complete frame: with the frame in
    /// progress, the size of buffer worth keeping between frames.
    last_frame: usize,
    /// The room the next read into the buffer is given when no large
    /// frame is in progress: it doubles (up to [`MAX_READ_ROOM`]) while
    /// reads fill it, and falls back when they do not.
    read_room: usize,
}

impl Input {
    /// The bytes to decode from.
    pub(super) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The same bytes, to unmask in place.
    pub(super) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// Bytes held and not yet decoded, in both buffers.
    pub(super) fn len(&self) -> usize {
        self.buf.len() + self.next.len()
    }

    /// Memory held by the buffers.
    pub(super) fn capacity(&self) -> usize {
        self.buf.capacity() + self.next.capacity()
    }

    /// Drops `n` decoded bytes (a frame header) from the front.
    pub(super) fn advance(&mut self, n: usize) {
        bytes::Buf::advance(&mut self.buf, n);
    }

    /// Appends received bytes. `frame` is the payload length of the frame
    /// whose header has been decoded, if any; no buffer grows past one
    /// frame of `max_frame_size` (plus its header) but by amortized
    /// doubling, so a caller that feeds without draining stays linear.
    pub(super) fn receive(&mut self, data: &[u8], frame: Option<usize>, max_frame_size: usize) {
        self.last_read = data.len();
        let frame_bound = max_frame_size.saturating_add(MAX_HEADER_LEN);
        if !self.next.is_empty() {
            append_input(&mut self.next, data, frame_bound, RETAINED_INPUT);
            return;
        }
        if let Some(missing) = split_point(frame, self.buf.len(), data.len()) {
            // `data` ends a large frame and carries a good part of the next:
            // give the next its own buffer, with room for its whole frame,
            // so that neither is moved when the other is handed out.
            let (end, next) = data.split_at(missing);
            let room = match FrameHeader::decode(next) {
                Ok(Some((header, header_len))) => usize::try_from(header.payload_len)
                    .unwrap_or(usize::MAX)
                    .saturating_add(header_len),
                _ => 0,
            };
            if room <= SPLIT_MAX_ROOM {
                append_input(&mut self.buf, end, frame_bound, RETAINED_INPUT);
                // Room for the frame and for one more read. The spare
                // buffer is the one the frame before last was received in:
                // once the application has dropped that payload, it is
                // reused, warm in the cache, with no new pages to map.
                let capacity = room.max(next.len()) + data.len();
                if !self.next.try_reclaim(capacity) {
                    self.next = BytesMut::with_capacity(capacity);
                }
                self.next.extend_from_slice(next);
                return;
            }
        }
        // Memory worth keeping: room for the frame in progress and a read.
        let keep = frame
            .unwrap_or(0)
            .max(self.last_frame)
            .saturating_add(data.len());
        append_input(&mut self.buf, data, frame_bound, keep.max(RETAINED_INPUT));
    }

    /// The spare room of the buffer the next received bytes belong to, for
    /// the transport to read into (see `Connection::read_buffer`). The
    /// room is made by the same policy as [`receive`](Self::receive): no
    /// buffer grows past one frame (plus its header) but by amortized
    /// doubling. With a large frame in progress it is about the bytes
    /// missing from that frame, so a read carries little of the next one
    /// (which would have to be moved later); after a large frame, before
    /// the next header, it is room for one more frame of that size.
    pub(super) fn read_space(&mut self, frame: Option<usize>, max_frame_size: usize) -> BytesMut {
        let frame_bound = max_frame_size.saturating_add(MAX_HEADER_LEN);
        let (input, want, large) = if !self.next.is_empty() {
            let want = self.read_room.max(super::RETAINED_BUFFER);
            grow_for_read(&mut self.next, want, frame_bound, RETAINED_INPUT);
            (&mut self.next, want, false)
        } else {
            let (want, large) = match frame {
                Some(len) if len > super::RETAINED_BUFFER && len > self.buf.len() => {
                    let missing = len - self.buf.len();
                    (
                        missing.saturating_add(READ_PAST_FRAME).min(RETAINED_INPUT),
                        true,
                    )
                }
                None if self.last_frame > super::RETAINED_BUFFER
                    && self.buf.len() < MAX_HEADER_LEN =>
                {
                    // The next frame's header is not here yet. Peers tend to
                    // send frames of one size, so after a large frame the
                    // read is sized for another like it: the whole frame then
                    // arrives in one read, into the buffer it is handed out
                    // from, instead of a small read whose bytes are moved
                    // into that buffer and a second read for the rest.
                    let room = self.last_frame + MAX_HEADER_LEN + READ_PAST_FRAME;
                    (room.min(RETAINED_INPUT), true)
                }
                _ => (self.read_room.max(super::RETAINED_BUFFER), false),
            };
            let keep = frame
                .unwrap_or(0)
                .max(self.last_frame)
                .saturating_add(want)
                .max(RETAINED_INPUT);
            grow_for_read(&mut self.buf, want, frame_bound, keep);
            (&mut self.buf, want, large)
        };
        let mut room = input.split_off(input.len());
        if large && room.capacity() > want {
            // The read that ends a large frame stops a little past its end.
            // What it carried of the next frame would have to be moved out
            // of the way when that frame's room is made (on average half a
            // read), so it is kept to a few bytes: the next frame's header
            // and a small message or two. The room cut off is memory of the
            // frame's own allocation, which goes with its payload.
            drop(room.split_off(want));
        }
        room
    }

    /// Takes back the room handed out by [`read_space`](Self::read_space)
    /// with the bytes read into it. Bytes read where they were asked for
    /// are not moved; any other buffer is appended (one copy). `keep`
    /// false drops the bytes (the connection is closed).
    pub(super) fn commit(&mut self, read: BytesMut, keep: bool) {
        let n = read.len();
        let input = if self.next.is_empty() {
            &mut self.buf
        } else {
            &mut self.next
        };
        if keep {
            let room = read.capacity();
            input.unsplit(read);
            if n > 0 {
                // Room for the start of the next frame behind a large one:
                // a few KiB, so that little of it has to be moved.
                self.last_read = n.min(super::RETAINED_BUFFER);
                self.read_room = if n == room {
                    (2 * room).min(MAX_READ_ROOM)
                } else {
                    super::RETAINED_BUFFER
                };
            }
        } else {
            let mut read = read;
            read.clear();
            input.unsplit(read);
        }
    }

    /// Makes room for a payload of `len` bytes whose header was just
    /// consumed, so that its bytes are appended where they will stay rather
    /// than moved each time the buffer grows.
    ///
    /// The room is reserved up to [`EAGER_PAYLOAD_ROOM`]: beyond it the
    /// buffer grows as the payload's bytes arrive, so that a header alone
    /// never makes the connection hold more than that. Room for one more
    /// read is added, for the start of the next frame that arrives with the
    /// end of this one: the buffer is then reused as it is, frame after
    /// frame, and stays in the cache.
    pub(super) fn make_room_for_payload(&mut self, len: usize) {
        let live = self.buf.len();
        if len <= super::RETAINED_BUFFER || len <= 2 * live {
            // Small, or mostly here already: growing as the rest arrives
            // moves no more than making room now would.
            return;
        }
        let want = len.min(EAGER_PAYLOAD_ROOM) + self.last_read;
        if want <= self.buf.capacity() {
            return;
        }
        if !self.buf.try_reclaim(want - live) {
            self.buf = moved_to_fresh(&self.buf, want);
        }
    }

    /// Splits off the first `n` bytes of a payload that has not all arrived
    /// (streaming receive), without a copy.
    pub(super) fn take_front(&mut self, n: usize) -> Bytes {
        self.buf.split_to(n).freeze()
    }

    /// Splits off the complete payload of `len` bytes at the front, without
    /// a copy.
    pub(super) fn take_payload(&mut self, len: usize) -> Bytes {
        self.last_frame = len;
        let payload = self.buf.split_to(len).freeze();
        if !self.next.is_empty() {
            // What followed this frame was put in a buffer of its own. The
            // emptied one is kept as the spare (see `receive`).
            debug_assert!(self.buf.is_empty());
            std::mem::swap(&mut self.buf, &mut self.next);
        } else if len > super::RETAINED_BUFFER && self.buf.len() <= super::RETAINED_BUFFER {
            // The large allocation now belongs to the payload handed out; a
            // few bytes of the next frame must not keep it alive (and out of
            // `memory_usage`) after the application drops it.
            self.buf = BytesMut::from(&self.buf[..]);
        }
        payload
    }

    /// Decides what to keep of a buffer that has just been emptied.
    ///
    /// A buffer that nothing else points into is kept if it is of a size
    /// the connection reads with (so a busy connection does not allocate
    /// per read) and released if larger. One that still shares its memory
    /// with payloads handed out (the usual case: the last frame of a read
    /// was just split off) is kept as it is: the next read reclaims the
    /// memory if the application has dropped those payloads by then,
    /// instead of allocating anew.
    pub(super) fn tidy(&mut self) {
        let buf = &mut self.buf;
        if buf.is_empty() && buf.try_reclaim(1) && buf.capacity() > RETAINED_INPUT {
            *buf = BytesMut::new();
        }
    }

    /// Gives back the memory of empty buffers.
    pub(super) fn release(&mut self) {
        if self.buf.is_empty() {
            super::spare::give(std::mem::take(&mut self.buf));
        }
        if self.next.is_empty() {
            super::spare::give(std::mem::take(&mut self.next));
        }
    }
}

/// Where to split `len` new bytes: after the bytes missing from the frame
/// in progress (of `frame` payload bytes, `have` of them here), if that
/// frame is large and more than a few KiB of the next frame follow.
fn split_point(frame: Option<usize>, have: usize, len: usize) -> Option<usize> {
    let frame = frame?;
    let missing = frame.checked_sub(have)?;
    let large = frame > super::RETAINED_BUFFER;
    (large && len.saturating_sub(missing) > super::RETAINED_BUFFER).then_some(missing)
}

/// Appends received bytes to `input`. Drained as documented, the buffer
/// holds at most a partial frame plus the bytes just read: it grows by
/// doubling, but not past one frame's size (`frame_bound`). A caller that
/// feeds more without draining gets amortized doubling, so its time stays
/// linear.
fn append_input(input: &mut BytesMut, data: &[u8], frame_bound: usize, keep: usize) {
    grow_input(input, data.len(), frame_bound, keep);
    input.extend_from_slice(data);
}

/// Makes room for a read of about `want` bytes: a little room is read into
/// as it is; less than half of what is wanted is first grown (moving the
/// few bytes held, if any).
fn grow_for_read(input: &mut BytesMut, want: usize, frame_bound: usize, keep: usize) {
    if input.capacity() - input.len() < want / 2 {
        grow_input(input, want, frame_bound, keep);
    }
}

/// A new buffer holding a copy of `live`, with room for `capacity` bytes in
/// all, laid out so that the byte after `live` (where the next read lands)
/// starts a cache line (for buffers from [`ALIGN_FROM`] bytes, which take up
/// to [`CACHE_LINE`] bytes more). Copying into a destination a few bytes off a line
/// measured 13 % slower than into an aligned one (1 MiB decode, `codec-prof`),
/// and every byte of a payload is copied in by a read.
fn moved_to_fresh(live: &[u8], capacity: usize) -> BytesMut {
    if live.is_empty() && capacity <= super::RETAINED_BUFFER {
        // A buffer for small messages, as a busy connection keeps.
        return super::spare::take(capacity);
    }
    if capacity < ALIGN_FROM {
        let mut fresh = BytesMut::with_capacity(capacity.max(live.len()));
        fresh.extend_from_slice(live);
        return fresh;
    }
    let mut fresh = BytesMut::with_capacity(capacity.max(live.len()) + CACHE_LINE);
    let pad = (CACHE_LINE - (fresh.as_ptr() as usize + live.len()) % CACHE_LINE) % CACHE_LINE;
    fresh.resize(pad, 0);
    bytes::Buf::advance(&mut fresh, pad);
    fresh.extend_from_slice(live);
    fresh
}

/// Makes room for `additional` more bytes in `input`, as [`append_input`]
/// describes.
fn grow_input(input: &mut BytesMut, additional: usize, frame_bound: usize, keep: usize) {
    let needed = input.len() + additional;
    if needed > input.capacity() && input.try_reclaim(additional) {
        // Memory given back by dropped payloads: keep it only if it is of
        // a size this connection needs now (`keep`: the frame in progress
        // and a read), so a buffer once grown for a large frame is not
        // held for small ones.
        if input.capacity() > 2 * keep.max(needed) {
            *input = moved_to_fresh(input, needed.max(super::RETAINED_BUFFER));
        }
    } else if needed > input.capacity() {
        let live = input.len();
        if live > frame_bound
            || (live > super::RETAINED_BUFFER && 2 * input.capacity() <= frame_bound)
        {
            // Many live bytes: let the allocator grow the buffer in place.
            super::reserve(input, additional, frame_bound);
        } else {
            // Few live bytes, or the last step to the frame's size: move
            // them to a fresh allocation, so that bytes already consumed in
            // front of them are not carried along.
            let capacity = (2 * input.capacity())
                .max(super::RETAINED_BUFFER.min(frame_bound))
                .min(frame_bound)
                .max(needed);
            *input = moved_to_fresh(input, capacity);
        }
    }
}

/// The largest input buffer kept between reads when it is empty or mostly
/// free: the size of large reads, not of large frames.
const RETAINED_INPUT: usize = 256 << 10;

/// The largest frame that gets a buffer of its own when it arrives behind
/// a large frame. A larger one stays behind the large frame and is moved to
/// the front of the buffer once that frame has been handed out (and
/// usually dropped): that reuses memory whose pages are already mapped,
/// which costs less than a fresh allocation of that size.
const SPLIT_MAX_ROOM: usize = 256 << 10;

/// How far past the end of a large frame in progress the read that ends it
/// may go: room for the next frame's header and a small message or two,
/// not for a good part of a large frame, which would then be moved.
const READ_PAST_FRAME: usize = 256;

/// The alignment reads are given where a buffer is made for them.
const CACHE_LINE: usize = 64;

/// The smallest buffer made with its reads aligned (see [`moved_to_fresh`]):
/// the alignment costs up to [`CACHE_LINE`] bytes more, and matters for
/// large copies.
const ALIGN_FROM: usize = 16 << 10;

/// The most room a read is given when no large frame is in progress (a
/// socket rarely has more ready).
const MAX_READ_ROOM: usize = 64 << 10;

/// The most room reserved for a payload from its header alone.
const EAGER_PAYLOAD_ROOM: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use bytes::BufMut;

    use crate::{Config, Connection, Event, Message, Role};

    /// A masked binary frame of `len` bytes (key 0: masking is the identity).
    fn frame(len: usize) -> Vec<u8> {
        let mut out = vec![0x82];
        match len {
            0..=125 => out.push(0x80 | len as u8),
            126..=0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&[0; 4]);
        out.extend((0..len).map(|i| i as u8));
        out
    }

    /// Feeds `data` through `read_buffer`/`commit_read`, at most what each
    /// buffer has room for; returns the payloads and the largest
    /// `memory_usage` seen.
    fn feed(conn: &mut Connection, mut data: &[u8]) -> (Vec<bytes::Bytes>, usize) {
        let (mut payloads, mut peak) = (Vec::new(), 0);
        while !data.is_empty() {
            let mut buf = conn.read_buffer();
            assert!(buf.is_empty() && buf.capacity() > 0);
            let n = buf.capacity().min(data.len());
            buf.put_slice(&data[..n]);
            data = &data[n..];
            conn.commit_read(buf);
            peak = peak.max(conn.memory_usage());
            while let Some(event) = conn.next_event().unwrap() {
                if let Event::Message(Message::Binary(payload)) = event {
                    payloads.push(payload);
                }
            }
        }
        (payloads, peak)
    }

    #[test]
    fn bytes_read_into_the_buffer_are_not_moved() {
        let mut conn = Connection::new(Role::Server, Config::default());
        let mut buf = conn.read_buffer();
        let start = buf.spare_capacity_mut().as_ptr() as usize;
        buf.put_slice(&frame(100));
        conn.commit_read(buf);
        let Some(Event::Message(Message::Binary(payload))) = conn.next_event().unwrap() else {
            panic!("no message");
        };
        assert_eq!(payload.as_ptr() as usize, start + 6);
        assert_eq!(payload.len(), 100);
    }

    #[test]
    fn frames_arrive_whole_and_memory_stays_bounded() {
        let mut conn = Connection::new(Role::Server, Config::default());
        let sizes = [10, 5000, 70_000, 1 << 20, 3, 200_000];
        let stream: Vec<u8> = sizes.iter().flat_map(|&n| frame(n)).collect();
        let (payloads, peak) = feed(&mut conn, &stream);
        assert_eq!(payloads.len(), sizes.len());
        for (payload, &n) in payloads.iter().zip(&sizes) {
            assert_eq!(payload.len(), n);
            assert!(payload.iter().enumerate().all(|(i, &b)| b == i as u8));
        }
        // One frame, one read's room and the room for the next header.
        assert!(peak <= (1 << 20) + (256 << 10) + (64 << 10), "peak {peak}");
        drop(payloads);
        conn.release_memory();
        assert_eq!(conn.memory_usage(), 0);
    }

    /// Reads one frame that arrives alone (as an echo client's message
    /// does) into a single `read_buffer`, which must have room for all of
    /// it; returns the payload and whether it was handed out from where it
    /// was read (not moved).
    fn read_alone(conn: &mut Connection, len: usize) -> (bytes::Bytes, bool) {
        let whole = frame(len);
        let mut buf = conn.read_buffer();
        assert!(
            buf.capacity() >= whole.len(),
            "room {} for {}",
            buf.capacity(),
            whole.len()
        );
        let start = buf.spare_capacity_mut().as_ptr() as usize;
        buf.put_slice(&whole);
        conn.commit_read(buf);
        let Some(Event::Message(Message::Binary(payload))) = conn.next_event().unwrap() else {
            panic!("no message");
        };
        assert_eq!(payload.len(), len);
        let in_place = payload.as_ptr() as usize == start + whole.len() - len;
        (payload, in_place)
    }

    #[test]
    fn after_a_large_frame_the_next_one_like_it_arrives_in_one_read() {
        let mut conn = Connection::new(Role::Server, Config::default());
        // The first large frame takes a small read and then the rest.
        let (payloads, _) = feed(&mut conn, &frame(20_000));
        assert_eq!(payloads.len(), 1);
        drop(payloads);
        for len in [20_000, 20_000, 19_000] {
            let (_payload, in_place) = read_alone(&mut conn, len);
            assert!(in_place, "a {len}-byte payload was moved");
        }
        // A small message makes the room fall back to small reads.
        read_alone(&mut conn, 100);
        assert!(conn.read_buffer().capacity() < 20_000);
    }

    #[test]
    fn the_read_sized_by_the_last_frame_is_bounded() {
        let mut conn = Connection::new(Role::Server, Config::default());
        let (payloads, _) = feed(&mut conn, &frame(1 << 20));
        assert_eq!(payloads.len(), 1);
        let room = conn.read_buffer().capacity();
        assert!((64 << 10..=256 << 10).contains(&room), "room {room}");
    }

    #[test]
    fn a_foreign_buffer_is_appended_and_an_empty_one_receives_nothing() {
        let mut conn = Connection::new(Role::Server, Config::default());
        let whole = frame(20);
        let mut own = conn.read_buffer();
        own.put_slice(&whole[..5]);
        conn.commit_read(own);
        conn.commit_read(bytes::BytesMut::new());
        assert!(conn.next_event().unwrap().is_none());
        conn.commit_read(bytes::BytesMut::from(&whole[5..]));
        let Some(Event::Message(Message::Binary(payload))) = conn.next_event().unwrap() else {
            panic!("no message");
        };
        assert_eq!(payload.len(), 20);
    }
}
