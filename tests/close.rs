//! The closing handshake (RFC 6455 §5.5.1, §7): close codes and reasons,
//! the echo, state changes, what may be sent and received around a close,
//! who closes the transport, and sticky failures (§7.1.7).

mod common;

use common::*;
use rfc6455::{CloseCode, Config, MessageKind, ProtocolError, SendError, State};

/// The codes RFC 6455 §7.4.1 defines for use on the wire, and the ranges
/// §7.4.2 reserves for libraries (3000–3999) and applications (4000–4999).
fn valid_on_wire(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

// RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not
// previously send a Close frame, the endpoint MUST send a Close frame in
// response. (When sending a Close frame in response, the endpoint typically
// echos the status code it received.)"
#[test]
fn valid_close_codes_are_reported_and_echoed() {
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000,
        4999,
    ] {
        let mut conn = server();
        let events = feed_ok(&mut conn, &masked(CLOSE, &close_body(code, b"why")));
        assert_eq!(events, vec![close_event(code, "why")], "{code}");
        assert_eq!(take_output(&mut conn), server_close(code), "{code}");
        assert_eq!(conn.state(), State::Closed);
    }
}

// RFC 6455 §7.4.1 / §7.4.2: codes that may not appear on the wire (never
// used, reserved for local reporting, unassigned) fail the connection with
// 1002.
#[test]
fn invalid_close_codes_fail_with_1002() {
    for code in [
        0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let mut conn = server();
        let events = feed_err(
            &mut conn,
            &masked(CLOSE, &close_body(code, b"")),
            ProtocolError::InvalidCloseCode(code),
        );
        assert!(events.is_empty(), "{code}");
        assert_eq!(take_output(&mut conn), server_close(1002), "{code}");
    }
}

// RFC 6455 §7.4: every one of the 65 536 codes, received by a client, is
// either echoed or answered with 1002, exactly as §7.4.1/§7.4.2 decide.
#[test]
fn every_possible_close_code_is_judged_by_the_rfc_ranges() {
    for code in 0..=u16::MAX {
        let mut conn = client();
        let drained = feed(&mut conn, &unmasked(CLOSE, &close_body(code, b"")));
        let sent = parse_frames(&take_output(&mut conn));
        assert_eq!(sent.len(), 1, "{code}");
        if valid_on_wire(code) {
            assert_eq!(drained.events, vec![close_event(code, "")], "{code}");
            assert_eq!(drained.error, None, "{code}");
            assert_eq!(sent[0].payload, code.to_be_bytes(), "{code}");
        } else {
            assert_eq!(drained.events, vec![], "{code}");
            assert_eq!(
                drained.error,
                Some(ProtocolError::InvalidCloseCode(code)),
                "{code}"
            );
            assert_eq!(sent[0].payload, 1002u16.to_be_bytes(), "{code}");
        }
    }
}

// RFC 6455 §5.5.1: "If there is a body, the first two bytes of the body
// MUST be a 2-byte unsigned integer" — a 1-byte body fails with 1002.
#[test]
fn one_byte_close_payload_fails_with_1002() {
    for byte in [0x00, 0x03, 0xe8, 0xff] {
        let mut conn = server();
        feed_err(
            &mut conn,
            &masked(CLOSE, &[byte]),
            ProtocolError::InvalidClosePayload,
        );
        assert_eq!(take_output(&mut conn), server_close(1002));
    }
}

// RFC 6455 §5.5.1: the reason is UTF-8; §8.1: an endpoint that finds
// otherwise MUST fail the connection — with 1007 (§7.4.1).
#[test]
fn non_utf8_close_reason_fails_with_1007() {
    let bad_reasons: [&[u8]; 5] = [
        b"\xff",
        b"ok\xc0\xafok",     // overlong '/'
        b"\xed\xa0\x80",     // surrogate
        b"\xe2\x82",         // truncated euro sign
        b"\xf4\x90\x80\x80", // above U+10FFFF
    ];
    for reason in bad_reasons {
        let mut conn = server();
        feed_err(
            &mut conn,
            &masked(CLOSE, &close_body(1000, reason)),
            ProtocolError::InvalidCloseReason,
        );
        assert_eq!(take_output(&mut conn), server_close(1007), "{reason:x?}");
    }
}

// RFC 6455 §5.5.1: a 123-byte UTF-8 reason (the most that fits) is
// delivered whole.
#[test]
fn longest_close_reason_is_delivered() {
    let reason = "é".repeat(61) + "!"; // 123 bytes
    assert_eq!(reason.len(), 123);
    let mut conn = server();
    let events = feed_ok(
        &mut conn,
        &masked(CLOSE, &close_body(4321, reason.as_bytes())),
    );
    assert_eq!(events, vec![close_event(4321, &reason)]);
}

// RFC 6455 §7.1.5: "If this Close control frame contains no status code,
// _The WebSocket Connection Close Code_ is considered to be 1005." The echo
// carries no body either.
#[test]
fn empty_close_is_reported_as_1005_and_echoed_empty() {
    let mut conn = server();
    assert_eq!(
        feed_ok(&mut conn, &masked(CLOSE, b"")),
        vec![close_event(1005, "")]
    );
    assert_eq!(take_output(&mut conn), [0x88, 0x00]);

    let mut conn = client();
    assert_eq!(
        feed_ok(&mut conn, &[0x88, 0x00]),
        vec![close_event(1005, "")]
    );
    let mut expected = vec![0x88, 0x80];
    expected.extend_from_slice(&KEY);
    assert_eq!(take_output(&mut conn), expected);
}

// RFC 6455 §5.5.1 + §5.3: a client's echo is masked.
#[test]
fn client_echo_is_masked() {
    let mut conn = client();
    let events = feed_ok(&mut conn, &unmasked(CLOSE, &close_body(1001, b"bye")));
    assert_eq!(events, vec![close_event(1001, "bye")]);
    let mut expected = vec![0x88, 0x82];
    expected.extend_from_slice(&KEY);
    expected.extend(mask(&[0x03, 0xe9], KEY));
    assert_eq!(take_output(&mut conn), expected);
}

// RFC 6455 §7.1.1–§7.1.4, peer-initiated, server side: Open → Closed at
// once; "the underlying TCP connection, in most normal cases, SHOULD be
// closed first by the server" — so the server closes it right away.
#[test]
fn peer_initiated_close_on_a_server() {
    let mut conn = server();
    assert_eq!(conn.state(), State::Open);
    assert!(!conn.should_close_transport());
    feed_ok(&mut conn, &masked(CLOSE, &close_body(1000, b"")));
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.should_close_transport());
}

// RFC 6455 §7.1.1–§7.1.4, peer-initiated, client side: the client echoes,
// is Closed, and waits for the server to close TCP first.
#[test]
fn peer_initiated_close_on_a_client() {
    let mut conn = client();
    feed_ok(&mut conn, &unmasked(CLOSE, &close_body(1000, b"")));
    assert_eq!(conn.state(), State::Closed);
    assert!(
        !conn.should_close_transport(),
        "the server closes TCP first"
    );
    conn.receive_eof();
    assert!(conn.should_close_transport());
    assert_eq!(
        drain(&mut conn),
        Drained::default(),
        "no 1006 after a close"
    );
}

// RFC 6455 §7.1.2: we start the closing handshake: Open → Closing; the
// peer's close (not echoed back: we already sent ours) → Closed; a server
// then closes the transport.
#[test]
fn we_initiate_close_on_a_server() {
    let mut conn = server();
    conn.send_close(CloseCode::GOING_AWAY, "shutdown").unwrap();
    assert_eq!(conn.state(), State::Closing);
    let mut expected = vec![0x88, 10, 0x03, 0xe9];
    expected.extend_from_slice(b"shutdown");
    assert_eq!(take_output(&mut conn), expected);
    assert!(!conn.should_close_transport());

    let events = feed_ok(&mut conn, &masked(CLOSE, &close_body(1001, b"")));
    assert_eq!(events, vec![close_event(1001, "")]);
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.pending_output().is_empty(), "no second close frame");
    assert!(conn.should_close_transport());
}

// RFC 6455 §7.1.2 / §7.1.1: a client that started the closing handshake
// waits, after the server's close, for the server to end the TCP stream.
#[test]
fn we_initiate_close_on_a_client() {
    let mut conn = client();
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(conn.state(), State::Closing);
    let mut expected = vec![0x88, 0x82];
    expected.extend_from_slice(&KEY);
    expected.extend(mask(&[0x03, 0xe8], KEY));
    assert_eq!(take_output(&mut conn), expected);

    let events = feed_ok(&mut conn, &unmasked(CLOSE, &close_body(1000, b"")));
    assert_eq!(events, vec![close_event(1000, "")]);
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.pending_output().is_empty());
    assert!(!conn.should_close_transport());
    conn.receive_eof();
    assert!(conn.should_close_transport());
}

// RFC 6455 §7.1.2: both ends may start closing at once; each then receives
// the other's close, and neither sends a second one.
#[test]
fn simultaneous_close() {
    let mut a = client_counting_keys(Config::default());
    let mut b = server();
    a.send_close(CloseCode::NORMAL, "a").unwrap();
    b.send_close(CloseCode::GOING_AWAY, "b").unwrap();
    let a_out = take_output(&mut a);
    let b_out = take_output(&mut b);
    assert_eq!(feed_ok(&mut a, &b_out), vec![close_event(1001, "b")]);
    assert_eq!(feed_ok(&mut b, &a_out), vec![close_event(1000, "a")]);
    assert!(a.pending_output().is_empty() && b.pending_output().is_empty());
    assert_eq!((a.state(), b.state()), (State::Closed, State::Closed));
}

// RFC 6455 §5.5.1: "After sending a Close frame, the endpoint MUST NOT send
// any more data frames." Every data send, and a second close, is refused
// with SendError::Closed and nothing is queued — after our close (Closing),
// and after the closing handshake (Closed).
#[test]
fn no_data_frame_is_sent_after_a_close() {
    let mut closing = server();
    closing.send_close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut closing);

    let mut closed = server();
    feed_ok(&mut closed, &masked(CLOSE, b""));
    take_output(&mut closed);

    for conn in [&mut closing, &mut closed] {
        assert_eq!(conn.send_text("x"), Err(SendError::Closed));
        assert_eq!(conn.send_binary(b"x"), Err(SendError::Closed));
        assert_eq!(
            conn.send(&rfc6455::Message::text("x")),
            Err(SendError::Closed)
        );
        assert_eq!(
            conn.send_fragment(MessageKind::Binary, b"x", true),
            Err(SendError::Closed)
        );
        assert_eq!(
            conn.send_close(CloseCode::NORMAL, ""),
            Err(SendError::Closed)
        );
        assert!(conn.pending_output().is_empty());
    }
}

// RFC 6455 §5.5.1 forbids only *data* frames after a close: while waiting
// for the peer's close, pings and pongs may still be sent (and §5.5.2 even
// requires the pong). Once Closed, nothing at all is sent.
#[test]
fn control_frames_are_sent_while_closing_but_not_once_closed() {
    let mut conn = server();
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    conn.send_ping(b"a").unwrap();
    conn.send_pong(b"b").unwrap();
    assert_eq!(take_output(&mut conn), [0x89, 1, b'a', 0x8a, 1, b'b']);

    feed_ok(&mut conn, &masked(CLOSE, b""));
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(conn.send_ping(b"x"), Err(SendError::Closed));
    assert_eq!(conn.send_pong(b"x"), Err(SendError::Closed));
    assert!(conn.pending_output().is_empty());
}

// RFC 6455 §7.1.2 / §1.4: after we sent a close, the peer may still send
// data until its own close; it is delivered.
#[test]
fn messages_received_while_closing_are_delivered() {
    let mut conn = server();
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    let mut wire = masked(TEXT, b"last words");
    wire.extend(frame(false, BINARY, Some(KEY), b"a"));
    wire.extend(frame(true, CONT, Some(KEY), b"b"));
    wire.extend(masked(PONG, b""));
    wire.extend(masked(CLOSE, &close_body(1000, b"")));
    assert_eq!(
        feed_ok(&mut conn, &wire),
        vec![
            text("last words"),
            binary(b"ab"),
            pong(b""),
            close_event(1000, "")
        ]
    );
}

// RFC 6455 §1.4: "after sending a Close frame, the endpoint ... discards
// any further data"; §5.5.1: the peer "MUST NOT send any more data frames"
// after its close. Whatever follows the peer's close — in the same read or
// later, valid or not — is discarded without an event or an error.
#[test]
fn everything_after_the_peers_close_is_discarded() {
    let mut conn = server();
    let mut wire = masked(CLOSE, &close_body(1000, b""));
    wire.extend(masked(TEXT, b"after close"));
    wire.extend(masked(PING, b"p"));
    wire.extend([0xff; 20]); // garbage: reserved opcode, would fail
    assert_eq!(feed_ok(&mut conn, &wire), vec![close_event(1000, "")]);
    assert_eq!(take_output(&mut conn), server_close(1000));
    assert_eq!(feed(&mut conn, &masked(TEXT, b"later")), Drained::default());
    assert_eq!(feed(&mut conn, &[0xff; 10]), Drained::default());
    assert!(conn.pending_output().is_empty());
    assert!(conn.memory_usage() < 64, "{}", conn.memory_usage());
}

// RFC 6455 §7.1.7: "Fail the WebSocket Connection": the close frame is sent
// once, and (rustls-style) every later call reports the same error; nothing
// is processed after it.
#[test]
fn errors_are_sticky_and_the_close_frame_is_queued_once() {
    let mut conn = server();
    let mut wire = masked(TEXT, b"before");
    wire.extend(unmasked(TEXT, b"unmasked"));
    wire.extend(masked(TEXT, b"after"));
    let drained = feed(&mut conn, &wire);
    assert_eq!(drained.events, vec![text("before")]);
    assert_eq!(drained.error, Some(ProtocolError::UnmaskedFrame));
    for _ in 0..5 {
        assert_eq!(conn.next_event(), Err(ProtocolError::UnmaskedFrame));
    }
    conn.receive_data(&masked(PING, b"more"));
    conn.receive_eof();
    assert_eq!(conn.next_event(), Err(ProtocolError::UnmaskedFrame));
    assert_eq!(take_output(&mut conn), server_close(1002));
    assert_eq!(conn.next_event(), Err(ProtocolError::UnmaskedFrame));
    assert!(conn.pending_output().is_empty());
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.should_close_transport());
    assert_eq!(conn.send_text("x"), Err(SendError::Closed));
    assert_eq!(
        conn.send_close(CloseCode::NORMAL, ""),
        Err(SendError::Closed)
    );
}

// RFC 6455 §7.1.7 with §5.5.1: failing after we already sent a close does
// not send a second close frame.
#[test]
fn failing_while_closing_sends_no_second_close() {
    let mut conn = server();
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    feed_err(
        &mut conn,
        &masked(0x5, b""),
        ProtocolError::ReservedOpcode(5),
    );
    assert!(conn.pending_output().is_empty());
    assert_eq!(conn.state(), State::Closed);
}

// RFC 6455 §7.1.7: a client fails the connection and closes the transport
// at once, without waiting for the server.
#[test]
fn a_failed_client_closes_the_transport_at_once() {
    let mut conn = client();
    feed_err(&mut conn, &masked(TEXT, b"x"), ProtocolError::MaskedFrame);
    assert!(conn.should_close_transport());
}

// RFC 6455 §7.4: send_close accepts the codes valid on the wire and refuses
// the others, queueing nothing and leaving the connection open.
#[test]
fn send_close_checks_the_code() {
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 2999, 5000, 65535] {
        let mut conn = server();
        let result = conn.send_close(CloseCode::from(code), "x");
        assert_eq!(result, Err(SendError::InvalidCloseCode(code)), "{code}");
        assert!(conn.pending_output().is_empty());
        assert_eq!(conn.state(), State::Open);
    }
    for code in [1000u16, 1003, 1007, 1011, 1013, 3000, 4999] {
        let mut conn = server();
        conn.send_close(CloseCode::from(code), "").unwrap();
        assert_eq!(take_output(&mut conn), server_close(code), "{code}");
    }
}

// RFC 6455 §5.5.1: a close frame "MAY" have no body; send_close with
// NO_STATUS sends one, and refuses a reason without a code.
#[test]
fn send_close_without_a_code() {
    let mut conn = server();
    assert_eq!(
        conn.send_close(CloseCode::NO_STATUS, "reason"),
        Err(SendError::InvalidCloseCode(1005))
    );
    assert!(conn.pending_output().is_empty());
    conn.send_close(CloseCode::NO_STATUS, "").unwrap();
    assert_eq!(take_output(&mut conn), [0x88, 0x00]);
    assert_eq!(conn.state(), State::Closing);
}

// RFC 6455 §7.1.6 / §5.5.1: the reason is sent as given, after the code.
#[test]
fn send_close_with_a_reason_is_byte_exact() {
    let mut conn = server();
    conn.send_close(CloseCode::from(4000), "ça").unwrap();
    let mut expected = vec![0x88, 5, 0x0f, 0xa0];
    expected.extend_from_slice("ça".as_bytes());
    assert_eq!(take_output(&mut conn), expected);
}

// RFC 6455 §7.1.4: the Close event is the last one; the connection then
// stays quiet.
#[test]
fn no_event_follows_the_close_event() {
    let mut conn = server();
    let events = feed_ok(&mut conn, &masked(CLOSE, &close_body(1000, b"")));
    assert_eq!(events.len(), 1);
    conn.receive_eof();
    for _ in 0..3 {
        assert_eq!(conn.next_event(), Ok(None));
    }
}

/// The connection, not the caller, knows how it ended.
#[test]
fn the_outcome_is_the_connections() {
    use rfc6455::{CloseFrame, Outcome};

    // The peer began the closing handshake: clean, with its frame.
    let mut conn = server();
    assert_eq!(conn.outcome(), None);
    feed_ok(&mut conn, &masked(CLOSE, &close_body(4000, b"bye")));
    assert_eq!(
        conn.outcome(),
        Some(&Outcome::Clean(CloseFrame::new(
            CloseCode::from(4000),
            "bye"
        )))
    );

    // We began it: open until the peer answers, then clean.
    let mut conn = client();
    conn.send_close(CloseCode::NORMAL, "done").unwrap();
    assert_eq!(conn.outcome(), None);
    feed_ok(&mut conn, &unmasked(CLOSE, b""));
    assert_eq!(
        conn.outcome(),
        Some(&Outcome::Clean(CloseFrame::new(CloseCode::NO_STATUS, "")))
    );

    // The peer broke the protocol: failed, with the error, however often
    // asked.
    let mut conn = server();
    feed_err(
        &mut conn,
        &unmasked(TEXT, b"x"),
        ProtocolError::UnmaskedFrame,
    );
    assert_eq!(
        conn.outcome(),
        Some(&Outcome::Failed(ProtocolError::UnmaskedFrame))
    );
    assert_eq!(conn.next_event(), Err(ProtocolError::UnmaskedFrame));

    // The transport ended first: abnormal, and a close frame that arrives
    // later changes nothing.
    let mut conn = client();
    conn.receive_eof();
    assert_eq!(drain(&mut conn).events, vec![abnormal_close()]);
    assert_eq!(conn.outcome(), Some(&Outcome::Abnormal));
    conn.receive_data(&unmasked(CLOSE, &close_body(1000, b"")));
    assert_eq!(drain(&mut conn), Drained::default());
    assert_eq!(conn.outcome(), Some(&Outcome::Abnormal));
}
