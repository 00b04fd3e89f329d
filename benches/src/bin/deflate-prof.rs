//! Runs one permessage-deflate case in a plain loop, for callgrind:
//!
//! ```text
//! deflate-prof send|send-cold|receive nct|takeover SIZE [MESSAGES]
//! ```
//! One warm-up round runs first; only what runs inside [`measured`] is
//! counted with `valgrind --tool=callgrind --collect-atstart=no
//! --toggle-collect=*deflate_prof*measured*`. Divide by MESSAGES (send) or
//! MESSAGES rounded up to whole rounds of `RECEIVE_MESSAGES` (receive).

use rfc6455_benches::deflate::{COLD_CONNECTIONS, RECEIVE_MESSAGES, receiver, sender};

#[inline(never)]
fn measured(work: &mut dyn FnMut()) {
    work();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: deflate-prof send|send-cold|receive nct|takeover SIZE [MESSAGES]");
        std::process::exit(2);
    }
    let nct = match args[1].as_str() {
        "nct" => true,
        "takeover" => false,
        other => panic!("context {other:?}"),
    };
    let size: usize = args[2].parse().expect("SIZE");
    let messages: usize = args.get(3).map_or(1000, |s| s.parse().expect("MESSAGES"));
    match args[0].as_str() {
        op @ ("send" | "send-cold") => {
            let conns = if op == "send" { 1 } else { COLD_CONNECTIONS };
            let mut f = sender(size, nct, conns);
            f(messages);
            measured(&mut || f(messages));
            println!("{messages}");
        }
        "receive" => {
            let mut f = receiver(size, nct);
            assert_eq!(f(), RECEIVE_MESSAGES * size);
            let rounds = messages.div_ceil(RECEIVE_MESSAGES);
            measured(&mut || {
                for _ in 0..rounds {
                    std::hint::black_box(f());
                }
            });
            println!("{}", rounds * RECEIVE_MESSAGES);
        }
        other => panic!("operation {other:?}"),
    }
}
