//! The transport ending (RFC 6455 §7.1.5, §7.1.7): an end of stream without
//! a closing handshake is reported as a close with code 1006, after every
//! complete frame received before it.

mod common;

use common::*;
use rfc6455::{CloseCode, ProtocolError, State};

// RFC 6455 §7.1.5: "If _The WebSocket Connection is Closed_ and no Close
// control frame was received by the endpoint ..., _The WebSocket Connection
// Close Code_ is considered to be 1006."
#[test]
fn eof_without_a_close_is_reported_as_1006() {
    for mut conn in [server(), client()] {
        conn.receive_eof();
        assert_eq!(drain(&mut conn).events, vec![abnormal_close()]);
        assert_eq!(conn.state(), State::Closed);
        assert!(conn.should_close_transport());
        assert!(conn.pending_output().is_empty(), "1006 is never sent");
        assert_eq!(drain(&mut conn), Drained::default(), "reported once");
    }
}

// RFC 6455 §7.1.5: complete frames received before the end of the stream
// are delivered first, in order; then the 1006 close.
#[test]
fn complete_frames_before_eof_are_delivered_first() {
    let mut conn = server();
    let mut wire = masked(TEXT, b"one");
    wire.extend(masked(PING, b"p"));
    wire.extend(frame(false, BINARY, Some(KEY), b"t"));
    wire.extend(frame(true, CONT, Some(KEY), b"wo"));
    conn.receive_data(&wire);
    conn.receive_eof();
    assert_eq!(
        drain(&mut conn).events,
        vec![text("one"), ping(b"p"), binary(b"two"), abnormal_close()]
    );
    // The ping was still answered (the peer may not read it, but the
    // connection is not closed until the 1006 event).
    assert_eq!(take_output(&mut conn), unmasked(PONG, b"p"));
}

// RFC 6455 §7.1.5: a frame cut short by the end of the stream is dropped,
// and the close is 1006 — for a header cut short, and for a payload.
#[test]
fn partial_frame_then_eof_is_1006() {
    let whole = masked(TEXT, b"complete");
    let cut_frame = masked(BINARY, &[1; 300]);
    for cut in 1..cut_frame.len() {
        let mut conn = server();
        conn.receive_data(&whole);
        conn.receive_data(&cut_frame[..cut]);
        conn.receive_eof();
        let drained = drain(&mut conn);
        assert_eq!(drained.error, None, "cut {cut}");
        assert_eq!(
            drained.events,
            vec![text("complete"), abnormal_close()],
            "cut {cut}"
        );
        assert!(conn.should_close_transport());
    }
}

// RFC 6455 §7.1.5: a fragmented message cut short by the end of the stream
// is never delivered.
#[test]
fn unfinished_fragmented_message_then_eof_is_1006() {
    let mut conn = client();
    conn.receive_data(&frame(false, TEXT, None, b"Hel"));
    conn.receive_eof();
    assert_eq!(drain(&mut conn).events, vec![abnormal_close()]);
}

// The order of calls does not matter: the end of stream reported before
// the frames are drained, or after some of them.
#[test]
fn eof_between_next_event_calls() {
    let mut conn = server();
    conn.receive_data(&masked(TEXT, b"a"));
    conn.receive_data(&masked(TEXT, b"b"));
    assert_eq!(conn.next_event(), Ok(Some(text("a"))));
    conn.receive_eof();
    assert_eq!(conn.next_event(), Ok(Some(text("b"))));
    assert_eq!(conn.next_event(), Ok(Some(abnormal_close())));
    assert_eq!(conn.next_event(), Ok(None));
}

// RFC 6455 §7.1.5 with §7.1.2: after we sent a close, a transport that
// ends without the peer's close is still 1006.
#[test]
fn eof_while_closing_is_1006() {
    let mut conn = client();
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    conn.receive_data(&unmasked(TEXT, b"late"));
    conn.receive_eof();
    assert_eq!(
        drain(&mut conn).events,
        vec![text("late"), abnormal_close()]
    );
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.should_close_transport());
}

// RFC 6455 §7.1.1: after the closing handshake, the end of the stream is
// the expected end: no 1006, and a client may now close the transport.
#[test]
fn eof_after_the_closing_handshake_is_not_an_error() {
    let mut conn = client();
    conn.receive_data(&unmasked(CLOSE, &close_body(1000, b"done")));
    conn.receive_eof();
    assert_eq!(drain(&mut conn).events, vec![close_event(1000, "done")]);
    assert!(conn.should_close_transport());
    assert_eq!(drain(&mut conn), Drained::default());
}

// RFC 6455 §7.1.7: a protocol error in the data before the end of the
// stream is reported as that error, not as 1006.
#[test]
fn protocol_error_before_eof_wins_over_1006() {
    let mut conn = server();
    conn.receive_data(&masked(TEXT, b"ok"));
    conn.receive_data(&masked(TEXT, b"\xff"));
    conn.receive_eof();
    let drained = drain(&mut conn);
    assert_eq!(drained.events, vec![text("ok")]);
    assert_eq!(drained.error, Some(ProtocolError::InvalidUtf8));
    assert_eq!(conn.next_event(), Err(ProtocolError::InvalidUtf8));
    assert_eq!(take_output(&mut conn), server_close(1007));
}

// RFC 6455 §8.1, fail fast: invalid UTF-8 in a frame cut short by the end
// of the stream is still an error (it was found as the bytes arrived).
#[test]
fn invalid_utf8_in_a_truncated_frame_is_an_error_not_1006() {
    let mut conn = server();
    let wire = masked(TEXT, b"ab\xffcdef");
    conn.receive_data(&wire[..wire.len() - 2]);
    conn.receive_eof();
    let drained = drain(&mut conn);
    assert_eq!(drained.error, Some(ProtocolError::InvalidUtf8));
    assert!(drained.events.is_empty());
}

// RFC 6455 §7.1.5: after the 1006 close, nothing more is sent.
#[test]
fn nothing_is_sent_after_eof() {
    let mut conn = server();
    conn.receive_eof();
    drain(&mut conn);
    assert_eq!(conn.send_text("x"), Err(rfc6455::SendError::Closed));
    assert!(conn.pending_output().is_empty());
}
