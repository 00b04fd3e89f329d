//! Masking (RFC 6455 §5.1, §5.3): who masks, with which key, and unmasking
//! that is correct whatever way the bytes arrive.

mod common;

use std::collections::HashSet;

use common::*;
use rfc6455::{CloseCode, Config, Connection, MessageKind, ProtocolError, Role};

// RFC 6455 §5.7: "A single-frame masked text message
// 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58 (contains "Hello")".
const MASKED_HELLO: [u8; 11] = [
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];

// RFC 6455 §5.7: the masked "Hello" example is decoded by a server.
#[test]
fn rfc_5_7_masked_hello_is_received_by_a_server() {
    let mut conn = server();
    assert_eq!(feed_ok(&mut conn, &MASKED_HELLO), vec![text("Hello")]);
}

// RFC 6455 §5.7 / §5.3: a client with the example's key sends exactly the
// example's bytes.
#[test]
fn rfc_5_7_masked_hello_is_sent_byte_exact_by_a_client() {
    let mut conn = client();
    conn.send_text("Hello").unwrap();
    assert_eq!(conn.pending_output(), &MASKED_HELLO);
}

// RFC 6455 §5.1: "The server MUST close the connection upon receiving a
// frame that is not masked ... a server MAY send a Close frame with a status
// code of 1002."
#[test]
fn server_fails_an_unmasked_frame_with_1002() {
    for opcode in [TEXT, BINARY, PING, PONG, CLOSE] {
        let payload = if opcode == CLOSE {
            close_body(1000, b"")
        } else {
            b"Hello".to_vec()
        };
        let mut conn = server();
        let events = feed_err(
            &mut conn,
            &unmasked(opcode, &payload),
            ProtocolError::UnmaskedFrame,
        );
        assert!(events.is_empty());
        assert_eq!(take_output(&mut conn), server_close(1002));
    }
}

// RFC 6455 §5.1: an unmasked continuation fails as well, and the fragments
// received so far are not delivered.
#[test]
fn server_fails_an_unmasked_continuation() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"Hel");
    wire.extend(frame(true, CONT, None, b"lo"));
    let events = feed_err(&mut conn, &wire, ProtocolError::UnmaskedFrame);
    assert!(events.is_empty());
    assert_eq!(take_output(&mut conn), server_close(1002));
}

// RFC 6455 §5.1: "A client MUST close a connection if it detects a masked
// frame." The close frame it sends is itself masked (§5.3).
#[test]
fn client_fails_a_masked_frame_with_1002() {
    let mut conn = client();
    let events = feed_err(&mut conn, &MASKED_HELLO, ProtocolError::MaskedFrame);
    assert!(events.is_empty());
    // 88 82, key, then 03 ea masked with the key.
    let mut expected = vec![0x88, 0x82];
    expected.extend_from_slice(&KEY);
    expected.extend(mask(&[0x03, 0xea], KEY));
    assert_eq!(take_output(&mut conn), expected);
}

// RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the
// client." Checked for every kind of frame a server writes, including the
// ones the core writes by itself (pong, close echo).
#[test]
fn server_never_masks() {
    let mut conn = server();
    conn.send_text("a").unwrap();
    conn.send_binary(&[1; 200]).unwrap();
    conn.send_fragment(MessageKind::Text, b"b", false).unwrap();
    conn.send_fragment(MessageKind::Text, b"c", true).unwrap();
    conn.send_ping(b"p").unwrap();
    conn.send_pong(b"q").unwrap();
    feed_ok(&mut conn, &masked(PING, b"auto"));
    feed_ok(&mut conn, &masked(CLOSE, &close_body(1000, b"")));
    let frames = parse_frames(&take_output(&mut conn));
    assert_eq!(frames.len(), 8);
    for f in &frames {
        assert_eq!(f.key, None, "{f:?}");
    }
}

// RFC 6455 §5.3: "The masking key is a 32-bit value chosen at random by the
// client. When preparing a masked frame, the client MUST pick a fresh
// masking key from the set of allowed 32-bit values." Every frame a client
// writes, including those the core writes by itself, takes the next key.
#[test]
fn client_takes_a_fresh_key_for_every_frame() {
    let mut conn = client_counting_keys(Config::default().send_frame_size(Some(2)));
    conn.send_text("abcde").unwrap(); // three frames
    conn.send_binary(b"x").unwrap();
    conn.send_fragment(MessageKind::Binary, b"y", false)
        .unwrap();
    conn.send_fragment(MessageKind::Binary, b"z", true).unwrap();
    conn.send_ping(b"p").unwrap();
    conn.send_pong(b"q").unwrap();
    feed_ok(&mut conn, &unmasked(PING, b"auto")); // auto pong
    conn.send_close(CloseCode::NORMAL, "bye").unwrap();

    let frames = parse_frames(&take_output(&mut conn));
    let keys: Vec<[u8; 4]> = frames.iter().map(|f| f.key.unwrap()).collect();
    let expected: Vec<[u8; 4]> = (1..=10u32).map(u32::to_be_bytes).collect();
    assert_eq!(keys, expected);
    let payloads: Vec<&[u8]> = frames.iter().map(|f| &f.payload[..]).collect();
    assert_eq!(
        payloads,
        vec![
            &b"ab"[..],
            b"cd",
            b"e",
            b"x",
            b"y",
            b"z",
            b"p",
            b"q",
            b"auto",
            b"\x03\xe8bye"
        ]
    );
}

// RFC 6455 §5.3: with the default (random) key source, consecutive frames
// get different keys, and a server unmasks them all correctly. (A collision
// among 16 random 32-bit keys has probability ~3e-8.)
#[test]
fn default_key_source_gives_consecutive_frames_different_keys() {
    let mut sender = Connection::new(Role::Client, Config::default());
    for _ in 0..16 {
        sender.send_text("same payload every time").unwrap();
    }
    let wire = take_output(&mut sender);
    let frames = parse_frames(&wire);
    let keys: HashSet<[u8; 4]> = frames.iter().map(|f| f.key.unwrap()).collect();
    assert_eq!(keys.len(), 16, "keys repeat: {frames:?}");
    // The masked bytes differ too, so the payload is not visible on the wire.
    assert!(!wire.windows(4).any(|w| w == b"same"));

    let mut receiver = server();
    let events = feed_ok(&mut receiver, &wire);
    assert_eq!(events, vec![text("same payload every time"); 16]);
}

// RFC 6455 §5.3: masking is an XOR with key[i % 4]; any key works,
// including all zeros and all ones.
#[test]
fn server_unmasks_with_any_key() {
    let payload: Vec<u8> = (0..=255).collect();
    for key in [
        [0, 0, 0, 0],
        [0xff; 4],
        [1, 2, 3, 4],
        [0x80, 0, 0, 0x01],
        KEY,
    ] {
        let mut conn = server();
        let wire = frame(true, BINARY, Some(key), &payload);
        assert_eq!(feed_ok(&mut conn, &wire), vec![binary(&payload)], "{key:?}");
    }
}

// RFC 6455 §5.3: an empty masked frame carries a key and no payload.
#[test]
fn empty_frames_are_masked_too() {
    let mut conn = client();
    conn.send_binary(b"").unwrap();
    assert_eq!(conn.pending_output(), &[0x82, 0x80, 0x37, 0xfa, 0x21, 0x3d]);
    let mut conn = server();
    assert_eq!(
        feed_ok(&mut conn, &[0x82, 0x80, 0x37, 0xfa, 0x21, 0x3d]),
        vec![binary(b"")]
    );
}

/// Feeds `wire` in the given pieces and returns the events.
fn feed_in_pieces(pieces: &[&[u8]]) -> Vec<rfc6455::Event> {
    let mut conn = server();
    let mut events = Vec::new();
    for piece in pieces {
        events.extend(feed_ok(&mut conn, piece));
    }
    events
}

// RFC 6455 §5.3: unmasking depends on the byte's offset in the payload, not
// on how the bytes arrived: every 2-way split of the RFC example.
#[test]
fn masked_hello_in_every_2_way_split() {
    for i in 0..=MASKED_HELLO.len() {
        let (a, b) = MASKED_HELLO.split_at(i);
        assert_eq!(feed_in_pieces(&[a, b]), vec![text("Hello")], "split at {i}");
    }
}

// RFC 6455 §5.3: every 3-way split of the RFC example.
#[test]
fn masked_hello_in_every_3_way_split() {
    for i in 0..=MASKED_HELLO.len() {
        for j in i..=MASKED_HELLO.len() {
            let pieces = [&MASKED_HELLO[..i], &MASKED_HELLO[i..j], &MASKED_HELLO[j..]];
            assert_eq!(feed_in_pieces(&pieces), vec![text("Hello")], "{i}/{j}");
        }
    }
}

// RFC 6455 §5.3: every 2-way split of a 16-bit-length frame whose payload
// is long enough for word-at-a-time unmasking to matter at every offset
// and alignment.
#[test]
fn long_masked_frame_in_every_2_way_split() {
    let payload: Vec<u8> = (0..300u32).map(|i| (i * 31 + 7) as u8).collect();
    let wire = frame(true, BINARY, Some(KEY), &payload);
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(feed_in_pieces(&[a, b]), vec![binary(&payload)], "split {i}");
    }
}

// RFC 6455 §5.3: a text frame (validated as it is unmasked) split at every
// point, multi-byte characters included.
#[test]
fn masked_text_in_every_2_way_split() {
    let message = "κόσμε — 😀 — naïve café ✓".repeat(3);
    let wire = frame(true, TEXT, Some(KEY), message.as_bytes());
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(feed_in_pieces(&[a, b]), vec![text(&message)], "split {i}");
    }
}

// RFC 6455 §5.3: a 64-bit-length frame fed in pieces of every size from 1
// to 17 bytes, so the pieces start at every offset modulo 4 and 8.
#[test]
fn masked_frame_in_pieces_of_every_size() {
    let payload: Vec<u8> = (0..70_000u32).map(|i| (i ^ (i >> 8)) as u8).collect();
    let key = [0xde, 0xad, 0xbe, 0xef];
    let wire = frame(true, BINARY, Some(key), &payload);
    for size in 1..=17 {
        let pieces: Vec<&[u8]> = wire.chunks(size).collect();
        assert_eq!(
            feed_in_pieces(&pieces),
            vec![binary(&payload)],
            "size {size}"
        );
    }
}

// RFC 6455 §5.3: each fragment of a message has its own key; the offset
// restarts at zero in each frame.
#[test]
fn each_fragment_is_unmasked_with_its_own_key() {
    let mut wire = frame(false, BINARY, Some([1, 2, 3, 4]), b"abcdefg");
    wire.extend(masked(PING, b"in between"));
    wire.extend(frame(false, CONT, Some([9, 8, 7, 6]), b"hijk"));
    wire.extend(frame(true, CONT, Some([0xaa, 0, 0x55, 0]), b"lmnopqrstu"));
    for i in 0..=wire.len() {
        let (a, b) = wire.split_at(i);
        assert_eq!(
            feed_in_pieces(&[a, b]),
            vec![ping(b"in between"), binary(b"abcdefghijklmnopqrstu")],
            "split {i}"
        );
    }
}

// RFC 6455 §5.3: the bytes a client writes are the payload XORed with the
// key it announces, for a payload long enough to cover every alignment.
#[test]
fn client_output_is_the_payload_xored_with_its_key() {
    let payload: Vec<u8> = (0..1000u32).map(|i| (i * 13) as u8).collect();
    for key in [[0, 0, 0, 0], [0xff; 4], [1, 2, 3, 4], KEY] {
        let mut conn = Connection::new(Role::Client, Config::default());
        conn.set_mask_key_source(move || key);
        conn.send_binary(&payload).unwrap();
        let mut expected = vec![0x82, 0xfe, 0x03, 0xe8];
        expected.extend_from_slice(&key);
        expected.extend(mask(&payload, key));
        assert_eq!(conn.pending_output(), &expected[..], "{key:?}");
    }
}
