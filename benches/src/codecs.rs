//! Each library's decoder and encoder behind one shape, for the criterion
//! benchmark (`benches/codec.rs`) and for `codec-prof` (callgrind, perf).
//!
//! A decoder is `FnMut(n) -> bytes`: decode `n` messages from its
//! [`MemStream`] (which replays the pre-built input forever) and return
//! the payload bytes delivered. An encoder is `FnMut(n)`: send the same
//! message `n` times, each written out (flushed) to the stream.

use std::hint::black_box;
use std::io::IoSlice;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};

use crate::frames::Kind;
use crate::{MemStream, READ_CHUNK, block_on};

/// A decoder; see the module documentation.
pub type Decoder = Box<dyn FnMut(usize) -> usize>;
/// An encoder; see the module documentation.
pub type Encoder = Box<dyn FnMut(usize)>;

/// Makes a library's decoder over the input bytes.
pub type MakeDecoder = fn(Vec<u8>) -> Decoder;
/// Makes a library's encoder over (side, kind, payload).
pub type MakeEncoder = fn(Side, Kind, Bytes) -> Encoder;

/// The decoders: library name, constructor over the input bytes.
pub const DECODERS: [(&str, MakeDecoder); 8] = [
    ("rfc6455", |i| Box::new(rfc6455_decode(i, true))),
    ("rfc6455-slice", |i| Box::new(rfc6455_decode(i, false))),
    ("rfc6455-tokio", |i| Box::new(rfc6455_tokio_decode(i))),
    ("tokio-tungstenite", |i| Box::new(tungstenite_decode(i))),
    ("fastwebsockets", |i| Box::new(fastwebsockets_decode(i))),
    ("tokio-websockets", |i| Box::new(tokio_websockets_decode(i))),
    ("sockudo-ws", |i| Box::new(sockudo_decode(i))),
    ("yawc", |i| Box::new(yawc_decode(i))),
];

/// The encoders: library name, constructor over (side, kind, payload).
pub const ENCODERS: [(&str, MakeEncoder); 7] = [
    ("rfc6455", |s, k, p| Box::new(rfc6455_encode(s, k, p))),
    ("rfc6455-tokio", |s, k, p| {
        Box::new(rfc6455_tokio_encode(s, k, p))
    }),
    ("tokio-tungstenite", |s, k, p| {
        Box::new(tungstenite_encode(s, k, p))
    }),
    ("fastwebsockets", |s, k, p| {
        Box::new(fastwebsockets_encode(s, k, p))
    }),
    ("tokio-websockets", |s, k, p| {
        Box::new(tokio_websockets_encode(s, k, p))
    }),
    ("sockudo-ws", |s, k, p| Box::new(sockudo_encode(s, k, p))),
    ("yawc", |s, k, p| Box::new(yawc_encode(s, k, p))),
];

/// The sans-IO core, as an adapter drives it: read into the connection's
/// own buffer (`read_buffer` + `commit_read`, the stream's bytes copied in
/// once, as a kernel copies them), drain the events. With `direct` false
/// (`rfc6455-slice`): the read's bytes handed over as a slice with
/// `receive_data`, which copies them into that buffer (the way before
/// `read_buffer`).
fn rfc6455_decode(input: Vec<u8>, direct: bool) -> impl FnMut(usize) -> usize {
    use bytes::BufMut;
    use rfc6455::{Config, Connection, Event, Role};
    let mut stream = MemStream::new(input);
    let mut conn = Connection::new(Role::Server, Config::default());
    move |n| {
        let mut bytes = 0;
        let mut got = 0;
        while got < n {
            match conn.next_event().expect("decode") {
                Some(Event::Message(m)) => {
                    bytes += m.len();
                    black_box(&m);
                    got += 1;
                }
                Some(other) => panic!("unexpected {other:?}"),
                None if direct => {
                    let mut buf = conn.read_buffer();
                    buf.put_slice(stream.read_chunk(buf.capacity().min(READ_CHUNK)));
                    conn.commit_read(buf);
                }
                None => conn.receive_data(stream.read_chunk(READ_CHUNK)),
            }
        }
        bytes
    }
}

/// Our tokio adapter over the in-memory stream.
fn rfc6455_tokio_decode(input: Vec<u8>) -> impl FnMut(usize) -> usize {
    use rfc6455::{Config, Role, tokio::WebSocket};
    let mut ws =
        WebSocket::from_upgraded(MemStream::new(input), Role::Server, Config::default(), &[]);
    move |n| {
        block_on(async {
            let mut bytes = 0;
            for _ in 0..n {
                let m = ws.read().await.expect("decode");
                bytes += m.len();
                black_box(&m);
            }
            bytes
        })
    }
}

fn tungstenite_decode(input: Vec<u8>) -> impl FnMut(usize) -> usize {
    use tokio_tungstenite::WebSocketStream;
    use tungstenite::protocol::Role;
    let mut ws = block_on(WebSocketStream::from_raw_socket(
        MemStream::new(input),
        Role::Server,
        None,
    ));
    move |n| {
        block_on(async {
            let mut bytes = 0;
            for _ in 0..n {
                let m = ws.next().await.expect("eof").expect("decode");
                bytes += m.len();
                black_box(&m);
            }
            bytes
        })
    }
}

/// `FragmentCollector`: whole messages, UTF-8 checked (the raw
/// `WebSocket::read_frame` checks unfragmented text the same way).
fn fastwebsockets_decode(input: Vec<u8>) -> impl FnMut(usize) -> usize {
    use fastwebsockets::{FragmentCollector, Role, WebSocket};
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(
        MemStream::new(input),
        Role::Server,
    ));
    move |n| {
        block_on(async {
            let mut bytes = 0;
            for _ in 0..n {
                let f = ws.read_frame().await.expect("decode");
                bytes += f.payload.len();
                black_box(&f);
            }
            bytes
        })
    }
}

fn tokio_websockets_decode(input: Vec<u8>) -> impl FnMut(usize) -> usize {
    let mut ws = tokio_websockets::ServerBuilder::new().serve(MemStream::new(input));
    move |n| {
        block_on(async {
            let mut bytes = 0;
            for _ in 0..n {
                let m = ws.next().await.expect("eof").expect("decode");
                bytes += m.as_payload().len();
                black_box(&m);
            }
            bytes
        })
    }
}

/// Heartbeats and idle timeouts off: they need tokio's timer, which the
/// other libraries do not use by default either.
pub fn sockudo_config() -> sockudo_ws::Config {
    sockudo_ws::Config::builder()
        .auto_ping(false)
        .idle_timeout(0)
        .build()
}

fn sockudo_decode(input: Vec<u8>) -> impl FnMut(usize) -> usize {
    use sockudo_ws::{Role, WebSocketStream, protocol::Message};
    let mut ws = WebSocketStream::from_raw(MemStream::new(input), Role::Server, sockudo_config());
    move |n| {
        block_on(async {
            let mut bytes = 0;
            for _ in 0..n {
                let m = ws.next().await.expect("eof").expect("decode");
                bytes += match &m {
                    Message::Text(b) | Message::Binary(b) => b.len(),
                    other => panic!("unexpected {other:?}"),
                };
                black_box(&m);
            }
            bytes
        })
    }
}

/// The encoders take the message in each library's own type, built once
/// (a refcount bump per send where the type is `Bytes`-backed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Side {
    /// server → client, unmasked
    Server,
    /// client → server, masked
    Client,
}

fn rfc6455_encode(side: Side, kind: Kind, p: Bytes) -> impl FnMut(usize) {
    use rfc6455::{Config, Connection, Message, Role, Utf8Bytes};
    let role = if side == Side::Server {
        Role::Server
    } else {
        Role::Client
    };
    let mut conn = Connection::new(role, Config::default());
    // The stream takes vectored writes, as a TCP socket does: large
    // payloads are then queued by reference and written with their header.
    conn.set_vectored_output(true);
    let mut stream = MemStream::sink();
    let msg = match kind {
        Kind::Binary => Message::Binary(p),
        Kind::Text => Message::Text(Utf8Bytes::try_from(p).unwrap()),
    };
    move |n| {
        for _ in 0..n {
            conn.send(&msg).expect("send");
            loop {
                let mut slices = [IoSlice::new(&[]); 4];
                let k = conn.pending_output_vectored(&mut slices);
                if k == 0 {
                    break;
                }
                let w = stream.write_vectored_bytes(&slices[..k]);
                conn.consume_output(w);
            }
        }
    }
}

fn rfc6455_tokio_encode(side: Side, kind: Kind, p: Bytes) -> impl FnMut(usize) {
    use rfc6455::{Config, Message, Role, Utf8Bytes, tokio::WebSocket};
    let role = if side == Side::Server {
        Role::Server
    } else {
        Role::Client
    };
    let mut ws = WebSocket::from_upgraded(MemStream::sink(), role, Config::default(), &[]);
    let msg = match kind {
        Kind::Binary => Message::Binary(p),
        Kind::Text => Message::Text(Utf8Bytes::try_from(p).unwrap()),
    };
    move |n| {
        block_on(async {
            for _ in 0..n {
                ws.send(msg.clone()).await.expect("send");
            }
        })
    }
}

fn tungstenite_encode(side: Side, kind: Kind, p: Bytes) -> impl FnMut(usize) {
    use tokio_tungstenite::WebSocketStream;
    use tungstenite::{Message, Utf8Bytes, protocol::Role};
    let role = if side == Side::Server {
        Role::Server
    } else {
        Role::Client
    };
    let mut ws = block_on(WebSocketStream::from_raw_socket(
        MemStream::sink(),
        role,
        None,
    ));
    let msg = match kind {
        Kind::Binary => Message::Binary(p),
        Kind::Text => Message::Text(Utf8Bytes::try_from(p).unwrap()),
    };
    move |n| {
        block_on(async {
            for _ in 0..n {
                ws.send(msg.clone()).await.expect("send");
            }
        })
    }
}

fn fastwebsockets_encode(side: Side, kind: Kind, p: Bytes) -> impl FnMut(usize) {
    use fastwebsockets::{Frame, Payload, Role, WebSocket};
    let role = if side == Side::Server {
        Role::Server
    } else {
        Role::Client
    };
    let mut ws = WebSocket::after_handshake(MemStream::sink(), role);
    move |n| {
        block_on(async {
            for _ in 0..n {
                let payload = Payload::Borrowed(&p);
                let frame = match kind {
                    Kind::Binary => Frame::binary(payload),
                    Kind::Text => Frame::text(payload),
                };
                ws.write_frame(frame).await.expect("send");
            }
        })
    }
}

fn tokio_websockets_encode(side: Side, kind: Kind, p: Bytes) -> impl FnMut(usize) {
    use tokio_websockets::Message;
    let mut ws = match side {
        Side::Server => tokio_websockets::ServerBuilder::new().serve(MemStream::sink()),
        Side::Client => tokio_websockets::ClientBuilder::new().take_over(MemStream::sink()),
    };
    move |n| {
        block_on(async {
            for _ in 0..n {
                let msg = match kind {
                    Kind::Binary => Message::binary(p.clone()),
                    Kind::Text => Message::text(p.clone()),
                };
                ws.send(msg).await.expect("send");
            }
        })
    }
}

fn sockudo_encode(side: Side, kind: Kind, p: Bytes) -> impl FnMut(usize) {
    use sockudo_ws::{Role, WebSocketStream, protocol::Message};
    let role = if side == Side::Server {
        Role::Server
    } else {
        Role::Client
    };
    let mut ws = WebSocketStream::from_raw(MemStream::sink(), role, sockudo_config());
    move |n| {
        block_on(async {
            for _ in 0..n {
                let msg = match kind {
                    Kind::Binary => Message::Binary(p.clone()),
                    Kind::Text => Message::Text(p.clone()),
                };
                ws.send(msg).await.expect("send");
            }
        })
    }
}

/// yawc as its echo server runs it: UTF-8 of text checked, no compression.
fn yawc_options() -> yawc::Options {
    yawc::Options::default().with_utf8().without_compression()
}

fn yawc_role(side: Side) -> yawc::Role {
    match side {
        Side::Server => yawc::Role::Server,
        Side::Client => yawc::Role::Client,
    }
}

fn yawc_decode(input: Vec<u8>) -> impl FnMut(usize) -> usize {
    let stream = MemStream::new(input);
    let mut ws = yawc::WebSocket::from_stream(stream, yawc::Role::Server, yawc_options())
        .expect("yawc stream");
    move |n| {
        block_on(async {
            let mut bytes = 0;
            for _ in 0..n {
                let frame = ws.next().await.expect("eof");
                bytes += frame.payload().len();
                black_box(&frame);
            }
            bytes
        })
    }
}

fn yawc_encode(side: Side, kind: Kind, p: Bytes) -> impl FnMut(usize) {
    let mut ws = yawc::WebSocket::from_stream(MemStream::sink(), yawc_role(side), yawc_options())
        .expect("yawc stream");
    move |n| {
        block_on(async {
            for _ in 0..n {
                let frame = match kind {
                    Kind::Binary => yawc::Frame::binary(p.clone()),
                    Kind::Text => yawc::Frame::text(p.clone()),
                };
                ws.send(frame).await.expect("send");
            }
        })
    }
}
