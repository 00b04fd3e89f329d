//! Messages encoded once and sent to many connections: the broadcast of a
//! chat room, a live dashboard or a game server.

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::{FrameHeader, OpCode};
use crate::{Message, MessageKind};

/// A message framed (and, optionally, compressed) once, for sending the
/// same bytes to many connections with [`Connection::send_prepared`].
///
/// A server writes the prepared frame as it is. A client still masks it
/// with a fresh key per connection (RFC 6455 §5.3), but skips compression.
/// A prepared message always goes out as a single frame, whatever
/// [`Config::send_frame_size`](crate::Config::send_frame_size) says.
///
/// ```
/// use rfc6455::{Config, Connection, Message, PreparedMessage, Role};
///
/// let update = PreparedMessage::new(Message::text("price: 42"));
/// let mut room: Vec<Connection> =
///     (0..3).map(|_| Connection::new(Role::Server, Config::default())).collect();
/// for conn in &mut room {
///     conn.send_prepared(&update).unwrap();
///     assert_eq!(conn.pending_output(), b"\x81\x09price: 42");
/// }
/// ```
///
/// [`Connection::send_prepared`]: crate::Connection::send_prepared
#[derive(Clone, Debug)]
pub struct PreparedMessage {
    kind: MessageKind,
    payload: Bytes,
    /// Header and payload, as a server sends them.
    frame: Bytes,
    #[cfg(feature = "deflate")]
    deflated: Option<Deflated>,
}

/// The message compressed once with an empty window, valid for every
/// connection whose agreement starts each message afresh.
#[cfg(feature = "deflate")]
#[derive(Clone, Debug)]
pub(crate) struct Deflated {
    /// The window the compressor was limited to.
    pub(crate) window_bits: u8,
    pub(crate) payload: Bytes,
    /// Header (with RSV1) and compressed payload, as a server sends them.
    pub(crate) frame: Bytes,
}

impl PreparedMessage {
    /// Frames `message` once, uncompressed.
    pub fn new(message: impl Into<Message>) -> Self {
        let message = message.into();
        let kind = message.kind();
        let payload = message.into_bytes();
        let frame = server_frame(kind, 0, &payload);
        PreparedMessage {
            kind,
            payload,
            frame,
            #[cfg(feature = "deflate")]
            deflated: None,
        }
    }

    /// Frames `message` once and also compresses it once, at `level` (0–9)
    /// with a window of at most `window_bits` (8–15).
    ///
    /// The compressed form is sent to connections that agreed on
    /// permessage-deflate with no context takeover for the messages this
    /// endpoint sends, and with a window of at least `window_bits`: each of
    /// their messages starts from an empty window, so the same bytes are
    /// valid for all of them (RFC 7692 §7.1.1). Other connections compress
    /// the message themselves, or send it plain.
    ///
    /// ```
    /// use rfc6455::{Message, PreparedMessage};
    ///
    /// let update = PreparedMessage::deflated(Message::text("tick ".repeat(100)), 6, 15);
    /// assert!(update.is_deflated());
    /// ```
    #[cfg(feature = "deflate")]
    pub fn deflated(message: impl Into<Message>, level: u32, window_bits: u8) -> Self {
        use crate::deflate::{DeflateParams, Deflater};

        let mut prepared = PreparedMessage::new(message);
        let window_bits = crate::deflate::clamp_bits(window_bits);
        let params = DeflateParams {
            send_max_window_bits: window_bits,
            send_no_context_takeover: true,
            compression_level: level,
            ..DeflateParams::default()
        };
        let mut compressed = Vec::new();
        Deflater::new(&params).compress(&prepared.payload, &mut compressed);
        let frame = server_frame(prepared.kind, FrameHeader::RSV1, &compressed);
        prepared.deflated = Some(Deflated {
            window_bits,
            payload: Bytes::from(compressed),
            frame,
        });
        prepared
    }

    /// Whether a compressed form was prepared.
    pub fn is_deflated(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.deflated.is_some();
        #[cfg(not(feature = "deflate"))]
        false
    }

    /// Whether this is text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The uncompressed payload.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    pub(crate) fn opcode(&self) -> OpCode {
        self.kind.into()
    }

    /// The whole frame as a server sends it, uncompressed.
    pub(crate) fn frame(&self) -> &Bytes {
        &self.frame
    }

    #[cfg(feature = "deflate")]
    pub(crate) fn deflated_form(&self) -> Option<&Deflated> {
        self.deflated.as_ref()
    }
}

/// A single unmasked frame carrying `payload`.
fn server_frame(kind: MessageKind, rsv: u8, payload: &[u8]) -> Bytes {
    let opcode = OpCode::from(kind);
    let header = FrameHeader {
        fin: true,
        rsv,
        opcode,
        mask: None,
        payload_len: payload.len() as u64,
    };
    let mut frame = BytesMut::with_capacity(header.encoded_len() + payload.len());
    header.put(&mut frame);
    frame.put_slice(payload);
    frame.freeze()
}
