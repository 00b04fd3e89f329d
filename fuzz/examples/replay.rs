//! Runs inputs through a target's logic without libFuzzer, for a readable
//! panic message and backtrace in a debug build:
//!
//! ```text
//! cargo run --example replay -- server_connection artifacts/server_connection/crash-*
//! ```

use rfc6455::Role;
use rfc6455_fuzz::{connection, deflate, frame_header, handshake, roundtrip, utf8};

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: replay TARGET FILE...");
    let run: fn(&[u8]) = match target.as_str() {
        "frame_header" => frame_header::run,
        "utf8" => utf8::run,
        "server_connection" => |data| connection::run(Role::Server, data),
        "client_connection" => |data| connection::run(Role::Client, data),
        "roundtrip" => roundtrip::run,
        "handshake_request" => handshake::run_request,
        "handshake_response" => handshake::run_response,
        "deflate_connection" => deflate::run,
        other => panic!("unknown target {other}"),
    };
    for path in args {
        eprintln!("{path}");
        run(&std::fs::read(&path).expect("readable input"));
    }
}
