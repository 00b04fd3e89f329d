//! The scenarios. Each is written once, against [`Subject`], and runs for
//! both adapters in both roles.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{Error, Reject};
use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, HandshakeError, accept_key};
use rfc6455::{CloseCode, CloseFrame, Config, Event, Message, MessageKind, ProtocolError, Role};

use super::Scenario;
use super::peer::{PATIENCE, Peer};
use super::subject::Subject;

/// Echoes every message until the connection ends; returns how it ended.
fn echo_until_end<T: Subject>(ws: &mut T) -> Error {
    loop {
        match ws.read() {
            Ok(message) => ws.send(message).unwrap(),
            Err(e) => return e,
        }
    }
}

/// The end every well-behaved scenario reaches: the peer closes with 1000.
fn expect_clean_close(error: Error, code: u16, reason: &str) -> CloseFrame {
    match error {
        Error::Closed(frame) => {
            assert_eq!(u16::from(frame.code), code);
            assert_eq!(frame.reason, reason);
            frame
        }
        other => panic!("expected a clean close, got {other:?}"),
    }
}

fn echoed_by_subject(peer: &mut Peer, message: Message) {
    peer.send(&message);
    assert_eq!(peer.expect_message(), message);
}

/// A text message both ways.
#[derive(Default)]
pub struct Text;
impl Scenario for Text {
    fn peer(&self, peer: &mut Peer) {
        echoed_by_subject(peer, Message::text("hello, ☃"));
        echoed_by_subject(peer, Message::text(""));
        let frame = peer.close(CloseCode::NORMAL, "done");
        assert_eq!(frame.code, CloseCode::NORMAL);
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        expect_clean_close(echo_until_end(ws), 1000, "done");
    }
}

/// A binary message both ways, every byte value.
#[derive(Default)]
pub struct Binary;
impl Scenario for Binary {
    fn peer(&self, peer: &mut Peer) {
        echoed_by_subject(peer, Message::binary((0..=255).collect::<Vec<u8>>()));
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        expect_clean_close(echo_until_end(ws), 1000, "");
    }
}

/// Fragmented messages both ways, with a code point split between
/// fragments and a ping between them.
#[derive(Default)]
pub struct Fragmented;
impl Scenario for Fragmented {
    fn peer(&self, peer: &mut Peer) {
        let c = &mut peer.conn;
        c.send_fragment(MessageKind::Text, b"h\xc3", false).unwrap();
        c.send_ping(b"mid").unwrap();
        c.send_fragment(MessageKind::Text, b"\xa9llo", false)
            .unwrap();
        c.send_fragment(MessageKind::Text, b"!", true).unwrap();
        peer.flush();
        assert_eq!(peer.expect_message(), Message::binary(vec![1, 2, 3, 4, 5]));
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        assert_eq!(ws.read().unwrap(), Message::text("héllo!"));
        ws.send_fragment(MessageKind::Binary, &[1, 2], false)
            .unwrap();
        ws.send_fragment(MessageKind::Binary, &[3], false).unwrap();
        ws.send_fragment(MessageKind::Binary, &[4, 5], true)
            .unwrap();
        expect_clean_close(echo_until_end(ws), 1000, "");
    }
}

/// A 16 MiB message, echoed.
#[derive(Default)]
pub struct Large;
impl Scenario for Large {
    fn peer(&self, peer: &mut Peer) {
        let data: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
        echoed_by_subject(peer, Message::binary(data));
        echoed_by_subject(peer, Message::text("x".repeat(16 << 20)));
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        expect_clean_close(echo_until_end(ws), 1000, "");
    }
}

/// Many small messages arriving together, in order.
#[derive(Default)]
pub struct Burst;
impl Scenario for Burst {
    fn peer(&self, peer: &mut Peer) {
        for i in 0..1000 {
            peer.conn.send_text(&format!("m{i}")).unwrap();
        }
        peer.flush();
        for i in 0..1000 {
            assert_eq!(peer.expect_message(), Message::text(format!("m{i}")));
        }
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        expect_clean_close(echo_until_end(ws), 1000, "");
    }
}

/// The peer's ping is answered by `read`; the subject's ping is answered
/// by the peer and consumed by `read`.
#[derive(Default)]
pub struct PingPong;
impl Scenario for PingPong {
    fn peer(&self, peer: &mut Peer) {
        peer.conn.send_ping(b"are you there").unwrap();
        peer.flush();
        assert_eq!(
            peer.next_event().unwrap(),
            Event::Pong("are you there".into())
        );
        peer.send(&Message::text("after the ping"));
        assert_eq!(peer.next_event().unwrap(), Event::Ping("p1".into()));
        peer.send(&Message::text("end"));
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        assert_eq!(ws.read().unwrap(), Message::text("after the ping"));
        ws.ping(b"p1").unwrap();
        assert_eq!(ws.read().unwrap(), Message::text("end"));
        expect_clean_close(ws.read().unwrap_err(), 1000, "");
    }
}

/// With `auto_pong` off, pings, pongs and the close frame reach the
/// application through the event-level read, and it answers pings itself.
#[derive(Default)]
pub struct ManualPong;
impl Scenario for ManualPong {
    fn config(&self) -> Config {
        Config::default().auto_pong(false)
    }
    fn peer(&self, peer: &mut Peer) {
        peer.conn.send_ping(b"first").unwrap();
        peer.conn.send_ping(b"second").unwrap();
        peer.flush();
        // Answered by the application, each once, in order.
        assert_eq!(peer.next_event().unwrap(), Event::Pong("first".into()));
        assert_eq!(peer.next_event().unwrap(), Event::Pong("second".into()));
        peer.conn.send_pong(b"unsolicited").unwrap();
        peer.send(&Message::text("then a message"));
        peer.close(CloseCode::NORMAL, "over");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        for payload in ["first", "second"] {
            assert_eq!(ws.read_event().unwrap(), Event::Ping(payload.into()));
            ws.send_pong(payload.as_bytes()).unwrap();
        }
        assert_eq!(ws.read_event().unwrap(), Event::Pong("unsolicited".into()));
        assert_eq!(
            ws.read_event().unwrap(),
            Event::Message(Message::text("then a message"))
        );
        let Event::Close(frame) = ws.read_event().unwrap() else {
            panic!("expected the close frame")
        };
        assert_eq!((frame.code, &*frame.reason), (CloseCode::NORMAL, "over"));
        expect_clean_close(ws.read_event().unwrap_err(), 1000, "over");
    }
}

/// Streaming receive through the adapter: a message larger than the
/// message limit arrives in pieces and is relayed as fragments at once.
#[derive(Default)]
pub struct Streaming;
impl Scenario for Streaming {
    fn config(&self) -> Config {
        Config::default()
            .max_message_size(64 << 10)
            .max_frame_size(64 << 10)
            .streaming(Some(64 << 20))
    }
    fn peer(&self, peer: &mut Peer) {
        let text = "streamé ".repeat(200_000); // 1.8 MB, over both limits
        peer.conn.send_text(&text).unwrap();
        peer.flush();
        assert_eq!(peer.expect_message(), Message::text(text));
        let binary: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        for chunk in binary.chunks(100_000) {
            let last = chunk.as_ptr_range().end == binary.as_ptr_range().end;
            peer.conn
                .send_fragment(MessageKind::Binary, chunk, last)
                .unwrap();
        }
        peer.flush();
        assert_eq!(peer.expect_message(), Message::binary(binary));
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        let mut pieces = 0;
        loop {
            match ws.read_event() {
                Ok(Event::Piece { data, last }) => {
                    pieces += 1;
                    ws.send_fragment(data.kind(), data.as_bytes(), last)
                        .unwrap();
                }
                Ok(Event::Close(_)) => {}
                Ok(other) => panic!("unexpected {other:?}"),
                Err(e) => {
                    expect_clean_close(e, 1000, "");
                    break;
                }
            }
        }
        assert!(pieces > 4, "{pieces} pieces");
    }
}

/// The subject closes with a code and reason; the peer echoes the code.
#[derive(Default)]
pub struct CloseBySubject;
impl Scenario for CloseBySubject {
    fn peer(&self, peer: &mut Peer) {
        let frame = peer.expect_close();
        assert_eq!((u16::from(frame.code), &*frame.reason), (4001, "bye now"));
        peer.finish();
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        ws.close(CloseCode::from(4001), "bye now").unwrap();
        expect_clean_close(ws.read().unwrap_err(), 4001, "");
        // The end is sticky, and nothing more can be sent.
        expect_clean_close(ws.read().unwrap_err(), 4001, "");
        assert!(matches!(
            ws.send(Message::text("late")),
            Err(Error::Send(rfc6455::SendError::Closed))
        ));
    }
}

/// The peer closes with a code and reason; `read` reports it as a clean
/// close after echoing it.
#[derive(Default)]
pub struct CloseByPeer;
impl Scenario for CloseByPeer {
    fn peer(&self, peer: &mut Peer) {
        let frame = peer.close(CloseCode::GOING_AWAY, "going away");
        assert_eq!(frame.code, CloseCode::GOING_AWAY);
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        expect_clean_close(ws.read().unwrap_err(), 1001, "going away");
    }
}

/// The peer closes, then drops TCP with our close echo unread, so the
/// kernel answers with a reset instead of a FIN. The closing handshake was
/// complete: that is still a clean close.
#[derive(Default)]
pub struct ResetAfterClose;
impl Scenario for ResetAfterClose {
    fn peer(&self, peer: &mut Peer) {
        peer.conn
            .send_close(CloseCode::NORMAL, "reset follows")
            .unwrap();
        peer.flush();
        thread::sleep(Duration::from_millis(300)); // the echo arrives, unread
    } // dropped here, with unread data: RST
    fn subject<T: Subject>(&self, ws: &mut T) {
        expect_clean_close(ws.read().unwrap_err(), 1000, "reset follows");
    }
}

/// The peer drops TCP without a close frame: an abnormal close (1006).
#[derive(Default)]
pub struct AbruptEof;
impl Scenario for AbruptEof {
    fn peer(&self, peer: &mut Peer) {
        peer.send(&Message::text("last words"));
        let _ = peer.stream.shutdown(std::net::Shutdown::Both);
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        assert_eq!(ws.read().unwrap(), Message::text("last words"));
        assert!(matches!(ws.read(), Err(Error::AbnormalClose)));
        assert!(matches!(ws.read(), Err(Error::AbnormalClose)));
        assert!(matches!(ws.send(Message::text("x")), Err(Error::Send(_))));
    }
}

/// The peer resets the connection while the subject is blocked writing:
/// the write fails with an I/O error, and then the end is abnormal (it does
/// not keep failing the same way).
#[derive(Default)]
pub struct ResetWhileWriting;
impl Scenario for ResetWhileWriting {
    fn peer(&self, peer: &mut Peer) {
        peer.send(&Message::text("go"));
        thread::sleep(Duration::from_millis(300)); // their data piles up, unread
    } // dropped with unread data: RST
    fn subject<T: Subject>(&self, ws: &mut T) {
        assert_eq!(ws.read().unwrap(), Message::text("go"));
        let failed = (0..200).find_map(|_| ws.send(Message::binary(vec![0; 1 << 20])).err());
        assert!(matches!(failed, Some(Error::Io(_))), "{failed:?}");
        assert!(matches!(ws.read(), Err(Error::AbnormalClose)));
        assert!(matches!(ws.read(), Err(Error::AbnormalClose)));
    }
}

/// The peer sends a frame with a reserved opcode: `read` reports the
/// protocol error and the peer receives a 1002 close.
#[derive(Default)]
pub struct ProtocolViolation;
impl Scenario for ProtocolViolation {
    fn peer(&self, peer: &mut Peer) {
        peer.send(&Message::text("fine"));
        let frame = peer.raw_frame(0x83, b"??");
        peer.send_raw(&frame);
        assert_eq!(peer.expect_close().code, CloseCode::PROTOCOL_ERROR);
        peer.expect_eof();
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        assert_eq!(ws.read().unwrap(), Message::text("fine"));
        let expected = ProtocolError::ReservedOpcode(3);
        assert!(matches!(ws.read(), Err(Error::Protocol(e)) if e == expected));
        assert!(matches!(ws.read(), Err(Error::Protocol(e)) if e == expected));
    }
}

/// Invalid UTF-8 in a text message: 1007.
#[derive(Default)]
pub struct InvalidUtf8;
impl Scenario for InvalidUtf8 {
    fn peer(&self, peer: &mut Peer) {
        let frame = peer.raw_frame(0x81, b"ok \xff");
        peer.send_raw(&frame);
        assert_eq!(peer.expect_close().code, CloseCode::INVALID_PAYLOAD);
        peer.expect_eof();
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        assert!(matches!(
            ws.read(),
            Err(Error::Protocol(ProtocolError::InvalidUtf8))
        ));
    }
}

/// A peer that stops reading stalls the sender instead of letting its
/// output grow; once it reads again, every message arrives intact.
#[derive(Default)]
pub struct BackPressure(Arc<AtomicUsize>);
const BP_MESSAGES: usize = 64;
impl Scenario for BackPressure {
    fn config(&self) -> Config {
        Config::default().write_buffer_high_water(256 << 10)
    }
    fn peer(&self, peer: &mut Peer) {
        thread::sleep(Duration::from_millis(700));
        let sent = self.0.load(Ordering::SeqCst);
        assert!(sent < BP_MESSAGES, "the sender never stalled ({sent} sent)");
        for i in 0..BP_MESSAGES {
            let m = peer.expect_message();
            assert!(m.len() == 1 << 20 && m.as_bytes().iter().all(|&b| b == i as u8));
        }
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        for i in 0..BP_MESSAGES {
            ws.send(Message::binary(vec![i as u8; 1 << 20])).unwrap();
            self.0.store(i + 1, Ordering::SeqCst);
        }
        expect_clean_close(ws.read().unwrap_err(), 1000, "");
    }
}

/// A silent peer: keepalive pings go unanswered and `read` fails the
/// connection with 1011, by itself (no message ever arrives).
#[derive(Default)]
pub struct KeepaliveTimeout;
impl Scenario for KeepaliveTimeout {
    fn config(&self) -> Config {
        Config::default().keepalive(Some(Duration::from_millis(150)), Duration::from_millis(300))
    }
    fn peer(&self, peer: &mut Peer) {
        thread::sleep(Duration::from_millis(900)); // read nothing: no pongs
        assert_eq!(peer.next_event().unwrap(), Event::Ping(Default::default()));
        assert_eq!(peer.expect_close().code, CloseCode::INTERNAL_ERROR);
        peer.expect_eof();
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        let start = Instant::now();
        let end = ws.read().unwrap_err();
        assert!(
            matches!(end, Error::Protocol(ProtocolError::KeepaliveTimeout)),
            "{end:?}"
        );
        assert!(start.elapsed() >= Duration::from_millis(400));
    }
}

/// A peer that answers keepalive pings keeps the connection up.
#[derive(Default)]
pub struct KeepaliveAnswered;
impl Scenario for KeepaliveAnswered {
    fn config(&self) -> Config {
        Config::default().keepalive(Some(Duration::from_millis(100)), Duration::from_millis(300))
    }
    fn peer(&self, peer: &mut Peer) {
        let start = Instant::now();
        let mut pings = 0;
        while start.elapsed() < Duration::from_millis(900) {
            match peer.next_event().unwrap() {
                Event::Ping(_) => pings += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(pings >= 3, "{pings} keepalive pings");
        peer.send(&Message::text("still here"));
        peer.close(CloseCode::NORMAL, "");
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        assert_eq!(ws.read().unwrap(), Message::text("still here"));
        expect_clean_close(ws.read().unwrap_err(), 1000, "");
    }
}

/// The peer never answers our close frame: after the close timeout, the
/// end is abnormal.
#[derive(Default)]
pub struct CloseTimeout;
impl Scenario for CloseTimeout {
    fn config(&self) -> Config {
        Config::default().close_timeout(Duration::from_millis(300))
    }
    fn peer(&self, peer: &mut Peer) {
        thread::sleep(Duration::from_millis(1200));
        assert_eq!(peer.expect_close().code, CloseCode::NORMAL);
        peer.expect_eof();
    }
    fn subject<T: Subject>(&self, ws: &mut T) {
        let start = Instant::now();
        ws.close(CloseCode::NORMAL, "").unwrap();
        assert!(matches!(ws.read(), Err(Error::AbnormalClose)));
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(250) && waited < Duration::from_secs(5));
    }
}

// ---------------------------------------------------------------------------
// Handshake scenarios: not peer-against-subject, but each still written once.

fn bind() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

/// Reads until the other end closes the connection; returns how long it took.
fn time_until_dropped(stream: &mut TcpStream) -> Duration {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return start.elapsed(),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return start.elapsed(),
            Err(e) => panic!("not dropped: {e}"),
        }
    }
}

/// With a 200 ms handshake timeout, a silent client and a client that
/// trickles its request byte by byte are dropped, while a normal client
/// on the same server is served.
pub fn handshake_timeouts<T: Subject>() {
    let (listener, port) = bind();
    let config = Config::default().handshake_timeout(Duration::from_millis(200));
    T::spawn_echo_server(listener, config, 3);

    let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let trickler = thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
        let hs = ClientHandshake::new(request, &Config::default()).unwrap();
        let start = Instant::now();
        for byte in hs.pending_output() {
            if stream.write_all(&[*byte]).is_err() {
                return start.elapsed();
            }
            thread::sleep(Duration::from_millis(40));
        }
        panic!("the whole trickled request was taken");
    });
    thread::sleep(Duration::from_millis(20));
    let mut normal = Peer::client(port, &[]);
    echoed_by_subject(&mut normal, Message::text("served"));
    normal.close(CloseCode::NORMAL, "");

    let silent_for = time_until_dropped(&mut silent);
    assert!(
        silent_for < Duration::from_secs(3),
        "silent client kept {silent_for:?}"
    );
    let trickled_for = trickler.join().unwrap();
    assert!(
        trickled_for < Duration::from_secs(3),
        "trickler kept {trickled_for:?}"
    );
}

/// Connecting to a server that never answers fails after the handshake
/// timeout.
pub fn connect_timeout<T: Subject>() {
    let (listener, port) = bind();
    let holder = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_millis(1500));
        drop(stream);
    });
    let start = Instant::now();
    let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
    let config = Config::default().handshake_timeout(Duration::from_millis(200));
    let result = T::connect(request, config);
    assert!(matches!(result, Err(Error::HandshakeTimeout)));
    assert!(start.elapsed() < Duration::from_secs(1));
    holder.join().unwrap();
}

/// A callback refuses the request: the client reads the HTTP error.
pub fn rejected<T: Subject>() {
    let (listener, port) = bind();
    let client = thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let request = ClientRequest::from_parts("127.0.0.1", port, "/private").unwrap();
        let mut hs = ClientHandshake::new(request, &Config::default()).unwrap();
        stream.write_all(hs.pending_output()).unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        let error = hs
            .receive_data(&reply)
            .err()
            .or_else(|| hs.receive_eof().err());
        match error {
            Some(HandshakeError::UnexpectedStatus { status, body, .. }) => {
                assert_eq!((status, &body[..]), (403, &b"members only"[..]));
            }
            other => panic!("{other:?}"),
        }
    });
    let stream = listener.accept().unwrap().0;
    let result = T::accept(stream, Config::default(), |request| {
        assert_eq!(request.path(), "/private");
        Err(Reject::new(403).body("members only"))
    });
    assert!(matches!(
        result,
        Err(Error::Handshake(HandshakeError::Rejected { status: 403 }))
    ));
    client.join().unwrap();
}

/// The application's mistake in accepting (here, a subprotocol the client
/// never offered, and a header it may not add) is answered with a 500
/// before the socket is dropped, so the client learns the handshake failed
/// on the server's side instead of seeing a bare close.
pub fn accept_mistake_is_a_500<T: Subject>() {
    type Expected = fn(&HandshakeError) -> bool;
    let mistakes: [(super::subject::Callback, Expected); 2] = [
        (
            |_| Ok(Accept::new().subprotocol("never-offered")),
            |e| matches!(e, HandshakeError::AcceptUnofferedSubprotocol { .. }),
        ),
        (
            |_| Ok(Accept::new().header("Sec-WebSocket-Accept", "forged")),
            |e| matches!(e, HandshakeError::ReservedHeader { .. }),
        ),
    ];
    for (mistake, expected) in mistakes {
        let (listener, port) = bind();
        let client = thread::spawn(move || {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            stream.set_read_timeout(Some(PATIENCE)).unwrap();
            let request = ClientRequest::from_parts("127.0.0.1", port, "/")
                .unwrap()
                .subprotocol("chat");
            let mut hs = ClientHandshake::new(request, &Config::default()).unwrap();
            stream.write_all(hs.pending_output()).unwrap();
            let mut reply = Vec::new();
            stream.read_to_end(&mut reply).unwrap();
            let error = hs
                .receive_data(&reply)
                .err()
                .or_else(|| hs.receive_eof().err());
            assert!(
                matches!(
                    error,
                    Some(HandshakeError::UnexpectedStatus { status: 500, .. })
                ),
                "{error:?}"
            );
        });
        let stream = listener.accept().unwrap().0;
        let result = T::accept(stream, Config::default(), mistake);
        match result {
            Err(Error::Handshake(e)) => assert!(expected(&e), "{e:?}"),
            Err(other) => panic!("{other:?}"),
            Ok(_) => panic!("accepted"),
        }
        client.join().unwrap();
    }
}

/// A request that is not a WebSocket upgrade gets a 400 before the drop.
pub fn malformed<T: Subject>() {
    let (listener, port) = bind();
    let client = thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).unwrap();
        assert!(reply.starts_with(b"HTTP/1.1 400 "), "{reply:?}");
    });
    let stream = listener.accept().unwrap().0;
    let result = T::accept(stream, Config::default(), |_| Ok(Accept::new()));
    assert!(matches!(result, Err(Error::Handshake(e)) if e.status() == Some(400)));
    client.join().unwrap();
}

/// The server's callback picks its preferred subprotocol among the
/// client's; a connecting subject gets the one the server chose.
pub fn subprotocols<T: Subject>() {
    let (listener, port) = bind();
    let peer = thread::spawn(move || {
        let mut peer = Peer::client(port, &["a.v1", "b.v2"]);
        assert_eq!(peer.subprotocol.as_deref(), Some("b.v2"));
        peer.close(CloseCode::NORMAL, "");
    });
    let stream = listener.accept().unwrap().0;
    let mut ws = T::accept(stream, Config::default(), |request| {
        Ok(Accept::new().subprotocol_from(request, &["b.v2", "a.v1"]))
    })
    .unwrap();
    assert_eq!(ws.subprotocol().as_deref(), Some("b.v2"));
    expect_clean_close(ws.read().unwrap_err(), 1000, "");
    drop(ws);
    peer.join().unwrap();

    let (listener, port) = bind();
    let peer = thread::spawn(move || {
        let mut peer = Peer::server(listener.accept().unwrap().0, &["y"]);
        peer.close(CloseCode::NORMAL, "");
    });
    let request = ClientRequest::from_parts("127.0.0.1", port, "/")
        .unwrap()
        .subprotocol("x")
        .subprotocol("y");
    let mut ws = T::connect(request, Config::default()).unwrap();
    assert_eq!(ws.subprotocol().as_deref(), Some("y"));
    expect_clean_close(ws.read().unwrap_err(), 1000, "");
    drop(ws);
    peer.join().unwrap();
}

/// An "HTTP server" does the upgrade by hand and hands the stream, with
/// the bytes it read past the request head, to `from_upgraded`.
pub fn from_upgraded<T: Subject>() {
    let (listener, port) = bind();
    let peer = thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
        let mut hs = ClientHandshake::new(request, &Config::default()).unwrap();
        // The request and a first frame (masked with a zero key) together.
        let mut bytes = hs.pending_output().to_vec();
        bytes.extend_from_slice(&[0x81, 0x85, 0, 0, 0, 0]);
        bytes.extend_from_slice(b"early");
        stream.write_all(&bytes).unwrap();
        hs.consume_output(usize::MAX);
        let mut buf = [0; 1024];
        loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0);
            if hs.receive_data(&buf[..n]).unwrap().is_some() {
                break;
            }
        }
        let mut peer = Peer::new(stream, hs.into_connection().unwrap());
        assert_eq!(peer.expect_message(), Message::text("early"));
        peer.close(CloseCode::NORMAL, "");
    });
    let (mut stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    let end = loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0);
        head.extend_from_slice(&buf[..n]);
        if let Some(at) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let key = text
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap();
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(key.trim().as_bytes())
    );
    stream.write_all(response.as_bytes()).unwrap();
    let mut ws = T::from_upgraded(stream, Role::Server, Config::default(), &head[end..]);
    expect_clean_close(echo_until_end(&mut ws), 1000, "");
    drop(ws);
    peer.join().unwrap();
}
