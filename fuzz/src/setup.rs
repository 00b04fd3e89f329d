//! Connections set up the way an application gets them: through the
//! opening handshake, with deterministic keys.

use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, ServerHandshake, accept_key};
use rfc6455::{Config, Connection};

/// The `Sec-WebSocket-Key` bytes used by every handshake in the targets.
pub const HANDSHAKE_KEY: [u8; 16] = *b"fuzzing rfc-6455";

/// The URL every client handshake requests.
pub const URL: &str = "ws://example.com/chat";

/// A deterministic source of masking keys, with an all-zero key now and
/// then (a valid key that leaves the payload as it is).
pub fn mask_keys(seed: u8) -> impl FnMut() -> [u8; 4] + Send + 'static {
    let mut state = u32::from(seed).wrapping_mul(0x9e37_79b9) | 1;
    move || {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        if state >> 29 == 0 {
            [0; 4]
        } else {
            state.to_le_bytes()
        }
    }
}

/// A server connection set up by reading a client's request, with
/// `leftover` arriving in the same read.
pub fn server_via_handshake(config: &Config, leftover: &[u8]) -> Connection {
    let request = ClientRequest::new(URL).expect("valid URL");
    let client = ClientHandshake::with_key(request, &Config::default(), HANDSHAKE_KEY)
        .expect("valid request");
    let mut bytes = client.pending_output().to_vec();
    bytes.extend_from_slice(leftover);
    let mut handshake = ServerHandshake::new(config);
    let request = handshake
        .receive_data(&bytes)
        .expect("the request is valid")
        .expect("the request is complete");
    let conn = handshake
        .accept(&request, Accept::default())
        .expect("accepting a valid request");
    let head = std::str::from_utf8(conn.pending_output()).expect("the 101 response is text");
    assert!(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(head.ends_with("\r\n\r\n"));
    let key = base64_key(&HANDSHAKE_KEY);
    assert!(head.contains(&accept_key(key.as_bytes())), "{head}");
    conn
}

/// A client connection set up by reading a server's 101 response, with
/// `leftover` arriving in the same read. Unless `write_request`, the
/// request stays queued ahead of the first frames.
pub fn client_via_handshake(config: &Config, leftover: &[u8], write_request: bool) -> Connection {
    let request = ClientRequest::new(URL).expect("valid URL");
    let mut handshake =
        ClientHandshake::with_key(request, config, HANDSHAKE_KEY).expect("valid request");
    let request_bytes = handshake.pending_output().to_vec();
    if write_request {
        handshake.consume_output(request_bytes.len());
    }
    let mut server = ServerHandshake::new(&Config::default());
    let request = server
        .receive_data(&request_bytes)
        .expect("the client's request is valid")
        .expect("the client's request is complete");
    let server = server
        .accept(&request, Accept::default())
        .expect("accepting a valid request");
    let mut bytes = server.pending_output().to_vec();
    bytes.extend_from_slice(leftover);
    handshake
        .receive_data(&bytes)
        .expect("the server's response is valid")
        .expect("the server's response is complete");
    let conn = handshake.into_connection().expect("a completed handshake");
    let expected_head = if write_request {
        &[][..]
    } else {
        &request_bytes[..]
    };
    assert_eq!(conn.pending_output(), expected_head);
    conn
}

/// Standard base64 of a 16-byte key, written out here so as not to depend
/// on the crate's encoder.
pub fn base64_key(key: &[u8; 16]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in key.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    while !out.len().is_multiple_of(4) {
        out.push('=');
    }
    out
}
