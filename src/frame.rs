//! The frame header codec (RFC 6455 §5.2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-------+-+-------------+-------------------------------+
//! |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
//! |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
//! |N|V|V|V|       |S|             |   (if payload len==126/127)   |
//! | |1|2|3|       |K|             |                               |
//! +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
//! |     Extended payload length continued, if payload len == 127  |
//! + - - - - - - - - - - - - - - - +-------------------------------+
//! |                               | Masking-key, if MASK set to 1 |
//! +-------------------------------+-------------------------------+
//! ```
//!
//! Only the rules that need nothing but the header's own bytes are checked
//! here. The rules that depend on the connection (masking by role, RSV bits
//! owned by extensions, size limits, fragmentation order) are checked by
//! [`Connection`](crate::Connection).

use bytes::BufMut;

pub use crate::mask::apply_mask;
use crate::{MessageKind, ProtocolError};

/// The longest possible header: 2 bytes, an 8-byte length and a 4-byte key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload a control frame may carry (RFC 6455 §5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame's opcode (RFC 6455 §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpCode {
    /// 0x0: a continuation of a fragmented message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8: a close frame.
    Close,
    /// 0x9: a ping.
    Ping,
    /// 0xA: a pong.
    Pong,
}

impl OpCode {
    /// The opcode with this 4-bit value, or `None` for the reserved values
    /// 0x3–0x7 and 0xB–0xF.
    pub fn from_bits(bits: u8) -> Option<OpCode> {
        Some(match bits {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xa => OpCode::Pong,
            _ => return None,
        })
    }

    /// The 4-bit value on the wire.
    pub fn bits(self) -> u8 {
        match self {
            OpCode::Continuation => 0x0,
            OpCode::Text => 0x1,
            OpCode::Binary => 0x2,
            OpCode::Close => 0x8,
            OpCode::Ping => 0x9,
            OpCode::Pong => 0xa,
        }
    }

    /// Whether this is a control frame's opcode (close, ping, pong).
    pub fn is_control(self) -> bool {
        self.bits() & 0x8 != 0
    }

    /// The kind of message a frame with this opcode starts: text or
    /// binary, `None` for continuation and control frames.
    pub fn message_kind(self) -> Option<MessageKind> {
        match self {
            OpCode::Text => Some(MessageKind::Text),
            OpCode::Binary => Some(MessageKind::Binary),
            _ => None,
        }
    }
}

impl From<MessageKind> for OpCode {
    /// The opcode of the first frame of a message of this kind.
    fn from(kind: MessageKind) -> OpCode {
        match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

/// A decoded frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether this is the final frame of its message.
    pub fin: bool,
    /// The three RSV bits, RSV1 as the highest: `0b100` is RSV1 alone.
    pub rsv: u8,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key, if the frame is masked.
    pub mask: Option<[u8; 4]>,
    /// The payload length.
    pub payload_len: u64,
}

impl FrameHeader {
    /// The RSV1 bit in [`FrameHeader::rsv`], used by permessage-deflate.
    pub const RSV1: u8 = 0b100;

    /// Decodes a header from the start of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not hold the whole header yet, and
    /// the header with its encoded length otherwise. Fails as soon as the
    /// bytes present break a rule of §5.2 or §5.5: a reserved opcode, a
    /// fragmented or over-long control frame, a 64-bit length with its top
    /// bit set.
    ///
    /// ```
    /// use rfc6455::frame::{FrameHeader, OpCode};
    ///
    /// // A masked text frame of 5 bytes (RFC 6455 §5.7).
    /// let bytes = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
    /// let (header, len) = FrameHeader::decode(&bytes).unwrap().unwrap();
    /// assert_eq!(len, 6);
    /// assert_eq!(header.opcode, OpCode::Text);
    /// assert_eq!(header.payload_len, 5);
    /// assert_eq!(header.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
    /// assert_eq!(FrameHeader::decode(&bytes[..3]), Ok(None));
    /// ```
    pub fn decode(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let fin = first & 0x80 != 0;
        let rsv = (first >> 4) & 0b111;
        // RFC 6455 §5.2: if an unknown opcode is received, the receiving
        // endpoint MUST _Fail the WebSocket Connection_.
        let opcode =
            OpCode::from_bits(first & 0x0f).ok_or(ProtocolError::ReservedOpcode(first & 0x0f))?;
        if opcode.is_control() && !fin {
            // RFC 6455 §5.5: control frames MUST NOT be fragmented.
            return Err(ProtocolError::FragmentedControlFrame);
        }
        let Some(&second) = buf.get(1) else {
            return Ok(None);
        };
        let masked = second & 0x80 != 0;
        let short_len = second & 0x7f;
        if opcode.is_control() && usize::from(short_len) > MAX_CONTROL_PAYLOAD {
            // RFC 6455 §5.5: all control frames MUST have a payload length
            // of 125 bytes or less.
            return Err(ProtocolError::ControlFrameTooLong(u64::from(short_len)));
        }
        let (payload_len, mut pos) = match short_len {
            126 => match buf.get(2..4) {
                Some(&[hi, lo]) => (u64::from(u16::from_be_bytes([hi, lo])), 4),
                _ => return Ok(None),
            },
            127 => {
                let Some(bytes) = buf.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) else {
                    return Ok(None);
                };
                let len = u64::from_be_bytes(bytes);
                // RFC 6455 §5.2: the most significant bit MUST be 0.
                if len >> 63 != 0 {
                    return Err(ProtocolError::InvalidLength);
                }
                (len, 10)
            }
            n => (u64::from(n), 2),
        };
        let mask = if masked {
            let Some(key) = buf
                .get(pos..pos + 4)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
            else {
                return Ok(None);
            };
            pos += 4;
            Some(key)
        } else {
            None
        };
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len,
        };
        Ok(Some((header, pos)))
    }

    /// The number of bytes [`encode`](Self::encode) writes.
    pub fn encoded_len(&self) -> usize {
        let len_bytes = match self.payload_len {
            0..=125 => 0,
            126..=0xffff => 2,
            _ => 8,
        };
        2 + len_bytes + if self.mask.is_some() { 4 } else { 0 }
    }

    /// Encodes the header into `out`, returning the number of bytes written.
    ///
    /// The length takes the fewest bytes that hold it (RFC 6455 §5.2: "the
    /// minimal number of bytes MUST be used to encode the length").
    ///
    /// ```
    /// use rfc6455::frame::{FrameHeader, OpCode, MAX_HEADER_LEN};
    ///
    /// let header = FrameHeader { fin: true, rsv: 0, opcode: OpCode::Binary, mask: None, payload_len: 256 };
    /// let mut out = [0; MAX_HEADER_LEN];
    /// let n = header.encode(&mut out);
    /// assert_eq!(&out[..n], &[0x82, 126, 0x01, 0x00]);
    /// ```
    pub fn encode(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        let mut w = &mut out[..];
        self.put(&mut w);
        MAX_HEADER_LEN - w.len()
    }

    /// Appends the encoded header to `out`.
    pub(crate) fn put(&self, out: &mut impl BufMut) {
        let fin = if self.fin { 0x80 } else { 0 };
        out.put_u8(fin | (self.rsv & 0b111) << 4 | self.opcode.bits());
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        match self.payload_len {
            n @ 0..=125 => out.put_u8(mask_bit | n as u8),
            n @ 126..=0xffff => {
                out.put_u8(mask_bit | 126);
                out.put_u16(n as u16);
            }
            n => {
                out.put_u8(mask_bit | 127);
                out.put_u64(n);
            }
        }
        if let Some(key) = self.mask {
            out.put_slice(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(opcode: OpCode, len: u64, mask: Option<[u8; 4]>) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode,
            mask,
            payload_len: len,
        }
    }

    #[test]
    fn round_trips_every_length_form() {
        for len in [0, 1, 125, 126, 127, 0xffff, 0x1_0000, u64::MAX >> 1] {
            for mask in [None, Some([1, 2, 3, 4])] {
                let h = FrameHeader {
                    rsv: 0b101,
                    fin: len % 2 == 0,
                    ..header(OpCode::Binary, len, mask)
                };
                let mut out = [0; MAX_HEADER_LEN];
                let n = h.encode(&mut out);
                assert_eq!(n, h.encoded_len());
                assert_eq!(FrameHeader::decode(&out[..n]), Ok(Some((h, n))));
                for short in 0..n {
                    assert_eq!(FrameHeader::decode(&out[..short]), Ok(None));
                }
            }
        }
    }

    #[test]
    fn minimal_length_encoding() {
        let cases = [(125, 2), (126, 4), (0xffff, 4), (0x1_0000, 10)];
        for (len, expect) in cases {
            assert_eq!(header(OpCode::Text, len, None).encoded_len(), expect);
        }
    }

    #[test]
    fn rejects_reserved_opcodes() {
        for bits in (0x3..=0x7).chain(0xb..=0xf) {
            assert_eq!(
                FrameHeader::decode(&[0x80 | bits]),
                Err(ProtocolError::ReservedOpcode(bits))
            );
        }
    }

    #[test]
    fn rejects_bad_control_frames_early() {
        assert_eq!(
            FrameHeader::decode(&[0x09]),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(
            FrameHeader::decode(&[0x89, 126]),
            Err(ProtocolError::ControlFrameTooLong(126))
        );
        let (ok, _) = FrameHeader::decode(&[0x89, 125]).unwrap().unwrap();
        assert_eq!(ok.payload_len, 125);
    }

    #[test]
    fn rejects_top_bit_in_64_bit_length() {
        let bytes = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1];
        assert_eq!(
            FrameHeader::decode(&bytes),
            Err(ProtocolError::InvalidLength)
        );
    }
}
