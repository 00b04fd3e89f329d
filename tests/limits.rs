//! Size limits and memory (RFC 6455 §10.4: "implementations SHOULD impose
//! a limit on frame sizes and the total message size after reassembly"),
//! and back-pressure on the output buffer.
//!
//! Memory is checked twice: with `Connection::memory_usage`, and with a
//! counting global allocator that sees every byte the core really holds.

mod common;

use common::alloc;
use common::*;
use rfc6455::{Config, Connection, Event, ProtocolError, Role};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

const GIB: u64 = 1 << 30;

// Our issue: default limits — 16 MiB per frame, 64 MiB per message, 1 MiB
// of output before back-pressure.
#[test]
fn default_limits() {
    let config = Config::default();
    assert_eq!(config.max_frame_size, 16 << 20);
    assert_eq!(config.max_message_size, 64 << 20);
    assert_eq!(config.write_buffer_high_water, 1 << 20);
}

// RFC 6455 §10.4 / §7.4.1 (1009: "a message that is too big for it to
// process"): a frame longer than max_frame_size is refused from its header
// alone, before any payload is buffered.
#[test]
fn a_1_gib_frame_is_refused_from_its_header_alone() {
    for role in [Role::Server, Role::Client] {
        let key = (role == Role::Server).then_some(KEY);
        let wire = header(true, 0, BINARY, key, GIB);
        let base = alloc::live();
        alloc::reset_peak();
        let mut conn = Connection::new(role, Config::default());
        conn.set_mask_key_source(|| KEY);
        let drained = feed(&mut conn, &wire);
        assert_eq!(
            drained.error,
            Some(ProtocolError::FrameTooBig {
                size: GIB,
                limit: 16 << 20
            })
        );
        assert_eq!(drained.error.unwrap().close_code(), 1009.into());
        assert_single_close(&take_output(&mut conn), 1009, role == Role::Client);
        assert!(conn.memory_usage() < 1024, "{}", conn.memory_usage());
        let peak = alloc::peak() - base;
        assert!(peak < 16 << 10, "the connection allocated {peak} bytes");
    }
}

// RFC 6455 §10.4: the header of an oversized frame is enough even when it
// arrives byte by byte: the error comes with its last header byte.
#[test]
fn oversized_frame_fails_with_the_last_byte_of_its_header() {
    let wire = header(true, 0, TEXT, Some(KEY), GIB);
    let mut conn = server();
    for byte in &wire[..wire.len() - 1] {
        assert_eq!(
            feed(&mut conn, std::slice::from_ref(byte)),
            Drained::default()
        );
    }
    let drained = feed(&mut conn, &wire[wire.len() - 1..]);
    assert!(matches!(
        drained.error,
        Some(ProtocolError::FrameTooBig { .. })
    ));
}

// RFC 6455 §10.4: max_frame_size is inclusive — a frame of exactly the
// limit is accepted, one byte more is refused.
#[test]
fn max_frame_size_boundary() {
    let config = Config::default().max_frame_size(1000);
    let mut conn = server_with(config.clone());
    let events = feed_ok(&mut conn, &masked(BINARY, &[1; 1000]));
    assert_eq!(events, vec![binary(&[1; 1000])]);

    let mut conn = server_with(config);
    let drained = feed(&mut conn, &header(true, 0, BINARY, Some(KEY), 1001));
    assert_eq!(
        drained.error,
        Some(ProtocolError::FrameTooBig {
            size: 1001,
            limit: 1000
        })
    );
    assert_eq!(take_output(&mut conn), server_close(1009));
}

// RFC 6455 §10.4: the message limit is enforced while assembling, from
// frame headers: with max_message_size 1000, fragments of 600 + 600 fail
// on the second header alone, before its payload arrives.
#[test]
fn message_limit_is_checked_from_the_next_fragments_header() {
    let mut conn = server_with(Config::default().max_message_size(1000));
    assert!(feed_ok(&mut conn, &frame(false, BINARY, Some(KEY), &[7; 600])).is_empty());
    let drained = feed(&mut conn, &header(true, 0, CONT, Some(KEY), 600));
    assert_eq!(
        drained.error,
        Some(ProtocolError::MessageTooBig {
            size: 1200,
            limit: 1000
        })
    );
    assert_eq!(take_output(&mut conn), server_close(1009));
    assert!(conn.memory_usage() < 2048, "{}", conn.memory_usage());
}

// RFC 6455 §10.4: a message of exactly max_message_size is accepted, in one
// frame or several.
#[test]
fn message_limit_boundary() {
    let config = Config::default().max_message_size(1000);
    let mut conn = server_with(config.clone());
    let mut wire = frame(false, TEXT, Some(KEY), &[b'a'; 500]);
    wire.extend(masked(PING, b"not counted"));
    wire.extend(frame(true, CONT, Some(KEY), &[b'b'; 500]));
    wire.extend(masked(BINARY, &[0; 1000]));
    let events = feed_ok(&mut conn, &wire);
    let expected_text = "a".repeat(500) + &"b".repeat(500);
    assert_eq!(
        events,
        vec![
            ping(b"not counted"),
            text(&expected_text),
            binary(&[0; 1000])
        ]
    );

    // One frame one byte too long for the message limit (but within the
    // frame limit).
    let mut conn = server_with(config);
    let drained = feed(&mut conn, &header(true, 0, BINARY, Some(KEY), 1001));
    assert_eq!(
        drained.error,
        Some(ProtocolError::MessageTooBig {
            size: 1001,
            limit: 1000
        })
    );
    assert_eq!(take_output(&mut conn), server_close(1009));
}

// RFC 6455 §10.4: many small fragments add up: the fragment that crosses
// the limit fails from its header.
#[test]
fn message_limit_counts_every_fragment() {
    let mut conn = server_with(Config::default().max_message_size(999));
    let mut wire = frame(false, BINARY, Some(KEY), b"x");
    for _ in 1..999 {
        wire.extend(frame(false, CONT, Some(KEY), b"x"));
    }
    assert!(feed_ok(&mut conn, &wire).is_empty());
    let drained = feed(&mut conn, &header(false, 0, CONT, Some(KEY), 1));
    assert_eq!(
        drained.error,
        Some(ProtocolError::MessageTooBig {
            size: 1000,
            limit: 999
        })
    );
}

// Our issue: "memory for an incomplete message bounded by its bytes
// whatever the fragment count". 100 000 one-byte fragments, fed in 4 KiB
// reads: the connection never holds more than a small multiple of 100 000
// bytes plus its buffers — no per-fragment overhead.
#[test]
fn memory_of_a_message_in_100_000_fragments_is_bounded_by_its_bytes() {
    const N: usize = 100_000;
    let mut wire = Vec::with_capacity(N * 7);
    for i in 0..N {
        let opcode = if i == 0 { BINARY } else { CONT };
        wire.extend(frame(i == N - 1, opcode, Some(KEY), &[(i % 256) as u8]));
    }
    let base = alloc::live();
    alloc::reset_peak();
    let mut conn = server();
    let mut max_reported = 0;
    let mut events = Vec::new();
    for chunk in wire.chunks(4096) {
        events.extend(feed_ok(&mut conn, chunk));
        max_reported = max_reported.max(conn.memory_usage());
    }
    let peak = alloc::peak() - base;
    let expected: Vec<u8> = (0..N).map(|i| (i % 256) as u8).collect();
    assert_eq!(events, vec![binary(&expected)]);
    let bound = 3 * N + 16 * 4096;
    assert!(max_reported <= bound, "memory_usage reached {max_reported}");
    // The message itself (N bytes) is alive at the end, so it counts too.
    assert!(peak as usize <= bound, "allocations peaked at {peak}");
}

// Same, with one fragment per read (the worst case for buffer churn).
#[test]
fn memory_with_one_fragment_per_read_is_bounded() {
    const N: usize = 20_000;
    let base = alloc::live();
    alloc::reset_peak();
    let mut conn = server();
    let mut max_reported = 0;
    for i in 0..N {
        let opcode = if i == 0 { TEXT } else { CONT };
        let wire = frame(i == N - 1, opcode, Some(KEY), b"z");
        let events = feed_ok(&mut conn, &wire);
        max_reported = max_reported.max(conn.memory_usage());
        if i == N - 1 {
            assert_eq!(events, vec![text(&"z".repeat(N))]);
        }
    }
    let peak = alloc::peak() - base;
    assert!(
        max_reported <= 3 * N + 4096,
        "memory_usage reached {max_reported}"
    );
    assert!(
        (peak as usize) <= 3 * N + 16 * 4096,
        "allocations peaked at {peak}"
    );
}

// RFC 6455 §10.4: a large frame arriving in pieces is held once: memory
// stays within a small multiple of the frame size.
#[test]
fn memory_of_a_large_frame_arriving_in_pieces_is_bounded_by_its_size() {
    const LEN: usize = 1 << 20;
    let payload: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
    let wire = frame(true, BINARY, Some(KEY), &payload);
    let base = alloc::live();
    alloc::reset_peak();
    let mut conn = server();
    let mut max_reported = 0;
    let mut events = Vec::new();
    for chunk in wire.chunks(16 << 10) {
        events.extend(feed_ok(&mut conn, chunk));
        max_reported = max_reported.max(conn.memory_usage());
    }
    let peak = alloc::peak() - base;
    assert_eq!(events, vec![binary(&payload)]);
    assert!(
        max_reported <= 2 * LEN + (64 << 10),
        "memory_usage {max_reported}"
    );
    assert!(
        (peak as usize) <= 2 * LEN + (64 << 10),
        "allocations peaked at {peak}"
    );
}

// A stream of large frames whose ends share reads with the starts of the
// next ones (the common case for a busy connection): every message comes
// out whole and in order, whether the application drops or keeps the
// payloads, and memory stays within a few frames of the largest one.
#[test]
fn large_frames_straddling_reads_are_delivered_whole_with_bounded_memory() {
    let sizes = [5_000, 70_000, 300_000, 9_000, 100, 65_536, 200_000, 4_097];
    let payloads: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(n, &len)| (0..len).map(|i| (i * 7 + n) as u8).collect())
        .collect();
    let wire: Vec<u8> = payloads
        .iter()
        .flat_map(|p| frame(true, BINARY, Some(KEY), p))
        .collect();
    let largest = 300_000 + 14;
    for reads in [
        &[65_536][..],
        &[4_097, 100_000, 13],
        &[70_014, 9_000],
        &[1 << 20],
    ] {
        for keep in [false, true] {
            let mut conn = server();
            let mut kept = Vec::new();
            let mut got = 0;
            let mut max_reported = 0;
            let mut rest = &wire[..];
            for &read in reads.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, tail) = rest.split_at(read.min(rest.len()));
                rest = tail;
                conn.receive_data(chunk);
                max_reported = max_reported.max(conn.memory_usage());
                while let Some(event) = conn.next_event().unwrap() {
                    let Event::Message(message) = event else {
                        panic!("unexpected {event:?}");
                    };
                    assert_eq!(message.as_bytes(), &payloads[got][..], "message {got}");
                    got += 1;
                    if keep {
                        kept.push(message);
                    }
                }
                max_reported = max_reported.max(conn.memory_usage());
            }
            assert_eq!(got, sizes.len(), "reads {reads:?} keep {keep}");
            let read = *reads.iter().max().unwrap();
            assert!(
                max_reported <= 3 * (largest + read),
                "reads {reads:?} keep {keep}: memory_usage {max_reported}"
            );
            conn.release_memory();
            assert_eq!(conn.memory_usage(), 0);
        }
    }
}

// Back-pressure: while is_write_buffer_full(), next_event decodes nothing,
// so a peer that floods pings and never reads cannot grow our output past
// the high-water mark (plus one frame). After consume_output, decoding
// resumes where it stopped, and every ping is eventually answered in order.
#[test]
fn pings_do_not_grow_the_output_past_the_high_water_mark() {
    let high_water = 100;
    let mut conn = server_with(Config::default().write_buffer_high_water(high_water));
    let pings: Vec<u8> = (0..100u8).flat_map(|i| masked(PING, &[i; 10])).collect();
    conn.receive_data(&pings);

    let mut events = Vec::new();
    let mut written = Vec::new();
    let mut rounds = 0;
    loop {
        let drained = drain(&mut conn);
        assert_eq!(drained.error, None);
        let full = conn.is_write_buffer_full();
        let pending = conn.pending_output().len();
        assert!(pending < high_water + 12, "output grew to {pending}");
        if drained.events.is_empty() && !full {
            break;
        }
        if full {
            // Stuck until the output is written: nothing decoded.
            assert_eq!(conn.next_event(), Ok(None));
            assert_eq!(conn.pending_output().len(), pending);
        }
        events.extend(drained.events);
        written.extend(take_output(&mut conn));
        rounds += 1;
    }
    assert!(
        rounds >= 10,
        "back-pressure never applied ({rounds} rounds)"
    );
    let expected_events: Vec<Event> = (0..100u8).map(|i| ping(&[i; 10])).collect();
    assert_eq!(events, expected_events);
    let expected_out: Vec<u8> = (0..100u8).flat_map(|i| unmasked(PONG, &[i; 10])).collect();
    assert_eq!(written, expected_out);
}

// Back-pressure applies to every frame, not only pings: with the output
// full, even a complete message waits.
#[test]
fn a_full_write_buffer_holds_back_messages_too() {
    let mut conn = server_with(Config::default().write_buffer_high_water(10));
    conn.send_binary(&[0; 10]).unwrap();
    assert!(conn.is_write_buffer_full());
    conn.receive_data(&masked(TEXT, b"waiting"));
    assert_eq!(conn.next_event(), Ok(None));
    assert_eq!(conn.next_event(), Ok(None));
    conn.consume_output(5);
    assert!(!conn.is_write_buffer_full());
    assert_eq!(conn.next_event(), Ok(Some(text("waiting"))));
}

// An error already found is reported even while the write buffer is full
// (it does not need decoding).
#[test]
fn a_sticky_error_is_reported_while_the_write_buffer_is_full() {
    let mut conn = server_with(Config::default().write_buffer_high_water(1));
    feed_err(
        &mut conn,
        &unmasked(TEXT, b"x"),
        ProtocolError::UnmaskedFrame,
    );
    assert!(conn.is_write_buffer_full());
    assert_eq!(conn.next_event(), Err(ProtocolError::UnmaskedFrame));
}

// Config::write_buffer_high_water is documented as the size *above* which
// the buffer counts as full. A high-water mark of 0 ("decode only once
// everything is written") must not stop a connection with an empty output
// from ever decoding anything.
#[test]

fn high_water_mark_of_zero_still_decodes_when_the_output_is_empty() {
    let mut conn = server_with(Config::default().write_buffer_high_water(0));
    assert!(conn.pending_output().is_empty());
    assert_eq!(feed_ok(&mut conn, &masked(TEXT, b"hi")), vec![text("hi")]);
}

// Config::send_frame_size: "A size of zero is treated as one byte." The
// field is public, so a zero can also be set directly; sending must not
// panic.
#[test]

fn send_frame_size_of_zero_set_directly_does_not_panic() {
    let mut config = Config::default();
    config.send_frame_size = Some(0);
    let mut conn = server_with(config);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conn.send_binary(b"ab")));
    assert!(
        result.is_ok(),
        "send_binary panicked with send_frame_size 0"
    );
    assert_eq!(result.unwrap(), Ok(()));
    assert_eq!(take_output(&mut conn), [0x02, 1, b'a', 0x80, 1, b'b']);
}

// Connection::memory_usage documents its own bound: "With the call order
// above it stays within Config::max_frame_size + Config::max_message_size
// plus the size of one receive_data call and the output the application
// queues." A client (no output here) receives a 4096-byte message (the
// limit) in four 1024-byte fragments (the frame limit), in reads of 137
// bytes, draining after each read.
#[test]

fn memory_usage_stays_within_its_documented_bound() {
    const FRAME: usize = 1024;
    const MESSAGE: usize = 4096;
    const READ: usize = 137;
    let mut wire = frame(false, BINARY, None, &[1; FRAME]);
    wire.extend(frame(false, CONT, None, &[2; FRAME]));
    wire.extend(frame(false, CONT, None, &[3; FRAME]));
    wire.extend(frame(true, CONT, None, &[4; FRAME]));
    let config = Config::default()
        .max_frame_size(FRAME)
        .max_message_size(MESSAGE);
    let mut conn = client_with(config);
    // The documented bound: one frame and its 14-byte header, one message,
    // one read.
    let bound = FRAME + 14 + MESSAGE + READ;
    let mut worst = 0;
    let mut events = Vec::new();
    for chunk in wire.chunks(READ) {
        conn.receive_data(chunk);
        worst = worst.max(conn.memory_usage());
        events.extend(drain(&mut conn).events);
        worst = worst.max(conn.memory_usage());
        assert!(conn.pending_output().is_empty());
    }
    assert_eq!(events.len(), 1);
    assert!(
        worst <= bound,
        "memory_usage reached {worst}, documented bound {bound}"
    );
}

// Connection::memory_usage: "Bytes of memory currently held by the
// connection's buffers: received bytes, the message being assembled, and
// output." After a large frame has been received (and the message dropped
// by the application), and after a large message has been written out, the
// connection still holds those buffers' allocations; memory_usage must
// count them, or an application that polices memory with it is misled.
#[test]

fn memory_usage_counts_the_buffers_the_connection_really_holds() {
    const LEN: usize = 1 << 20;
    let payload = vec![1u8; LEN];
    let wire = frame(true, BINARY, Some(KEY), &payload);
    let base = alloc::live();
    let mut conn = server();
    for chunk in wire.chunks(16 << 10) {
        drop(feed_ok(&mut conn, chunk));
    }
    let held = (alloc::live() - base) as usize;
    let reported = conn.memory_usage();
    assert!(
        held <= reported + (64 << 10),
        "after receiving: holds {held} bytes, memory_usage says {reported}"
    );

    conn.send_binary(&payload).unwrap();
    take_output(&mut conn);
    let held = (alloc::live() - base) as usize;
    let reported = conn.memory_usage();
    assert!(
        held <= reported + (64 << 10),
        "after writing: holds {held} bytes, memory_usage says {reported}"
    );
}
