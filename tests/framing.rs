//! The frame codec (RFC 6455 §5.2): length forms, opcodes, reserved bits and
//! the header rules whose violation fails the connection with 1002.

mod common;

use common::*;
use rfc6455::{Config, Connection, Event, Message, ProtocolError, Role};

/// Feeds `bytes` to a fresh connection of `role` and checks that it fails
/// with `expected` and queues exactly one close frame carrying `code`.
fn assert_fails(role: Role, bytes: &[u8], expected: ProtocolError, code: u16) {
    let mut conn = match role {
        Role::Server => server(),
        Role::Client => client(),
    };
    let events = feed_err(&mut conn, bytes, expected.clone());
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(u16::from(expected.close_code()), code);
    assert_single_close(&take_output(&mut conn), code, role == Role::Client);
}

// RFC 6455 §5.7: a single-frame unmasked text message.
#[test]
fn rfc_5_7_unmasked_hello_is_received_by_a_client() {
    let mut conn = client();
    let events = feed_ok(&mut conn, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(events, vec![text("Hello")]);
    assert!(conn.pending_output().is_empty());
}

// RFC 6455 §5.7: "Hello" sent by a server is exactly 81 05 48 65 6c 6c 6f.
#[test]
fn rfc_5_7_unmasked_hello_is_sent_by_a_server() {
    let mut conn = server();
    conn.send_text("Hello").unwrap();
    assert_eq!(
        conn.pending_output(),
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
}

// RFC 6455 §5.7: 256 bytes binary message in a single unmasked frame:
// 0x82 0x7E 0x0100 [256 bytes of binary data].
#[test]
fn rfc_5_7_16_bit_length_binary_both_directions() {
    let payload: Vec<u8> = (0..=255).collect();
    let mut wire = vec![0x82, 0x7e, 0x01, 0x00];
    wire.extend_from_slice(&payload);

    let mut sender = server();
    sender.send_binary(&payload).unwrap();
    assert_eq!(sender.pending_output(), &wire[..]);

    let mut receiver = client();
    assert_eq!(feed_ok(&mut receiver, &wire), vec![binary(&payload)]);
}

// RFC 6455 §5.7: 64KiB binary message in a single unmasked frame:
// 0x82 0x7F 0x0000000000010000 [65536 bytes of binary data].
#[test]
fn rfc_5_7_64_bit_length_binary_both_directions() {
    let payload: Vec<u8> = (0..65536u32).map(|i| (i * 7) as u8).collect();
    let mut wire = vec![0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00];
    wire.extend_from_slice(&payload);

    let mut sender = server();
    sender.send_binary(&payload).unwrap();
    assert_eq!(sender.pending_output(), &wire[..]);

    let mut receiver = client();
    assert_eq!(feed_ok(&mut receiver, &wire), vec![binary(&payload)]);
}

// RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the
// length". Checked at every boundary of the three forms, both roles.
#[test]
fn encoder_uses_minimal_length_headers() {
    let cases: &[(usize, &[u8])] = &[
        (0, &[0x82, 0x00]),
        (1, &[0x82, 0x01]),
        (125, &[0x82, 0x7d]),
        (126, &[0x82, 0x7e, 0x00, 0x7e]),
        (127, &[0x82, 0x7e, 0x00, 0x7f]),
        (0xffff, &[0x82, 0x7e, 0xff, 0xff]),
        (
            0x1_0000,
            &[0x82, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00],
        ),
    ];
    for &(len, expected_header) in cases {
        let payload = vec![0xa5; len];

        let mut conn = server();
        conn.send_binary(&payload).unwrap();
        let out = take_output(&mut conn);
        assert_eq!(&out[..expected_header.len()], expected_header, "len {len}");
        assert_eq!(&out[expected_header.len()..], &payload[..], "len {len}");

        // A client writes the same header with the MASK bit, then the key.
        let mut conn = client();
        conn.send_binary(&payload).unwrap();
        let out = take_output(&mut conn);
        let mut masked_header = expected_header.to_vec();
        masked_header[1] |= 0x80;
        masked_header.extend_from_slice(&KEY);
        assert_eq!(&out[..masked_header.len()], &masked_header[..], "len {len}");
        assert_eq!(
            &out[masked_header.len()..],
            &mask(&payload, KEY)[..],
            "len {len}"
        );
    }
}

// RFC 6455 §5.2: every length form is decoded, at each boundary, by a
// server (masked frames) and by a client (unmasked frames).
#[test]
fn decoder_accepts_every_length_form() {
    for len in [0usize, 1, 125, 126, 127, 0xffff, 0x1_0000, 0x1_0001] {
        let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let mut conn = server();
        let events = feed_ok(&mut conn, &frame(true, BINARY, Some(KEY), &payload));
        assert_eq!(events, vec![binary(&payload)], "server, len {len}");

        let mut conn = client();
        let events = feed_ok(&mut conn, &frame(true, BINARY, None, &payload));
        assert_eq!(events, vec![binary(&payload)], "client, len {len}");
    }
}

// RFC 6455 §5.2 does not forbid a receiver from accepting a longer length
// form than needed; the length it carries is what counts.
#[test]
fn decoder_reads_the_length_from_a_non_minimal_16_bit_form() {
    let mut conn = client();
    let events = feed_ok(&mut conn, &[0x82, 0x7e, 0x00, 0x03, 1, 2, 3]);
    assert_eq!(events, vec![binary(&[1, 2, 3])]);
}

// RFC 6455 §5.2 / §11.8: every defined opcode is decoded to its event.
#[test]
fn every_defined_opcode_is_received() {
    let mut conn = server();
    let mut wire = Vec::new();
    wire.extend(masked(TEXT, b"t"));
    wire.extend(masked(BINARY, b"b"));
    wire.extend(frame(false, TEXT, Some(KEY), b"c"));
    wire.extend(frame(true, CONT, Some(KEY), b"d"));
    wire.extend(masked(PING, b"pi"));
    wire.extend(masked(PONG, b"po"));
    wire.extend(masked(CLOSE, &close_body(1000, b"end")));
    let events = feed_ok(&mut conn, &wire);
    assert_eq!(
        events,
        vec![
            text("t"),
            binary(b"b"),
            text("cd"),
            ping(b"pi"),
            pong(b"po"),
            close_event(1000, "end"),
        ]
    );
}

// RFC 6455 §5.2 / §11.8: every defined opcode is encoded with its value.
#[test]
fn every_defined_opcode_is_sent() {
    let mut conn = server();
    conn.send_text("t").unwrap();
    conn.send_binary(b"b").unwrap();
    conn.send_fragment(rfc6455::MessageKind::Binary, b"c", false)
        .unwrap();
    conn.send_fragment(rfc6455::MessageKind::Binary, b"d", true)
        .unwrap();
    conn.send_ping(b"pi").unwrap();
    conn.send_pong(b"po").unwrap();
    conn.send_close(rfc6455::CloseCode::NORMAL, "").unwrap();
    let expected: Vec<u8> = [
        &[0x81, 1, b't'][..],
        &[0x82, 1, b'b'],
        &[0x02, 1, b'c'],
        &[0x80, 1, b'd'],
        &[0x89, 2, b'p', b'i'],
        &[0x8a, 2, b'p', b'o'],
        &[0x88, 2, 0x03, 0xe8],
    ]
    .concat();
    assert_eq!(conn.pending_output(), &expected[..]);
}

// RFC 6455 §5.2: "If an unknown opcode is received, the receiving endpoint
// MUST _Fail the WebSocket Connection_." Opcodes 3–7 and 0xB–0xF are
// reserved; the first byte alone is enough to tell.
#[test]
fn reserved_opcodes_fail_with_1002() {
    for op in (0x3..=0x7).chain(0xb..=0xf) {
        for role in [Role::Server, Role::Client] {
            let key = (role == Role::Server).then_some(KEY);
            let wire = frame(true, op, key, b"x");
            assert_fails(role, &wire, ProtocolError::ReservedOpcode(op), 1002);
            // The first byte alone already fails.
            assert_fails(role, &wire[..1], ProtocolError::ReservedOpcode(op), 1002);
        }
    }
}

// RFC 6455 §5.2: a reserved opcode inside a fragmented message fails too.
#[test]
fn reserved_opcode_between_fragments_fails_with_1002() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"a");
    wire.extend(frame(true, 0x3, Some(KEY), b"b"));
    let events = feed_err(&mut conn, &wire, ProtocolError::ReservedOpcode(3));
    assert!(events.is_empty());
    assert_single_close(&take_output(&mut conn), 1002, false);
}

// RFC 6455 §5.2: "RSV1, RSV2, RSV3: MUST be 0 unless an extension is
// negotiated that defines meanings for non-zero values." No extension is
// negotiated on a `Connection::new`.
#[test]
fn reserved_bits_fail_with_1002() {
    for rsv in 1..=7u8 {
        for opcode in [TEXT, BINARY, PING, PONG, CLOSE] {
            for role in [Role::Server, Role::Client] {
                let key = (role == Role::Server).then_some(KEY);
                let wire = header(true, rsv, opcode, key, 0);
                assert_fails(role, &wire, ProtocolError::ReservedBits(rsv), 1002);
            }
        }
    }
}

// RFC 6455 §5.2: RSV bits on a continuation frame fail too.
#[test]
fn reserved_bits_on_a_continuation_fail_with_1002() {
    let mut conn = server();
    let mut wire = frame(false, BINARY, Some(KEY), b"a");
    wire.extend(header(true, 0b010, CONT, Some(KEY), 0));
    feed_err(&mut conn, &wire, ProtocolError::ReservedBits(0b010));
    assert_single_close(&take_output(&mut conn), 1002, false);
}

// RFC 6455 §5.5: "All control frames MUST have a payload length of 125
// bytes or less and MUST NOT be fragmented."
#[test]
fn fragmented_control_frames_fail_with_1002() {
    for opcode in [PING, PONG, CLOSE] {
        for role in [Role::Server, Role::Client] {
            let key = (role == Role::Server).then_some(KEY);
            let payload = if opcode == CLOSE {
                close_body(1000, b"")
            } else {
                b"x".to_vec()
            };
            let wire = frame(false, opcode, key, &payload);
            assert_fails(role, &wire, ProtocolError::FragmentedControlFrame, 1002);
        }
    }
}

// RFC 6455 §5.5: control payloads of 126 bytes or more fail, whatever the
// length form; 125 bytes is the largest allowed.
#[test]
fn oversized_control_frames_fail_with_1002() {
    for opcode in [PING, PONG, CLOSE] {
        // 126 bytes, minimal 16-bit form.
        let mut wire = header(true, 0, opcode, Some(KEY), 126);
        wire.extend(mask(&[b'a'; 126], KEY));
        assert_fails(
            Role::Server,
            &wire,
            ProtocolError::ControlFrameTooLong(126),
            1002,
        );
        // 64-bit form.
        let wire = [0x80 | opcode, 0xff, 0, 0, 0, 0, 0, 1, 0, 0];
        assert_fails(
            Role::Server,
            &wire,
            ProtocolError::ControlFrameTooLong(127),
            1002,
        );
    }
    // 125 bytes is fine.
    let mut conn = server();
    let events = feed_ok(&mut conn, &masked(PING, &[b'p'; 125]));
    assert_eq!(events, vec![ping(&[b'p'; 125])]);
}

// RFC 6455 §5.2: "the most significant bit MUST be 0" in the 64-bit length.
#[test]
fn top_bit_of_64_bit_length_fails_with_1002() {
    for len in [1u64 << 63, u64::MAX, (1 << 63) | 5] {
        let mut wire = vec![0x82, 0xff];
        wire.extend_from_slice(&len.to_be_bytes());
        wire.extend_from_slice(&KEY);
        assert_fails(Role::Server, &wire, ProtocolError::InvalidLength, 1002);

        let mut wire = vec![0x82, 0x7f];
        wire.extend_from_slice(&len.to_be_bytes());
        assert_fails(Role::Client, &wire, ProtocolError::InvalidLength, 1002);
    }
}

// RFC 6455 §5.2 with §10.4: the largest legal 64-bit length is refused by
// the size limit (1009), not by the framing rule (1002).
#[test]
fn largest_legal_64_bit_length_is_a_size_error_not_a_framing_error() {
    let mut wire = vec![0x82, 0xff];
    wire.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
    wire.extend_from_slice(&KEY);
    let mut conn = server();
    let drained = feed(&mut conn, &wire);
    assert!(
        matches!(drained.error, Some(ProtocolError::FrameTooBig { size, .. }) if size == u64::MAX >> 1),
        "{drained:?}"
    );
    assert_single_close(&take_output(&mut conn), 1009, false);
}

// RFC 6455 §5.2: a header split anywhere decodes the same; no event until
// the whole frame is there.
#[test]
fn a_frame_is_not_reported_before_its_last_byte() {
    let wire = frame(true, BINARY, Some(KEY), &[7; 300]);
    let mut conn = server();
    for (i, byte) in wire.iter().enumerate() {
        let events = feed_ok(&mut conn, std::slice::from_ref(byte));
        if i + 1 < wire.len() {
            assert!(events.is_empty(), "event after {} bytes", i + 1);
        } else {
            assert_eq!(events, vec![binary(&[7; 300])]);
        }
    }
}

// RFC 6455 §5.2: frames are back to back; several in one read are all
// delivered, in order.
#[test]
fn several_frames_in_one_read_are_delivered_in_order() {
    let mut wire = Vec::new();
    for i in 0..50u8 {
        wire.extend(masked(BINARY, &[i; 3]));
    }
    let mut conn = server();
    let events = feed_ok(&mut conn, &wire);
    let expected: Vec<Event> = (0..50u8)
        .map(|i| Event::Message(Message::binary(vec![i; 3])))
        .collect();
    assert_eq!(events, expected);
}

// The first bytes of a failing header are judged only as far as they go: a
// server given a frame whose header is not yet complete reports nothing.
#[test]
fn an_incomplete_valid_header_is_not_an_error() {
    let wire = header(true, 0, BINARY, Some(KEY), 70_000);
    for cut in 0..wire.len() {
        let mut conn = Connection::new(Role::Server, Config::default());
        assert_eq!(feed(&mut conn, &wire[..cut]), Drained::default(), "{cut}");
    }
}
