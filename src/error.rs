//! Errors, named by who is at fault: the peer ([`ProtocolError`]) or the
//! caller ([`SendError`]). Handshake failures are
//! [`HandshakeError`](crate::handshake::HandshakeError).

use crate::CloseCode;

/// The peer broke RFC 6455, or exceeded a configured limit.
///
/// Returned by [`Connection::next_event`](crate::Connection::next_event).
/// When it is returned the connection has already been failed (RFC 6455
/// §7.1.7): a close frame carrying [`close_code`](Self::close_code) is queued
/// for sending, no further input is processed, and every later call to
/// `next_event` returns the same error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// An RSV bit is set that no negotiated extension defines (§5.2).
    #[error("reserved bits {0:#05b} set without an extension that defines them (RFC 6455 §5.2)")]
    ReservedBits(u8),
    /// The opcode is one of the reserved ones, 0x3–0x7 or 0xB–0xF (§5.2).
    #[error("reserved opcode {0:#x} (RFC 6455 §5.2)")]
    ReservedOpcode(u8),
    /// A control frame without the FIN bit (§5.5).
    #[error("fragmented control frame (RFC 6455 §5.5)")]
    FragmentedControlFrame,
    /// A control frame with more than 125 bytes of payload (§5.5). Holds the
    /// 7-bit length field, which is refused before any longer length is
    /// read: 126 and 127 announce 16- and 64-bit lengths.
    #[error("control frame with a payload length field of {0}, over 125 (RFC 6455 §5.5)")]
    ControlFrameTooLong(u64),
    /// A server received a frame that was not masked (§5.1).
    #[error("unmasked frame from a client (RFC 6455 §5.1)")]
    UnmaskedFrame,
    /// A client received a frame that was masked (§5.1).
    #[error("masked frame from a server (RFC 6455 §5.1)")]
    MaskedFrame,
    /// A 64-bit payload length with its most significant bit set (§5.2).
    #[error("64-bit payload length with the most significant bit set (RFC 6455 §5.2)")]
    InvalidLength,
    /// A continuation frame arrived when no fragmented message was open
    /// (§5.4).
    #[error("continuation frame without a message to continue (RFC 6455 §5.4)")]
    UnexpectedContinuation,
    /// A text or binary frame arrived while a fragmented message was still
    /// open (§5.4).
    #[error("new data frame inside an unfinished fragmented message (RFC 6455 §5.4)")]
    ExpectedContinuation,
    /// A text message is not valid UTF-8 (§8.1).
    #[error("text message is not valid UTF-8 (RFC 6455 §8.1)")]
    InvalidUtf8,
    /// A close frame with a one-byte body (§5.5.1).
    #[error("close frame with a 1-byte body (RFC 6455 §5.5.1)")]
    InvalidClosePayload,
    /// A close frame with a code that may not be sent (§7.4).
    #[error("close code {0} is not allowed on the wire (RFC 6455 §7.4)")]
    InvalidCloseCode(u16),
    /// A close frame whose reason is not UTF-8 (§5.5.1).
    #[error("close reason is not valid UTF-8 (RFC 6455 §5.5.1)")]
    InvalidCloseReason,
    /// A compressed message (RFC 7692) is not a valid DEFLATE stream.
    #[error("compressed message is not valid DEFLATE data (RFC 7692 §7.2.2)")]
    InvalidCompressedData,
    /// A frame header announced more payload than
    /// [`Config::max_frame_size`](crate::Config::max_frame_size).
    #[error("frame of {size} bytes exceeds the limit of {limit}")]
    FrameTooBig {
        /// The announced payload length.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// A message grew past
    /// [`Config::max_message_size`](crate::Config::max_message_size).
    #[error("message of at least {size} bytes exceeds the limit of {limit}")]
    MessageTooBig {
        /// The message size known when the limit was hit.
        size: u64,
        /// The configured limit.
        limit: usize,
    },
    /// The peer sent nothing within the keepalive timeout after a ping.
    #[error("no answer to a keepalive ping within the timeout")]
    KeepaliveTimeout,
}

impl ProtocolError {
    /// The close code sent to the peer for this error (RFC 6455 §7.4.1).
    ///
    /// ```
    /// use rfc6455::{CloseCode, ProtocolError};
    ///
    /// assert_eq!(ProtocolError::InvalidUtf8.close_code(), CloseCode::INVALID_PAYLOAD);
    /// ```
    pub fn close_code(&self) -> CloseCode {
        use ProtocolError::*;
        match self {
            InvalidUtf8 | InvalidCloseReason | InvalidCompressedData => CloseCode::INVALID_PAYLOAD,
            FrameTooBig { .. } | MessageTooBig { .. } => CloseCode::MESSAGE_TOO_BIG,
            KeepaliveTimeout => CloseCode::INTERNAL_ERROR,
            ReservedBits(_)
            | ReservedOpcode(_)
            | FragmentedControlFrame
            | ControlFrameTooLong(_)
            | UnmaskedFrame
            | MaskedFrame
            | InvalidLength
            | UnexpectedContinuation
            | ExpectedContinuation
            | InvalidClosePayload
            | InvalidCloseCode(_) => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// The caller asked for something the protocol does not allow.
///
/// Nothing is queued when a send method returns this error, and the
/// connection stays usable.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent, or the connection was failed
    /// (RFC 6455 §5.5.1: no data after a close frame).
    #[error("the connection is closing or closed")]
    Closed,
    /// A ping, pong or close payload over 125 bytes (§5.5).
    #[error("control frame payload of {0} bytes, over 125")]
    ControlPayloadTooLong(usize),
    /// A close code that may not be sent (§7.4).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// A whole message was sent while a fragmented one was unfinished, or a
    /// fragment's kind does not match the message it continues.
    #[error("a fragmented message of another kind is unfinished")]
    MessageInProgress,
    /// The fragments of a text message are not valid UTF-8.
    #[error("text fragments are not valid UTF-8")]
    InvalidUtf8,
}
