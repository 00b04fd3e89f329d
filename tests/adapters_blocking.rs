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

/// One direction of an in-memory pipe.
#[derive(Default)]
struct Channel {
    state: std::sync::Mutex<(std::collections::VecDeque<u8>, bool)>,
    ready: std::sync::Condvar,
}

/// One end of an in-memory duplex stream: no socket, so the adapter can
/// set no timeout on it. A read waits at most 30 s, then fails.
struct Pipe {
    rx: std::sync::Arc<Channel>,
    tx: std::sync::Arc<Channel>,
}

fn pipe() -> (Pipe, Pipe) {
    let a = std::sync::Arc::<Channel>::default();
    let b = std::sync::Arc::<Channel>::default();
    (
        Pipe {
            rx: a.clone(),
            tx: b.clone(),
        },
        Pipe { rx: b, tx: a },
    )
}

impl std::io::Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut state = self.rx.state.lock().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while state.0.is_empty() && !state.1 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            state = self.rx.ready.wait_timeout(state, left).unwrap().0;
        }
        let n = buf.len().min(state.0.len());
        for (slot, byte) in buf.iter_mut().zip(state.0.drain(..n)) {
            *slot = byte;
        }
        Ok(n)
    }
}

impl std::io::Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx.state.lock().unwrap().0.extend(buf);
        self.tx.ready.notify_all();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Pipe {
    fn drop(&mut self) {
        self.tx.state.lock().unwrap().1 = true;
        self.tx.ready.notify_all();
    }
}

/// `client` and `accept` over an in-memory duplex stream.
#[test]
fn client_and_accept_over_an_in_memory_stream() {
    let (ours, theirs) = pipe();
    let server = thread::spawn(move || {
        let mut ws = blocking::accept(theirs).unwrap();
        loop {
            match ws.read() {
                Ok(message) => ws.send(message).unwrap(),
                Err(Error::Closed(frame)) => return frame.code,
                Err(e) => panic!("{e}"),
            }
        }
    });
    let request = ClientRequest::new("ws://in-memory/echo").unwrap();
    let (mut ws, response) = blocking::client(ours, request).unwrap();
    assert_eq!(response.status(), 101);
    for message in [Message::text("hi"), Message::binary(vec![7; 70_000])] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    ws.close(CloseCode::NORMAL, "bye").unwrap();
    assert!(matches!(ws.read(), Err(Error::Closed(_))));
    assert_eq!(server.join().unwrap(), CloseCode::NORMAL);
}

/// Over a stream without a socket, the handshake deadline is checked each
/// time a read returns: a server that trickles its response a byte at a
/// time is dropped at the handshake timeout.
#[test]
fn handshake_deadline_over_an_in_memory_stream() {
    let (ours, mut theirs) = pipe();
    let trickler = thread::spawn(move || {
        use std::io::Write;
        for &byte in b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n".iter() {
            if theirs.write_all(&[byte]).is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    let limit = Duration::from_millis(300);
    let config = Config::default().handshake_timeout(limit);
    let request = ClientRequest::new("ws://in-memory/").unwrap();
    let started = Instant::now();
    let error = blocking::client_with_config(ours, request, config)
        .map(drop)
        .unwrap_err();
    assert!(matches!(error, Error::HandshakeTimeout), "{error:?}");
    let took = started.elapsed();
    assert!(
        took >= limit && took < limit + Duration::from_secs(1),
        "{took:?}"
    );
    trickler.join().unwrap();
}
