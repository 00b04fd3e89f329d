//! Replays the committed seed corpus through every target, without
//! libFuzzer: a quick check that the seeds still fit their input formats
//! and that the harness and the crate agree on them.

use std::fs;

use rfc6455::Role;
use rfc6455_fuzz::{connection, deflate, frame_header, handshake, roundtrip, utf8};

fn replay(target: &str, run: fn(&[u8])) {
    let dir = format!("{}/seeds/{target}", env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.expect("a directory entry").path();
        let data = fs::read(&path).expect("a seed");
        eprintln!("{}", path.display());
        run(&data);
        count += 1;
    }
    assert!(count > 0, "no seeds in {dir}");
}

#[test]
fn frame_header_seeds() {
    replay("frame_header", frame_header::run);
}

#[test]
fn utf8_seeds() {
    replay("utf8", utf8::run);
}

#[test]
fn server_connection_seeds() {
    replay("server_connection", |data| {
        connection::run(Role::Server, data)
    });
}

#[test]
fn client_connection_seeds() {
    replay("client_connection", |data| {
        connection::run(Role::Client, data)
    });
}

#[test]
fn roundtrip_seeds() {
    replay("roundtrip", roundtrip::run);
}

#[test]
fn handshake_request_seeds() {
    replay("handshake_request", handshake::run_request);
}

#[test]
fn handshake_response_seeds() {
    replay("handshake_response", handshake::run_response);
}

#[test]
fn deflate_connection_seeds() {
    replay("deflate_connection", deflate::run);
}
