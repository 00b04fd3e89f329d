//! Independent checks on what an endpoint sends and reports.
//!
//! Nothing here trusts the code under test more than it must: frames are
//! located with `FrameHeader::decode` (itself fuzzed by `frame_header`), but
//! every rule is then re-checked here, and UTF-8 is checked with `std`, not
//! with the crate's validator.

use rfc6455::frame::{FrameHeader, MAX_CONTROL_PAYLOAD, OpCode, apply_mask};
use rfc6455::{CloseCode, CloseFrame, Config, Event, Message, Role};

/// One frame decoded from an endpoint's output, payload unmasked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The FIN bit.
    pub fin: bool,
    /// The opcode.
    pub opcode: OpCode,
    /// The unmasked payload.
    pub payload: Vec<u8>,
}

/// Decodes one frame sent by an endpoint of role `sender` from the start of
/// `bytes`, checking the header rules that bind a sender. Returns the frame
/// and its encoded length, or `None` if `bytes` holds only part of it.
///
/// # Panics
///
/// On any header a conforming sender never writes.
pub fn decode_sent_frame(sender: Role, bytes: &[u8]) -> Option<(Frame, usize)> {
    let (header, header_len) = match FrameHeader::decode(bytes) {
        Ok(Some(decoded)) => decoded,
        Ok(None) => return None,
        Err(e) => panic!("{sender:?} sent an undecodable frame header: {e} ({bytes:02x?})"),
    };
    // RFC 6455 §5.1: a client masks every frame, a server none.
    assert_eq!(
        header.mask.is_some(),
        sender == Role::Client,
        "{sender:?} sent a frame with the wrong masking: {header:?}"
    );
    // No extension is negotiated by these targets, so no RSV bit may be set.
    assert_eq!(header.rsv, 0, "{sender:?} set RSV bits: {header:?}");
    // RFC 6455 §5.2: the minimal number of bytes MUST encode the length.
    assert_eq!(
        header_len,
        header.encoded_len(),
        "{sender:?} used a non-minimal length: {header:?}"
    );
    if header.opcode.is_control() {
        // RFC 6455 §5.5: control frames are never fragmented and carry at
        // most 125 bytes.
        assert!(header.fin, "{sender:?} fragmented a control frame");
        assert!(header.payload_len <= MAX_CONTROL_PAYLOAD as u64);
    }
    let len = usize::try_from(header.payload_len).expect("payload length fits usize");
    let payload = bytes.get(header_len..header_len + len)?;
    let mut payload = payload.to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut payload, key, 0);
    }
    let frame = Frame {
        fin: header.fin,
        opcode: header.opcode,
        payload,
    };
    Some((frame, header_len + len))
}

/// Decodes `bytes` as exactly a whole number of frames sent by `sender`.
///
/// # Panics
///
/// If `bytes` ends inside a frame, or on a header [`decode_sent_frame`]
/// refuses.
pub fn decode_sent_frames(sender: Role, mut bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let Some((frame, len)) = decode_sent_frame(sender, bytes) else {
            panic!("{sender:?} output ends inside a frame: {bytes:02x?}");
        };
        frames.push(frame);
        bytes = &bytes[len..];
    }
    frames
}

/// The code and reason of a close frame's payload.
///
/// # Panics
///
/// If the payload is not one a conforming sender writes (RFC 6455 §5.5.1:
/// empty, or a code valid on the wire followed by UTF-8).
pub fn parse_sent_close(payload: &[u8]) -> CloseFrame {
    match payload {
        [] => CloseFrame::new(CloseCode::NO_STATUS, ""),
        [_] => panic!("close frame with a one-byte body"),
        [hi, lo, reason @ ..] => {
            let code = CloseCode::from(u16::from_be_bytes([*hi, *lo]));
            assert!(code.is_valid_on_wire(), "sent close code {code}");
            let reason = std::str::from_utf8(reason).expect("close reason is UTF-8");
            CloseFrame::new(code, reason)
        }
    }
}

/// Follows the stream of frames an endpoint sends and checks the rules that
/// span frames: fragmentation order, UTF-8 of whole text messages, the
/// close frame body, and that only pings and pongs follow a close frame.
pub struct OutputChecker {
    sender: Role,
    /// Bytes of a frame not yet complete.
    partial: Vec<u8>,
    /// The fragmented data message being sent: its opcode and, for text,
    /// the bytes so far (validated as a whole when it ends).
    message: Option<(OpCode, Vec<u8>)>,
    close_sent: bool,
}

impl OutputChecker {
    /// A checker for the output of an endpoint of role `sender`.
    pub fn new(sender: Role) -> Self {
        OutputChecker {
            sender,
            partial: Vec::new(),
            message: None,
            close_sent: false,
        }
    }

    /// Checks the next bytes written by the endpoint.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.partial.extend_from_slice(bytes);
        let mut start = 0;
        while let Some((frame, len)) = decode_sent_frame(self.sender, &self.partial[start..]) {
            start += len;
            self.check_frame(&frame);
        }
        self.partial.drain(..start);
    }

    /// Checks that the output ended on a frame boundary.
    pub fn finish(&self) {
        assert!(
            self.partial.is_empty(),
            "{:?} output ends inside a frame: {:02x?}",
            self.sender,
            self.partial
        );
    }

    fn check_frame(&mut self, frame: &Frame) {
        // RFC 6455 §5.5.1: after sending a Close frame, the endpoint MUST
        // NOT send any more data frames. This crate still answers pings
        // while it waits for the peer's close frame, and sends nothing else.
        assert!(
            !self.close_sent || matches!(frame.opcode, OpCode::Ping | OpCode::Pong),
            "{:?} sent {:?} after its close frame",
            self.sender,
            frame.opcode
        );
        match frame.opcode {
            OpCode::Close => {
                parse_sent_close(&frame.payload);
                self.close_sent = true;
            }
            OpCode::Ping | OpCode::Pong => {}
            OpCode::Text | OpCode::Binary => {
                // RFC 6455 §5.4: no new message inside a fragmented one.
                assert!(
                    self.message.is_none(),
                    "{:?} started a message inside another",
                    self.sender
                );
                self.data_frame(frame.opcode, frame);
            }
            OpCode::Continuation => {
                let (opcode, _) = self
                    .message
                    .as_ref()
                    .unwrap_or_else(|| panic!("{:?} sent a stray continuation", self.sender));
                self.data_frame(*opcode, frame);
            }
        }
    }

    fn data_frame(&mut self, opcode: OpCode, frame: &Frame) {
        let (_, text) = self.message.get_or_insert_with(|| (opcode, Vec::new()));
        if opcode == OpCode::Text {
            text.extend_from_slice(&frame.payload);
        }
        if frame.fin
            && let Some((_, text)) = self.message.take()
        {
            assert!(
                std::str::from_utf8(&text).is_ok(),
                "{:?} sent a text message that is not UTF-8",
                self.sender
            );
        }
    }
}

/// Checks what an event may carry under `config`.
pub fn check_event(event: &Event, config: &Config) {
    match event {
        Event::Message(message) => {
            assert!(
                message.len() <= config.max_message_size,
                "message over the limit"
            );
            if let Message::Text(text) = message {
                // `Utf8Bytes` derefs through `from_utf8_unchecked`: that the
                // bytes really are UTF-8 is a soundness property.
                assert!(std::str::from_utf8(text.as_bytes()).is_ok());
            }
        }
        Event::Piece { data, last } => {
            if !last {
                assert!(!data.is_empty(), "an empty piece before the last");
            }
            let limit = config.streaming.expect("a piece without streaming");
            assert!(data.len() as u64 <= limit, "piece over the limit");
            if let Message::Text(text) = data {
                // Each text piece is whole code points (and soundness, as
                // above).
                assert!(std::str::from_utf8(text.as_bytes()).is_ok());
            }
        }
        Event::Ping(payload) | Event::Pong(payload) => {
            assert!(payload.len() <= MAX_CONTROL_PAYLOAD);
        }
        Event::Close(frame) => {
            let code = frame.code;
            assert!(
                code.is_valid_on_wire() || code == CloseCode::NO_STATUS,
                "close event with code {code}"
            );
            if !code.is_valid_on_wire() {
                assert!(frame.reason.is_empty(), "reason without a code");
            }
            assert!(frame.reason.len() <= CloseFrame::MAX_REASON_LEN);
            assert!(std::str::from_utf8(frame.reason.as_bytes()).is_ok());
        }
        _ => {}
    }
}

/// Checks that `frames` are one whole message as `send` writes it: split
/// into frames of at most `frame_size` bytes (one frame when `None`), the
/// first with `opcode`, the others continuations, only the last with FIN.
pub fn check_message_frames(
    frames: &[Frame],
    opcode: OpCode,
    payload: &[u8],
    frame_size: Option<usize>,
) {
    let size = frame_size.unwrap_or(usize::MAX);
    let count = payload.len().div_ceil(size).max(1);
    assert_eq!(
        frames.len(),
        count,
        "message split into the wrong number of frames"
    );
    // An empty message is one empty frame.
    let chunks = payload.chunks(size).chain([&[][..]]);
    for (i, (frame, chunk)) in frames.iter().zip(chunks).enumerate() {
        let want = if i == 0 { opcode } else { OpCode::Continuation };
        assert_eq!(frame.opcode, want);
        assert_eq!(frame.fin, i + 1 == count);
        assert_eq!(frame.payload, chunk);
    }
}
