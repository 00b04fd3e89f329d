//! `server_connection` and `client_connection`: one endpoint driven through
//! a fuzzer-chosen sequence of API calls, with the peer's bytes as the rest
//! of the input.
//!
//! # Input format
//!
//! ```text
//! [flags] [seed] [n] [op, arg] × n [wire bytes ...]
//! ```
//!
//! - `flags` picks the configuration and the setup:
//!   - bits 0–1: limits (max frame / max message): 64 KiB / 256 KiB,
//!     1 KiB / 4 KiB, 16 / 40, 125 / 125;
//!   - bit 2: `auto_pong` off; bit 3: keepalive on (1 s interval, 500 ms
//!     timeout); bit 4: a 256-byte write buffer high-water mark (64 KiB
//!     otherwise); bit 5: `send_frame_size` 7;
//!   - bit 6: set up through the opening handshake instead of
//!     `Connection::new`; bit 7: with it, the first `seed % 64` wire bytes
//!     arrive in the same read as the handshake head (leftover hand-off).
//! - `seed` seeds the client's masking keys (some of them all-zero), and,
//!   for a client set up through the handshake, bit 6 leaves the request
//!   unwritten so that it is queued ahead of the first frames; bit 5
//!   delivers the stream through `read_buffer` and `commit_read` (each
//!   feed in as many reads as the rooms handed out take), as the adapters
//!   do, instead of `receive_data`; bit 7 turns on streaming receive, with
//!   a limit of four times the message limit.
//! - `n` two-byte operations (see [`Op`]), then everything left is the
//!   peer's byte stream, consumed by the feed operations in order. After the
//!   operations, the harness behaves as an adapter: it feeds the rest of the
//!   stream, drains every event, writes all output, reports EOF, and lets a
//!   day pass.
//!
//! A raw frame stream prefixed with `[flags, seed, 0]` is thus a valid input
//! that feeds the stream whole.
//!
//! # Invariants
//!
//! - No panic; `memory_usage()` stays within a bound computed from the
//!   limits, the largest read fed between two complete drains (twice the
//!   input fed when several reads come without draining), and the largest
//!   output ever pending (itself checked call by call: the
//!   connection adds at most one control frame per `next_event`, and none
//!   while the write buffer is full); a closed connection holds no input.
//! - Every `send_*` result is predicted exactly (state, fragmentation,
//!   UTF-8, control payload size, close code rules); an error queues
//!   nothing; a success queues exactly the expected frames (fragmented by
//!   `send_frame_size`).
//! - After an `Err` from `next_event`, every later call returns the same
//!   error; the close frame carrying its code was queued by the call that
//!   failed (or by the timer that failed the connection).
//! - A ping is answered by exactly one pong with its payload when
//!   `auto_pong` is on and the connection is not closed (also while it
//!   waits for the peer's close frame), and by nothing otherwise; a
//!   received close frame is echoed (code only) when open.
//! - The state only moves forward; once `Closed`, nothing is delivered but
//!   at most one `Close` event and nothing more is queued for sending; over
//!   its life the connection reports exactly one of a `Close` event or an
//!   error.
//! - The output, read from the start, is a valid sequence of frames from
//!   this role (see [`OutputChecker`](crate::check::OutputChecker)) behind the handshake head, if any.
//! - Timers: no keepalive ping before the interval of silence has passed,
//!   no keepalive failure when the peer sent anything since the ping,
//!   `poll_timeout` is in the future once `handle_timeout` has been called
//!   for the current instant (no busy loop), and `None` once the transport
//!   should be closed.
//! - When the operations only feed, drain and write, the events and the
//!   output are exactly those of feeding the whole stream at once: any
//!   split of the input gives the same result (with streaming receive on,
//!   the same messages, though cut into pieces elsewhere).

use std::time::Duration;

use rfc6455::{Config, Event, Message, ProtocolError, Role};

mod harness;

use harness::Harness;

/// What `next_event` returned, other than `Ok(None)`.
type Outcome = Result<Event, ProtocolError>;

/// Limits chosen by the two low bits of `flags`: (max frame, max message).
const LIMITS: [(usize, usize); 4] = [
    (64 << 10, 256 << 10),
    (1 << 10, 4 << 10),
    (16, 40),
    (125, 125),
];

/// One operation of the script. The argument byte's meaning depends on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Feeds the next `chunk_len(arg)` bytes of the stream.
    Feed(u8),
    /// Feeds `512 × arg` zero bytes, not from the stream: the payload of a
    /// large frame whose header came from the stream (a 64-bit length
    /// needs 64 KiB), without a 64 KiB input. At most 128 KiB per input.
    Fill(u8),
    /// Calls `next_event` up to `arg` times (0: until it returns nothing).
    Drain(u8),
    /// Writes `5 × arg` bytes of output (0: all of it).
    Consume(u8),
    /// Sends a text message of about `message_len(arg)` bytes; odd `arg`
    /// goes through `send(&Message)`.
    Text(u8),
    /// Sends a binary message of `message_len(arg)` bytes.
    Binary(u8),
    /// Sends a fragment: bit 0 binary, bit 1 fin, bit 2 restarts the text
    /// pattern (which may cut a code point), bits 3–7 × 3 its length.
    Fragment(u8),
    /// Sends a ping of `arg` bytes (over 125 must be refused).
    Ping(u8),
    /// Sends a pong of `arg` bytes.
    Pong(u8),
    /// Sends a close: code `CLOSE_CODES[arg % 16]`, reason of up to
    /// `(arg / 16) × 9` bytes.
    Close(u8),
    /// Lets `4 × arg²` milliseconds pass, then calls `handle_timeout`.
    Time(u8),
    /// Reports the end of the stream.
    Eof,
    /// Takes `(arg % 16) × 8 + 2` bytes of the stream and, `(arg / 16 + 1)
    /// × 4` times, feeds them, drains every event and writes all output:
    /// steady traffic, for memory that grows with time.
    FeedLoop(u8),
}

impl Op {
    /// Decodes an operation from its two bytes.
    pub fn decode(op: u8, arg: u8) -> Op {
        match op % 16 {
            0 | 1 => Op::Feed(arg),
            2 => Op::Fill(arg),
            3 | 4 => Op::Drain(arg),
            5 | 6 => Op::Consume(arg),
            7 => Op::Text(arg),
            8 => Op::Binary(arg),
            9 => Op::Fragment(arg),
            10 => Op::Ping(arg),
            11 => Op::Pong(arg),
            12 => Op::Close(arg),
            13 => Op::Time(arg),
            14 => Op::Eof,
            _ => Op::FeedLoop(arg),
        }
    }

    /// The two bytes that [`decode`](Self::decode) turns into this.
    pub fn encode(self) -> [u8; 2] {
        match self {
            Op::Feed(a) => [0, a],
            Op::Fill(a) => [2, a],
            Op::Drain(a) => [3, a],
            Op::Consume(a) => [5, a],
            Op::Text(a) => [7, a],
            Op::Binary(a) => [8, a],
            Op::Fragment(a) => [9, a],
            Op::Ping(a) => [10, a],
            Op::Pong(a) => [11, a],
            Op::Close(a) => [12, a],
            Op::Time(a) => [13, a],
            Op::Eof => [14, 0],
            Op::FeedLoop(a) => [15, a],
        }
    }

    /// Whether the operation only moves bytes (and so cannot change what
    /// the peer's stream means).
    fn is_transport_only(self) -> bool {
        matches!(self, Op::Feed(_) | Op::Drain(_) | Op::Consume(_))
    }
}

/// A parsed input.
struct Input<'a> {
    flags: u8,
    seed: u8,
    ops: Vec<Op>,
    wire: &'a [u8],
}

impl<'a> Input<'a> {
    fn parse(data: &'a [u8]) -> Self {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        let (flags, seed, n) = (byte(0), byte(1), usize::from(byte(2)));
        let rest = data.get(3..).unwrap_or_default();
        let script_len = (2 * n).min(rest.len() & !1);
        let (script, wire) = rest.split_at(script_len);
        let ops = script
            .chunks_exact(2)
            .map(|p| Op::decode(p[0], p[1]))
            .collect();
        Input {
            flags,
            seed,
            ops,
            wire,
        }
    }

    fn config(&self) -> Config {
        let (frame, message) = LIMITS[usize::from(self.flags & 3)];
        let keepalive = (self.flags & 8 != 0).then_some(Duration::from_secs(1));
        let high_water = if self.flags & 16 != 0 { 256 } else { 64 << 10 };
        Config::default()
            .max_frame_size(frame)
            .max_message_size(message)
            .auto_pong(self.flags & 4 == 0)
            .keepalive(keepalive, Duration::from_millis(500))
            .write_buffer_high_water(high_water)
            .send_frame_size((self.flags & 32 != 0).then_some(7))
            .close_timeout(Duration::from_secs(2))
            .streaming((self.seed & 0x80 != 0).then_some(4 * message as u64))
    }
}

/// Runs one input against an endpoint of `role`.
pub fn run(role: Role, data: &[u8]) {
    let input = Input::parse(data);
    let mut harness = Harness::new(role, &input);
    for &op in &input.ops {
        harness.apply(op);
    }
    harness.finish();
    if std::env::var_os("RFC6455_FUZZ_TRACE").is_some() {
        eprintln!("ops {:?}\noutcomes {:#?}", input.ops, harness.outcomes);
    }

    if input.ops.iter().all(|op| op.is_transport_only()) {
        let mut whole = Harness::new(role, &input);
        whole.finish();
        assert_eq!(
            joined(&harness.outcomes),
            joined(&whole.outcomes),
            "split changed the events"
        );
        assert_eq!(harness.sent, whole.sent, "split changed the output");
    }
}

/// The outcomes with each streamed message's pieces joined into one. Where
/// a piece ends depends on how the bytes arrived (a frame fed in halves is
/// handed out in halves); what the pieces carry, and where their message
/// ends, must not. One exception: a message that fails (invalid UTF-8
/// further on, say) has had handed out whatever was valid before the bytes
/// that failed it arrived, which may be nothing when they came at once; so
/// an unfinished message's pieces right before an error are left out.
fn joined(outcomes: &[Outcome]) -> Vec<Outcome> {
    let mut out: Vec<Outcome> = Vec::with_capacity(outcomes.len());
    for outcome in outcomes {
        if outcome.is_err() && matches!(out.last(), Some(Ok(Event::Piece { last: false, .. }))) {
            out.pop();
        }
        if let (
            Ok(Event::Piece { data, last }),
            Some(Ok(Event::Piece {
                data: open,
                last: open_last @ false,
            })),
        ) = (outcome, out.last_mut())
        {
            assert_eq!(data.kind(), open.kind(), "a message's pieces changed kind");
            let bytes = [open.as_bytes(), data.as_bytes()].concat();
            *open = match data {
                Message::Text(_) => Message::text(
                    String::from_utf8(bytes).expect("text pieces are whole code points"),
                ),
                Message::Binary(_) => Message::binary(bytes),
            };
            *open_last = *last;
            continue;
        }
        out.push(outcome.clone());
    }
    out
}

/// How many stream bytes `Op::Feed(arg)` feeds: exact up to 223, then in
/// steps of 512 up to 16 KiB.
fn chunk_len(arg: u8) -> usize {
    match arg {
        0..=223 => usize::from(arg),
        _ => usize::from(arg - 223) * 512,
    }
}
