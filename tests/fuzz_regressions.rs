//! Regression tests for what the fuzz targets (`fuzz/`) found, written
//! against the public API so that they run with plain `cargo test`.
//!
//! Each test names the target and says what the harness saw. See
//! `fuzz/README.md` for turning a fuzzer crash into a test here.

use rfc6455::{Config, Connection, Role};

/// server_connection: inputs that feed many chunks before draining ran
/// hundreds of times slower than the rest (found profiling the slowest
/// corpus entries). Once the undecoded input passes `max_frame_size` +
/// 14 bytes, `receive_data` grows the buffer to exactly the size needed,
/// so every further call reallocates and copies all of it: feeding n bytes
/// costs O(n²) (16 MiB in 4 KiB reads: ~35 s with a 64 KiB frame limit,
/// ~20 ms with the default limit).
///
/// Feeding without draining is outside the documented call order, and the
/// memory it takes is the caller's; the time should still be linear. Each
/// change of `memory_usage()` below is a reallocation; amortized growth
/// makes about log2(256) of them.
#[test]
fn fuzz_server_connection_undrained_input_reallocates_every_call() {
    let mut conn = Connection::new(Role::Server, Config::default().max_frame_size(64 << 10));
    let chunk = [0u8; 4096];
    let mut last = conn.memory_usage();
    let mut reallocations = 0;
    for _ in 0..256 {
        conn.receive_data(&chunk);
        let now = conn.memory_usage();
        if now != last {
            reallocations += 1;
            last = now;
        }
    }
    assert!(
        reallocations <= 24,
        "{reallocations} reallocations for 256 reads of 4 KiB"
    );
}
