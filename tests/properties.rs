//! Property tests of the sans-IO core.
//!
//! (a) Any split of the input, down to one byte at a time, yields the same
//!     events, the same error and the same output — for valid streams and
//!     for corrupted ones.
//! (b) Encode → decode is the identity: whatever one connection sends
//!     (whole messages, explicit fragments, automatic fragmentation, pings,
//!     pongs, close), the other receives, in both directions.
//! (c) No input makes the core panic or hold more memory than its limits
//!     allow, measured both with `memory_usage()` and with a counting
//!     allocator.
//!
//! Each property runs a modest number of cases so that `cargo test` stays
//! fast; set `PROPTEST_CASES` to run more.

mod common;

use std::time::{Duration, Instant};

use common::alloc;
use common::*;
use proptest::prelude::*;
use proptest::sample::Index;
use rfc6455::{
    CloseCode, Config, Connection, Event, Message, MessageKind, ProtocolError, Role, State,
};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

/// `cases` unless `PROPTEST_CASES` says otherwise.
fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    ProptestConfig::with_cases(cases)
}

// ---------------------------------------------------------------------------
// Generating streams of frames, built by hand (tests/common) from specs.

/// A control frame a peer may send.
#[derive(Clone, Debug)]
enum Control {
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A close frame with this code (valid or not) and reason; `None` is an
    /// empty close frame.
    Close(Option<(u16, String)>),
}

/// Something a peer sends: a data message (in fragments, possibly with
/// control frames between them) or a control frame.
#[derive(Clone, Debug)]
enum Item {
    Message {
        text: bool,
        data: Vec<u8>,
        /// Where the payload is cut into fragments.
        cuts: Vec<Index>,
        /// Control frames slipped in after fragment `Index`.
        between: Vec<(Index, Control)>,
    },
    Control(Control),
}

fn control() -> impl Strategy<Value = Control> {
    let code = prop_oneof![
        4 => prop::sample::select(vec![1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999]),
        1 => any::<u16>(),
    ];
    prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..=125).prop_map(Control::Ping),
        2 => prop::collection::vec(any::<u8>(), 0..=125).prop_map(Control::Pong),
        1 => prop::option::of((code, "\\PC{0,20}")).prop_map(Control::Close),
    ]
}

/// A data message or control frame; text of up to `max_chars` characters,
/// binary of up to `max_bytes` bytes, cut into up to `max_cuts` + 1
/// fragments.
fn item_sized(max_chars: usize, max_bytes: usize, max_cuts: usize) -> BoxedStrategy<Item> {
    let data = prop_oneof![
        prop::collection::vec(any::<char>(), 0..=max_chars)
            .prop_map(|c| (true, c.into_iter().collect::<String>().into_bytes())),
        prop::collection::vec(any::<u8>(), 0..=max_bytes).prop_map(|d| (false, d)),
    ];
    prop_oneof![
        4 => (
            data,
            prop::collection::vec(any::<Index>(), 0..=max_cuts),
            prop::collection::vec((any::<Index>(), control()), 0..3),
        )
            .prop_map(|((text, data), cuts, between)| Item::Message {
                text,
                data,
                cuts,
                between,
            }),
        1 => control().prop_map(Item::Control),
    ]
    .boxed()
}

fn item() -> BoxedStrategy<Item> {
    item_sized(40, 300, 3)
}

fn control_frame(c: &Control, key: Option<[u8; 4]>) -> Vec<u8> {
    match c {
        Control::Ping(p) => frame(true, PING, key, p),
        Control::Pong(p) => frame(true, PONG, key, p),
        Control::Close(None) => frame(true, CLOSE, key, b""),
        Control::Close(Some((code, reason))) => {
            frame(true, CLOSE, key, &close_body(*code, reason.as_bytes()))
        }
    }
}

/// The bytes a peer sends for `items`: masked with keys from `keys` if the
/// receiver is a server.
fn encode_items(items: &[Item], receiver: Role, keys: &[[u8; 4]]) -> Vec<u8> {
    let mut keys = keys.iter().copied().cycle();
    let mut next_key = || match receiver {
        Role::Server => Some(keys.next().unwrap_or(KEY)),
        Role::Client => None,
    };
    let mut wire = Vec::new();
    for item in items {
        match item {
            Item::Control(c) => wire.extend(control_frame(c, next_key())),
            Item::Message {
                text,
                data,
                cuts,
                between,
            } => {
                let mut points: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
                points.sort_unstable();
                points.dedup();
                let mut pieces = Vec::new();
                let mut start = 0;
                for p in points {
                    pieces.push(&data[start..p]);
                    start = p;
                }
                pieces.push(&data[start..]);
                for (n, piece) in pieces.iter().enumerate() {
                    let opcode = match (n, text) {
                        (0, true) => TEXT,
                        (0, false) => BINARY,
                        _ => CONT,
                    };
                    wire.extend(frame(n + 1 == pieces.len(), opcode, next_key(), piece));
                    if n + 1 < pieces.len() {
                        for (at, c) in between {
                            if at.index(pieces.len() - 1) == n {
                                wire.extend(control_frame(c, next_key()));
                            }
                        }
                    }
                }
            }
        }
    }
    wire
}

/// A stream of frames for a receiver of either role, optionally corrupted.
fn stream() -> impl Strategy<Value = (Role, Vec<u8>)> {
    stream_of(item(), 8)
}

fn stream_of(
    item: BoxedStrategy<Item>,
    max_items: usize,
) -> impl Strategy<Value = (Role, Vec<u8>)> {
    (
        any::<bool>(),
        prop::collection::vec(item, 0..max_items),
        prop::collection::vec(any::<[u8; 4]>(), 1..4),
        prop::collection::vec((any::<Index>(), any::<u8>()), 0..3),
    )
        .prop_map(|(server_role, items, keys, corruptions)| {
            let role = if server_role {
                Role::Server
            } else {
                Role::Client
            };
            let mut wire = encode_items(&items, role, &keys);
            for (at, xor) in corruptions {
                if !wire.is_empty() {
                    let i = at.index(wire.len());
                    wire[i] ^= xor;
                }
            }
            (role, wire)
        })
}

// ---------------------------------------------------------------------------
// (a) Splits do not matter.

/// Everything observable about a connection after it was fed.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    events: Vec<Event>,
    error: Option<ProtocolError>,
    output: Vec<u8>,
    state: State,
    close_transport: bool,
}

/// Feeds `pieces` one by one, draining and writing after each, then the end
/// of the stream.
fn run<'a>(role: Role, config: &Config, pieces: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut conn = Connection::new(role, config.clone());
    let mut n = 0u32;
    conn.set_mask_key_source(move || {
        n = n.wrapping_add(0x0101_0101);
        n.to_be_bytes()
    });
    let mut events = Vec::new();
    let mut error = None;
    let mut output = Vec::new();
    let mut step = |conn: &mut Connection| {
        if error.is_none() {
            let drained = drain(conn);
            events.extend(drained.events);
            error = drained.error;
        } else {
            // Sticky.
            assert_eq!(conn.next_event().err(), error);
        }
        output.extend(take_output(conn));
    };
    for piece in pieces {
        conn.receive_data(piece);
        step(&mut conn);
    }
    conn.receive_eof();
    step(&mut conn);
    Outcome {
        events,
        error,
        output,
        state: conn.state(),
        close_transport: conn.should_close_transport(),
    }
}

fn split_at_points<'a>(wire: &'a [u8], points: &[Index]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|i| i.index(wire.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for c in cuts {
        pieces.push(&wire[start..c]);
        start = c;
    }
    pieces.push(&wire[start..]);
    pieces
}

fn check_splits(role: Role, config: &Config, wire: &[u8], points: &[Index]) {
    let whole = run(role, config, [wire]);
    let split = run(role, config, split_at_points(wire, points));
    assert_eq!(split, whole, "split at {points:?}");
    let bytewise = run(role, config, wire.chunks(1));
    assert_eq!(bytewise, whole, "one byte at a time");
}

proptest! {
    #![proptest_config(cases(256))]

    // RFC 6455 §5.2/§5.4: a frame stream means the same however TCP cut it.
    #[test]
    fn any_split_of_a_frame_stream_gives_the_same_outcome(
        (role, wire) in stream(),
        points in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        check_splits(role, &Config::default(), &wire, &points);
    }

    // Same with small limits, so that 1009 errors happen mid-stream.
    #[test]
    fn any_split_gives_the_same_outcome_under_small_limits(
        (role, wire) in stream(),
        points in prop::collection::vec(any::<Index>(), 0..12),
        max_frame in 0usize..200,
        max_message in 0usize..400,
    ) {
        let config = Config::default().max_frame_size(max_frame).max_message_size(max_message);
        check_splits(role, &config, &wire, &points);
    }

    // Arbitrary bytes, not built from frames at all.
    #[test]
    fn any_split_of_arbitrary_bytes_gives_the_same_outcome(
        server_role in any::<bool>(),
        wire in prop::collection::vec(any::<u8>(), 0..600),
        points in prop::collection::vec(any::<Index>(), 0..12),
    ) {
        let role = if server_role { Role::Server } else { Role::Client };
        check_splits(role, &Config::default(), &wire, &points);
    }
}

// ---------------------------------------------------------------------------
// (b) Encode → decode is the identity.

#[derive(Clone, Debug)]
enum Op {
    Whole(Message),
    Fragments(MessageKind, Vec<u8>, Vec<Index>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn op() -> impl Strategy<Value = Op> {
    let text = "\\PC{0,60}";
    let bin = prop::collection::vec(any::<u8>(), 0..400);
    let cuts = prop::collection::vec(any::<Index>(), 0..5);
    prop_oneof![
        3 => text.prop_map(|s| Op::Whole(Message::text(s))),
        3 => bin.clone().prop_map(|b| Op::Whole(Message::binary(b))),
        2 => (text, cuts.clone())
            .prop_map(|(s, c)| Op::Fragments(MessageKind::Text, s.into_bytes(), c)),
        2 => (bin, cuts).prop_map(|(b, c)| Op::Fragments(MessageKind::Binary, b, c)),
        1 => prop::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Ping),
        1 => prop::collection::vec(any::<u8>(), 0..=125).prop_map(Op::Pong),
    ]
}

/// Moves `from`'s output to `to` in pieces of the given sizes (cycled).
fn pump(from: &mut Connection, to: &mut Connection, sizes: &[usize]) {
    let wire = take_output(from);
    let mut rest = &wire[..];
    for size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (piece, tail) = rest.split_at((*size).min(rest.len()));
        to.receive_data(piece);
        rest = tail;
    }
}

proptest! {
    #![proptest_config(cases(256))]

    // RFC 6455 §5.4/§5.6: what one endpoint sends, the other receives — the
    // same messages, pings and pongs, in the same order, whatever the
    // fragmentation, in both directions.
    #[test]
    fn what_is_sent_is_received(
        client_sends in any::<bool>(),
        ops in prop::collection::vec(op(), 0..10),
        send_frame_size in prop::option::of(1usize..100),
        close in prop::option::of((prop::sample::select(vec![1000u16, 1001, 1011, 3000, 4999]), "\\PC{0,10}")),
        sizes in prop::collection::vec(1usize..200, 1..5),
    ) {
        let config = Config::default().send_frame_size(send_frame_size);
        let (from_role, to_role) = if client_sends {
            (Role::Client, Role::Server)
        } else {
            (Role::Server, Role::Client)
        };
        let mut from = Connection::new(from_role, config.clone());
        let mut to = Connection::new(to_role, config);
        let mut expected = Vec::new();
        let mut pings = Vec::new();
        for op in &ops {
            match op {
                Op::Whole(m) => {
                    from.send(m).unwrap();
                    expected.push(Event::Message(m.clone()));
                }
                Op::Fragments(kind, data, cuts) => {
                    let pieces = split_at_points(data, cuts);
                    for (n, piece) in pieces.iter().enumerate() {
                        from.send_fragment(*kind, piece, n + 1 == pieces.len()).unwrap();
                    }
                    expected.push(Event::Message(match kind {
                        MessageKind::Text => Message::text(String::from_utf8(data.clone()).unwrap()),
                        MessageKind::Binary => Message::binary(data.clone()),
                    }));
                }
                Op::Ping(p) => {
                    from.send_ping(p).unwrap();
                    expected.push(ping(p));
                    pings.push(pong(p));
                }
                Op::Pong(p) => {
                    from.send_pong(p).unwrap();
                    expected.push(pong(p));
                }
            }
        }
        if let Some((code, reason)) = &close {
            from.send_close(CloseCode::from(*code), reason).unwrap();
            expected.push(close_event(*code, reason));
        }
        pump(&mut from, &mut to, &sizes);
        let received = drain(&mut to);
        prop_assert_eq!(received.error, None);
        prop_assert_eq!(received.events, expected);

        // The answers travel back: a pong per ping, then the close echo.
        if let Some((code, _)) = &close {
            pings.push(close_event(*code, ""));
        }
        pump(&mut to, &mut from, &sizes);
        let answers = drain(&mut from);
        prop_assert_eq!(answers.error, None);
        prop_assert_eq!(answers.events, pings);
        if close.is_some() {
            prop_assert_eq!((from.state(), to.state()), (State::Closed, State::Closed));
        }
    }
}

/// Writes `conn`'s output the way a vectored transport would: each write
/// takes up to `sizes[i]` bytes (cycled) from the slices offered.
fn drain_vectored(conn: &mut Connection, sizes: &[usize]) -> Vec<u8> {
    let mut wire = Vec::new();
    for size in sizes.iter().cycle().take(100_000) {
        let mut slices = [std::io::IoSlice::new(&[]); 4];
        let n = conn.pending_output_vectored(&mut slices);
        if n == 0 {
            break;
        }
        let before = wire.len();
        for slice in &slices[..n] {
            let room = size - (wire.len() - before);
            wire.extend_from_slice(&slice[..slice.len().min(room)]);
        }
        conn.consume_output(wire.len() - before);
    }
    wire
}

proptest! {
    #![proptest_config(cases(128))]

    // With vectored output, large payloads are queued by reference: the
    // bytes on the wire must be exactly those of the copying path, however
    // the transport splits its writes.
    #[test]
    fn vectored_output_puts_the_same_bytes_on_the_wire(
        sends in prop::collection::vec((0usize..9000, any::<u8>(), 0u8..4), 1..8),
        send_frame_size in prop::option::of(1000usize..5000),
        sizes in prop::collection::vec(1usize..7000, 1..5),
        prepared in any::<bool>(),
    ) {
        let config = Config::default().send_frame_size(send_frame_size);
        let mut copying = Connection::new(Role::Server, config.clone());
        let mut vectored = Connection::new(Role::Server, config);
        vectored.set_vectored_output(true);
        for (len, fill, what) in &sends {
            let message = Message::binary(vec![*fill; *len]);
            match what {
                0 => {
                    copying.send_ping(&[*fill; 3]).unwrap();
                    vectored.send_ping(&[*fill; 3]).unwrap();
                }
                1 if prepared => {
                    let p = rfc6455::PreparedMessage::new(message);
                    copying.send_prepared(&p).unwrap();
                    vectored.send_prepared(&p).unwrap();
                }
                _ => {
                    copying.send(&message).unwrap();
                    vectored.send(&message).unwrap();
                }
            }
        }
        let expected = take_output(&mut copying);
        prop_assert_eq!(vectored.pending_output_len(), expected.len());
        let wire = drain_vectored(&mut vectored, &sizes);
        prop_assert_eq!(wire, expected);
        prop_assert_eq!(vectored.pending_output_len(), 0);
    }
}

// ---------------------------------------------------------------------------
// (c) No panic, bounded memory.

const MAX_FRAME: usize = 1024;
const MAX_MESSAGE: usize = 4096;
const HIGH_WATER: usize = 1024;
const MAX_CHUNK: usize = 2048;
/// The largest frame the core writes by itself: a pong or close of 125
/// bytes with a 14-byte header.
const OWN_FRAME: usize = 14 + 125;

fn small_limits() -> Config {
    Config::default()
        .max_frame_size(MAX_FRAME)
        .max_message_size(MAX_MESSAGE)
        .write_buffer_high_water(HIGH_WATER)
        .keepalive(Some(Duration::from_millis(500)), Duration::from_millis(500))
        .close_timeout(Duration::from_millis(700))
}

/// Input for (c): mostly well-formed frames (so that the decoder gets deep),
/// corrupted or not, or plain random bytes.
fn hostile_input() -> impl Strategy<Value = (Role, Vec<u8>)> {
    prop_oneof![
        // Messages around the limits: frames up to and over max_frame_size,
        // messages over max_message_size, many fragments.
        3 => stream_of(item_sized(700, 20 * MAX_FRAME, 40), 8),
        1 => stream(),
        1 => (any::<bool>(), prop::collection::vec(any::<u8>(), 0..4000)).prop_map(|(s, w)| {
            (if s { Role::Server } else { Role::Client }, w)
        }),
    ]
}

proptest! {
    #![proptest_config(cases(256))]

    // RFC 6455 §10.4: the limits hold whatever the peer sends and however it
    // arrives. After every call of the documented loop, memory_usage() stays
    // within the limits: max_frame_size (plus a header) and one read for the
    // input buffer, max_message_size for the message being assembled, and
    // the high-water mark plus one frame for the output the core queues by
    // itself — each buffer counted twice for its growth by doubling (see
    // limits.rs, memory_usage_stays_within_its_documented_bound, for the
    // tighter documented bound). The bytes really allocated stay within
    // twice the documented bound.
    #[test]
    fn arbitrary_input_never_panics_nor_exceeds_the_limits(
        (role, wire) in hostile_input(),
        chunk_sizes in prop::collection::vec(1usize..=MAX_CHUNK, 1..8),
        steps_ms in prop::collection::vec(0u64..400, 1..8),
        drain_every in 1usize..4,
    ) {
        let documented = MAX_FRAME + MAX_MESSAGE + MAX_CHUNK + HIGH_WATER + OWN_FRAME;
        let reported_bound =
            2 * (MAX_FRAME + 14 + MAX_CHUNK) + MAX_MESSAGE + 2 * (HIGH_WATER + OWN_FRAME);
        let base = alloc::live();
        let mut conn = Connection::new(role, small_limits());
        let mut now = Instant::now();
        conn.handle_timeout(now);
        let mut rest = &wire[..];
        let mut round = 0;
        let check = |conn: &Connection, when: &str| -> Result<(), TestCaseError> {
            let reported = conn.memory_usage();
            prop_assert!(
                reported <= reported_bound,
                "memory_usage {} > {} {}", reported, reported_bound, when
            );
            let real = alloc::live() - base;
            prop_assert!(
                real <= 2 * documented as isize,
                "allocated {} > 2 x {} {}", real, documented, when
            );
            Ok(())
        };
        while !rest.is_empty() {
            let size = chunk_sizes[round % chunk_sizes.len()].min(rest.len());
            let (piece, tail) = rest.split_at(size);
            rest = tail;
            conn.receive_data(piece);
            check(&conn, "after receive_data")?;
            // Drain the events (dropping them at once).
            while let Ok(Some(event)) = conn.next_event() {
                drop(event);
            }
            check(&conn, "after next_event")?;
            // Sometimes write only part of the output, but always enough
            // to get below the high-water mark, as an adapter would.
            if round % drain_every == 0 {
                conn.consume_output(usize::MAX);
            } else {
                let excess = conn.pending_output().len().saturating_sub(HIGH_WATER / 2);
                conn.consume_output(excess);
            }
            now += Duration::from_millis(steps_ms[round % steps_ms.len()]);
            conn.handle_timeout(now);
            check(&conn, "after handle_timeout")?;
            round += 1;
        }
        conn.receive_eof();
        while let Ok(Some(event)) = conn.next_event() {
            drop(event);
        }
        check(&conn, "after eof")?;
    }
}
