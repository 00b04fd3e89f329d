//! Fragmentation (RFC 6455 §5.4) and data messages (§5.6): reassembly on
//! the receive side, whole messages, explicit fragments and automatic
//! fragmentation on the send side.

mod common;

use common::*;
use rfc6455::{CloseCode, Config, Event, Message, MessageKind, ProtocolError, SendError};

// RFC 6455 §5.7: "A fragmented unmasked text message
// 0x01 0x03 0x48 0x65 0x6c (contains "Hel") 0x80 0x02 0x6c 0x6f (contains "lo")".
#[test]
fn rfc_5_7_fragmented_hello_is_received() {
    let mut conn = client();
    assert!(feed_ok(&mut conn, &[0x01, 0x03, 0x48, 0x65, 0x6c]).is_empty());
    assert_eq!(
        feed_ok(&mut conn, &[0x80, 0x02, 0x6c, 0x6f]),
        vec![text("Hello")]
    );
}

// RFC 6455 §5.7: the same fragments, sent by a server with send_fragment,
// are exactly the example's bytes.
#[test]
fn rfc_5_7_fragmented_hello_is_sent_byte_exact() {
    let mut conn = server();
    conn.send_fragment(MessageKind::Text, b"Hel", false)
        .unwrap();
    assert_eq!(take_output(&mut conn), [0x01, 0x03, 0x48, 0x65, 0x6c]);
    conn.send_fragment(MessageKind::Text, b"lo", true).unwrap();
    assert_eq!(take_output(&mut conn), [0x80, 0x02, 0x6c, 0x6f]);
}

// RFC 6455 §5.4: "Control frames MAY be injected in the middle of a
// fragmented message." A ping between fragments is answered at once (§5.5.2)
// and reported before the message it interrupts.
#[test]
fn ping_between_fragments_is_answered_and_reported_first() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"Hel");
    wire.extend(masked(PING, b"are you there"));
    wire.extend(frame(true, CONT, Some(KEY), b"lo"));
    let events = feed_ok(&mut conn, &wire);
    assert_eq!(events, vec![ping(b"are you there"), text("Hello")]);
    assert_eq!(
        take_output(&mut conn),
        unmasked(PONG, b"are you there"),
        "the pong carries the ping's payload"
    );
}

// RFC 6455 §5.4: the pong is queued as soon as the ping is processed, before
// the message's last fragment has even arrived.
#[test]
fn ping_between_fragments_is_answered_before_the_message_completes() {
    let mut conn = server();
    let mut wire = frame(false, BINARY, Some(KEY), b"ab");
    wire.extend(masked(PING, b"1"));
    assert_eq!(feed_ok(&mut conn, &wire), vec![ping(b"1")]);
    assert_eq!(take_output(&mut conn), unmasked(PONG, b"1"));
    assert_eq!(
        feed_ok(&mut conn, &frame(true, CONT, Some(KEY), b"cd")),
        vec![binary(b"abcd")]
    );
}

// RFC 6455 §5.4: several control frames of each kind between fragments.
#[test]
fn pings_and_pongs_between_many_fragments() {
    let mut conn = server();
    let mut wire = frame(false, BINARY, Some(KEY), b"0");
    let mut expected = Vec::new();
    let mut content = b"0".to_vec();
    for i in 1..=9u8 {
        wire.extend(masked(PING, &[i]));
        wire.extend(masked(PONG, &[i, i]));
        expected.push(ping(&[i]));
        expected.push(pong(&[i, i]));
        let fin = i == 9;
        wire.extend(frame(fin, CONT, Some(KEY), &[b'0' + i]));
        content.push(b'0' + i);
    }
    expected.push(binary(&content));
    assert_eq!(feed_ok(&mut conn, &wire), expected);
    let pongs: Vec<u8> = (1..=9u8).flat_map(|i| unmasked(PONG, &[i])).collect();
    assert_eq!(take_output(&mut conn), pongs);
}

// RFC 6455 §5.4: a close between fragments ends the connection; the
// unfinished message is never delivered.
#[test]
fn close_between_fragments_drops_the_unfinished_message() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"Hel");
    wire.extend(masked(CLOSE, &close_body(1001, b"")));
    wire.extend(frame(true, CONT, Some(KEY), b"lo"));
    assert_eq!(feed_ok(&mut conn, &wire), vec![close_event(1001, "")]);
    assert_eq!(take_output(&mut conn), server_close(1001));
    assert_eq!(drain(&mut conn), Drained::default());
}

// RFC 6455 §5.4: "A fragmented message consists of a single frame with the
// FIN bit clear and an opcode other than 0, followed by zero or more frames
// with the FIN bit clear and the opcode set to 0, and terminated by a single
// frame with the FIN bit set and an opcode of 0." A continuation with no
// message to continue fails with 1002.
#[test]
fn continuation_without_a_start_fails_with_1002() {
    for fin in [true, false] {
        let mut conn = server();
        let events = feed_err(
            &mut conn,
            &frame(fin, CONT, Some(KEY), b"x"),
            ProtocolError::UnexpectedContinuation,
        );
        assert!(events.is_empty());
        assert_eq!(take_output(&mut conn), server_close(1002));
    }
}

// RFC 6455 §5.4: a continuation after a message has ended fails too.
#[test]
fn continuation_after_a_finished_message_fails_with_1002() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"a");
    wire.extend(frame(true, CONT, Some(KEY), b"b"));
    wire.extend(frame(true, CONT, Some(KEY), b"c"));
    let events = feed_err(&mut conn, &wire, ProtocolError::UnexpectedContinuation);
    assert_eq!(events, vec![text("ab")]);
    assert_eq!(take_output(&mut conn), server_close(1002));
}

// RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved
// between the fragments of another message." A text or binary frame in the
// middle of a fragmented message fails with 1002, final or not.
#[test]
fn new_data_frame_in_the_middle_of_a_message_fails_with_1002() {
    for first in [TEXT, BINARY] {
        for second in [TEXT, BINARY] {
            for fin in [true, false] {
                let mut conn = server();
                let mut wire = frame(false, first, Some(KEY), b"a");
                wire.extend(frame(fin, second, Some(KEY), b"b"));
                let events = feed_err(&mut conn, &wire, ProtocolError::ExpectedContinuation);
                assert!(events.is_empty());
                assert_eq!(take_output(&mut conn), server_close(1002));
            }
        }
    }
}

// RFC 6455 §5.4: the error is found from the offending frame's header, even
// when a control frame sits between.
#[test]
fn new_data_frame_after_an_interleaved_ping_fails_with_1002() {
    let mut conn = server();
    let mut wire = frame(false, BINARY, Some(KEY), b"a");
    wire.extend(masked(PING, b""));
    wire.extend(header(true, 0, TEXT, Some(KEY), 5));
    let events = feed_err(&mut conn, &wire, ProtocolError::ExpectedContinuation);
    assert_eq!(events, vec![ping(b"")]);
}

// RFC 6455 §5.4: fragments of zero bytes are legal, at the start, middle
// and end of a message.
#[test]
fn empty_fragments_are_reassembled() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"");
    wire.extend(frame(false, CONT, Some(KEY), b""));
    wire.extend(frame(false, CONT, Some(KEY), b"x"));
    wire.extend(frame(false, CONT, Some(KEY), b""));
    wire.extend(frame(true, CONT, Some(KEY), b""));
    wire.extend(frame(false, BINARY, Some(KEY), b""));
    wire.extend(frame(true, CONT, Some(KEY), b""));
    assert_eq!(feed_ok(&mut conn, &wire), vec![text("x"), binary(b"")]);
}

// RFC 6455 §5.4: a message of many fragments keeps its bytes in order.
#[test]
fn thousand_fragments_are_reassembled_in_order() {
    let content: Vec<u8> = (0..3000u32).map(|i| (i % 253) as u8).collect();
    let mut wire = Vec::new();
    for (i, chunk) in content.chunks(3).enumerate() {
        let opcode = if i == 0 { BINARY } else { CONT };
        let fin = i == 999;
        wire.extend(frame(fin, opcode, Some([i as u8, 1, 2, 3]), chunk));
    }
    let mut conn = server();
    assert_eq!(feed_ok(&mut conn, &wire), vec![binary(&content)]);
}

// RFC 6455 §5.4 / §5.6: after a fragmented message, the next message starts
// afresh, of either kind.
#[test]
fn messages_follow_each_other_after_fragmentation() {
    let mut conn = server();
    let mut wire = frame(false, TEXT, Some(KEY), b"a");
    wire.extend(frame(true, CONT, Some(KEY), b"b"));
    wire.extend(frame(false, BINARY, Some(KEY), &[1]));
    wire.extend(frame(true, CONT, Some(KEY), &[2]));
    wire.extend(masked(TEXT, b"c"));
    assert_eq!(
        feed_ok(&mut conn, &wire),
        vec![text("ab"), binary(&[1, 2]), text("c")]
    );
}

// RFC 6455 §5.6: whole messages, sent with send_text, send_binary and send.
#[test]
fn whole_messages_are_sent_as_single_frames_by_default() {
    let mut conn = server();
    conn.send_text("héllo").unwrap();
    conn.send_binary(&[0, 1, 2]).unwrap();
    conn.send(&Message::text("abc")).unwrap();
    conn.send(&Message::binary(vec![9; 300])).unwrap();
    let mut expected = vec![0x81, 6];
    expected.extend_from_slice("héllo".as_bytes());
    expected.extend_from_slice(&[0x82, 3, 0, 1, 2]);
    expected.extend_from_slice(&[0x81, 3, b'a', b'b', b'c']);
    expected.extend_from_slice(&[0x82, 126, 0x01, 0x2c]);
    expected.extend_from_slice(&[9; 300]);
    assert_eq!(take_output(&mut conn), expected);
}

// RFC 6455 §5.4: "An unfragmented message consists of a single frame with
// the FIN bit set"; above Config::send_frame_size a message is split into
// a first frame with its opcode, continuations, and a final frame with FIN.
#[test]
fn automatic_fragmentation_above_send_frame_size() {
    let mut conn = server_with(Config::default().send_frame_size(Some(4)));
    conn.send_text("0123456789").unwrap();
    assert_eq!(
        take_output(&mut conn),
        [
            &[0x01, 4, b'0', b'1', b'2', b'3'][..],
            &[0x00, 4, b'4', b'5', b'6', b'7'],
            &[0x80, 2, b'8', b'9'],
        ]
        .concat()
    );
    // Exactly the frame size, and below it: one frame.
    conn.send_binary(b"abcd").unwrap();
    assert_eq!(take_output(&mut conn), [0x82, 4, b'a', b'b', b'c', b'd']);
    conn.send_binary(b"").unwrap();
    assert_eq!(take_output(&mut conn), [0x82, 0]);
    // One byte over: two frames.
    conn.send_binary(b"abcde").unwrap();
    assert_eq!(
        take_output(&mut conn),
        [0x02, 4, b'a', b'b', b'c', b'd', 0x80, 1, b'e']
    );
}

// RFC 6455 §5.4 / §5.6: automatic fragmentation of text may split a code
// point between frames; the receiver still gets the whole text.
#[test]
fn automatic_fragmentation_may_split_code_points() {
    let message = "€😀é".repeat(5);
    for size in 1..=7 {
        let mut sender = client_with(Config::default().send_frame_size(Some(size)));
        sender.send_text(&message).unwrap();
        let wire = take_output(&mut sender);
        let frames = parse_frames(&wire);
        assert_eq!(frames.len(), message.len().div_ceil(size));
        assert!(frames.iter().all(|f| f.payload.len() <= size));
        let mut receiver = server();
        assert_eq!(
            feed_ok(&mut receiver, &wire),
            vec![text(&message)],
            "{size}"
        );
    }
}

// RFC 6455 §5.1 + §5.4: a client masks each automatic fragment with its own
// key.
#[test]
fn automatic_fragments_from_a_client_each_get_a_key() {
    let mut conn = client_counting_keys(Config::default().send_frame_size(Some(3)));
    conn.send_binary(b"abcdefgh").unwrap();
    let frames = parse_frames(&take_output(&mut conn));
    let summary: Vec<(bool, u8, [u8; 4], Vec<u8>)> = frames
        .into_iter()
        .map(|f| (f.fin, f.opcode, f.key.unwrap(), f.payload))
        .collect();
    assert_eq!(
        summary,
        vec![
            (false, BINARY, [0, 0, 0, 1], b"abc".to_vec()),
            (false, CONT, [0, 0, 0, 2], b"def".to_vec()),
            (true, CONT, [0, 0, 0, 3], b"gh".to_vec()),
        ]
    );
}

// `send_fragment` ignores send_frame_size: the caller chose the frames.
#[test]
fn explicit_fragments_are_sent_as_given() {
    let mut conn = server_with(Config::default().send_frame_size(Some(2)));
    conn.send_fragment(MessageKind::Binary, b"abcde", false)
        .unwrap();
    conn.send_fragment(MessageKind::Binary, b"", false).unwrap();
    conn.send_fragment(MessageKind::Binary, b"f", true).unwrap();
    assert_eq!(
        take_output(&mut conn),
        [
            &[0x02, 5, b'a', b'b', b'c', b'd', b'e'][..],
            &[0x00, 0],
            &[0x80, 1, b'f'],
        ]
        .concat()
    );
}

// RFC 6455 §5.4: "Control frames MAY be injected in the middle of a
// fragmented message" — also on the send side, and a close ends it.
#[test]
fn control_frames_may_be_sent_between_fragments() {
    let mut conn = server();
    conn.send_fragment(MessageKind::Text, b"a", false).unwrap();
    conn.send_ping(b"p").unwrap();
    conn.send_pong(b"q").unwrap();
    conn.send_fragment(MessageKind::Text, b"b", true).unwrap();
    assert_eq!(
        take_output(&mut conn),
        [
            &[0x01, 1, b'a'][..],
            &[0x89, 1, b'p'],
            &[0x8a, 1, b'q'],
            &[0x80, 1, b'b'],
        ]
        .concat()
    );
    conn.send_fragment(MessageKind::Text, b"c", false).unwrap();
    conn.send_close(CloseCode::GOING_AWAY, "").unwrap();
    assert_eq!(
        conn.send_fragment(MessageKind::Text, b"d", true),
        Err(SendError::Closed)
    );
}

// RFC 6455 §5.4: "The fragments of one message MUST NOT be interleaved
// between the fragments of another message" — refused on the send side
// with nothing queued, and the open message can still be finished.
#[test]
fn other_messages_cannot_be_sent_inside_a_fragmented_one() {
    let mut conn = server();
    conn.send_fragment(MessageKind::Binary, b"a", false)
        .unwrap();
    take_output(&mut conn);
    assert_eq!(conn.send_text("x"), Err(SendError::MessageInProgress));
    assert_eq!(conn.send_binary(b"x"), Err(SendError::MessageInProgress));
    assert_eq!(
        conn.send(&Message::text("x")),
        Err(SendError::MessageInProgress)
    );
    assert_eq!(
        conn.send_fragment(MessageKind::Text, b"x", true),
        Err(SendError::MessageInProgress)
    );
    assert!(conn.pending_output().is_empty());
    conn.send_fragment(MessageKind::Binary, b"b", true).unwrap();
    assert_eq!(take_output(&mut conn), [0x80, 1, b'b']);
    // The message is finished: whole messages may be sent again.
    conn.send_text("x").unwrap();
    assert_eq!(take_output(&mut conn), [0x81, 1, b'x']);
}

// RFC 6455 §5.6: text fragments must be UTF-8 together; each may split a
// code point. Invalid UTF-8 is refused with nothing queued.
#[test]
fn text_fragments_are_checked_as_they_are_sent() {
    let euro = "€".as_bytes(); // e2 82 ac
    let mut conn = server();
    conn.send_fragment(MessageKind::Text, &euro[..1], false)
        .unwrap();
    conn.send_fragment(MessageKind::Text, &euro[1..2], false)
        .unwrap();
    take_output(&mut conn);
    // A byte that cannot continue the code point.
    assert_eq!(
        conn.send_fragment(MessageKind::Text, b"A", false),
        Err(SendError::InvalidUtf8)
    );
    // Ending the message inside the code point.
    assert_eq!(
        conn.send_fragment(MessageKind::Text, b"", true),
        Err(SendError::InvalidUtf8)
    );
    assert!(conn.pending_output().is_empty());
    // The refused calls changed nothing: the right byte completes it.
    conn.send_fragment(MessageKind::Text, &euro[2..], true)
        .unwrap();
    assert_eq!(take_output(&mut conn), [0x80, 1, 0xac]);
}

// RFC 6455 §5.6: a first text fragment that is not UTF-8 is refused.
#[test]
fn invalid_first_text_fragment_is_refused() {
    let mut conn = server();
    assert_eq!(
        conn.send_fragment(MessageKind::Text, b"\xff", false),
        Err(SendError::InvalidUtf8)
    );
    assert!(conn.pending_output().is_empty());
    // No message was started.
    conn.send_text("ok").unwrap();
    assert_eq!(take_output(&mut conn), [0x81, 2, b'o', b'k']);
}

// RFC 6455 §5.4 / §5.6: whatever fragments a client sends, a server
// reassembles the same message (the send and receive sides agree).
#[test]
fn explicit_fragments_round_trip_client_to_server() {
    let text_parts: [&[u8]; 4] = [b"\xf0\x9f", b"\x98\x80 h", b"", b"\xc3\xa9!"];
    let mut client = client_counting_keys(Config::default());
    for (i, part) in text_parts.iter().enumerate() {
        client
            .send_fragment(MessageKind::Text, part, i == 3)
            .unwrap();
    }
    let mut server = server();
    assert_eq!(
        feed_ok(&mut server, &take_output(&mut client)),
        vec![text("😀 hé!")]
    );
}

// RFC 6455 §5.6 / our API: a single-frame message's payload is handed to
// the user as `Bytes`; its content is exact and the event compares equal to
// a message built from the same bytes.
#[test]
fn received_payloads_are_bytes() {
    let mut conn = server();
    let events = feed_ok(&mut conn, &masked(BINARY, &[1, 2, 3]));
    let Some(Event::Message(Message::Binary(bytes))) = events.into_iter().next() else {
        panic!("not a binary message");
    };
    assert_eq!(bytes, bytes::Bytes::from_static(&[1, 2, 3]));
}
