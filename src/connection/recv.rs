//! The receive path: frames out of the input buffer, messages out of frames.

use bytes::{Buf, Bytes, BytesMut};

use super::{Connection, Event, State};
use crate::close::parse_close_payload;
use crate::extension::Extension;
use crate::frame::{FrameHeader, MAX_HEADER_LEN, OpCode, apply_mask};
use crate::{
    CloseCode, CloseFrame, Message, MessageKind, ProtocolError, Role, Utf8Bytes, Utf8Validator,
};

/// Decoding state carried between calls to `next_event`.
#[derive(Default)]
pub(super) struct Reader {
    /// The frame whose header has been consumed from the input buffer.
    frame: Option<FrameInProgress>,
    /// The data message being received, from its first frame to its last.
    message: Option<Partial>,
    /// Validates the current text message as its bytes arrive.
    utf8: Utf8Validator,
    /// The size of the last `receive_data` call: the room left behind a
    /// payload for the bytes that arrive with its end.
    last_read: usize,
    /// The payload length of the last complete frame: with the frame in
    /// progress, the size of buffer worth keeping between frames.
    last_frame: usize,
}

#[derive(Clone, Copy)]
struct FrameInProgress {
    header: FrameHeader,
    len: usize,
    /// Payload bytes at the front of the input buffer already unmasked
    /// (and, for text, validated).
    done: usize,
}

struct Partial {
    kind: MessageKind,
    /// The first frame carried the extension's RSV bits: the payload is
    /// decoded by the extension as it arrives, into `data`.
    encoded: bool,
    /// The payload of the frames received so far (decoded, if `encoded`).
    /// Empty until a plain message spans more than one frame: a
    /// single-frame message is handed over without a copy.
    data: Vec<u8>,
}

impl Reader {
    pub(super) fn memory_usage(&self) -> usize {
        self.message.as_ref().map_or(0, |m| m.data.capacity())
    }

    /// Takes in payload bytes of the frame in progress, already unmasked:
    /// decodes them if the message is encoded, and checks text as it comes.
    fn absorb(
        &mut self,
        header: &FrameHeader,
        fresh: &[u8],
        extension: Option<&mut Box<dyn Extension>>,
        limit: usize,
    ) -> Result<(), ProtocolError> {
        if header.opcode.is_control() {
            return Ok(());
        }
        let Some(partial) = self.message.as_mut() else {
            return Ok(());
        };
        let checked = match (partial.encoded, extension) {
            (true, Some(extension)) => {
                let start = partial.data.len();
                extension.decode(fresh, &mut partial.data, limit)?;
                &partial.data[start..]
            }
            _ => fresh,
        };
        if partial.kind == MessageKind::Text {
            // RFC 6455 §8.1: when an endpoint is to interpret a byte stream
            // as UTF-8 but finds it is not, it MUST _Fail the WebSocket
            // Connection_ — here, at the first bad byte.
            self.utf8
                .feed(checked)
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        Ok(())
    }
}

impl Connection {
    /// Feeds bytes received from the transport.
    ///
    /// Nothing is decoded until [`next_event`](Self::next_event) is called.
    /// Bytes arriving after the connection is closed are discarded (RFC 6455
    /// §1.4).
    pub fn receive_data(&mut self, data: &[u8]) {
        if self.state == State::Closed || data.is_empty() {
            return;
        }
        self.timers.heard_from_peer();
        self.reader.last_read = data.len();
        let frame_bound = self.config.max_frame_size.saturating_add(MAX_HEADER_LEN);
        if !self.input_next.is_empty() {
            append_input(&mut self.input_next, data, frame_bound, RETAINED_INPUT);
            return;
        }
        if let Some(missing) = self.split_point(data.len()) {
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
                append_input(&mut self.input, end, frame_bound, RETAINED_INPUT);
                // Room for the frame and for one more read. The spare
                // buffer is the one the frame before last was received in:
                // once the application has dropped that payload, it is
                // reused, warm in the cache, with no new pages to map.
                let capacity = room.max(next.len()) + data.len();
                if !self.input_next.try_reclaim(capacity) {
                    self.input_next = BytesMut::with_capacity(capacity);
                }
                self.input_next.extend_from_slice(next);
                return;
            }
        }
        // Memory worth keeping: room for the frame in progress and a read.
        let frame = self.reader.frame.map_or(0, |frame| frame.len);
        let keep = frame.max(self.reader.last_frame).saturating_add(data.len());
        append_input(&mut self.input, data, frame_bound, keep.max(RETAINED_INPUT));
    }

    /// Where to split `len` new bytes: after the bytes missing from the
    /// frame in progress, if that frame is large and more than a few KiB
    /// of the next frame follow.
    fn split_point(&self, len: usize) -> Option<usize> {
        let frame = self.reader.frame?;
        let missing = frame.len.checked_sub(self.input.len())?;
        let large = frame.len > super::RETAINED_BUFFER;
        (large && len.saturating_sub(missing) > super::RETAINED_BUFFER).then_some(missing)
    }

    /// Reports that the transport ended: the peer will send nothing more.
    ///
    /// Frames already received are still delivered. If the closing
    /// handshake did not happen, [`next_event`](Self::next_event) then
    /// reports [`Event::Close`] with code 1006.
    pub fn receive_eof(&mut self) {
        self.eof = true;
        if self.state == State::Closed {
            self.close_transport = true;
            self.timers.stop_close();
        }
    }

    /// The next thing the peer did, or `Ok(None)` when more bytes are needed.
    ///
    /// `Ok(None)` also means "write the output first" while
    /// [`is_write_buffer_full`](Self::is_write_buffer_full) is true.
    ///
    /// # Errors
    ///
    /// A [`ProtocolError`] when the peer broke the protocol or a limit. The
    /// connection is then failed: the close frame carrying the error's code
    /// is queued in [`pending_output`](Self::pending_output),
    /// [`should_close_transport`](Self::should_close_transport) is true, and
    /// every later call returns the same error.
    pub fn next_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        if let Some(frame) = self.close_event.take() {
            return Ok(Some(Event::Close(frame)));
        }
        if self.state == State::Closed || self.is_write_buffer_full() {
            return Ok(None);
        }
        let result = self.read_event();
        tidy_empty_input(&mut self.input);
        match result {
            Ok(Some(event)) => Ok(Some(event)),
            Ok(None) if self.eof => {
                // RFC 6455 §7.1.5: closed without a close frame → 1006.
                self.closed();
                self.close_transport = true;
                Ok(Some(Event::Close(CloseFrame::new(
                    CloseCode::ABNORMAL,
                    Utf8Bytes::new(),
                ))))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                self.fail(error.clone());
                Err(error)
            }
        }
    }

    /// Decodes frames until one completes an event or the input runs out.
    fn read_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        loop {
            let mut frame = match self.reader.frame {
                Some(frame) => frame,
                None => {
                    let Some((header, header_len)) = FrameHeader::decode(&self.input)? else {
                        return Ok(None);
                    };
                    let len = self.check_header(&header)?;
                    self.input.advance(header_len);
                    self.make_room_for_payload(len);
                    FrameInProgress {
                        header,
                        len,
                        done: 0,
                    }
                }
            };
            let available = self.input.len().min(frame.len);
            if available > frame.done {
                let fresh = &mut self.input[frame.done..available];
                if let Some(key) = frame.header.mask {
                    apply_mask(fresh, key, frame.done);
                }
                let limit = self.config.max_message_size;
                self.reader
                    .absorb(&frame.header, fresh, self.extension.as_mut(), limit)?;
                frame.done = available;
            }
            if frame.done < frame.len {
                self.reader.frame = Some(frame);
                return Ok(None);
            }
            self.reader.frame = None;
            self.reader.last_frame = frame.len;
            let payload = self.input.split_to(frame.len).freeze();
            if !self.input_next.is_empty() {
                // What followed this frame was put in a buffer of its own.
                // The emptied one is kept as the spare (see
                // `receive_data`).
                debug_assert!(self.input.is_empty());
                std::mem::swap(&mut self.input, &mut self.input_next);
            } else if frame.len > super::RETAINED_BUFFER
                && self.input.len() <= super::RETAINED_BUFFER
            {
                // The large allocation now belongs to the payload handed
                // out; a few bytes of the next frame must not keep it alive
                // (and out of `memory_usage`) after the application drops it.
                self.input = BytesMut::from(&self.input[..]);
            }
            if let Some(event) = self.on_frame(frame.header, payload)? {
                return Ok(Some(event));
            }
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
    fn make_room_for_payload(&mut self, len: usize) {
        let live = self.input.len();
        if len <= super::RETAINED_BUFFER || len <= 2 * live {
            // Small, or mostly here already: growing as the rest arrives
            // moves no more than making room now would.
            return;
        }
        let want = len.min(EAGER_PAYLOAD_ROOM) + self.reader.last_read;
        if want <= self.input.capacity() {
            return;
        }
        if !self.input.try_reclaim(want - live) {
            let mut grown = BytesMut::with_capacity(want);
            grown.extend_from_slice(&self.input);
            self.input = grown;
        }
    }

    /// Checks the rules that depend on the connection, before any of the
    /// frame's payload is buffered. Returns the payload length.
    fn check_header(&mut self, header: &FrameHeader) -> Result<usize, ProtocolError> {
        match (self.role, header.mask.is_some()) {
            // RFC 6455 §5.1: a server MUST close the connection upon
            // receiving a frame that is not masked.
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            // RFC 6455 §5.1: a client MUST close a connection if it detects
            // a masked frame.
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        // RFC 6455 §5.2: RSV1–3 MUST be 0 unless an extension is negotiated
        // that defines meanings for non-zero values. The extension's bits
        // are allowed only on the first frame of a data message (RFC 7692
        // §6.1: an endpoint MUST NOT set RSV1 on control frames or on the
        // continuation frames of a message).
        let owned = match (header.opcode, &self.extension) {
            (OpCode::Text | OpCode::Binary, Some(extension)) => extension.rsv_bits(),
            _ => 0,
        };
        if header.rsv & !owned != 0 {
            return Err(ProtocolError::ReservedBits(header.rsv));
        }
        let encoded = header.rsv & owned != 0;
        let limit = self.config.max_frame_size;
        let len = usize::try_from(header.payload_len)
            .ok()
            .filter(|&len| len <= limit)
            .ok_or(ProtocolError::FrameTooBig {
                size: header.payload_len,
                limit,
            })?;
        // The message size as far as the headers tell. An encoded message's
        // size is known only once decoded: the extension enforces the limit
        // while decoding.
        let plain_size = match (header.opcode, &self.reader.message) {
            // RFC 6455 §5.4: a fragmented message consists of a frame with
            // an opcode, then continuation frames; anything else is an error.
            (OpCode::Continuation, None) => return Err(ProtocolError::UnexpectedContinuation),
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(ProtocolError::ExpectedContinuation);
            }
            (OpCode::Continuation, Some(partial)) => {
                (!partial.encoded).then(|| partial.data.len() + len)
            }
            (OpCode::Text | OpCode::Binary, None) => (!encoded).then_some(len),
            _ => return Ok(len),
        };
        if let Some(size) = plain_size.filter(|&size| size > self.config.max_message_size) {
            return Err(ProtocolError::MessageTooBig {
                size: size as u64,
                limit: self.config.max_message_size,
            });
        }
        if let Some(kind) = header.opcode.message_kind() {
            self.reader.message = Some(Partial {
                kind,
                encoded,
                data: Vec::new(),
            });
            self.reader.utf8.reset();
        }
        Ok(len)
    }

    /// Acts on a complete frame; returns the event it completes, if any.
    fn on_frame(
        &mut self,
        header: FrameHeader,
        payload: Bytes,
    ) -> Result<Option<Event>, ProtocolError> {
        match header.opcode {
            OpCode::Text | OpCode::Binary | OpCode::Continuation => self
                .on_data(header.fin, payload)
                .map(|m| m.map(Event::Message)),
            OpCode::Ping => {
                if self.config.auto_pong && self.can_send_control() {
                    // RFC 6455 §5.5.2: upon receipt of a Ping frame, an
                    // endpoint MUST send a Pong frame in response, with the
                    // same Application data.
                    self.write_frame(OpCode::Pong, true, 0, &payload);
                }
                Ok(Some(Event::Ping(payload)))
            }
            OpCode::Pong => Ok(Some(Event::Pong(payload))),
            OpCode::Close => self.on_close(payload).map(|f| Some(Event::Close(f))),
        }
    }

    fn on_data(&mut self, fin: bool, payload: Bytes) -> Result<Option<Message>, ProtocolError> {
        let limit = self.config.max_message_size;
        let Some(partial) = self.reader.message.as_mut() else {
            // check_header opened the message for this data frame.
            return Ok(None);
        };
        match (partial.encoded, fin) {
            // The extension took this frame's payload as it arrived.
            (true, false) => return Ok(None),
            (true, true) => {
                if let Some(extension) = self.extension.as_mut() {
                    let start = partial.data.len();
                    extension.finish_decode(&mut partial.data, limit)?;
                    if partial.kind == MessageKind::Text {
                        self.reader
                            .utf8
                            .feed(&partial.data[start..])
                            .map_err(|_| ProtocolError::InvalidUtf8)?;
                    }
                }
            }
            (false, false) => {
                append_bounded(&mut partial.data, &payload, limit);
                return Ok(None);
            }
            (false, true) => {}
        }
        let Some(Partial {
            kind,
            encoded,
            mut data,
        }) = self.reader.message.take()
        else {
            return Ok(None);
        };
        let payload = if !encoded && data.is_empty() {
            payload
        } else {
            if !encoded {
                append_bounded(&mut data, &payload, limit);
            }
            Bytes::from(data)
        };
        Ok(Some(match kind {
            MessageKind::Binary => Message::Binary(payload),
            MessageKind::Text => {
                // A text message may not end inside a code point.
                if !self.reader.utf8.is_complete() {
                    return Err(ProtocolError::InvalidUtf8);
                }
                Message::Text(Utf8Bytes::from_validated(payload))
            }
        }))
    }

    fn on_close(&mut self, payload: Bytes) -> Result<CloseFrame, ProtocolError> {
        let frame = parse_close_payload(payload)?;
        if self.state == State::Open {
            // RFC 6455 §5.5.1: if an endpoint receives a Close frame and did
            // not previously send a Close frame, the endpoint MUST send a
            // Close frame in response (echoing the status code received).
            self.write_close(frame.code, "");
        }
        self.closed();
        Ok(frame)
    }
}

/// Decides what to keep of an input buffer that has just been emptied.
///
/// A buffer that nothing else points into is kept if it is of a size the
/// connection reads with (so a busy connection does not allocate per read)
/// and released if larger. One that still shares its memory with payloads
/// handed out (the usual case: the last frame of a read was just split off)
/// is kept as it is: the next read reclaims the memory if the application
/// has dropped those payloads by then, instead of allocating anew.
fn tidy_empty_input(input: &mut BytesMut) {
    if input.is_empty() && input.try_reclaim(1) && input.capacity() > RETAINED_INPUT {
        *input = BytesMut::new();
    }
}

/// Appends received bytes to `input`. Drained as documented, the buffer
/// holds at most a partial frame plus the bytes just read: it grows by
/// doubling, but not past one frame's size (`frame_bound`). A caller that
/// feeds more without draining gets amortized doubling, so its time stays
/// linear.
fn append_input(input: &mut BytesMut, data: &[u8], frame_bound: usize, keep: usize) {
    let needed = input.len() + data.len();
    if needed > input.capacity() && input.try_reclaim(data.len()) {
        // Memory given back by dropped payloads: keep it only if it is of
        // a size this connection needs now (`keep`: the frame in progress
        // and a read), so a buffer once grown for a large frame is not
        // held for small ones.
        if input.capacity() > 2 * keep.max(needed) {
            let mut smaller = BytesMut::with_capacity(needed.max(super::RETAINED_BUFFER));
            smaller.extend_from_slice(input);
            *input = smaller;
        }
    } else if needed > input.capacity() {
        let live = input.len();
        if live > frame_bound
            || (live > super::RETAINED_BUFFER && 2 * input.capacity() <= frame_bound)
        {
            // Many live bytes: let the allocator grow the buffer in place.
            super::reserve(input, data.len(), frame_bound);
        } else {
            // Few live bytes, or the last step to the frame's size: move
            // them to a fresh allocation, so that bytes already consumed in
            // front of them are not carried along.
            let capacity = (2 * input.capacity())
                .max(super::RETAINED_BUFFER.min(frame_bound))
                .min(frame_bound)
                .max(needed);
            let mut grown = BytesMut::with_capacity(capacity);
            grown.extend_from_slice(input);
            *input = grown;
        }
    }
    input.extend_from_slice(data);
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

/// The most room reserved for a payload from its header alone.
const EAGER_PAYLOAD_ROOM: usize = 1 << 20;

/// Appends `bytes`, growing `data` by doubling but never past `limit`
/// (the caller has checked that the result fits), so a message's buffer
/// holds at most the message size limit whatever the number of fragments.
fn append_bounded(data: &mut Vec<u8>, bytes: &[u8], limit: usize) {
    let needed = data.len() + bytes.len();
    if needed > data.capacity() {
        let target = (data.capacity() * 2).clamp(needed, limit.max(needed));
        data.reserve_exact(target - data.len());
    }
    data.extend_from_slice(bytes);
}
