//! permessage-deflate per-message cost, through the sans-IO core: `send`
//! of one compressed text message (drained to an in-memory sink), and
//! `receive_data` + `next_event` of one compressed client frame.
//!
//! Cases: with and without context takeover (`nct`), one hot connection or
//! [`COLD_CONNECTIONS`] connections in turn (each message then finds its
//! connection's compressor state out of cache, as a broadcast does).

use std::hint::black_box;

use rfc6455::deflate::DeflateParams;
use rfc6455::{Config, Connection, Event, Message, Role, Utf8Bytes};

use crate::frames::{Kind, payload};
use crate::mem::MemStream;

/// Message sizes measured.
pub const DEFLATE_SIZES: [(usize, &str); 4] = [
    (16, "16B"),
    (125, "125B"),
    (1024, "1KiB"),
    (16 << 10, "16KiB"),
];

/// Connections used in turn by the `cold` send case.
pub const COLD_CONNECTIONS: usize = 256;

/// Messages per receive iteration: one fresh connection decodes this many
/// (its set-up is amortised over them).
pub const RECEIVE_MESSAGES: usize = 256;

/// Parameters for one direction with or without context takeover, the
/// default level (3) and a 15-bit window; `min_message_size` 0 so that
/// even the 16 B message is compressed.
pub fn params(no_context_takeover: bool) -> DeflateParams {
    let mut p = DeflateParams::default();
    p.send_no_context_takeover = no_context_takeover;
    p.receive_no_context_takeover = no_context_takeover;
    p.min_message_size = 0;
    p
}

/// A text message of `size` bytes (the codec benchmarks' text payload,
/// which compresses well).
pub fn message(size: usize) -> Message {
    Message::Text(Utf8Bytes::try_from(bytes::Bytes::from(payload(Kind::Text, size))).unwrap())
}

fn drain(conn: &mut Connection, sink: &mut MemStream) {
    while !conn.pending_output().is_empty() {
        let n = sink.write_bytes(conn.pending_output());
        conn.consume_output(n);
    }
}

/// `send(n)` sends `n` messages of `size` bytes on `connections`
/// connections in turn (server role, unmasked).
pub fn sender(size: usize, no_context_takeover: bool, connections: usize) -> impl FnMut(usize) {
    let message = message(size);
    let mut conns: Vec<Connection> = (0..connections)
        .map(|_| {
            let mut c = Connection::new(Role::Server, Config::default());
            c.set_deflate(params(no_context_takeover));
            c
        })
        .collect();
    let mut sink = MemStream::sink();
    // Every connection allocates its compressor before measuring.
    for conn in &mut conns {
        conn.send(&message).unwrap();
        drain(conn, &mut sink);
    }
    let mut next = 0;
    move |n| {
        for _ in 0..n {
            let len = conns.len();
            let conn = &mut conns[next];
            next = if next + 1 == len { 0 } else { next + 1 };
            conn.send(black_box(&message)).unwrap();
            drain(conn, &mut sink);
        }
    }
}

/// The wire bytes of `count` compressed client messages of `size` bytes
/// (masked, RSV1 set), as one client connection sends them in order.
pub fn client_wire(size: usize, no_context_takeover: bool, count: usize) -> Vec<u8> {
    let message = message(size);
    let mut client = Connection::new(Role::Client, Config::default());
    client.set_deflate(params(no_context_takeover));
    let mut wire = Vec::new();
    for _ in 0..count {
        client.send(&message).unwrap();
        wire.extend_from_slice(client.pending_output());
        let n = client.pending_output().len();
        client.consume_output(n);
    }
    wire
}

/// `receive()` decodes [`RECEIVE_MESSAGES`] compressed messages of `size`
/// bytes on a new server connection (the stream must start with the
/// connection when the context is taken over) and returns the bytes
/// decoded. The wire is handed over 16 KiB at a time.
pub fn receiver(size: usize, no_context_takeover: bool) -> impl FnMut() -> usize {
    let wire = client_wire(size, no_context_takeover, RECEIVE_MESSAGES);
    move || {
        let mut conn = Connection::new(Role::Server, Config::default());
        conn.set_deflate(params(no_context_takeover));
        let mut bytes = 0;
        let mut got = 0;
        let mut chunks = wire.chunks(16 << 10);
        while got < RECEIVE_MESSAGES {
            match conn.next_event().expect("decode") {
                Some(Event::Message(m)) => {
                    bytes += m.len();
                    black_box(&m);
                    got += 1;
                }
                Some(other) => panic!("unexpected {other:?}"),
                None => conn.receive_data(chunks.next().expect("more input")),
            }
        }
        bytes
    }
}
