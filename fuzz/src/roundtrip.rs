//! `roundtrip`: a client and a server connected back to back. Whatever one
//! sends, the other must receive identically, both directions at once.
//!
//! # Input format
//!
//! ```text
//! [flags] [chunk] [key seed] item ...
//! ```
//!
//! - `flags`: bits 0–2 and 3–5 choose the client's and the server's
//!   `send_frame_size` from [`FRAME_SIZES`]; bit 6 turns `auto_pong` off
//!   on both sides.
//! - `chunk`: the bytes are carried in pieces of this size (0: all at
//!   once), so frames and code points are cut at every position.
//! - `key seed`: seeds the client's masking keys.
//! - Each item starts with a tag byte: bit 7 picks the sender (0 client,
//!   1 server), bit 6 carries the bytes both ways after the item, bit 5
//!   puts a ping between the fragments of a fragmented item, bits 0–2 the
//!   kind ([`Item`]). Lengths are one byte unless noted; a text is made
//!   UTF-8 with `from_utf8_lossy`.
//!
//! # Invariants
//!
//! - Every send's result is as [`SendModel`] predicts; a whole message is
//!   split as `send_frame_size` asks.
//! - Each side receives exactly, and in order: the other side's messages
//!   (however fragmented, with text split inside code points), pings, pongs
//!   and close frame; a pong for each of its own pings that reached the
//!   other side before it closed (with `auto_pong`); and the echo of its
//!   close frame when the other side had not closed first. Nothing that a
//!   side queues after its own close frame is delivered: the close frame
//!   closes the receiver first.
//! - Neither side ever reports an error, and both outputs are valid frame
//!   sequences for their role (see [`OutputChecker`]).
//! - Once a close frame has gone both ways, both sides are closed;
//!   otherwise both are open.

use std::collections::VecDeque;

use arbitrary::Unstructured;
use rfc6455::frame::OpCode;
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, Event, Message, MessageKind, Role, State,
};

use crate::check::{OutputChecker, check_message_frames, decode_sent_frames};
use crate::model::{SendModel, close_body};
use crate::setup::mask_keys;

/// `send_frame_size` choices.
pub const FRAME_SIZES: [Option<usize>; 8] = [
    None,
    Some(1),
    Some(2),
    Some(3),
    Some(7),
    Some(125),
    Some(126),
    Some(1000),
];

/// The kinds of item, by the low three bits of the tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// `[len: u16 le] [bytes]`: a text message through `send_text`.
    Text = 0,
    /// `[len: u16 le] [bytes] [reps]`: a binary message through
    /// `send(&Message)`: the bytes repeated `1 + reps` times, up to 128 KiB
    /// (so that the 64-bit length form needs no 64 KiB input).
    Binary = 1,
    /// `[len: u16 le] [bytes] [n] [cut] × n`: a text message sent with
    /// `send_fragment`, cut at the given byte offsets (modulo its length +
    /// 1; inside code points too; repeated cuts make empty fragments).
    TextFragments = 2,
    /// Like `TextFragments`, for a binary message.
    BinaryFragments = 3,
    /// `[len] [bytes]`: a ping (over 125 bytes must be refused).
    Ping = 4,
    /// `[len] [bytes]`: a pong.
    Pong = 5,
    /// `[code: u16 be] [len] [reason]`: a close frame.
    Close = 6,
    /// `[bits] [len] [bytes]`: one `send_fragment` call, bit 0 binary,
    /// bit 1 fin; it may misuse the API (another kind mid-message, text
    /// that is not UTF-8), which must be refused.
    Fragment = 7,
}

impl Item {
    fn from_tag(tag: u8) -> Item {
        match tag & 7 {
            0 => Item::Text,
            1 => Item::Binary,
            2 => Item::TextFragments,
            3 => Item::BinaryFragments,
            4 => Item::Ping,
            5 => Item::Pong,
            6 => Item::Close,
            _ => Item::Fragment,
        }
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let flags = byte(&mut u);
    let chunk = usize::from(byte(&mut u));
    let key_seed = byte(&mut u);
    let config = |size_bits: u8| {
        Config::default()
            .send_frame_size(FRAME_SIZES[usize::from(size_bits & 7)])
            .auto_pong(flags & 0x40 == 0)
    };
    let mut client = Side::new(Role::Client, config(flags));
    let server = Side::new(Role::Server, config(flags >> 3));
    client.conn.set_mask_key_source(mask_keys(key_seed));
    let mut pair = Pair {
        client,
        server,
        chunk,
    };

    while !u.is_empty() {
        let tag = byte(&mut u);
        let (from, to) = pair.sides(tag & 0x80 != 0);
        send_item(from, to, Item::from_tag(tag), tag & 0x20 != 0, &mut u);
        if tag & 0x40 != 0 {
            pair.exchange();
        }
    }
    pair.exchange();
    pair.finish();
}

fn byte(u: &mut Unstructured) -> u8 {
    u.arbitrary().unwrap_or(0)
}

fn bytes<'a>(u: &mut Unstructured<'a>, len: usize) -> &'a [u8] {
    u.bytes(len.min(u.len())).unwrap_or_default()
}

fn len16(u: &mut Unstructured) -> usize {
    usize::from(u16::from_le_bytes([byte(u), byte(u)]))
}

/// Sends one item from `from`, recording what `to` must receive.
fn send_item(from: &mut Side, to: &mut Side, item: Item, ping_between: bool, u: &mut Unstructured) {
    match item {
        Item::Text => {
            let len = len16(u);
            let text = String::from_utf8_lossy(bytes(u, len)).into_owned();
            from.send_message(to, Message::text(text), false);
        }
        Item::Binary => {
            let len = len16(u);
            let data = bytes(u, len);
            let reps = 1 + usize::from(byte(u));
            let mut data = data.repeat(reps);
            data.truncate(128 << 10);
            from.send_message(to, Message::binary(data), true);
        }
        Item::TextFragments | Item::BinaryFragments => {
            let len = len16(u);
            let raw = bytes(u, len);
            let (kind, data) = if item == Item::TextFragments {
                let text = String::from_utf8_lossy(raw).into_owned();
                (MessageKind::Text, text.into_bytes())
            } else {
                (MessageKind::Binary, raw.to_vec())
            };
            let n = usize::from(byte(u));
            let mut cuts: Vec<usize> = (0..n)
                .map(|_| usize::from(byte(u)) % (data.len() + 1))
                .collect();
            cuts.sort_unstable();
            let mut start = 0;
            for cut in cuts {
                from.send_fragment(to, kind, &data[start..cut], false);
                if ping_between {
                    from.send_control(to, OpCode::Ping, b"between");
                }
                start = cut;
            }
            from.send_fragment(to, kind, &data[start..], true);
        }
        Item::Ping | Item::Pong => {
            let opcode = if item == Item::Ping {
                OpCode::Ping
            } else {
                OpCode::Pong
            };
            let len = usize::from(byte(u));
            from.send_control(to, opcode, bytes(u, len));
        }
        Item::Close => {
            let code = CloseCode::from(u16::from_be_bytes([byte(u), byte(u)]));
            let len = usize::from(byte(u));
            let reason = String::from_utf8_lossy(bytes(u, len)).into_owned();
            from.send_close(to, code, &reason);
        }
        Item::Fragment => {
            let bits = byte(u);
            let kind = if bits & 1 == 0 {
                MessageKind::Text
            } else {
                MessageKind::Binary
            };
            let len = usize::from(byte(u));
            from.send_fragment(to, kind, bytes(u, len), bits & 2 != 0);
        }
    }
}

/// One endpoint, and what it must receive next.
struct Side {
    conn: Connection,
    role: Role,
    sends: SendModel,
    /// Events this side must receive, in order.
    expected: VecDeque<Event>,
    checker: OutputChecker,
    close_sent: bool,
}

impl Side {
    fn new(role: Role, config: Config) -> Self {
        Side {
            conn: Connection::new(role, config),
            role,
            sends: SendModel::default(),
            expected: VecDeque::new(),
            checker: OutputChecker::new(role),
            close_sent: false,
        }
    }

    /// Records that `to` must receive `event`, which this side just queued.
    /// Anything queued after this side's close frame reaches a peer that
    /// the close frame has closed, which drops it.
    fn expect_at(&self, to: &mut Side, event: Event) {
        if !self.close_sent {
            to.expected.push_back(event);
        }
    }

    /// Sends a whole message; `to` must then receive it.
    fn send_message(&mut self, to: &mut Side, message: Message, via_send: bool) {
        let expected = self.sends.predict_message(self.conn.state());
        let before = self.conn.pending_output().len();
        let result = match (&message, via_send) {
            (_, true) => self.conn.send(&message),
            (Message::Text(text), false) => self.conn.send_text(text),
            (Message::Binary(data), false) => self.conn.send_binary(data),
        };
        assert_eq!(result, expected, "{:?} sending a message", self.role);
        if result.is_ok() {
            let opcode = match message.kind() {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            };
            let frames = decode_sent_frames(self.role, &self.conn.pending_output()[before..]);
            let size = self.conn.config().send_frame_size;
            check_message_frames(&frames, opcode, message.as_bytes(), size);
            self.expect_at(to, Event::Message(message));
        } else {
            assert_eq!(self.conn.pending_output().len(), before);
        }
    }

    fn send_fragment(&mut self, to: &mut Side, kind: MessageKind, payload: &[u8], fin: bool) {
        let expected = self
            .sends
            .predict_fragment(self.conn.state(), kind, payload, fin);
        let before = self.conn.pending_output().len();
        let result = self.conn.send_fragment(kind, payload, fin);
        assert_eq!(result, expected, "{:?} sending a fragment", self.role);
        if result.is_ok() {
            let frames = decode_sent_frames(self.role, &self.conn.pending_output()[before..]);
            assert_eq!(frames.len(), 1);
            assert_eq!(frames[0].payload, payload);
            if let Some(message) = self.sends.fragment_sent(kind, payload, fin) {
                self.expect_at(to, Event::Message(message));
            }
        } else {
            assert_eq!(self.conn.pending_output().len(), before);
        }
    }

    fn send_control(&mut self, to: &mut Side, opcode: OpCode, payload: &[u8]) {
        let expected = SendModel::predict_control(self.conn.state(), payload);
        let result = match opcode {
            OpCode::Ping => self.conn.send_ping(payload),
            _ => self.conn.send_pong(payload),
        };
        assert_eq!(result, expected, "{:?} sending {opcode:?}", self.role);
        if result.is_ok() {
            let payload = payload.to_vec().into();
            let event = match opcode {
                OpCode::Ping => Event::Ping(payload),
                _ => Event::Pong(payload),
            };
            self.expect_at(to, event);
        }
    }

    fn send_close(&mut self, to: &mut Side, code: CloseCode, reason: &str) {
        let expected = SendModel::predict_close(self.conn.state(), code, reason);
        let before = self.conn.pending_output().len();
        let result = self.conn.send_close(code, reason);
        assert_eq!(result, expected, "{:?} sending close {code}", self.role);
        if result.is_ok() {
            let frames = decode_sent_frames(self.role, &self.conn.pending_output()[before..]);
            assert_eq!(frames.len(), 1);
            assert_eq!(frames[0].payload, close_body(code, reason));
            self.expect_at(to, Event::Close(CloseFrame::new(code, reason)));
            self.close_sent = true;
        }
    }
}

/// Both endpoints and the way bytes travel between them.
struct Pair {
    client: Side,
    server: Side,
    chunk: usize,
}

impl Pair {
    /// The sender and the receiver of an item.
    fn sides(&mut self, server_sends: bool) -> (&mut Side, &mut Side) {
        if server_sends {
            (&mut self.server, &mut self.client)
        } else {
            (&mut self.client, &mut self.server)
        }
    }

    /// Carries bytes both ways until neither side has anything to send.
    fn exchange(&mut self) {
        for _ in 0..8 {
            if self.client.conn.pending_output().is_empty()
                && self.server.conn.pending_output().is_empty()
            {
                return;
            }
            deliver(&mut self.client, &mut self.server, self.chunk);
            deliver(&mut self.server, &mut self.client, self.chunk);
        }
        panic!("the endpoints keep answering each other");
    }

    fn finish(&mut self) {
        for side in [&self.client, &self.server] {
            assert!(
                side.expected.is_empty(),
                "{:?} never received {:?}",
                side.role,
                side.expected
            );
            side.checker.finish();
        }
        let closed = self.client.close_sent || self.server.close_sent;
        let want = if closed { State::Closed } else { State::Open };
        assert_eq!(self.client.conn.state(), want);
        assert_eq!(self.server.conn.state(), want);
    }
}

/// Moves everything `from` has to send into `to`, in pieces of `chunk`
/// bytes, draining `to`'s events after each piece.
fn deliver(from: &mut Side, to: &mut Side, chunk: usize) {
    let bytes = from.conn.pending_output().to_vec();
    from.conn.consume_output(bytes.len());
    from.checker.feed(&bytes);
    let size = if chunk == 0 {
        bytes.len().max(1)
    } else {
        chunk
    };
    for piece in bytes.chunks(size) {
        to.conn.receive_data(piece);
        drain(to, from);
    }
}

/// Drains `to`'s events, checking each against what it must receive and
/// recording the replies `from` must receive.
fn drain(to: &mut Side, from: &mut Side) {
    loop {
        let state_before = to.conn.state();
        let event = match to.conn.next_event() {
            Ok(Some(event)) => event,
            Ok(None) => return,
            Err(e) => panic!("{:?} failed on valid traffic: {e}", to.role),
        };
        let want = to.expected.pop_front();
        assert_eq!(
            Some(&event),
            want.as_ref(),
            "{:?} received the wrong event",
            to.role
        );
        match event {
            // Pings are answered until the connection is closed.
            Event::Ping(payload) if to.conn.config().auto_pong && state_before != State::Closed => {
                to.expect_at(from, Event::Pong(payload));
            }
            // RFC 6455 §5.5.1: the reply echoes the code, without reason.
            Event::Close(frame) if state_before == State::Open => {
                to.expect_at(from, Event::Close(CloseFrame::new(frame.code, "")));
                to.close_sent = true;
            }
            _ => {}
        }
    }
}
