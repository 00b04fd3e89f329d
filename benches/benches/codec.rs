//! Codec benchmarks, in memory, one thread: every library decodes the same
//! pre-built buffer of masked client frames into messages (server role),
//! and encodes the same messages, server → client (unmasked) and client →
//! server (masked), through its normal public API over [`MemStream`].
//!
//! Group names: `decode-{binary,text}-{size}`, `encode_server-…`,
//! `encode_client-…`. Functions: the library names (see `LIBS`), `rfc6455`
//! for the sans-IO core driven directly, `rfc6455-tokio` for our tokio
//! adapter over the same stream, and `base-*` for the physical limits
//! (memcpy, copy + unmask, UTF-8 validation alone) on the same bytes.
//!
//! One iteration = `messages_per_iteration(size)` messages (~1 MiB of
//! payload); criterion's throughput is set to those messages and bytes.
//!
//! Run: `cargo bench --bench codec -- [filter] [--quick-ish criterion flags]`

use std::hint::black_box;
use std::io::IoSlice;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455_benches::MemStream;
use rfc6455_benches::codecs::{DECODERS, ENCODERS, Side};
use rfc6455_benches::frames::{
    self, Kind, SIZES, client_frames, copy_unmask, messages_per_iteration, payload,
};

fn throughput(n: usize, size: usize) -> Throughput {
    Throughput::ElementsAndBytes {
        elements: n as u64,
        bytes: (n * size) as u64,
    }
}

/// Which libraries to run: `BENCH_LIBS=rfc6455,fastwebsockets` limits
/// them (the baselines always run).
fn enabled(name: &str) -> bool {
    match std::env::var("BENCH_LIBS") {
        Ok(list) if !list.is_empty() => list
            .split(',')
            .any(|l| name == l || name.strip_prefix(l).is_some_and(|r| r.starts_with('-'))),
        _ => true,
    }
}

fn decode(c: &mut Criterion) {
    for kind in Kind::ALL {
        for (size, label) in SIZES {
            let n = messages_per_iteration(size);
            let p = payload(kind, size);
            let input = client_frames(kind, &p, n);
            let mut g = c.benchmark_group(format!("decode-{}-{label}", kind.name()));
            g.throughput(throughput(n, size));
            for (name, make) in DECODERS {
                if enabled(name) {
                    let mut f = make(input.clone());
                    assert_eq!(f(n), n * size, "{name} decoded the wrong bytes");
                    g.bench_function(name, |b| b.iter(|| f(n)));
                }
            }
            // The same payloads, masked as on the wire (one key per frame).
            let masked: Vec<Vec<u8>> = (0..n)
                .map(|i| {
                    let mut m = p.clone();
                    frames::xor_mask(&mut m, frames::key(i as u64));
                    m
                })
                .collect();
            let mut dst = vec![0u8; size];
            g.bench_function("base-memcpy", |b| {
                b.iter(|| {
                    for m in &masked {
                        dst.copy_from_slice(black_box(m));
                        black_box(&mut dst);
                    }
                })
            });
            g.bench_function("base-copy-unmask", |b| {
                b.iter(|| {
                    for (i, m) in masked.iter().enumerate() {
                        copy_unmask(&mut dst, black_box(m), frames::key(i as u64));
                        black_box(&mut dst);
                    }
                })
            });
            if kind == Kind::Text {
                g.bench_function("base-utf8", |b| {
                    b.iter(|| {
                        for _ in 0..n {
                            black_box(simdutf8::basic::from_utf8(black_box(&p)).is_ok());
                        }
                    })
                });
                g.bench_function("base-copy-unmask-utf8", |b| {
                    b.iter(|| {
                        for (i, m) in masked.iter().enumerate() {
                            copy_unmask(&mut dst, black_box(m), frames::key(i as u64));
                            black_box(simdutf8::basic::from_utf8(&dst).is_ok());
                        }
                    })
                });
            }
            g.finish();
        }
    }
}

fn encode(c: &mut Criterion) {
    for side in [Side::Server, Side::Client] {
        let side_name = match side {
            Side::Server => "encode_server",
            Side::Client => "encode_client",
        };
        for kind in Kind::ALL {
            for (size, label) in SIZES {
                let n = messages_per_iteration(size);
                let p = Bytes::from(payload(kind, size));
                let mut g = c.benchmark_group(format!("{side_name}-{}-{label}", kind.name()));
                g.throughput(throughput(n, size));
                for (name, make) in ENCODERS {
                    if enabled(name) {
                        let mut f = make(side, kind, p.clone());
                        f(1);
                        g.bench_function(name, |b| b.iter(|| f(n)));
                    }
                }
                // The least an encoder does: a header and one copy of the
                // payload into the same in-memory socket (+ masking for a
                // client, into a reused buffer).
                let mut sink = MemStream::sink();
                let header = {
                    let mut h = Vec::new();
                    frames::put_header(&mut h, kind.opcode(), size, None);
                    h
                };
                g.bench_function("base-memcpy", |b| {
                    b.iter(|| {
                        for _ in 0..n {
                            let mut data = [IoSlice::new(&header), IoSlice::new(black_box(&p))];
                            sink.write_all_vectored(&mut data);
                        }
                    })
                });
                if side == Side::Client {
                    let key = [0x37, 0xfa, 0x21, 0x3d];
                    let mut masked = vec![0u8; size];
                    g.bench_function("base-copy-unmask", |b| {
                        b.iter(|| {
                            for _ in 0..n {
                                copy_unmask(&mut masked, black_box(&p), key);
                                let mut data = [IoSlice::new(&header), IoSlice::new(&masked)];
                                sink.write_all_vectored(&mut data);
                            }
                        })
                    });
                }
                g.finish();
            }
        }
    }
}

/// BROADCAST: one message to 1,000 server connections, each connection's
/// output written to the in-memory socket. `rfc6455-send` encodes per
/// connection (`Connection::send`); `rfc6455-prepared` frames once
/// (`PreparedMessage::new`, counted in every iteration) and copies the
/// frame (`send_prepared`). The `-deflate-` pair does the same with
/// permessage-deflate agreed (no context takeover, so one compression can
/// serve every connection). Only rfc6455 has this API; the peers would
/// encode per connection like `rfc6455-send`.
fn broadcast(c: &mut Criterion) {
    use rfc6455::deflate::DeflateParams;
    use rfc6455::{Config, Connection, Message, PreparedMessage, Role, Utf8Bytes};
    const CONNECTIONS: usize = 1000;
    if !enabled("rfc6455") {
        return;
    }
    for (size, label) in [(125, "125B"), (16 << 10, "16KiB")] {
        let text = Utf8Bytes::try_from(Bytes::from(payload(Kind::Text, size))).unwrap();
        let message = Message::Text(text);
        let mut g = c.benchmark_group(format!("broadcast-text-{label}"));
        g.throughput(throughput(CONNECTIONS, size));
        let mut sink = MemStream::sink();
        let drain = |conn: &mut Connection, sink: &mut MemStream| {
            while !conn.pending_output().is_empty() {
                let n = sink.write_bytes(conn.pending_output());
                conn.consume_output(n);
            }
        };
        let params = {
            let mut p = DeflateParams::default();
            p.send_no_context_takeover = true;
            p.receive_no_context_takeover = true;
            p
        };
        for deflate in [false, true] {
            let mut conns: Vec<Connection> = (0..CONNECTIONS)
                .map(|_| {
                    let mut conn = Connection::new(Role::Server, Config::default());
                    if deflate {
                        conn.set_deflate(params);
                    }
                    conn
                })
                .collect();
            let tag = if deflate {
                "rfc6455-deflate"
            } else {
                "rfc6455"
            };
            g.bench_function(format!("{tag}-send"), |b| {
                b.iter(|| {
                    for conn in &mut conns {
                        conn.send(&message).unwrap();
                        drain(conn, &mut sink);
                    }
                })
            });
            g.bench_function(format!("{tag}-prepared"), |b| {
                b.iter(|| {
                    let prepared = if deflate {
                        PreparedMessage::deflated(message.clone(), params.compression_level, 15)
                    } else {
                        PreparedMessage::new(message.clone())
                    };
                    for conn in &mut conns {
                        conn.send_prepared(&prepared).unwrap();
                        drain(conn, &mut sink);
                    }
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, decode, encode, broadcast);
criterion_main!(benches);
