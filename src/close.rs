//! Close status codes (RFC 6455 §7.4) and the close frame body (§5.5.1).

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::{ProtocolError, Utf8Bytes};

/// A close status code (RFC 6455 §7.4).
///
/// The associated constants name the codes the RFC defines. Any `u16` can be
/// held, so that codes read off the wire or chosen by an application in the
/// private range (4000–4999) fit too; [`CloseCode::is_valid_on_wire`] tells
/// which of them may appear in a close frame.
///
/// ```
/// use rfc6455::CloseCode;
///
/// assert_eq!(u16::from(CloseCode::NORMAL), 1000);
/// assert!(CloseCode::from(4000).is_valid_on_wire());
/// assert!(!CloseCode::ABNORMAL.is_valid_on_wire());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: the endpoint is going away (server shutting down, page left).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the peer broke the protocol.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: reported locally when a close frame carried no code. Never sent.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: reported locally when the connection ended without a close
    /// frame. Never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: a message's data was not consistent with its type (for
    /// example a text message that is not UTF-8).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the server is restarting; reconnect (IANA registry).
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: the server is overloaded or the client too slow; reconnect
    /// later (IANA registry).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway got an invalid answer from upstream (IANA registry).
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: reported locally when the TLS handshake failed. Never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether this code may appear in a close frame on the wire.
    ///
    /// Valid: 1000–1003, 1007–1011 (defined by RFC 6455), 1012–1014
    /// (added to the IANA registry that RFC 6455 §11.7 set up, as its
    /// §7.4.2 foresees for 1000–2999), and 3000–4999 (registered and
    /// private codes, §7.4.2). Everything else, including 1005, 1006 and
    /// 1015, which are reserved for local reporting, is a protocol error
    /// when received.
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The code and reason of a closing handshake.
///
/// Reported by [`Event::Close`](crate::Event::Close) with the peer's code, or
/// with [`CloseCode::NO_STATUS`] (1005) when the peer's close frame was empty,
/// or [`CloseCode::ABNORMAL`] (1006) when the transport ended without one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most 123 bytes of UTF-8 on the wire.
    pub reason: Utf8Bytes,
}

impl CloseFrame {
    /// Largest reason that fits a close frame: 125 bytes of control payload
    /// minus the 2-byte code (RFC 6455 §5.5).
    pub const MAX_REASON_LEN: usize = 123;

    /// A close frame with the given code and reason.
    pub fn new(code: CloseCode, reason: impl Into<Utf8Bytes>) -> Self {
        CloseFrame {
            code,
            reason: reason.into(),
        }
    }

    /// The body of a close frame carrying this code and reason, or an empty
    /// body for [`CloseCode::NO_STATUS`].
    pub(crate) fn encode_payload(code: CloseCode, reason: &str) -> Bytes {
        if code == CloseCode::NO_STATUS {
            return Bytes::new();
        }
        let mut body = BytesMut::with_capacity(2 + reason.len());
        body.put_u16(code.0);
        body.put_slice(reason.as_bytes());
        body.freeze()
    }
}

/// Parses the body of a received close frame (RFC 6455 §5.5.1).
pub(crate) fn parse_close_payload(payload: Bytes) -> Result<CloseFrame, ProtocolError> {
    match payload.len() {
        0 => Ok(CloseFrame::new(CloseCode::NO_STATUS, Utf8Bytes::new())),
        // RFC 6455 §5.5.1: if there is a body, the first two bytes MUST be
        // a 2-byte unsigned integer (the status code).
        1 => Err(ProtocolError::InvalidClosePayload),
        _ => {
            let code = CloseCode(u16::from_be_bytes([payload[0], payload[1]]));
            // RFC 6455 §7.4: codes outside the defined and registered ranges
            // are a protocol error.
            if !code.is_valid_on_wire() {
                return Err(ProtocolError::InvalidCloseCode(code.0));
            }
            // RFC 6455 §5.5.1: the reason is UTF-8 (§8.1: fail if it is not).
            let reason = Utf8Bytes::try_from(payload.slice(2..))
                .map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok(CloseFrame { code, reason })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_matches_rfc_ranges() {
        let valid: Vec<u16> = (0..=u16::MAX)
            .filter(|&c| CloseCode(c).is_valid_on_wire())
            .collect();
        assert_eq!(valid.len(), 4 + 5 + 3 + 2000);
        for c in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            assert!(!CloseCode(c).is_valid_on_wire(), "{c}");
        }
    }

    #[test]
    fn parses_bodies() {
        let frame = parse_close_payload(Bytes::from_static(b"\x03\xe8bye")).unwrap();
        assert_eq!(frame.code, CloseCode::NORMAL);
        assert_eq!(&*frame.reason, "bye");
        let empty = parse_close_payload(Bytes::new()).unwrap();
        assert_eq!(empty.code, CloseCode::NO_STATUS);
        assert_eq!(
            parse_close_payload(Bytes::from_static(b"\x03")),
            Err(ProtocolError::InvalidClosePayload)
        );
        assert_eq!(
            parse_close_payload(Bytes::from_static(b"\x03\xed")),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            parse_close_payload(Bytes::from_static(b"\x03\xe8\xff")),
            Err(ProtocolError::InvalidCloseReason)
        );
    }

    #[test]
    fn encodes_bodies() {
        assert_eq!(
            &CloseFrame::encode_payload(CloseCode::GOING_AWAY, "x")[..],
            b"\x03\xe9x"
        );
        assert!(CloseFrame::encode_payload(CloseCode::NO_STATUS, "").is_empty());
    }
}
