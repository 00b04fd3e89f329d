//! The receive path: frames out of the input buffer, messages out of frames.

use bytes::{Bytes, BytesMut};

use super::{Connection, Event, Outcome, State};
use crate::close::parse_close_payload;
use crate::extension::Extension;
use crate::frame::{FrameHeader, OpCode, apply_mask};
use crate::{CloseFrame, Message, MessageKind, ProtocolError, Role, Utf8Bytes, Utf8Validator};

/// Decoding state carried between calls to `next_event`.
#[derive(Default)]
pub(super) struct Reader {
    /// The frame whose header has been consumed from the input buffer.
    pub(super) frame: Option<FrameInProgress>,
    /// The data message being received, from its first frame to its last.
    pub(super) message: Option<Partial>,
    /// Validates the current text message as its bytes arrive.
    pub(super) utf8: Utf8Validator,
}

#[derive(Clone, Copy)]
pub(super) struct FrameInProgress {
    pub(super) header: FrameHeader,
    /// Payload bytes of the frame still at the front of the input buffer
    /// or to come.
    pub(super) len: usize,
    /// Payload bytes at the front of the input buffer already unmasked
    /// (and, for text, validated).
    pub(super) done: usize,
    /// Payload bytes already handed out in pieces (streaming receive):
    /// where `done` starts in the frame, for the masking key.
    pub(super) taken: usize,
}

pub(super) struct Partial {
    pub(super) kind: MessageKind,
    /// The first frame carried the extension's RSV bits: the payload is
    /// decoded by the extension as it arrives, into `data`.
    pub(super) encoded: bool,
    /// The payload of the frames received so far (decoded, if `encoded`).
    /// Empty until a plain message spans more than one frame: a
    /// single-frame message is handed over without a copy. When streaming,
    /// only what is not handed out yet: decoded bytes, or the start of a
    /// code point that a frame boundary split.
    pub(super) data: Vec<u8>,
    /// The message's size so far (decoded, if `encoded`).
    pub(super) size: u64,
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
        partial.size += checked.len() as u64;
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
        let frame = self.reader.frame.map(|frame| frame.len);
        self.input.receive(data, frame, self.limits.max_frame_size);
    }

    /// Room to read the transport's next bytes into, in the connection's
    /// own input buffer: read into it, then hand it back with
    /// [`commit_read`](Self::commit_read). Bytes read this way are not
    /// copied again (with [`receive_data`](Self::receive_data) they are
    /// copied from the caller's buffer into this one).
    ///
    /// The buffer is empty, with spare capacity (at least a few KiB, what
    /// the frame in progress is missing, or after a large frame room for
    /// the next one of its size, so that an echoed message of 64 KiB takes
    /// one read) sized by the connection's memory policy: read at most
    /// `capacity()` bytes into it, without zero-filling it first — `tokio::io::AsyncReadExt::read_buf` does
    /// that, or `bytes::BufMut::put_slice` for bytes already in hand. A
    /// reader that can only fill an initialized slice can `resize` it to
    /// its capacity with zeros and `truncate` it to the count read.
    ///
    /// ```
    /// use bytes::BufMut;
    /// use rfc6455::{Config, Connection, Event, Message, Role};
    ///
    /// let mut conn = Connection::new(Role::Client, Config::default());
    /// let mut buf = conn.read_buffer();
    /// buf.put_slice(&[0x81, 0x02, b'h', b'i']); // as a socket read would
    /// conn.commit_read(buf);
    /// assert!(matches!(
    ///     conn.next_event(),
    ///     Ok(Some(Event::Message(Message::Text(t)))) if t == "hi"
    /// ));
    /// ```
    pub fn read_buffer(&mut self) -> BytesMut {
        let frame = self.reader.frame.map(|frame| frame.len);
        self.input.read_space(frame, self.limits.max_frame_size)
    }

    /// Takes back the buffer from [`read_buffer`](Self::read_buffer) with
    /// the bytes the transport delivered in it, as
    /// [`receive_data`](Self::receive_data) does with a slice. An empty
    /// buffer receives nothing (the end of the transport is still reported
    /// with [`receive_eof`](Self::receive_eof)); a buffer other than the
    /// one handed out is appended.
    pub fn commit_read(&mut self, buf: BytesMut) {
        let open = self.state != State::Closed;
        if open && !buf.is_empty() {
            self.timers.heard_from_peer();
        }
        self.input.commit(buf, open);
    }

    /// Reports that the transport ended: the peer will send nothing more.
    ///
    /// Frames already received are still delivered. If the closing
    /// handshake did not happen, [`next_event`](Self::next_event) then
    /// reports [`Event::Abnormal`].
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
        if self.outcome.is_some() {
            return self.after_end();
        }
        if std::mem::take(&mut self.abnormal_pending) {
            return Ok(Some(Event::Abnormal));
        }
        if self.state == State::Closed || self.is_write_buffer_full() {
            return Ok(None);
        }
        let result = self.read_event();
        self.input.tidy();
        match result {
            Ok(Some(event)) => Ok(Some(event)),
            Ok(None) if self.eof => {
                // RFC 6455 §7.1.5: closed without a close frame (code 1006).
                self.outcome = Some(Box::new(Outcome::Abnormal));
                self.closed();
                self.close_transport = true;
                Ok(Some(Event::Abnormal))
            }
            Ok(None) => Ok(None),
            Err(error) => {
                self.fail(error.clone());
                Err(error)
            }
        }
    }

    /// `next_event` once the connection has ended: the failure again, or
    /// nothing.
    #[cold]
    fn after_end(&mut self) -> Result<Option<Event>, ProtocolError> {
        if let Some(Outcome::Failed(error)) = self.outcome.as_deref() {
            return Err(error.clone());
        }
        Ok(std::mem::take(&mut self.abnormal_pending).then_some(Event::Abnormal))
    }

    /// Decodes frames until one completes an event or the input runs out.
    fn read_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        loop {
            let mut frame = match self.reader.frame {
                Some(frame) => frame,
                None => {
                    let Some((header, header_len)) = FrameHeader::decode(self.input.bytes())?
                    else {
                        return Ok(None);
                    };
                    let len = self.check_header(&header)?;
                    self.input.advance(header_len);
                    // A streamed frame may be larger than any buffer; it is
                    // never held whole.
                    let room = len.min(self.limits.max_frame_size);
                    self.input.make_room_for_payload(room);
                    FrameInProgress {
                        header,
                        len,
                        done: 0,
                        taken: 0,
                    }
                }
            };
            let available = self.input.bytes().len().min(frame.len);
            if available > frame.done {
                let fresh = &mut self.input.bytes_mut()[frame.done..available];
                if let Some(key) = frame.header.mask {
                    apply_mask(fresh, key, frame.taken + frame.done);
                }
                let limit = self.limits.max_message_size;
                self.reader
                    .absorb(&frame.header, fresh, self.extension.as_mut(), limit)?;
                frame.done = available;
            }
            if self.limits.streaming.is_some() && !frame.header.opcode.is_control() {
                match self.stream_piece(frame)? {
                    Some(event) => return Ok(Some(event)),
                    None if self.reader.frame.is_some() => return Ok(None),
                    None => continue,
                }
            }
            if frame.done < frame.len {
                self.reader.frame = Some(frame);
                return Ok(None);
            }
            self.reader.frame = None;
            let payload = self.input.take_payload(frame.len);
            if let Some(event) = self.on_frame(frame.header, payload)? {
                return Ok(Some(event));
            }
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
        // Streaming receive holds no data frame whole: its own limit on
        // the message size is what bounds it.
        let streaming = self.limits.streaming;
        let limit = match streaming {
            Some(_) if !header.opcode.is_control() => usize::MAX,
            _ => self.limits.max_frame_size,
        };
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
            (OpCode::Continuation, Some(partial)) => (!partial.encoded).then(|| {
                let so_far = match streaming {
                    Some(_) => partial.size,
                    None => partial.data.len() as u64,
                };
                so_far.saturating_add(len as u64)
            }),
            (OpCode::Text | OpCode::Binary, None) => (!encoded).then_some(len as u64),
            _ => return Ok(len),
        };
        let message_limit = streaming.unwrap_or(self.limits.max_message_size as u64);
        if let Some(size) = plain_size.filter(|&size| size > message_limit) {
            return Err(ProtocolError::MessageTooBig {
                size,
                limit: usize::try_from(message_limit).unwrap_or(usize::MAX),
            });
        }
        if let Some(kind) = header.opcode.message_kind() {
            self.reader.message = Some(Partial {
                kind,
                encoded,
                data: Vec::new(),
                size: 0,
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
        let limit = self.limits.max_message_size;
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
            ..
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
        self.outcome = Some(Box::new(Outcome::Clean(frame.clone())));
        self.closed();
        Ok(frame)
    }
}

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
