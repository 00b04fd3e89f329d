//! permessage-deflate per-message cost (see `rfc6455_benches::deflate`):
//! groups `deflate-send-{nct,takeover}-{size}` with functions `hot` (one
//! connection) and `cold` (many connections in turn), and
//! `deflate-receive-{nct,takeover}-{size}`.
//!
//! Run: `cargo bench --bench deflate -- [filter]`

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rfc6455_benches::deflate::{
    COLD_CONNECTIONS, DEFLATE_SIZES, RECEIVE_MESSAGES, receiver, sender,
};

const SEND_BATCH: usize = 100;

fn throughput(n: usize, size: usize) -> Throughput {
    Throughput::ElementsAndBytes {
        elements: n as u64,
        bytes: (n * size) as u64,
    }
}

fn send(c: &mut Criterion) {
    for nct in [true, false] {
        let tag = if nct { "nct" } else { "takeover" };
        for (size, label) in DEFLATE_SIZES {
            let mut g = c.benchmark_group(format!("deflate-send-{tag}-{label}"));
            g.throughput(throughput(SEND_BATCH, size));
            let mut hot = sender(size, nct, 1);
            g.bench_function("hot", |b| b.iter(|| hot(SEND_BATCH)));
            drop(hot);
            let mut cold = sender(size, nct, COLD_CONNECTIONS);
            g.bench_function("cold", |b| b.iter(|| cold(SEND_BATCH)));
            g.finish();
        }
    }
}

fn receive(c: &mut Criterion) {
    for nct in [true, false] {
        let tag = if nct { "nct" } else { "takeover" };
        for (size, label) in DEFLATE_SIZES {
            let mut g = c.benchmark_group(format!("deflate-receive-{tag}-{label}"));
            g.throughput(throughput(RECEIVE_MESSAGES, size));
            let mut f = receiver(size, nct);
            assert_eq!(f(), RECEIVE_MESSAGES * size);
            g.bench_function("hot", |b| b.iter(&mut f));
            g.finish();
        }
    }
}

criterion_group!(benches, send, receive);
criterion_main!(benches);
