//! The other end of every scenario: the raw sans-IO core driven over a
//! std `TcpStream`, with no adapter in between. Every wait is bounded.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, ServerHandshake};
use rfc6455::{CloseCode, CloseFrame, Config, Connection, Event, Message, ProtocolError, Role};

/// How long the peer waits for anything before failing the test.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A peer speaking through the core.
pub struct Peer {
    pub stream: TcpStream,
    pub conn: Connection,
    /// The subprotocol the handshake agreed on.
    pub subprotocol: Option<String>,
    buf: Vec<u8>,
    eof: bool,
}

fn config() -> Config {
    Config::default()
        .max_frame_size(32 << 20)
        .max_message_size(64 << 20)
}

impl Peer {
    /// Runs the server handshake on an accepted stream, choosing the first
    /// subprotocol the client offers among `protocols`.
    pub fn server(mut stream: TcpStream, protocols: &[&str]) -> Peer {
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut hs = ServerHandshake::new(&config());
        let mut buf = vec![0; 4096];
        let request = loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "client left during the handshake");
            if let Some(request) = hs.receive_data(&buf[..n]).unwrap() {
                break request;
            }
        };
        let accept = Accept::new().subprotocol_from(&request, protocols);
        let conn = hs.accept(&request, accept).unwrap();
        Peer::new(stream, conn)
    }

    /// Connects to `port` and runs the client handshake, offering
    /// `protocols`.
    pub fn client(port: u16, protocols: &[&str]) -> Peer {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut request = ClientRequest::from_parts("127.0.0.1", port, "/scenario").unwrap();
        for p in protocols {
            request = request.subprotocol(*p);
        }
        let mut hs = ClientHandshake::new(request, &config()).unwrap();
        stream.write_all(hs.pending_output()).unwrap();
        hs.consume_output(usize::MAX);
        let mut buf = vec![0; 4096];
        loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "server left during the handshake");
            if hs.receive_data(&buf[..n]).unwrap().is_some() {
                break;
            }
        }
        Peer::new(stream, hs.into_connection().unwrap())
    }

    /// A peer for a connection whose handshake was done by hand.
    pub fn new(stream: TcpStream, conn: Connection) -> Peer {
        let mut peer = Peer {
            subprotocol: conn.subprotocol().map(str::to_owned),
            stream,
            conn,
            buf: vec![0; 64 * 1024],
            eof: false,
        };
        peer.flush();
        peer
    }

    pub fn role(&self) -> Role {
        self.conn.role()
    }

    /// Writes everything the connection queued. A failed write is not an
    /// error here: the other end may have closed already (after a protocol
    /// error, say), which the scenario checks by other means.
    pub fn flush(&mut self) {
        let out = self.conn.pending_output().to_vec();
        self.conn.consume_output(out.len());
        let _ = self.stream.write_all(&out);
    }

    pub fn send(&mut self, message: &Message) {
        self.conn.send(message).unwrap();
        self.flush();
    }

    /// Writes bytes that bypass the core (to break the protocol).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// A frame header for `opcode` as this peer must send it: masked (with
    /// a zero key, so the payload stays readable) when it is the client.
    pub fn raw_frame(&self, first_byte: u8, payload: &[u8]) -> Vec<u8> {
        assert!(payload.len() < 126);
        let mut frame = vec![first_byte];
        match self.role() {
            Role::Client => frame.extend_from_slice(&[0x80 | payload.len() as u8, 0, 0, 0, 0]),
            Role::Server => frame.push(payload.len() as u8),
        }
        frame.extend_from_slice(payload);
        frame
    }

    /// The next event, reading as needed; panics after [`PATIENCE`].
    pub fn next_event(&mut self) -> Result<Event, ProtocolError> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(event) = self.conn.next_event()? {
                self.flush();
                return Ok(event);
            }
            self.flush();
            assert!(Instant::now() < deadline, "peer: nothing arrived in time");
            assert!(!self.eof, "peer: the transport ended without an event");
            self.read_some();
        }
    }

    fn read_some(&mut self) {
        match self.stream.read(&mut self.buf) {
            Ok(0) | Err(_) => {
                self.eof = true;
                self.conn.receive_eof();
            }
            Ok(n) => self.conn.receive_data(&self.buf[..n]),
        }
    }

    /// The next message, skipping pings and pongs.
    pub fn expect_message(&mut self) -> Message {
        loop {
            match self.next_event().unwrap() {
                Event::Message(m) => return m,
                Event::Ping(_) | Event::Pong(_) => {}
                other => panic!("peer: expected a message, got {other:?}"),
            }
        }
    }

    /// The next close event, skipping pings and pongs.
    pub fn expect_close(&mut self) -> CloseFrame {
        loop {
            match self.next_event().unwrap() {
                Event::Close(frame) => return frame,
                Event::Ping(_) | Event::Pong(_) => {}
                other => panic!("peer: expected a close, got {other:?}"),
            }
        }
    }

    /// Waits until the other end closes the TCP connection.
    pub fn expect_eof(&mut self) {
        let deadline = Instant::now() + PATIENCE;
        while !self.eof {
            assert!(Instant::now() < deadline, "peer: the transport did not end");
            self.read_some();
        }
    }

    /// Starts the closing handshake and sees it through: the other end's
    /// close frame, then the end of the transport (a server peer closes it
    /// itself, as RFC 6455 §7.1.1 asks).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> CloseFrame {
        self.conn.send_close(code, reason).unwrap();
        self.flush();
        let frame = self.expect_close();
        self.finish();
        frame
    }

    /// After the close frames crossed: a server closes TCP, a client waits
    /// for the server to.
    pub fn finish(&mut self) {
        match self.role() {
            Role::Server => {
                let _ = self.stream.shutdown(Shutdown::Write);
                self.expect_eof();
            }
            Role::Client => self.expect_eof(),
        }
    }
}
