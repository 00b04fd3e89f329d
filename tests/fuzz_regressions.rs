//! Regression tests for what the fuzz targets (`fuzz/`) found, written
//! against the public API so that they run with plain `cargo test`.
//!
//! Each test names the target and says what the harness saw. See
//! `fuzz/README.md` for turning a fuzzer crash into a test here.

use rfc6455::{Config, Connection, Event, Role};

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

/// client_connection (10-minute campaign, `memory_usage` over the harness's
/// bound): `memory_usage()` counts the input buffer's capacity *from its
/// current position*, so the already-consumed front of its allocation is
/// not counted. After a large message whose buffer also holds the first
/// bytes of the next frame, the application drops the message and the
/// connection reports 1 byte while it still holds the whole allocation;
/// the next read reclaims that allocation and the report jumps to 1 MiB
/// with no new data to explain it. (An idle connection also keeps that
/// allocation until its input is empty.)
#[test]
fn fuzz_client_connection_memory_usage_hides_retained_input() {
    let mut conn = Connection::new(Role::Client, Config::default());
    let mut wire = vec![0x82, 127];
    wire.extend_from_slice(&(1u64 << 20).to_be_bytes());
    wire.resize(wire.len() + (1 << 20), 0);
    wire.push(0x82); // The first byte of the next frame, in the same read.
    conn.receive_data(&wire);
    let message = conn.next_event();
    assert!(matches!(message, Ok(Some(Event::Message(_)))));
    drop(message);
    assert_eq!(conn.next_event(), Ok(None));
    let idle = conn.memory_usage();

    conn.receive_data(&[5]); // The rest of a 5-byte binary frame's header.
    let after = conn.memory_usage();
    assert!(
        after <= idle + 8192,
        "memory_usage went from {idle} to {after} on a 1-byte read"
    );
}

/// client_connection (the same campaign input, replayed on the fix above):
/// the front of the input allocation is also consumed by many *small*
/// frames, whose headers are skipped in place. Here 8 192 empty
/// continuation frames leave 1 byte (half a header) at the end of a 16 KiB
/// allocation: `memory_usage()` says 1. The next large read grows that
/// allocation, and `BytesMut::reserve` keeps the consumed 16 KiB in front
/// of the new bytes, so after it is drained too, a 1 536-byte read
/// reclaims a 108 KiB buffer: more than the documented bound of one frame,
/// one message, one read and a header (plus the 8 KiB a buffer may keep).
#[test]
fn fuzz_client_connection_consumed_prefix_outgrows_the_bound() {
    fn drain(conn: &mut Connection) {
        while let Some(event) = conn.next_event().expect("valid frames") {
            assert!(!matches!(event, Event::Message(_)));
        }
    }
    let (max_frame, max_message) = (125, 125);
    let config = Config::default()
        .max_frame_size(max_frame)
        .max_message_size(max_message);
    let mut conn = Connection::new(Role::Client, config);
    // An empty binary fragment opens a message; every `00 00` after it is
    // an empty continuation frame.
    conn.receive_data(&[0x02]);
    conn.receive_data(&[0; 16 << 10]);
    drain(&mut conn);
    let largest_read = 90 << 10;
    conn.receive_data(&vec![0; largest_read]);
    drain(&mut conn);
    conn.receive_data(&[0; 1536]);

    let bound = max_frame + max_message + largest_read + 14 + 8192;
    let used = conn.memory_usage();
    assert!(
        used <= bound,
        "memory_usage {used} over the documented {bound}"
    );
}
