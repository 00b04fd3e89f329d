//! The send path: messages and control frames into the output buffer.

use bytes::{Bytes, BytesMut};
use rand::Rng;

use super::output::ZERO_COPY_MIN;

use super::{Connection, State};
#[cfg(feature = "deflate")]
use crate::extension::Agreed;
use crate::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, apply_mask};
use crate::mask::mask_copy;
use crate::{
    CloseCode, CloseFrame, Message, MessageKind, PreparedMessage, Role, SendError, Utf8Validator,
};

/// Sending state carried between calls.
#[derive(Default)]
pub(super) struct Writer {
    /// The kind of the fragmented message being sent, between its first
    /// and its last frame.
    fragmented: Option<MessageKind>,
    /// Validates the text fragments sent so far.
    utf8: Utf8Validator,
    /// Where a client's masking keys come from.
    mask_keys: MaskKeys,
    /// Reused buffer for a message encoded by an extension.
    encoded: Vec<u8>,
}

impl Writer {
    pub(super) fn memory_usage(&self) -> usize {
        self.encoded.capacity()
    }

    pub(super) fn release_memory(&mut self) {
        self.encoded = Vec::new();
    }
}

/// The largest encoding buffer kept between messages.
const RETAINED_ENCODING_BUFFER: usize = 64 << 10;

/// The source of masking keys.
#[derive(Default)]
enum MaskKeys {
    /// A fresh key per frame from the thread's CSPRNG.
    #[default]
    Random,
    /// Keys chosen by the application (byte-exact tests).
    Custom(Box<dyn FnMut() -> [u8; 4] + Send + Sync>),
}

impl MaskKeys {
    fn next(&mut self) -> [u8; 4] {
        match self {
            // RFC 6455 §5.3: the masking key MUST be a fresh 32-bit value
            // from a strong source of entropy, unpredictable per frame.
            MaskKeys::Random => {
                let mut key = [0; 4];
                rand::rng().fill_bytes(&mut key);
                key
            }
            MaskKeys::Custom(source) => source(),
        }
    }
}

impl Connection {
    /// Queues a whole message.
    ///
    /// Messages longer than [`Config::send_frame_size`] are split into
    /// several frames.
    ///
    /// [`Config::send_frame_size`]: crate::Config::send_frame_size
    pub fn send(&mut self, message: &Message) -> Result<(), SendError> {
        let (opcode, payload) = match message {
            Message::Text(text) => (OpCode::Text, text.as_bytes()),
            Message::Binary(data) => (OpCode::Binary, data),
        };
        self.send_message(opcode, payload, Some(payload))
    }

    /// Queues a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_message(OpCode::Text, text.as_bytes(), None)
    }

    /// Queues a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_message(OpCode::Binary, data, None)
    }

    /// Queues one frame of a message sent in fragments, for messages too
    /// large to hold at once or produced over time.
    ///
    /// Every fragment of a message names the same `kind`; the last one has
    /// `fin` set. Control frames may be sent between fragments, other
    /// messages may not. The fragments of a text message must together be
    /// UTF-8, but each may split a code point. Each call sends exactly one
    /// frame: [`Config::send_frame_size`] does not apply.
    ///
    /// [`Config::send_frame_size`]: crate::Config::send_frame_size
    ///
    /// ```
    /// use rfc6455::{Connection, Config, MessageKind, Role};
    ///
    /// let mut conn = Connection::new(Role::Server, Config::default());
    /// conn.send_fragment(MessageKind::Text, "hé".as_bytes()[..2].as_ref(), false).unwrap();
    /// conn.send_ping(b"between").unwrap();
    /// conn.send_fragment(MessageKind::Text, &"hé".as_bytes()[2..], true).unwrap();
    /// assert_eq!(&conn.pending_output()[..4], &[0x01, 2, b'h', 0xc3]);
    /// ```
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        payload: &[u8],
        fin: bool,
    ) -> Result<(), SendError> {
        self.check_can_send()?;
        let opcode = match (self.writer.fragmented, kind) {
            (None, kind) => OpCode::from(kind),
            (Some(open), _) if open == kind => OpCode::Continuation,
            (Some(_), _) => return Err(SendError::MessageInProgress),
        };
        if kind == MessageKind::Text {
            let mut utf8 = match opcode {
                OpCode::Continuation => self.writer.utf8.clone(),
                _ => Utf8Validator::new(),
            };
            utf8.feed(payload).map_err(|_| SendError::InvalidUtf8)?;
            if fin && !utf8.is_complete() {
                return Err(SendError::InvalidUtf8);
            }
            self.writer.utf8 = utf8;
        }
        self.write_frame(opcode, fin, 0, payload);
        self.writer.fragmented = if fin { None } else { Some(kind) };
        Ok(())
    }

    /// Queues a message prepared once for many connections (see
    /// [`PreparedMessage`]).
    ///
    /// A server copies the prepared frame as it is. A connection that
    /// agreed on permessage-deflate uses the prepared compressed form when
    /// its agreement allows (no context takeover for what it sends, a window
    /// at least as large), and otherwise compresses the message itself.
    pub fn send_prepared(&mut self, prepared: &PreparedMessage) -> Result<(), SendError> {
        self.check_can_send()?;
        if self.writer.fragmented.is_some() {
            return Err(SendError::MessageInProgress);
        }
        #[cfg(feature = "deflate")]
        if let (Agreed::Deflate(params), Some(deflated)) = (self.agreed, prepared.deflated_form())
            && params.send_no_context_takeover
            && deflated.window_bits <= params.send_max_window_bits
            && prepared.payload().len() >= params.min_message_size
        {
            let rsv = crate::frame::FrameHeader::RSV1;
            self.write_prepared(prepared.opcode(), rsv, &deflated.frame, &deflated.payload);
            return Ok(());
        }
        if self.extension.is_some() {
            let payload = prepared.payload();
            return self.send_message(prepared.opcode(), payload, Some(payload));
        }
        self.write_prepared(prepared.opcode(), 0, prepared.frame(), prepared.payload());
        Ok(())
    }

    /// Writes a prepared frame: as it is for a server, masked afresh for a
    /// client.
    fn write_prepared(&mut self, opcode: OpCode, rsv: u8, frame: &Bytes, payload: &[u8]) {
        match self.role {
            Role::Server if self.vectored_output && frame.len() >= ZERO_COPY_MIN => {
                self.output.push_shared(frame.clone());
            }
            Role::Server => {
                let buf = self.output.buf();
                super::reserve(buf, frame.len(), usize::MAX);
                buf.extend_from_slice(frame);
            }
            Role::Client => self.write_frame(opcode, true, rsv, payload),
        }
    }

    /// Queues a ping. The payload is at most 125 bytes.
    ///
    /// Pings and pongs may be sent until the connection is
    /// [`Closed`](State::Closed), also while waiting for the peer's close
    /// frame: only data frames end with the close frame (RFC 6455 §5.5.1).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Queues a pong: an answer to a ping when
    /// [`Config::auto_pong`](crate::Config::auto_pong) is off, or an
    /// unsolicited heartbeat (RFC 6455 §5.5.3). At most 125 bytes.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    /// Starts the closing handshake: queues a close frame and moves to
    /// [`State::Closing`]. The peer's answer arrives as
    /// [`Event::Close`](super::Event::Close).
    ///
    /// `code` must be valid on the wire (see
    /// [`CloseCode::is_valid_on_wire`]), or [`CloseCode::NO_STATUS`] to send
    /// a close frame without a body. `reason` is at most 123 bytes.
    pub fn send_close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        self.check_can_send()?;
        if code == CloseCode::NO_STATUS && !reason.is_empty() {
            return Err(SendError::InvalidCloseCode(code.into()));
        }
        if code != CloseCode::NO_STATUS && !code.is_valid_on_wire() {
            return Err(SendError::InvalidCloseCode(code.into()));
        }
        if reason.len() > CloseFrame::MAX_REASON_LEN {
            return Err(SendError::ControlPayloadTooLong(2 + reason.len()));
        }
        self.write_close(code, reason);
        self.state = State::Closing;
        self.timers.stop_keepalive();
        self.timers.arm_close();
        Ok(())
    }

    /// Sets where a client's masking keys come from, in place of the
    /// thread's CSPRNG. Meant for byte-exact tests; predictable keys defeat
    /// the purpose of masking (RFC 6455 §10.3).
    pub fn set_mask_key_source(&mut self, source: impl FnMut() -> [u8; 4] + Send + Sync + 'static) {
        self.writer.mask_keys = MaskKeys::Custom(Box::new(source));
    }

    /// Whether a data frame (or a second close frame) may be sent.
    fn check_can_send(&self) -> Result<(), SendError> {
        // RFC 6455 §5.5.1: after sending a Close frame, the endpoint MUST
        // NOT send any more data frames.
        match self.state {
            State::Open => Ok(()),
            State::Closing | State::Closed => Err(SendError::Closed),
        }
    }

    /// Whether a ping or pong may be sent: until the connection is closed,
    /// including while waiting for the peer's close frame.
    pub(super) fn can_send_control(&self) -> bool {
        self.state != State::Closed
    }

    /// Queues a message; `owner`, when given, holds the same bytes as
    /// `payload` and may be queued by reference.
    fn send_message(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        owner: Option<&Bytes>,
    ) -> Result<(), SendError> {
        self.check_can_send()?;
        if self.writer.fragmented.is_some() {
            return Err(SendError::MessageInProgress);
        }
        match self.extension.as_mut() {
            Some(extension) if extension.should_encode(payload.len()) => {
                let rsv = extension.rsv_bits();
                let mut encoded = std::mem::take(&mut self.writer.encoded);
                encoded.clear();
                extension.encode(payload, &mut encoded);
                self.write_message(opcode, rsv, &encoded, None);
                if encoded.capacity() <= RETAINED_ENCODING_BUFFER {
                    self.writer.encoded = encoded;
                }
            }
            _ => self.write_message(opcode, 0, payload, owner),
        }
        Ok(())
    }

    /// Frames a message, in pieces of at most `send_frame_size`, with the
    /// extension bits `rsv` on the first frame only.
    fn write_message(&mut self, opcode: OpCode, rsv: u8, payload: &[u8], owner: Option<&Bytes>) {
        let frame_size = self.config.send_frame_size.unwrap_or(usize::MAX);
        if payload.len() <= frame_size {
            self.write_frame_from(opcode, true, rsv, payload, owner);
            return;
        }
        let mut chunks = payload.chunks(frame_size).peekable();
        let (mut opcode, mut rsv) = (opcode, rsv);
        while let Some(chunk) = chunks.next() {
            let fin = chunks.peek().is_none();
            self.write_frame_from(opcode, fin, rsv, chunk, owner);
            (opcode, rsv) = (OpCode::Continuation, 0);
        }
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        if !self.can_send_control() {
            return Err(SendError::Closed);
        }
        // RFC 6455 §5.5: all control frames MUST have a payload length of
        // 125 bytes or less.
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLong(payload.len()));
        }
        self.write_frame(opcode, true, 0, payload);
        Ok(())
    }

    /// Queues a close frame; the caller has checked the code and reason.
    pub(super) fn write_close(&mut self, code: CloseCode, reason: &str) {
        let body = CloseFrame::encode_payload(code, reason);
        self.write_frame(OpCode::Close, true, 0, &body);
    }

    /// Encodes one frame into the output buffer, masked for a client.
    pub(super) fn write_frame(&mut self, opcode: OpCode, fin: bool, rsv: u8, payload: &[u8]) {
        self.write_frame_from(opcode, fin, rsv, payload, None);
    }

    /// Encodes one frame; `owner`, when given, holds `payload` (a slice of
    /// it), so that with vectored output a server can queue the payload by
    /// reference instead of copying it.
    fn write_frame_from(
        &mut self,
        opcode: OpCode,
        fin: bool,
        rsv: u8,
        payload: &[u8],
        owner: Option<&Bytes>,
    ) {
        // RFC 6455 §5.1: a client MUST mask all frames that it sends to the
        // server; a server MUST NOT mask any frames that it sends.
        let mask = match self.role {
            Role::Client => Some(self.writer.mask_keys.next()),
            Role::Server => None,
        };
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.len() as u64,
        };
        let by_reference = match owner {
            Some(owner) if mask.is_none() && self.vectored_output => {
                (payload.len() >= ZERO_COPY_MIN).then(|| owner.slice_ref(payload))
            }
            _ => None,
        };
        let copied = if by_reference.is_some() {
            0
        } else {
            payload.len()
        };
        let buf = self.output.buf();
        super::reserve(buf, header.encoded_len() + copied, usize::MAX);
        header.put(buf);
        match (by_reference, mask) {
            (Some(payload), _) => self.output.push_shared(payload),
            (None, Some(key)) => extend_masked(buf, payload, key),
            (None, None) => buf.extend_from_slice(payload),
        }
    }
}

/// Appends `payload` masked with `key`, in blocks small enough to stay in
/// the L1 cache between the masking and the copy, so that the payload is
/// read from memory once.
fn extend_masked(out: &mut BytesMut, payload: &[u8], key: [u8; 4]) {
    const BLOCK: usize = 4096;
    if payload.len() <= BLOCK {
        let start = out.len();
        out.extend_from_slice(payload);
        apply_mask(&mut out[start..], key, 0);
        return;
    }
    let mut block = [0u8; BLOCK];
    // Every block but the last is a multiple of 4 bytes long, so the key
    // phase is the same at the start of each.
    for chunk in payload.chunks(BLOCK) {
        let block = &mut block[..chunk.len()];
        mask_copy(block, chunk, key);
        out.extend_from_slice(block);
    }
}
