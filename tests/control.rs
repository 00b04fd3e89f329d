//! Control frames other than close (RFC 6455 §5.5.2 ping, §5.5.3 pong) and
//! the limits every control frame obeys (§5.5).

mod common;

use common::*;
use rfc6455::{CloseCode, Config, SendError};

// RFC 6455 §5.7: "Unmasked Ping request and masked Ping response
// 0x89 0x05 0x48 0x65 0x6c 0x6c 0x6f (contains a body of "Hello", but the
// contents of the body are arbitrary)". §5.5.2: "Upon receipt of a Ping
// frame, an endpoint MUST send a Pong frame in response ... A Pong frame
// sent in response to a Ping frame must have identical Application Data".
#[test]
fn rfc_5_7_ping_is_answered_by_a_masked_pong_with_the_same_payload() {
    let mut conn = client();
    let events = feed_ok(&mut conn, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert_eq!(events, vec![ping(b"Hello")]);
    // 0x8a 0x85, the key, "Hello" masked with it (RFC 6455 §5.7).
    assert_eq!(
        take_output(&mut conn),
        [
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
        ]
    );
}

// RFC 6455 §5.5.2: a server answers a masked ping with an unmasked pong.
#[test]
fn server_answers_a_ping_with_an_unmasked_pong() {
    let mut conn = server();
    assert_eq!(
        feed_ok(&mut conn, &masked(PING, b"Hello")),
        vec![ping(b"Hello")]
    );
    assert_eq!(
        take_output(&mut conn),
        [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
}

// RFC 6455 §5.5.2: empty and maximal (125-byte) pings are answered in kind.
#[test]
fn empty_and_125_byte_pings_are_answered_in_kind() {
    let mut conn = server();
    assert_eq!(feed_ok(&mut conn, &masked(PING, b"")), vec![ping(b"")]);
    assert_eq!(take_output(&mut conn), [0x8a, 0x00]);

    let payload: Vec<u8> = (0..125).collect();
    assert_eq!(
        feed_ok(&mut conn, &masked(PING, &payload)),
        vec![ping(&payload)]
    );
    let mut expected = vec![0x8a, 125];
    expected.extend_from_slice(&payload);
    assert_eq!(take_output(&mut conn), expected);
}

// RFC 6455 §5.5.2: every ping gets its own pong, in order (this core
// answers each one rather than only the latest, which §5.5.3 also allows).
#[test]
fn every_ping_gets_a_pong_in_order() {
    let mut conn = server();
    let wire: Vec<u8> = (0..10u8).flat_map(|i| masked(PING, &[i])).collect();
    let events = feed_ok(&mut conn, &wire);
    assert_eq!(events, (0..10u8).map(|i| ping(&[i])).collect::<Vec<_>>());
    let pongs: Vec<u8> = (0..10u8).flat_map(|i| unmasked(PONG, &[i])).collect();
    assert_eq!(take_output(&mut conn), pongs);
}

// Config::auto_pong(false): the ping is still reported, nothing is queued,
// and the application answers with send_pong (RFC 6455 §5.5.2).
#[test]
fn without_auto_pong_the_ping_is_reported_and_nothing_is_sent() {
    let mut conn = server_with(Config::default().auto_pong(false));
    assert_eq!(
        feed_ok(&mut conn, &masked(PING, b"abc")),
        vec![ping(b"abc")]
    );
    assert!(conn.pending_output().is_empty());
    conn.send_pong(b"abc").unwrap();
    assert_eq!(take_output(&mut conn), [0x8a, 3, b'a', b'b', b'c']);
}

// RFC 6455 §5.5.3: "A Pong frame MAY be sent unsolicited. This serves as a
// unidirectional heartbeat. A response to an unsolicited Pong frame is not
// expected."
#[test]
fn unsolicited_pongs_are_sent_and_received_without_a_reply() {
    let mut conn = client();
    conn.send_pong(b"beat").unwrap();
    let mut expected = vec![0x8a, 0x84];
    expected.extend_from_slice(&KEY);
    expected.extend(mask(b"beat", KEY));
    assert_eq!(take_output(&mut conn), expected);

    let mut conn = server();
    assert_eq!(
        feed_ok(&mut conn, &masked(PONG, b"beat")),
        vec![pong(b"beat")]
    );
    assert!(conn.pending_output().is_empty(), "a pong is never answered");
}

// RFC 6455 §5.5.2: the application may send pings; the peer's pong comes
// back as an event.
#[test]
fn application_pings_and_their_pongs() {
    let mut conn = server();
    conn.send_ping(b"").unwrap();
    conn.send_ping(b"Hello").unwrap();
    assert_eq!(
        take_output(&mut conn),
        [0x89, 0x00, 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
    assert_eq!(
        feed_ok(&mut conn, &masked(PONG, b"Hello")),
        vec![pong(b"Hello")]
    );
}

// RFC 6455 §5.5: "All control frames MUST have a payload length of 125
// bytes or less" — the caller is refused, and nothing is queued.
#[test]
fn oversized_control_payloads_are_refused_on_send() {
    let big = [0u8; 126];
    for role_client in [false, true] {
        let mut conn = if role_client { client() } else { server() };
        assert_eq!(
            conn.send_ping(&big),
            Err(SendError::ControlPayloadTooLong(126))
        );
        assert_eq!(
            conn.send_pong(&big),
            Err(SendError::ControlPayloadTooLong(126))
        );
        assert_eq!(
            conn.send_ping(&[0; 1000]),
            Err(SendError::ControlPayloadTooLong(1000))
        );
        assert!(conn.pending_output().is_empty());
        // The connection is still usable, and 125 bytes is fine.
        conn.send_ping(&[1; 125]).unwrap();
        conn.send_pong(&[2; 125]).unwrap();
        let frames = parse_frames(&take_output(&mut conn));
        assert_eq!(frames.len(), 2);
        assert_eq!(
            (frames[0].opcode, &frames[0].payload[..]),
            (PING, &[1; 125][..])
        );
        assert_eq!(
            (frames[1].opcode, &frames[1].payload[..]),
            (PONG, &[2; 125][..])
        );
    }
}

// RFC 6455 §5.5.1: a close reason longer than 123 bytes does not fit in a
// control frame.
#[test]
fn oversized_close_reason_is_refused_on_send() {
    let mut conn = server();
    let reason = "r".repeat(124);
    assert_eq!(
        conn.send_close(CloseCode::NORMAL, &reason),
        Err(SendError::ControlPayloadTooLong(126))
    );
    assert!(conn.pending_output().is_empty());
    assert_eq!(conn.state(), rfc6455::State::Open);
    conn.send_close(CloseCode::NORMAL, &reason[..123]).unwrap();
    let frames = parse_frames(&take_output(&mut conn));
    assert_eq!(frames[0].payload.len(), 125);
}

// RFC 6455 §5.5.2 / §5.5.3: pings and pongs are reported with the exact
// payload bytes, binary included.
#[test]
fn control_payloads_are_arbitrary_bytes() {
    let payload: Vec<u8> = (0..125u8).map(|i| i.wrapping_mul(97) ^ 0xff).collect();
    let mut conn = server();
    let mut wire = masked(PING, &payload);
    wire.extend(masked(PONG, &payload));
    assert_eq!(
        feed_ok(&mut conn, &wire),
        vec![ping(&payload), pong(&payload)]
    );
}

// RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a
// Pong frame in response, unless it already received a Close frame." An
// endpoint that has *sent* a close but not yet received one is still bound
// by that MUST (§5.5.1 forbids only *data* frames after a close).
#[test]
fn ping_received_while_closing_is_still_answered() {
    let mut conn = server();
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    assert_eq!(
        feed_ok(&mut conn, &masked(PING, b"still?")),
        vec![ping(b"still?")]
    );
    assert_eq!(take_output(&mut conn), unmasked(PONG, b"still?"));
}

// RFC 6455 §5.5.2: same rule, applied by the application when auto_pong is
// off: send_pong must be allowed between sending and receiving a close.
#[test]
fn send_pong_is_allowed_while_closing() {
    let mut conn = server_with(Config::default().auto_pong(false));
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    assert_eq!(feed_ok(&mut conn, &masked(PING, b"x")), vec![ping(b"x")]);
    assert_eq!(conn.send_pong(b"x"), Ok(()));
    assert_eq!(take_output(&mut conn), unmasked(PONG, b"x"));
}

// RFC 6455 §5.5.2: "unless it already received a Close frame": a ping that
// follows the peer's close is discarded with everything else (§1.4), and
// not answered.
#[test]
fn ping_after_the_peers_close_is_not_answered() {
    let mut conn = server();
    let mut wire = masked(CLOSE, &close_body(1000, b""));
    wire.extend(masked(PING, b"late"));
    assert_eq!(feed_ok(&mut conn, &wire), vec![close_event(1000, "")]);
    assert_eq!(take_output(&mut conn), server_close(1000));
}
