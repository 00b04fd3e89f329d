//! Runs one codec benchmark case in a plain loop, for profilers
//! (`valgrind --tool=callgrind`, `perf record`) and for instruction counts.
//!
//! ```text
//! codec-prof LIB decode|encode_server|encode_client binary|text SIZE [ITERATIONS]
//! ```
//! One iteration is `messages_per_iteration(SIZE)` messages, as in the
//! criterion benchmark. One warm-up iteration runs first; only the
//! iterations after it run inside [`measured`]. Prints the
//! number of messages handled after the warm-up.

use bytes::Bytes;
use rfc6455_benches::codecs::{DECODERS, ENCODERS, Side};
use rfc6455_benches::frames::{Kind, client_frames, messages_per_iteration, payload};

/// The measured part, by name: `valgrind --tool=callgrind
/// --collect-atstart=no --toggle-collect=*codec_prof*measured*` counts only
/// what runs inside (set-up and warm-up excluded).
#[inline(never)]
fn measured(work: &mut dyn FnMut()) {
    work();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!(
            "usage: codec-prof LIB decode|encode_server|encode_client binary|text SIZE [ITERATIONS]"
        );
        std::process::exit(2);
    }
    let lib = args[0].as_str();
    let kind = match args[2].as_str() {
        "binary" => Kind::Binary,
        "text" => Kind::Text,
        other => panic!("kind {other:?}"),
    };
    let size: usize = args[3].parse().expect("SIZE");
    let iterations: usize = args.get(4).map_or(10, |s| s.parse().expect("ITERATIONS"));
    let n = messages_per_iteration(size);
    let p = payload(kind, size);
    match args[1].as_str() {
        "decode" => {
            let make = DECODERS.iter().find(|d| d.0 == lib).expect("library").1;
            let mut f = make(client_frames(kind, &p, n));
            assert_eq!(f(n), n * size);
            measured(&mut || {
                for _ in 0..iterations {
                    std::hint::black_box(f(n));
                }
            });
        }
        op @ ("encode_server" | "encode_client") => {
            let side = if op == "encode_server" {
                Side::Server
            } else {
                Side::Client
            };
            let make = ENCODERS.iter().find(|d| d.0 == lib).expect("library").1;
            let mut f = make(side, kind, Bytes::from(p));
            f(n);
            measured(&mut || {
                for _ in 0..iterations {
                    f(n);
                }
            });
        }
        other => panic!("operation {other:?}"),
    }
    println!("{}", n * iterations);
}
