//! Helpers shared by the integration tests of the sans-IO core.
//!
//! Frames are built here by hand, byte by byte, from RFC 6455 §5.2, and the
//! output of a connection is parsed by a small decoder written here too, so
//! the tests never use the code under test to produce the bytes they check.
#![allow(dead_code)]

pub mod alloc;

use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, Event, Message, ProtocolError, Role, Utf8Bytes,
};

/// Opcodes (RFC 6455 §5.2), as raw 4-bit values.
pub const CONT: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xa;

/// The masking key of the RFC 6455 §5.7 examples.
pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// XORs `payload` with `key` (RFC 6455 §5.3), byte by byte, the slow obvious
/// way.
pub fn mask(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    payload
        .iter()
        .enumerate()
        .map(|(i, b)| b ^ key[i % 4])
        .collect()
}

/// A frame header with the length in the minimal form (RFC 6455 §5.2).
pub fn header(fin: bool, rsv: u8, opcode: u8, key: Option<[u8; 4]>, len: u64) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | (rsv << 4) | opcode];
    let mask_bit = if key.is_some() { 0x80 } else { 0 };
    if len <= 125 {
        out.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(key) = key {
        out.extend_from_slice(&key);
    }
    out
}

/// A whole frame: header, then the payload masked with `key` if any.
pub fn frame(fin: bool, opcode: u8, key: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = header(fin, 0, opcode, key, payload.len() as u64);
    match key {
        Some(key) => out.extend(mask(payload, key)),
        None => out.extend_from_slice(payload),
    }
    out
}

/// A final frame as a client sends it: masked with [`KEY`].
pub fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(true, opcode, Some(KEY), payload)
}

/// A final frame as a server sends it: unmasked.
pub fn unmasked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    frame(true, opcode, None, payload)
}

/// The body of a close frame: the code in network byte order, then the
/// reason.
pub fn close_body(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut out = code.to_be_bytes().to_vec();
    out.extend_from_slice(reason);
    out
}

/// The exact bytes of an unmasked close frame carrying `code` and no reason,
/// as a server sends it when it fails the connection.
pub fn server_close(code: u16) -> Vec<u8> {
    let [hi, lo] = code.to_be_bytes();
    vec![0x88, 0x02, hi, lo]
}

pub fn server() -> Connection {
    Connection::new(Role::Server, Config::default())
}

pub fn server_with(config: Config) -> Connection {
    Connection::new(Role::Server, config)
}

/// A client whose every frame is masked with [`KEY`], for byte-exact output.
pub fn client() -> Connection {
    client_with(Config::default())
}

pub fn client_with(config: Config) -> Connection {
    let mut conn = Connection::new(Role::Client, config);
    conn.set_mask_key_source(|| KEY);
    conn
}

/// A client whose masking keys count up: 00 00 00 01, 00 00 00 02, …
pub fn client_counting_keys(config: Config) -> Connection {
    let mut conn = Connection::new(Role::Client, config);
    let mut n = 0u32;
    conn.set_mask_key_source(move || {
        n += 1;
        n.to_be_bytes()
    });
    conn
}

/// What draining `next_event` produced.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Drained {
    pub events: Vec<Event>,
    pub error: Option<ProtocolError>,
}

/// Calls `next_event` until it returns `Ok(None)` or an error.
pub fn drain(conn: &mut Connection) -> Drained {
    let mut out = Drained::default();
    for _ in 0..10_000_000 {
        match conn.next_event() {
            Ok(Some(event)) => out.events.push(event),
            Ok(None) => return out,
            Err(error) => {
                out.error = Some(error);
                return out;
            }
        }
    }
    panic!("next_event never returned Ok(None)");
}

/// Feeds `bytes`, then drains the events.
pub fn feed(conn: &mut Connection, bytes: &[u8]) -> Drained {
    conn.receive_data(bytes);
    drain(conn)
}

/// Feeds `bytes` and expects nothing but these events.
pub fn feed_ok(conn: &mut Connection, bytes: &[u8]) -> Vec<Event> {
    let drained = feed(conn, bytes);
    assert_eq!(drained.error, None, "unexpected error; events {drained:?}");
    drained.events
}

/// Feeds `bytes` and expects the connection to fail with `expected`; checks
/// the failure contract: the close frame carrying the error's code is the
/// last thing queued, the transport is to be closed, the error is sticky.
pub fn feed_err(conn: &mut Connection, bytes: &[u8], expected: ProtocolError) -> Vec<Event> {
    let drained = feed(conn, bytes);
    assert_eq!(drained.error.as_ref(), Some(&expected), "{drained:?}");
    assert_eq!(conn.next_event(), Err(expected.clone()), "error not sticky");
    assert!(conn.should_close_transport());
    drained.events
}

/// Takes everything the connection wants to send.
pub fn take_output(conn: &mut Connection) -> Vec<u8> {
    let out = conn.pending_output().to_vec();
    conn.consume_output(out.len());
    out
}

/// A frame as parsed from a connection's output by [`parse_frames`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub key: Option<[u8; 4]>,
    /// The payload, unmasked.
    pub payload: Vec<u8>,
    /// The header's length in bytes, to check minimal encoding.
    pub header_len: usize,
}

/// Parses a sequence of whole frames. Panics if `bytes` ends inside a
/// frame.
pub fn parse_frames(mut bytes: &[u8]) -> Vec<Parsed> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (frame, used) = parse_one(bytes).expect("output ends inside a frame");
        frames.push(frame);
        bytes = &bytes[used..];
    }
    frames
}

/// Parses one frame from the front of `bytes`: the frame and its length.
pub fn parse_one(bytes: &[u8]) -> Option<(Parsed, usize)> {
    let b0 = *bytes.first()?;
    let b1 = *bytes.get(1)?;
    let mut pos = 2;
    let len = match b1 & 0x7f {
        126 => {
            let len = u16::from_be_bytes(bytes.get(2..4)?.try_into().unwrap());
            pos = 4;
            u64::from(len)
        }
        127 => {
            let len = u64::from_be_bytes(bytes.get(2..10)?.try_into().unwrap());
            pos = 10;
            len
        }
        n => u64::from(n),
    };
    let key = if b1 & 0x80 != 0 {
        let key: [u8; 4] = bytes.get(pos..pos + 4)?.try_into().unwrap();
        pos += 4;
        Some(key)
    } else {
        None
    };
    let header_len = pos;
    let end = pos + usize::try_from(len).unwrap();
    let raw = bytes.get(pos..end)?;
    let payload = match key {
        Some(key) => mask(raw, key),
        None => raw.to_vec(),
    };
    let frame = Parsed {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 7,
        opcode: b0 & 0x0f,
        key,
        payload,
        header_len,
    };
    Some((frame, end))
}

/// Checks that `output` is exactly one close frame carrying `code` and no
/// reason, masked iff `masked`.
pub fn assert_single_close(output: &[u8], code: u16, masked: bool) {
    let frames = parse_frames(output);
    assert_eq!(frames.len(), 1, "expected one close frame, got {frames:?}");
    let f = &frames[0];
    assert_eq!((f.fin, f.rsv, f.opcode), (true, 0, CLOSE), "{f:?}");
    assert_eq!(f.key.is_some(), masked, "{f:?}");
    assert_eq!(f.payload, code.to_be_bytes(), "{f:?}");
}

pub fn text(s: &str) -> Event {
    Event::Message(Message::text(s))
}

pub fn binary(b: &[u8]) -> Event {
    Event::Message(Message::binary(b.to_vec()))
}

pub fn close_event(code: u16, reason: &str) -> Event {
    Event::Close(CloseFrame::new(
        CloseCode::from(code),
        Utf8Bytes::from(reason),
    ))
}

pub fn abnormal_close() -> Event {
    Event::Abnormal
}

pub fn ping(b: &[u8]) -> Event {
    Event::Ping(bytes::Bytes::copy_from_slice(b))
}

pub fn pong(b: &[u8]) -> Event {
    Event::Pong(bytes::Bytes::copy_from_slice(b))
}
