//! Keepalive and close timers, driven by instants the test makes up: no
//! sleeping. Time enters the core only through `handle_timeout(now)`, and
//! the core names its next deadline through `poll_timeout()`.

mod common;

use std::time::{Duration, Instant};

use common::*;
use rfc6455::{CloseCode, Config, Connection, Outcome, ProtocolError, State};

const INTERVAL: Duration = Duration::from_secs(30);
const TIMEOUT: Duration = Duration::from_secs(5);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
const NS: Duration = Duration::from_nanos(1);

fn keepalive() -> Config {
    Config::default()
        .keepalive(Some(INTERVAL), TIMEOUT)
        .close_timeout(CLOSE_TIMEOUT)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// Keepalive is on by default (a ping after 20 s of silence, 20 s to
// answer it). Turned off, no timer runs on an idle open connection.
#[test]
fn keepalive_is_on_by_default() {
    let t0 = Instant::now();
    let mut conn = server();
    conn.handle_timeout(t0);
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(20)));
    conn.handle_timeout(t0 + secs(20));
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
    conn.handle_timeout(t0 + secs(40));
    assert_eq!(
        drain(&mut conn).error,
        Some(ProtocolError::KeepaliveTimeout)
    );
}

#[test]
fn no_timer_runs_with_keepalive_off() {
    let t0 = Instant::now();
    let mut conn = server_with(Config::default().keepalive(None, secs(20)));
    conn.handle_timeout(t0);
    assert_eq!(conn.poll_timeout(), None);
    conn.handle_timeout(t0 + secs(3600));
    assert!(conn.pending_output().is_empty());
    assert_eq!(drain(&mut conn), Drained::default());
}

// RFC 6455 §5.5.2: "A Ping frame MAY be sent ... as a keepalive". After the
// idle interval, and not a nanosecond before, a server sends an empty ping.
#[test]
fn keepalive_ping_after_the_idle_interval() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    assert_eq!(conn.poll_timeout(), Some(t0 + INTERVAL));
    conn.handle_timeout(t0 + INTERVAL - NS);
    assert!(conn.pending_output().is_empty());
    conn.handle_timeout(t0 + INTERVAL);
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
    // Now waiting for any sign of life until the keepalive timeout.
    assert_eq!(conn.poll_timeout(), Some(t0 + INTERVAL + TIMEOUT));
    // Calling again at the same instant sends no second ping.
    conn.handle_timeout(t0 + INTERVAL);
    assert!(conn.pending_output().is_empty());
}

// RFC 6455 §5.3: a client's keepalive ping is masked like every frame.
#[test]
fn client_keepalive_ping_is_masked() {
    let t0 = Instant::now();
    let mut conn = client_with(keepalive());
    conn.handle_timeout(t0);
    conn.handle_timeout(t0 + INTERVAL);
    let mut expected = vec![0x89, 0x80];
    expected.extend_from_slice(&KEY);
    assert_eq!(take_output(&mut conn), expected);
}

// Activity from the peer postpones the keepalive ping: the interval counts
// from the last time something was received.
#[test]
fn activity_postpones_the_keepalive_ping() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.receive_data(&masked(TEXT, b"hi"));
    conn.handle_timeout(t0 + secs(20));
    assert_eq!(drain(&mut conn).events, vec![text("hi")]);
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(20) + INTERVAL));
    conn.handle_timeout(t0 + INTERVAL);
    assert!(conn.pending_output().is_empty(), "postponed by the message");
    conn.handle_timeout(t0 + secs(20) + INTERVAL);
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
}

// Any received bytes count as activity, even a partial frame.
#[test]
fn partial_frames_count_as_activity() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.receive_data(&masked(BINARY, &[0; 100])[..3]);
    conn.handle_timeout(t0 + secs(29));
    conn.handle_timeout(t0 + INTERVAL);
    assert!(conn.pending_output().is_empty());
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(29) + INTERVAL));
}

// The pong that answers our keepalive ping clears the timeout; the next
// ping follows after another full interval.
#[test]
fn an_answered_keepalive_ping_keeps_the_connection_open() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.handle_timeout(t0 + INTERVAL);
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);

    let answered = t0 + INTERVAL + secs(2);
    conn.receive_data(&masked(PONG, b""));
    conn.handle_timeout(answered);
    assert_eq!(drain(&mut conn).events, vec![pong(b"")]);
    conn.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(drain(&mut conn), Drained::default(), "no timeout");
    assert_eq!(conn.state(), State::Open);
    assert_eq!(conn.poll_timeout(), Some(answered + INTERVAL));
    conn.handle_timeout(answered + INTERVAL);
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
}

// No answer at all within the keepalive timeout: the connection fails with
// ProtocolError::KeepaliveTimeout, whose close frame (1011) is queued after
// the ping, and the transport is to be closed.
#[test]
fn an_unanswered_keepalive_ping_fails_the_connection_with_1011() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.handle_timeout(t0 + INTERVAL);
    conn.handle_timeout(t0 + INTERVAL + TIMEOUT - NS);
    assert_eq!(drain(&mut conn), Drained::default(), "not yet");
    assert_eq!(conn.pending_output(), [0x89, 0x00]);

    conn.handle_timeout(t0 + INTERVAL + TIMEOUT);
    assert_eq!(take_output(&mut conn), [0x89, 0x00, 0x88, 0x02, 0x03, 0xf3]);
    assert_eq!(conn.next_event(), Err(ProtocolError::KeepaliveTimeout));
    assert_eq!(conn.next_event(), Err(ProtocolError::KeepaliveTimeout));
    assert_eq!(
        ProtocolError::KeepaliveTimeout.close_code(),
        CloseCode::INTERNAL_ERROR
    );
    assert!(conn.should_close_transport());
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(conn.poll_timeout(), None);
    // Later timeouts change nothing.
    conn.handle_timeout(t0 + secs(3600));
    assert!(conn.pending_output().is_empty());
}

// A late wake-up (the adapter was slow) sends the ping then, and still
// gives the peer the full keepalive timeout to answer.
#[test]
fn a_late_wake_up_sends_the_ping_and_waits_the_full_timeout() {
    let t0 = Instant::now();
    let late = t0 + secs(100);
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.handle_timeout(late);
    assert_eq!(take_output(&mut conn), [0x89, 0x00]);
    assert_eq!(conn.poll_timeout(), Some(late + TIMEOUT));
    assert_eq!(drain(&mut conn), Drained::default());
}

// Keepalive pings stop once the closing handshake starts: only the close
// timer remains.
#[test]
fn keepalive_stops_when_closing() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    take_output(&mut conn);
    conn.handle_timeout(t0 + secs(1));
    assert_eq!(conn.poll_timeout(), Some(t0 + secs(1) + CLOSE_TIMEOUT));
    conn.receive_data(&masked(CLOSE, &close_body(1000, b"")));
    drain(&mut conn);
    conn.handle_timeout(t0 + secs(1000));
    assert!(conn.pending_output().is_empty(), "no ping after the close");
}

// RFC 6455 §7.1.5: we sent a close and the peer never answers: after
// close_timeout the connection is closed with 1006, and the transport is to
// be closed. Both roles.
#[test]
fn close_timeout_without_an_answer_is_1006() {
    for mut conn in [server_with(keepalive()), client_with(keepalive())] {
        let t0 = Instant::now();
        conn.handle_timeout(t0);
        conn.send_close(CloseCode::NORMAL, "").unwrap();
        conn.handle_timeout(t0);
        assert_eq!(conn.poll_timeout(), Some(t0 + CLOSE_TIMEOUT));
        conn.handle_timeout(t0 + CLOSE_TIMEOUT - NS);
        assert_eq!(drain(&mut conn), Drained::default());
        assert_eq!(conn.state(), State::Closing);
        assert!(!conn.should_close_transport());

        assert_eq!(conn.outcome(), None);
        conn.handle_timeout(t0 + CLOSE_TIMEOUT);
        assert_eq!(drain(&mut conn).events, vec![abnormal_close()]);
        assert_eq!(conn.outcome(), Some(&Outcome::Abnormal));
        assert_eq!(conn.state(), State::Closed);
        assert!(conn.should_close_transport());
        assert_eq!(conn.poll_timeout(), None);
        assert_eq!(drain(&mut conn), Drained::default(), "reported once");
    }
}

// The close timer starts at the first handle_timeout after send_close; in
// the meantime poll_timeout names an instant already past, so that the
// adapter calls handle_timeout at once.
#[test]
fn close_timer_starts_at_the_next_handle_timeout() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    let due = conn.poll_timeout().expect("a timer is pending");
    assert!(due <= t0, "poll_timeout must ask for an immediate call");
    let t1 = t0 + secs(2);
    conn.handle_timeout(t1);
    assert_eq!(conn.poll_timeout(), Some(t1 + CLOSE_TIMEOUT));
}

// RFC 6455 §7.1.2: an answer within close_timeout ends the handshake
// normally; the timer then never produces a 1006.
#[test]
fn close_answered_in_time_is_not_1006() {
    let t0 = Instant::now();
    let mut conn = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    conn.handle_timeout(t0);
    conn.receive_data(&masked(CLOSE, &close_body(1000, b"")));
    conn.handle_timeout(t0 + secs(9));
    assert_eq!(drain(&mut conn).events, vec![close_event(1000, "")]);
    assert!(conn.should_close_transport());
    assert_eq!(conn.poll_timeout(), None);
    conn.handle_timeout(t0 + secs(100));
    assert_eq!(drain(&mut conn), Drained::default());
}

// RFC 6455 §7.1.1: after the closing handshake a client waits for the
// server to close TCP — but not forever: close_timeout after its echo, it
// closes the transport itself. No further event.
#[test]
fn client_waiting_for_the_servers_eof_gives_up_after_the_close_timeout() {
    let t0 = Instant::now();
    let mut conn = client_with(keepalive());
    conn.handle_timeout(t0);
    conn.receive_data(&unmasked(CLOSE, &close_body(1000, b"")));
    assert_eq!(drain(&mut conn).events, vec![close_event(1000, "")]);
    assert!(!conn.should_close_transport());
    let t1 = t0 + secs(1);
    conn.handle_timeout(t1);
    assert_eq!(conn.poll_timeout(), Some(t1 + CLOSE_TIMEOUT));
    conn.handle_timeout(t1 + CLOSE_TIMEOUT - NS);
    assert!(!conn.should_close_transport());
    conn.handle_timeout(t1 + CLOSE_TIMEOUT);
    assert!(conn.should_close_transport());
    assert_eq!(conn.poll_timeout(), None);
    assert_eq!(drain(&mut conn), Drained::default());
}

// Same, when the client started the closing handshake: the server's close
// arrives, its EOF never does.
#[test]
fn client_that_initiated_close_also_gives_up_waiting_for_eof() {
    let t0 = Instant::now();
    let mut conn = client_with(keepalive());
    conn.handle_timeout(t0);
    conn.send_close(CloseCode::NORMAL, "").unwrap();
    conn.handle_timeout(t0);
    conn.receive_data(&unmasked(CLOSE, &close_body(1000, b"")));
    conn.handle_timeout(t0 + secs(1));
    assert_eq!(drain(&mut conn).events, vec![close_event(1000, "")]);
    assert!(!conn.should_close_transport());
    conn.handle_timeout(t0 + secs(1000));
    assert!(conn.should_close_transport());
    assert_eq!(drain(&mut conn), Drained::default());
}

// RFC 6455 §7.1.1: the server's EOF before the timeout closes the client's
// transport at once and stops the timer.
#[test]
fn servers_eof_ends_the_clients_wait() {
    let t0 = Instant::now();
    let mut conn = client_with(keepalive());
    conn.handle_timeout(t0);
    conn.receive_data(&unmasked(CLOSE, &close_body(1000, b"")));
    drain(&mut conn);
    conn.handle_timeout(t0);
    conn.receive_eof();
    assert!(conn.should_close_transport());
    assert_eq!(conn.poll_timeout(), None);
    assert_eq!(drain(&mut conn), Drained::default());
}

// A server closes the transport right after the closing handshake, so it
// needs no timer.
#[test]
fn server_needs_no_timer_after_the_closing_handshake() {
    let t0 = Instant::now();
    let mut conn: Connection = server_with(keepalive());
    conn.handle_timeout(t0);
    conn.receive_data(&masked(CLOSE, &close_body(1000, b"")));
    drain(&mut conn);
    conn.handle_timeout(t0 + secs(1));
    assert!(conn.should_close_transport());
    assert_eq!(conn.poll_timeout(), None);
}

// The clock is needed only while a timer can run: keepalive configured, or
// the closing handshake begun. Adapters use this to skip reading the time.
#[test]
fn needs_clock_only_while_a_timer_can_run() {
    let mut quiet = server_with(Config::default().keepalive(None, secs(20)));
    assert!(!quiet.needs_clock());
    quiet.send_close(CloseCode::NORMAL, "").unwrap();
    assert!(quiet.needs_clock());

    let keepalive = server_with(keepalive());
    assert!(keepalive.needs_clock());
}
