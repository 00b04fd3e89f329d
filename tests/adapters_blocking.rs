//! What only the blocking adapter has: non-blocking sockets and socket
//! timeouts surfacing as errors that lose nothing.

mod scenarios;

use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking::{self, Error, MaybeTlsStream, WebSocket};
use rfc6455::handshake::ClientRequest;
use rfc6455::{CloseCode, Config, Message};
use scenarios::Peer;

fn peer_server(script: impl FnOnce(Peer) + Send + 'static) -> (u16, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || script(Peer::server(listener.accept().unwrap().0, &[])));
    (port, handle)
}

fn connect(port: u16) -> WebSocket<MaybeTlsStream> {
    let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
    blocking::connect_with_config(request, Config::default())
        .unwrap()
        .0
}

/// Calls `f` until it stops returning `WouldBlock`, for at most 30 s.
fn retry<T>(mut f: impl FnMut() -> Result<T, Error>) -> Result<T, Error> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match f() {
            Err(e) if e.is_would_block() && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(1));
            }
            result => return result,
        }
    }
}

/// On a non-blocking socket, `read` returns `WouldBlock` until a whole
/// message arrived (a 4 MiB one, in many pieces), `send` queues a message
/// larger than the socket takes at once, and `flush` finishes it.
#[test]
fn non_blocking_socket() {
    let big = Message::binary(vec![3; 4 << 20]);
    let expected = big.clone();
    let (port, peer) = peer_server(move |mut peer| {
        thread::sleep(Duration::from_millis(100));
        peer.send(&expected);
        assert_eq!(peer.expect_message(), expected);
        peer.close(CloseCode::NORMAL, "");
    });
    let mut ws = connect(port);
    ws.get_ref().tcp().set_nonblocking(true).unwrap();
    assert!(ws.read().unwrap_err().is_would_block());
    assert_eq!(retry(|| ws.read()).unwrap(), big);
    ws.send(big).unwrap(); // queued; partly written at most
    retry(|| ws.flush()).unwrap();
    assert!(matches!(retry(|| ws.read()), Err(Error::Closed(_))));
    drop(ws);
    peer.join().unwrap();
}

/// A read timeout interrupts `read` in the middle of a message without
/// losing any of it.
#[test]
fn read_timeout_mid_message() {
    let (port, peer) = peer_server(|mut peer| {
        let mut frame = vec![0x82, 126, 0x03, 0xe8]; // 1000-byte binary frame
        frame.extend(std::iter::repeat_n(9, 1000));
        for piece in frame.chunks(300) {
            peer.send_raw(piece);
            thread::sleep(Duration::from_millis(60));
        }
        peer.close(CloseCode::NORMAL, "");
    });
    let mut ws = connect(port);
    ws.get_ref()
        .tcp()
        .set_read_timeout(Some(Duration::from_millis(10)))
        .unwrap();
    let mut timeouts = 0;
    let message = retry(|| {
        let result = ws.read();
        timeouts += matches!(&result, Err(e) if e.is_would_block()) as usize;
        result
    })
    .unwrap();
    assert!(timeouts > 0);
    assert_eq!(message, Message::binary(vec![9; 1000]));
    assert!(matches!(retry(|| ws.read()), Err(Error::Closed(_))));
    drop(ws);
    peer.join().unwrap();
}
