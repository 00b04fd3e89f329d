//! The harness behind `server_connection` and `client_connection`: the
//! endpoint under test, the model of what it must do, and the checks.

use std::time::{Duration, Instant};

use bytes::BufMut;

use rfc6455::frame::{MAX_HEADER_LEN, OpCode};
use rfc6455::{
    CloseCode, CloseFrame, Config, Connection, Event, Message, MessageKind, Outcome as End,
    ProtocolError, Role, SendError, State,
};

use super::{Input, Op, Outcome, chunk_len};
use crate::check::{Frame, OutputChecker, check_event, check_message_frames, decode_sent_frames};
use crate::model::{SendModel, close_body};
use crate::setup::{client_via_handshake, mask_keys, server_via_handshake};

/// Close codes an operation may try to send, valid and not.
const CLOSE_CODES: [u16; 16] = [
    1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1013, 1015, 2999, 3000, 4999,
];

/// Text that the send operations cut from: 1-, 2-, 3- and 4-byte code points.
const PATTERN: &str = "a\u{e9}\u{20ac}\u{1f600}";

/// What an empty buffer may keep for reuse: the connection keeps up to
/// 4 KiB, which `BytesMut` may round up to twice that.
const MEMORY_SLACK: usize = 8192;

/// The endpoint under test and everything the harness knows about it.
pub(super) struct Harness<'a> {
    conn: Connection,
    role: Role,
    config: Config,
    /// Bytes reach the connection through `read_buffer` and `commit_read`
    /// (as the adapters deliver them), at most the room each buffer has,
    /// instead of `receive_data`.
    direct: bool,
    /// The peer's bytes not yet fed.
    wire: &'a [u8],
    now: Instant,
    /// Bytes of handshake head at the front of the output, not yet written.
    head_left: usize,
    checker: OutputChecker,
    /// Every frame byte written, for the split comparison.
    pub(super) sent: Vec<u8>,
    /// Every event, and the first error, in order.
    pub(super) outcomes: Vec<Outcome>,

    // What the connection must do next, as far as the harness can tell.
    state: State,
    error: Option<ProtocolError>,
    /// A timer failed the connection; `next_event` must report this.
    timer_error: Option<ProtocolError>,
    close_event_seen: bool,
    should_close: bool,
    eof: bool,
    /// The fragmented message being sent, if any.
    sends: SendModel,
    /// Where the next continuing text fragment resumes `PATTERN`.
    pattern_pos: usize,
    /// Bytes that whole-message sends may still use.
    send_budget: usize,
    /// Bytes that `Op::Fill` may still feed.
    fill_budget: usize,

    // Keepalive model.
    /// Data fed since the last `handle_timeout`.
    fed_since_tick: bool,
    /// When the connection last learnt that the peer is alive.
    heard_at: Option<Instant>,
    /// When the last keepalive ping was queued, and whether data arrived
    /// since.
    ping_at: Option<Instant>,
    fed_since_ping: bool,

    // Memory accounting.
    /// Bytes fed since the last complete drain, and in how many reads.
    undrained: usize,
    undrained_reads: usize,
    /// The largest `undrained` when it was one read (the documented call
    /// order), and when it was several (the buffer may then double).
    one_read_peak: usize,
    many_reads_peak: usize,
    output_peak: usize,
    /// The pending output at the last check, to tell if a closed
    /// connection queued more.
    closed_output: usize,
}

impl<'a> Harness<'a> {
    pub(super) fn new(role: Role, input: &Input<'a>) -> Self {
        let config = input.config();
        let mut wire = input.wire;
        let via_handshake = input.flags & 0x40 != 0;
        let leftover_len = if via_handshake && input.flags & 0x80 != 0 {
            usize::from(input.seed % 64).min(wire.len())
        } else {
            0
        };
        let (leftover, rest) = wire.split_at(leftover_len);
        wire = rest;
        let mut conn = if via_handshake {
            match role {
                Role::Server => server_via_handshake(&config, leftover),
                Role::Client => {
                    let write_request = input.seed & 0x40 == 0;
                    client_via_handshake(&config, leftover, write_request)
                }
            }
        } else {
            Connection::new(role, config.clone())
        };
        if role == Role::Client {
            conn.set_mask_key_source(mask_keys(input.seed));
        }
        let head_left = conn.pending_output().len();
        let mut harness = Harness {
            role,
            config,
            direct: input.seed & 0x20 != 0,
            wire,
            now: Instant::now(),
            head_left,
            checker: OutputChecker::new(role),
            sent: Vec::new(),
            outcomes: Vec::new(),
            state: State::Open,
            error: None,
            timer_error: None,
            close_event_seen: false,
            should_close: false,
            eof: false,
            sends: SendModel::default(),
            pattern_pos: 0,
            send_budget: 16 << 10,
            fill_budget: 128 << 10,
            fed_since_tick: !leftover.is_empty(),
            heard_at: None,
            ping_at: None,
            fed_since_ping: false,
            undrained: leftover.len(),
            undrained_reads: usize::from(!leftover.is_empty()),
            one_read_peak: leftover.len(),
            many_reads_peak: 0,
            output_peak: head_left,
            closed_output: head_left,
            conn,
        };
        harness.observe();
        harness
    }

    pub(super) fn apply(&mut self, op: Op) {
        match op {
            Op::Feed(arg) => {
                let chunk = self.take(chunk_len(arg));
                self.feed(chunk);
            }
            Op::Fill(arg) => {
                let len = (512 * usize::from(arg)).min(self.fill_budget);
                self.fill_budget -= len;
                self.feed(&vec![0; len]);
            }
            Op::Drain(0) => self.drain(usize::MAX),
            Op::Drain(limit) => self.drain(usize::from(limit)),
            Op::Consume(0) => self.consume(usize::MAX),
            Op::Consume(n) => self.consume(5 * usize::from(n)),
            Op::Text(arg) => self.send_text(arg),
            Op::Binary(arg) => self.send_binary(arg),
            Op::Fragment(arg) => self.send_fragment(arg),
            Op::Ping(len) => self.send_control(OpCode::Ping, len),
            Op::Pong(len) => self.send_control(OpCode::Pong, len),
            Op::Close(arg) => self.send_close(arg),
            Op::Time(arg) => {
                let ms = 4 * u64::from(arg) * u64::from(arg);
                self.advance(Duration::from_millis(ms));
            }
            Op::Eof => self.receive_eof(),
            Op::FeedLoop(arg) => {
                let chunk = self.take(usize::from(arg % 16) * 8 + 2);
                for _ in 0..(usize::from(arg / 16) + 1) * 4 {
                    self.feed(chunk);
                    self.adapter_drain();
                    self.consume(usize::MAX);
                }
            }
        }
    }

    /// Behaves as an adapter until the connection is over, then checks
    /// that it is.
    pub(super) fn finish(&mut self) {
        let rest = self.take(usize::MAX);
        self.feed(rest);
        self.adapter_drain();
        self.consume(usize::MAX);
        self.receive_eof();
        self.adapter_drain();
        self.consume(usize::MAX);
        // A day later every timer has run out.
        self.advance(Duration::from_secs(86_400));
        self.adapter_drain();
        self.consume(usize::MAX);

        assert_eq!(self.conn.state(), State::Closed, "still open after EOF");
        assert!(self.conn.should_close_transport());
        assert_eq!(
            self.conn.poll_timeout(),
            None,
            "a timer outlives the connection"
        );
        assert!(
            self.error.is_some() != self.close_event_seen,
            "the end must be reported exactly once (error {:?}, close event {})",
            self.error,
            self.close_event_seen
        );
        assert!(self.conn.pending_output().is_empty());
        self.checker.finish();
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (chunk, rest) = self.wire.split_at(n.min(self.wire.len()));
        self.wire = rest;
        chunk
    }

    fn feed(&mut self, chunk: &[u8]) {
        if !self.direct {
            let before = self.conn.pending_output().len();
            self.conn.receive_data(chunk);
            assert_eq!(self.conn.pending_output().len(), before);
            self.fed(chunk.len(), chunk.len());
            return;
        }
        let mut rest = chunk;
        loop {
            let mut buf = self.conn.read_buffer();
            let room = buf.capacity();
            assert!(buf.is_empty() && room > 0, "read_buffer gave no room");
            let n = room.min(rest.len());
            buf.put_slice(&rest[..n]);
            rest = &rest[n..];
            let before = self.conn.pending_output().len();
            self.conn.commit_read(buf);
            assert_eq!(self.conn.pending_output().len(), before);
            // The documented bound counts the room handed out as the read.
            self.fed(n, room);
            if rest.is_empty() {
                return;
            }
        }
    }

    /// Accounts for `n` bytes just fed in one read of `read` bytes of room.
    fn fed(&mut self, n: usize, read: usize) {
        if self.state != State::Closed && n > 0 {
            self.undrained += read;
            self.undrained_reads += 1;
            let peak = match self.undrained_reads {
                1 => &mut self.one_read_peak,
                _ => &mut self.many_reads_peak,
            };
            *peak = (*peak).max(self.undrained);
            self.fed_since_tick = true;
            self.fed_since_ping = true;
        }
        self.observe();
    }

    fn receive_eof(&mut self) {
        let before = self.conn.pending_output().len();
        self.conn.receive_eof();
        assert_eq!(self.conn.pending_output().len(), before);
        self.eof = true;
        self.observe();
    }

    /// Calls `next_event` until it returns nothing, an error, or `limit`
    /// events.
    fn drain(&mut self, limit: usize) {
        for _ in 0..limit {
            if !self.next_event() {
                break;
            }
        }
    }

    /// Drains as an adapter does: writing the output whenever the write
    /// buffer fills, until the connection needs more input.
    fn adapter_drain(&mut self) {
        for _ in 0..1_000_000 {
            self.drain(usize::MAX);
            if !self.conn.is_write_buffer_full() {
                return;
            }
            self.consume(usize::MAX);
        }
        panic!("the connection never stops producing events");
    }

    /// One checked call to `next_event`; returns whether it produced an
    /// event (so that draining should go on).
    fn next_event(&mut self) -> bool {
        let before = self.conn.pending_output().len();
        let state_before = self.conn.state();
        let full_before = self.conn.is_write_buffer_full();
        let result = self.conn.next_event();
        let output = self.conn.pending_output();
        assert!(output.len() >= before, "next_event removed output");
        let delta = output[before..].to_vec();
        let progress = match result {
            Err(e) => {
                match &self.error {
                    // A sticky error: the same one, and nothing new queued.
                    Some(first) => {
                        assert_eq!(&e, first, "the error changed");
                        assert!(delta.is_empty(), "output on a repeated error");
                    }
                    None => {
                        assert!(!self.close_event_seen, "an error after the close event");
                        if let Some(expected) = self.timer_error.take() {
                            assert_eq!(e, expected);
                        }
                        if state_before == State::Open {
                            let body = CloseFrame::new(e.close_code(), "");
                            self.expect_frame(
                                &delta,
                                OpCode::Close,
                                &close_body(body.code, &body.reason),
                            );
                        } else {
                            assert!(delta.is_empty(), "output after failing a closed connection");
                        }
                        assert_eq!(self.conn.outcome(), Some(&End::Failed(e.clone())));
                        self.error = Some(e.clone());
                        self.outcomes.push(Err(e));
                    }
                }
                assert_eq!(self.conn.state(), State::Closed);
                assert!(self.conn.should_close_transport());
                self.drained();
                false
            }
            Ok(None) => {
                assert!(delta.is_empty(), "output without an event");
                assert!(self.error.is_none(), "Ok(None) after an error");
                assert!(
                    self.timer_error.is_none(),
                    "a timer's error went unreported"
                );
                if !self.conn.is_write_buffer_full() || self.conn.state() == State::Closed {
                    self.drained();
                }
                false
            }
            Ok(Some(event)) => {
                assert!(self.error.is_none(), "an event after an error");
                assert!(
                    self.timer_error.is_none(),
                    "a timer's error went unreported"
                );
                assert!(!self.close_event_seen, "an event after the close event");
                check_event(&event, &self.config);
                let synthetic_close = matches!(&event, Event::Abnormal);
                if full_before || state_before == State::Closed {
                    assert!(synthetic_close, "decoded {event:?} while not allowed to");
                }
                self.check_reply(&event, state_before, &delta);
                self.outcomes.push(Ok(event));
                true
            }
        };
        self.observe();
        progress
    }

    /// Checks what the connection queued in answer to an event.
    fn check_reply(&mut self, event: &Event, state_before: State, delta: &[u8]) {
        match event {
            Event::Ping(payload) if self.config.auto_pong && state_before != State::Closed => {
                // RFC 6455 §5.5.2: a pong with the same application data.
                self.expect_frame(delta, OpCode::Pong, payload);
            }
            Event::Abnormal => {
                self.close_event_seen = true;
                assert_eq!(self.conn.state(), State::Closed);
                assert_eq!(self.conn.outcome(), Some(&End::Abnormal));
                assert!(self.conn.should_close_transport());
                assert!(delta.is_empty(), "reply to {event:?} in {state_before:?}");
            }
            Event::Close(frame) => {
                self.close_event_seen = true;
                assert_eq!(self.conn.state(), State::Closed);
                assert_eq!(self.conn.outcome(), Some(&End::Clean(frame.clone())));
                if self.role == Role::Server || self.eof {
                    assert!(self.conn.should_close_transport());
                }
                if state_before == State::Open {
                    // RFC 6455 §5.5.1: echo the status code received.
                    let echo = CloseFrame::new(frame.code, "");
                    self.expect_frame(delta, OpCode::Close, &close_body(echo.code, ""));
                } else {
                    assert!(delta.is_empty(), "reply to {event:?} in {state_before:?}");
                }
            }
            _ => assert!(delta.is_empty(), "reply to {event:?}"),
        }
    }

    /// Writes up to `n` bytes of output.
    fn consume(&mut self, n: usize) {
        let output = self.conn.pending_output();
        let n = n.min(output.len());
        let written = output[..n].to_vec();
        let before = output.len();
        self.conn.consume_output(n);
        assert_eq!(self.conn.pending_output().len(), before - n);
        let skip = self.head_left.min(n);
        self.head_left -= skip;
        self.checker.feed(&written[skip..]);
        self.sent.extend_from_slice(&written[skip..]);
        self.observe();
    }

    /// Lets `d` pass and handles the timers, as an adapter does before it
    /// waits: until the next deadline is in the future.
    fn advance(&mut self, d: Duration) {
        self.now += d;
        self.handle_timeout();
        for _ in 0..2 {
            if self.conn.poll_timeout().is_some_and(|at| at <= self.now) {
                self.handle_timeout();
            }
        }
        if let Some(at) = self.conn.poll_timeout() {
            assert!(
                at > self.now,
                "poll_timeout stays at or before now: busy loop"
            );
        }
    }

    fn handle_timeout(&mut self) {
        let now = self.now;
        if self.fed_since_tick || self.heard_at.is_none() {
            self.heard_at = Some(now);
        }
        self.fed_since_tick = false;
        let before = self.conn.pending_output().len();
        let state_before = self.conn.state();
        self.conn.handle_timeout(now);
        let frames = decode_sent_frames(self.role, &self.conn.pending_output()[before..]);
        assert!(frames.len() <= 1, "one timer call queued {frames:?}");
        if let Some(frame) = frames.first() {
            assert_eq!(
                state_before,
                State::Open,
                "a timer wrote {frame:?} in {state_before:?}"
            );
            let interval = self
                .config
                .keepalive_interval
                .expect("a timer wrote without keepalive");
            match frame.opcode {
                OpCode::Ping => {
                    assert!(frame.payload.is_empty());
                    let heard = self.heard_at.expect("heard_at is set above");
                    assert!(now >= heard + interval, "keepalive ping too early");
                    self.ping_at = Some(now);
                    self.fed_since_ping = false;
                }
                OpCode::Close => {
                    let ping = self.ping_at.expect("keepalive failed without a ping");
                    assert!(
                        now >= ping + self.config.keepalive_timeout,
                        "failed too early"
                    );
                    assert!(!self.fed_since_ping, "failed although the peer spoke");
                    let body = CloseFrame::new(CloseCode::INTERNAL_ERROR, "");
                    assert_eq!(frame.payload, close_body(body.code, &body.reason));
                    assert_eq!(self.conn.state(), State::Closed);
                    self.timer_error = Some(ProtocolError::KeepaliveTimeout);
                }
                _ => panic!("a timer wrote {frame:?}"),
            }
        }
        self.observe();
    }

    /// How long a message `Op::Text(arg)` or `Op::Binary(arg)` sends: `3 ×
    /// arg` up to 597, then in steps of 64 bytes up to 3.5 KiB, within what
    /// is left of a budget of 16 KiB per input. Large sends are slow to
    /// check (in frames of 7 bytes, under ASan) and teach little more once
    /// the 7- and 16-bit length forms are covered; `roundtrip` sends 64-bit
    /// lengths.
    fn message_len(&mut self, arg: u8) -> usize {
        let len = match arg {
            0..=199 => 3 * usize::from(arg),
            _ => usize::from(arg - 199) * 64,
        };
        let len = len.min(self.send_budget);
        self.send_budget -= len;
        len
    }

    fn send_text(&mut self, arg: u8) {
        let text = pattern_text(self.message_len(arg));
        let expected = self.sends.predict_message(self.state);
        let before = self.conn.pending_output().len();
        let result = if arg % 2 == 1 {
            self.conn.send(&Message::text(text.as_str()))
        } else {
            self.conn.send_text(&text)
        };
        self.check_send(before, result, expected, |h, delta| {
            let frames = decode_sent_frames(h.role, delta);
            let size = h.config.send_frame_size;
            check_message_frames(&frames, OpCode::Text, text.as_bytes(), size);
        });
    }

    fn send_binary(&mut self, arg: u8) {
        let len = self.message_len(arg);
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let expected = self.sends.predict_message(self.state);
        let before = self.conn.pending_output().len();
        let result = self.conn.send_binary(&data);
        self.check_send(before, result, expected, |h, delta| {
            let frames = decode_sent_frames(h.role, delta);
            check_message_frames(&frames, OpCode::Binary, &data, h.config.send_frame_size);
        });
    }

    fn send_fragment(&mut self, arg: u8) {
        let kind = if arg & 1 == 0 {
            MessageKind::Text
        } else {
            MessageKind::Binary
        };
        let fin = arg & 2 != 0;
        let len = usize::from(arg >> 3) * 3;
        let continuing = self.sends.open_kind().is_some();
        // A new message starts at a code point; a continuation resumes the
        // pattern where the previous fragment stopped (perhaps inside a code
        // point), or, with bit 2, restarts it (perhaps cutting one short).
        let start = if continuing && arg & 4 == 0 {
            self.pattern_pos
        } else {
            0
        };
        let payload: Vec<u8> = PATTERN.bytes().cycle().skip(start).take(len).collect();
        let opcode = match (continuing, kind) {
            (true, _) => OpCode::Continuation,
            (false, MessageKind::Text) => OpCode::Text,
            (false, MessageKind::Binary) => OpCode::Binary,
        };
        let expected = self.sends.predict_fragment(self.state, kind, &payload, fin);
        let before = self.conn.pending_output().len();
        let result = self.conn.send_fragment(kind, &payload, fin);
        self.check_send(before, result, expected, |h, delta| {
            let frames = decode_sent_frames(h.role, delta);
            let want = Frame {
                fin,
                opcode,
                payload: payload.clone(),
            };
            assert_eq!(frames, [want]);
            h.sends.fragment_sent(kind, &payload, fin);
            if kind == MessageKind::Text {
                h.pattern_pos = (start + len) % PATTERN.len();
            }
        });
    }

    fn send_control(&mut self, opcode: OpCode, len: u8) {
        let payload: Vec<u8> = (0..len).map(|i| i ^ 0x5a).collect();
        let expected = SendModel::predict_control(self.state, &payload);
        let before = self.conn.pending_output().len();
        let result = match opcode {
            OpCode::Ping => self.conn.send_ping(&payload),
            _ => self.conn.send_pong(&payload),
        };
        self.check_send(before, result, expected, |h, delta| {
            h.expect_frame(delta, opcode, &payload);
        });
    }

    fn send_close(&mut self, arg: u8) {
        let code = CloseCode::from(CLOSE_CODES[usize::from(arg % 16)]);
        let reason = pattern_text(usize::from(arg / 16) * 9);
        let expected = SendModel::predict_close(self.state, code, &reason);
        let before = self.conn.pending_output().len();
        let result = self.conn.send_close(code, &reason);
        self.check_send(before, result, expected, |h, delta| {
            h.expect_frame(delta, OpCode::Close, &close_body(code, &reason));
            assert_eq!(h.conn.state(), State::Closing);
        });
    }

    /// Checks a send's result against the prediction; on success hands the
    /// queued bytes to `on_ok`, on error checks that nothing was queued.
    fn check_send(
        &mut self,
        before: usize,
        result: Result<(), SendError>,
        expected: Result<(), SendError>,
        on_ok: impl FnOnce(&mut Self, &[u8]),
    ) {
        assert_eq!(result, expected, "send result in {:?}", self.state);
        let output = self.conn.pending_output();
        match result {
            Ok(()) => {
                let delta = output[before..].to_vec();
                on_ok(self, &delta);
            }
            Err(_) => {
                assert_eq!(output.len(), before, "a failed send queued output");
                assert_eq!(self.conn.state(), self.state, "a failed send changed state");
            }
        }
        self.observe();
    }

    /// Checks that `delta` is exactly one frame.
    fn expect_frame(&self, delta: &[u8], opcode: OpCode, payload: &[u8]) {
        let frames = decode_sent_frames(self.role, delta);
        let want = Frame {
            fin: true,
            opcode,
            payload: payload.to_vec(),
        };
        assert_eq!(frames, [want]);
    }

    /// Checks what holds after every call, and records the state.
    fn observe(&mut self) {
        let was_closed = self.state == State::Closed;
        let state = self.conn.state();
        assert!(
            rank(state) >= rank(self.state),
            "state went back: {:?} → {state:?}",
            self.state
        );
        self.state = state;
        let should_close = self.conn.should_close_transport();
        assert!(
            should_close || !self.should_close,
            "should_close_transport went back"
        );
        if should_close {
            assert_eq!(
                state,
                State::Closed,
                "close the transport of an open connection?"
            );
        }
        self.should_close = should_close;
        let pending = self.conn.pending_output().len();
        if was_closed {
            // Both close frames are exchanged, or the connection failed:
            // nothing more may be queued.
            assert!(pending <= self.closed_output, "output queued while closed");
        }
        self.closed_output = pending;
        self.output_peak = self.output_peak.max(pending);
        self.check_memory();
    }

    /// The input fed so far has all been decoded as far as it can be.
    fn drained(&mut self) {
        self.undrained = 0;
        self.undrained_reads = 0;
    }

    fn check_memory(&self) {
        let used = self.conn.memory_usage();
        // The bound `Connection::memory_usage` documents: a frame and its
        // header, a message, the read fed since the last complete drain
        // (the largest ever, since a partly used buffer keeps its
        // capacity; twice that for several reads fed without draining,
        // which the buffer serves by doubling), and the output, whose buffer
        // grows by doubling. Each buffer may also keep a small empty
        // allocation for reuse. A closed connection holds no input.
        let output = 2 * self.output_peak + MEMORY_SLACK;
        let bound = if self.state == State::Closed {
            output
        } else {
            let c = &self.config;
            let fed = self.one_read_peak.max(2 * self.many_reads_peak);
            let input = c.max_frame_size + MAX_HEADER_LEN + fed + MEMORY_SLACK;
            output + input + c.max_message_size
        };
        assert!(
            used <= bound,
            "memory_usage {used} over the bound {bound} ({:?}, largest read {}, largest \
             reads without draining {}, output peak {})",
            self.state,
            self.one_read_peak,
            self.many_reads_peak,
            self.output_peak
        );
    }
}

fn rank(state: State) -> u8 {
    match state {
        State::Open => 0,
        State::Closing => 1,
        State::Closed => 2,
    }
}

/// Whole code points of `PATTERN`, repeated, up to `max` bytes.
fn pattern_text(max: usize) -> String {
    let mut text = PATTERN.repeat(max / PATTERN.len() + 1);
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}
