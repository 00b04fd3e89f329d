//! UTF-8 in text messages (RFC 6455 §5.6, §8.1): validated incrementally,
//! failing fast with 1007 at the first impossible byte, code points split
//! across fragments accepted, and the text handed over without a copy.

mod common;

use common::alloc;
use common::*;
use rfc6455::{Event, Message, ProtocolError};

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

// RFC 6455 §5.6: "The "Payload data" is text data encoded as UTF-8."
// Multi-byte text (1- to 4-byte code points) is delivered intact.
#[test]
fn multi_byte_text_is_delivered() {
    let message = "κόσμε · naïve · € · 😀 · \u{10ffff} · \u{fffd}";
    let mut conn = server();
    assert_eq!(
        feed_ok(&mut conn, &masked(TEXT, message.as_bytes())),
        vec![text(message)]
    );
}

// RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8
// but finds that the byte stream is not, in fact, a valid UTF-8 stream, that
// endpoint MUST _Fail the WebSocket Connection_" — with 1007 (§7.4.1).
#[test]
fn invalid_text_fails_with_1007() {
    let cases: [&[u8]; 12] = [
        b"\xff",
        b"\xfe",
        b"\x80",             // lone continuation byte
        b"\xc0\xaf",         // overlong '/'
        b"\xc1\xbf",         // overlong
        b"\xe0\x80\xaf",     // overlong 3-byte
        b"\xf0\x80\x80\xaf", // overlong 4-byte
        b"\xed\xa0\x80",     // UTF-16 surrogate U+D800
        b"\xed\xbf\xbf",     // UTF-16 surrogate U+DFFF
        b"\xf4\x90\x80\x80", // U+110000, above the Unicode range
        b"\xf8\x88\x80\x80\x80",
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // Autobahn 6.3
    ];
    for case in cases {
        let mut conn = server();
        let events = feed_err(&mut conn, &masked(TEXT, case), ProtocolError::InvalidUtf8);
        assert!(events.is_empty(), "{case:x?}");
        assert_eq!(take_output(&mut conn), server_close(1007), "{case:x?}");
    }
}

// RFC 6455 §8.1 / §5.6: a text message may not end inside a code point,
// whether it is one frame or several.
#[test]
fn text_ending_inside_a_code_point_fails_with_1007() {
    let euro = "€".as_bytes();
    let mut conn = server();
    feed_err(
        &mut conn,
        &masked(TEXT, &euro[..2]),
        ProtocolError::InvalidUtf8,
    );
    assert_eq!(take_output(&mut conn), server_close(1007));

    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"ok");
    wire.extend(frame(false, CONT, Some(KEY), &euro[..1]));
    wire.extend(frame(true, CONT, Some(KEY), b""));
    feed_err(&mut conn, &wire, ProtocolError::InvalidUtf8);
    assert_eq!(take_output(&mut conn), server_close(1007));
}

/// Header of a 1 MiB masked text frame.
fn huge_text_header(fin: bool) -> Vec<u8> {
    header(fin, 0, TEXT, Some(KEY), 1 << 20)
}

// RFC 6455 §8.1, fail fast: a 1 MiB text frame whose 10th byte is invalid
// fails after only 20 bytes of its payload have arrived — the rest is never
// waited for, nor buffered.
#[test]
fn invalid_byte_early_in_a_huge_frame_fails_before_the_rest_arrives() {
    for fin in [true, false] {
        let mut payload = b"abcdefghi".to_vec(); // 9 valid bytes
        payload.push(0xff); // the 10th byte
        payload.extend_from_slice(b"klmnopqrst"); // 20 bytes in total
        let mut wire = huge_text_header(fin);
        wire.extend(mask(&payload, KEY));
        let mut conn = server();
        feed_err(&mut conn, &wire, ProtocolError::InvalidUtf8);
        assert_eq!(take_output(&mut conn), server_close(1007));
        assert!(conn.memory_usage() < 4096, "{}", conn.memory_usage());
    }
}

// RFC 6455 §8.1, fail fast, byte by byte: the error comes with the very
// first byte that no continuation could make valid, not later.
#[test]
fn the_error_comes_with_the_first_impossible_byte() {
    // (payload, index of the first impossible byte)
    let cases: [(&[u8], usize); 9] = [
        (b"ab\xffcd", 2),
        (b"\x80", 0),
        (b"a\xc0\xaf", 1),        // C0 can never start a code point
        (b"\xe0\x80\xaf", 1),     // E0 needs A0..BF next
        (b"\xed\xa0\x80", 1),     // ED needs 80..9F next (no surrogates)
        (b"\xf4\x90\x80\x80", 1), // F4 needs 80..8F next (≤ U+10FFFF)
        (b"\xf5\x80\x80\x80", 0), // F5 can never start a code point
        (b"\xe2\x82\x41", 2),     // third byte of € replaced by 'A'
        (b"\xf0\x9f\x98\x28", 3), // fourth byte of 😀 replaced by '('
    ];
    for (payload, bad) in cases {
        let mut conn = server();
        // A long frame: the error cannot wait for its end.
        let mut rest = payload.to_vec();
        rest.resize(1000, b'z');
        let masked_payload = mask(&rest, KEY);
        assert!(feed_ok(&mut conn, &header(true, 0, TEXT, Some(KEY), 1000)).is_empty());
        for (i, byte) in masked_payload.iter().enumerate() {
            let drained = feed(&mut conn, std::slice::from_ref(byte));
            if i < bad {
                assert_eq!(drained, Drained::default(), "{payload:x?} byte {i}");
            } else {
                assert_eq!(
                    drained.error,
                    Some(ProtocolError::InvalidUtf8),
                    "{payload:x?}: byte {i}"
                );
                break;
            }
        }
        assert_eq!(take_output(&mut conn), server_close(1007));
    }
}

// RFC 6455 §8.1, fail fast across fragments: a continuation whose first
// bytes are impossible fails at once, not at the end of the message.
#[test]
fn invalid_byte_in_a_continuation_fails_before_it_ends() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), "é".as_bytes());
    wire.extend(header(false, 0, CONT, Some(KEY), 1 << 20));
    wire.extend(mask(b"ok\xc3", KEY)); // ends with the start of a code point
    assert!(feed_ok(&mut conn, &wire).is_empty(), "valid so far");
    // 0x28 cannot continue 0xc3. It is the payload's 4th byte (offset 3),
    // so it is masked with KEY[3].
    feed_err(&mut conn, &[0x28 ^ KEY[3]], ProtocolError::InvalidUtf8);
    assert_eq!(take_output(&mut conn), server_close(1007));
}

// RFC 6455 §5.4 / §5.6: "a text message may be split across frames
// anywhere" — every 2-way split of multi-byte text, including inside each
// code point, is a valid message.
#[test]
fn code_points_split_across_two_fragments_are_valid() {
    let message = "aé€😀z";
    let bytes = message.as_bytes();
    for i in 0..=bytes.len() {
        let mut wire = frame(false, TEXT, Some(KEY), &bytes[..i]);
        wire.extend(frame(true, CONT, Some(KEY), &bytes[i..]));
        let mut conn = server();
        assert_eq!(feed_ok(&mut conn, &wire), vec![text(message)], "split {i}");
    }
}

// RFC 6455 §5.4 / §5.6: every 3-way split, with a ping between the pieces
// of a split code point.
#[test]
fn code_points_split_across_three_fragments_with_pings_between() {
    let message = "😀€é";
    let bytes = message.as_bytes();
    for i in 0..=bytes.len() {
        for j in i..=bytes.len() {
            let mut wire = frame(false, TEXT, Some(KEY), &bytes[..i]);
            wire.extend(masked(PING, b"1"));
            wire.extend(frame(false, CONT, Some(KEY), &bytes[i..j]));
            wire.extend(masked(PING, b"2"));
            wire.extend(frame(true, CONT, Some(KEY), &bytes[j..]));
            let mut conn = server();
            assert_eq!(
                feed_ok(&mut conn, &wire),
                vec![ping(b"1"), ping(b"2"), text(message)],
                "{i}/{j}"
            );
        }
    }
}

// RFC 6455 §5.6: each text message is validated on its own; the state of a
// previous message (or of a binary message) does not leak into the next.
#[test]
fn each_message_is_validated_from_scratch() {
    let euro = "€".as_bytes();
    // A binary message ending in half a code point, then a text message
    // starting with the other half: the text alone is invalid.
    let mut conn = server();
    let mut wire = masked(BINARY, &euro[..1]);
    wire.extend(masked(TEXT, &euro[1..]));
    let events = feed_err(&mut conn, &wire, ProtocolError::InvalidUtf8);
    assert_eq!(events, vec![binary(&euro[..1])]);

    // A valid text message, then a text message starting with a
    // continuation byte.
    let mut conn = server();
    let mut wire = masked(TEXT, "é".as_bytes());
    wire.extend(masked(TEXT, b"\xa9"));
    let events = feed_err(&mut conn, &wire, ProtocolError::InvalidUtf8);
    assert_eq!(events, vec![text("é")]);
}

// RFC 6455 §5.6: binary data is arbitrary; it is never validated.
#[test]
fn binary_messages_are_not_validated() {
    let data = b"\xff\xfe\xed\xa0\x80\xc0\xaf\xe2\x82";
    let mut conn = server();
    assert_eq!(
        feed_ok(&mut conn, &masked(BINARY, data)),
        vec![binary(data)]
    );
    let mut wire = frame(false, BINARY, Some(KEY), &data[..3]);
    wire.extend(frame(true, CONT, Some(KEY), &data[3..]));
    assert_eq!(feed_ok(&mut conn, &wire), vec![binary(data)]);
}

// RFC 6455 §5.6: pings, pongs and closes between text fragments are not
// part of the text: binary control payloads do not disturb validation.
#[test]
fn control_payloads_are_not_part_of_the_text() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), &"€".as_bytes()[..1]);
    wire.extend(masked(PING, b"\xff\xff"));
    wire.extend(masked(PONG, b"\x80"));
    wire.extend(frame(true, CONT, Some(KEY), &"€".as_bytes()[1..]));
    assert_eq!(
        feed_ok(&mut conn, &wire),
        vec![ping(b"\xff\xff"), pong(b"\x80"), text("€")]
    );
}

// Our issue: "Payloads are bytes::Bytes; a single-frame text message
// reaches the user without a second copy." After the frame is in the input
// buffer, decoding it allocates nothing the size of the payload, and the
// message points into a buffer the connection already held.
#[test]
fn single_frame_messages_reach_the_user_without_a_copy() {
    let payload = "é".repeat(1 << 19); // 1 MiB of text
    for role_server in [true, false] {
        let mut conn = if role_server { server() } else { client() };
        let key = role_server.then_some(KEY);
        let wire = frame(true, TEXT, key, payload.as_bytes());
        conn.receive_data(&wire);
        drop(wire);

        let before = alloc::total_allocated();
        let event = conn.next_event().unwrap().unwrap();
        let allocated = alloc::total_allocated() - before;
        assert!(
            allocated < 4096,
            "decoding a 1 MiB text frame allocated {allocated} bytes"
        );
        let Event::Message(Message::Text(text)) = event else {
            panic!("not a text message");
        };
        assert_eq!(text.len(), payload.len());
        assert!(*text == *payload);
    }
    // The instrument works: a copy of the payload would have been seen.
    let before = alloc::total_allocated();
    let copy = std::hint::black_box(payload.as_bytes().to_vec());
    assert!(alloc::total_allocated() - before >= copy.len());
}

// Same for binary.
#[test]
fn single_frame_binary_reaches_the_user_without_a_copy() {
    let payload = vec![0x5a; 1 << 20];
    let mut conn = server();
    conn.receive_data(&frame(true, BINARY, Some(KEY), &payload));
    let before = alloc::total_allocated();
    let event = conn.next_event().unwrap().unwrap();
    let allocated = alloc::total_allocated() - before;
    assert!(allocated < 4096, "allocated {allocated} bytes");
    assert_eq!(event, Event::Message(Message::binary(payload)));
}
