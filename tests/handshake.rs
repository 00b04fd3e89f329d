//! The opening handshake (RFC 6455 §4), through the public API only: the
//! accept key, the server's checks and the status it answers each failure
//! with, the limits on the head, the client's request and its checks of the
//! response, and both ends talking through byte buffers.

use proptest::prelude::*;
use rfc6455::handshake::{
    Accept, ClientHandshake, ClientRequest, HandshakeError, Request, ServerHandshake, accept_key,
};
use rfc6455::{Config, Connection, Event, Message, Role};

/// The request of RFC 6455 §1.2, with a subprotocol offer.
const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
    Host: server.example.com\r\n\
    Upgrade: websocket\r\n\
    Connection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Origin: http://example.com\r\n\
    Sec-WebSocket-Protocol: chat, superchat\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// RFC 6455 §5.7: a masked text frame carrying "Hello" (client to server).
const MASKED_HELLO: &[u8] = &[
    0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
];
/// RFC 6455 §5.7: an unmasked text frame carrying "Hello" (server to client).
const UNMASKED_HELLO: &[u8] = &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];

/// The key whose base64 form is the RFC's `dGhlIHNhbXBsZSBub25jZQ==`.
const SAMPLE_NONCE: [u8; 16] = *b"the sample nonce";
const SAMPLE_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn server() -> ServerHandshake {
    ServerHandshake::new(&Config::default())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits a response into its head (as text) and body.
fn split_response(bytes: &[u8]) -> (String, Vec<u8>) {
    let end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head")
        + 4;
    (text(&bytes[..end]), bytes[end..].to_vec())
}

/// A request assembled from header lines, ending with the empty line.
fn request_with(lines: &[&str]) -> Vec<u8> {
    let mut out = String::new();
    for line in lines {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

const VALID: [&str; 6] = [
    "GET / HTTP/1.1",
    "Host: example.com",
    "Upgrade: websocket",
    "Connection: Upgrade",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version: 13",
];

/// The valid request with line `index` replaced (or removed if `None`).
fn valid_but(index: usize, line: Option<&str>) -> Vec<u8> {
    let mut lines: Vec<&str> = VALID.to_vec();
    match line {
        Some(line) => lines[index] = line,
        None => {
            lines.remove(index);
        }
    }
    request_with(&lines)
}

/// Feeds a whole request and returns the error and the queued response.
fn refused(bytes: &[u8]) -> (HandshakeError, String, Vec<u8>) {
    let mut hs = server();
    let err = hs
        .receive_data(bytes)
        .expect_err("the request must be refused");
    let (head, body) = split_response(hs.pending_output());
    (err, head, body)
}

fn next_message(conn: &mut Connection) -> Message {
    match conn.next_event() {
        Ok(Some(Event::Message(message))) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

// RFC 6455 §1.3: the worked example of the accept key.
#[test]
fn rfc_1_3_accept_key() {
    assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), SAMPLE_ACCEPT);
}

#[test]
fn server_parses_the_rfc_request() {
    let request = server().receive_data(REQUEST).unwrap().unwrap();
    assert_eq!(request.method(), "GET");
    assert_eq!(request.path(), "/chat");
    assert_eq!(request.host(), "server.example.com");
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(request.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    assert_eq!(
        request.subprotocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    assert!(request.extensions().is_empty());
    assert_eq!(request.headers().get_str("upgrade"), Some("websocket"));
}

#[test]
fn server_request_fed_one_byte_at_a_time() {
    let whole = server().receive_data(REQUEST).unwrap().unwrap();
    let mut hs = server();
    let mut found = None;
    for (i, byte) in REQUEST.iter().enumerate() {
        let result = hs.receive_data(std::slice::from_ref(byte)).unwrap();
        assert_eq!(result.is_some(), i == REQUEST.len() - 1, "byte {i}");
        found = found.or(result);
    }
    assert_eq!(found, Some(whole));
    assert_eq!(hs.scanned_bytes(), REQUEST.len());
}

fn feed_in_pieces(bytes: &[u8], cuts: &[usize]) -> Option<Request> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut hs = server();
    let mut start = 0;
    let mut found = None;
    for end in cuts.into_iter().chain([bytes.len()]) {
        if let Some(request) = hs.receive_data(&bytes[start..end]).unwrap() {
            assert!(found.is_none());
            found = Some(request);
        }
        start = end;
    }
    found
}

proptest! {
    #[test]
    fn server_request_fed_in_random_pieces(cuts in prop::collection::vec(0usize..1000, 0..20)) {
        let whole = server().receive_data(REQUEST).unwrap();
        prop_assert_eq!(feed_in_pieces(REQUEST, &cuts), whole);
    }
}

#[test]
fn accept_queues_the_101_before_any_frame() {
    let mut hs = server();
    let request = hs.receive_data(REQUEST).unwrap().unwrap();
    let mut conn = hs
        .accept(&request, Accept::new().subprotocol("chat"))
        .unwrap();
    assert_eq!(conn.role(), Role::Server);
    assert_eq!(conn.subprotocol(), Some("chat"));
    conn.send_text("hi").unwrap();
    let out = conn.pending_output();
    let response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
        Sec-WebSocket-Protocol: chat\r\n\r\n";
    assert_eq!(text(&out[..response.len()]), response);
    assert_eq!(&out[response.len()..], b"\x81\x02hi");
}

#[test]
fn server_leftover_bytes_reach_the_connection() {
    // The first frame arrives in the same read as the head...
    let mut input = REQUEST.to_vec();
    input.extend_from_slice(&MASKED_HELLO[..4]);
    let mut hs = server();
    let request = hs.receive_data(&input).unwrap().unwrap();
    // ...and the rest of it before the application accepts.
    assert_eq!(hs.receive_data(&MASKED_HELLO[4..]), Ok(None));
    let mut conn = hs.accept(&request, Accept::new()).unwrap();
    assert_eq!(next_message(&mut conn), Message::text("Hello"));
    assert!(matches!(conn.next_event(), Ok(None)));
}

#[test]
fn server_answers_each_rule_with_its_status() {
    let cases: Vec<(Vec<u8>, u16, HandshakeError)> = vec![
        (
            valid_but(0, Some("GET / HTTP/1.0")),
            400,
            HandshakeError::UnsupportedHttpVersion,
        ),
        (
            valid_but(0, Some("POST / HTTP/1.1")),
            405,
            HandshakeError::MethodNotGet {
                method: "POST".into(),
            },
        ),
        (valid_but(1, None), 400, HandshakeError::MissingHost),
        (
            request_with(&[
                VALID[0], VALID[1], VALID[1], VALID[2], VALID[3], VALID[4], VALID[5],
            ]),
            400,
            HandshakeError::DuplicateHost,
        ),
        (valid_but(2, None), 400, HandshakeError::UpgradeNotWebSocket),
        (
            valid_but(2, Some("Upgrade: h2c")),
            400,
            HandshakeError::UpgradeNotWebSocket,
        ),
        (
            valid_but(3, None),
            400,
            HandshakeError::ConnectionNotUpgrade,
        ),
        (
            valid_but(3, Some("Connection: keep-alive")),
            400,
            HandshakeError::ConnectionNotUpgrade,
        ),
        (valid_but(4, None), 400, HandshakeError::MissingKey),
        (
            request_with(&[
                VALID[0], VALID[1], VALID[2], VALID[3], VALID[4], VALID[4], VALID[5],
            ]),
            400,
            HandshakeError::DuplicateKey,
        ),
        (
            valid_but(4, Some("Sec-WebSocket-Key: c2hvcnQ=")),
            400,
            HandshakeError::InvalidKey,
        ),
        (
            valid_but(4, Some("Sec-WebSocket-Key: not base64 at all!!!!!!!")),
            400,
            HandshakeError::InvalidKey,
        ),
        (valid_but(5, None), 426, HandshakeError::MissingVersion),
        (
            valid_but(5, Some("Sec-WebSocket-Version: 8")),
            426,
            HandshakeError::UnsupportedVersion {
                version: "8".into(),
            },
        ),
    ];
    for (request, status, expected) in cases {
        let (err, head, body) = refused(&request);
        assert_eq!(err, expected);
        assert_eq!(err.status(), Some(status), "{err}");
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{err}: {head}"
        );
        assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
        assert!(head.to_ascii_lowercase().contains("\r\nconnection: "));
        assert!(head.contains("close"));
        if status == 426 {
            assert!(head.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{head}");
        }
        if status == 405 {
            assert!(head.contains("\r\nAllow: GET\r\n"), "{head}");
        }
    }
}

#[test]
fn malformed_http_is_400() {
    for bytes in [
        &b"GET / HTTP/1.1\r\nNo colon here\r\n\r\n"[..],
        b"\x00\x01\x02\r\n\r\n",
        b"GET / HTTP/1.1\nHost: a\n\nX\r\n\r\n",
    ] {
        let (err, head, _) = refused(bytes);
        assert!(
            matches!(err, HandshakeError::MalformedHttp { .. }),
            "{err:?}"
        );
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"));
    }
}

#[test]
fn errors_are_sticky() {
    let mut hs = server();
    let err = hs.receive_data(&valid_but(5, None)).unwrap_err();
    let queued = hs.pending_output().to_vec();
    assert_eq!(hs.receive_data(REQUEST), Err(err.clone()));
    assert_eq!(hs.pending_output(), queued);
    let request = server().receive_data(REQUEST).unwrap().unwrap();
    assert_eq!(hs.accept(&request, Accept::new()).err(), Some(err));
}

/// A valid request padded with a header so that its head is `len` bytes.
fn request_of_len(len: usize) -> Vec<u8> {
    let base = request_with(&VALID).len();
    let pad = len - base - "X-Pad: \r\n".len();
    let filler = "a".repeat(pad);
    let mut lines = VALID.to_vec();
    let pad_line = format!("X-Pad: {filler}");
    lines.push(&pad_line);
    let bytes = request_with(&lines);
    assert_eq!(bytes.len(), len);
    bytes
}

#[test]
fn head_of_exactly_the_limit_is_accepted_one_more_byte_is_431() {
    let limit = Config::default().max_handshake_size;
    assert_eq!(limit, 16 * 1024);
    let mut hs = server();
    assert!(hs.receive_data(&request_of_len(limit)).unwrap().is_some());

    let (err, head, _) = refused(&request_of_len(limit + 1));
    assert_eq!(err, HandshakeError::HeadTooLarge { limit });
    assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

#[test]
fn more_than_100_headers_is_431() {
    let extra: Vec<String> = (0..95).map(|i| format!("X-{i}: v")).collect();
    let mut lines: Vec<&str> = VALID.to_vec();
    lines.extend(extra.iter().map(String::as_str));
    // 5 handshake headers + 95 = 100: accepted.
    assert!(
        server()
            .receive_data(&request_with(&lines))
            .unwrap()
            .is_some()
    );
    lines.push("X-Last: v");
    let (err, head, _) = refused(&request_with(&lines));
    assert_eq!(err, HandshakeError::TooManyHeaders { limit: 100 });
    assert!(head.starts_with("HTTP/1.1 431 "));
}

#[test]
fn a_head_without_end_fails_at_the_limit_having_buffered_no_more() {
    let limit = Config::default().max_handshake_size;
    let garbage = vec![b'A'; 1 << 20];
    let mut hs = server();
    let mut fed = 0;
    let mut failed_at = None;
    for chunk in garbage.chunks(1000) {
        let result = hs.receive_data(chunk);
        assert!(hs.buffered_len() <= limit);
        fed += chunk.len();
        if let Err(err) = result {
            assert_eq!(err, HandshakeError::HeadTooLarge { limit });
            failed_at = Some(fed);
            break;
        }
    }
    // The chunk that crosses 16 KiB fails; nothing past the limit was read.
    assert_eq!(failed_at, Some(17_000));
    assert!(hs.scanned_bytes() <= limit);
    assert!(hs.pending_output().starts_with(b"HTTP/1.1 431 "));
    // Further input is not even looked at.
    assert!(hs.receive_data(&garbage).is_err());
    assert!(hs.scanned_bytes() <= limit);
}

// CVE-2023-43669: a reader that rescans the whole buffer on each read
// spends O(n²) on a head fed a byte at a time.
#[test]
fn a_16_kib_head_fed_byte_by_byte_is_scanned_in_linear_time() {
    let limit = Config::default().max_handshake_size;
    let lines: Vec<String> = (0..90)
        .map(|i| format!("X-{i}: {}", "b".repeat(150)))
        .collect();
    let mut all: Vec<&str> = VALID.to_vec();
    all.extend(lines.iter().map(String::as_str));
    let request = request_with(&all);
    assert!(request.len() > 14_000 && request.len() <= limit);
    let mut hs = server();
    let mut done = false;
    for byte in &request {
        done = hs
            .receive_data(std::slice::from_ref(byte))
            .unwrap()
            .is_some();
    }
    assert!(done);
    assert_eq!(hs.scanned_bytes(), request.len());
}

#[test]
fn subprotocol_is_never_echoed_unless_offered() {
    let mut hs = server();
    let request = hs.receive_data(REQUEST).unwrap().unwrap();
    assert_eq!(
        hs.accept(&request, Accept::new().subprotocol("mqtt")).err(),
        Some(HandshakeError::AcceptUnofferedSubprotocol {
            protocol: "mqtt".into()
        })
    );

    // The server's preference order picks among the offered ones.
    let mut hs = server();
    let request = hs.receive_data(REQUEST).unwrap().unwrap();
    let accept = Accept::new().subprotocol_from(&request, &["mqtt", "superchat", "chat"]);
    let conn = hs.accept(&request, accept).unwrap();
    assert_eq!(conn.subprotocol(), Some("superchat"));
    assert!(text(conn.pending_output()).contains("\r\nSec-WebSocket-Protocol: superchat\r\n"));

    // No offer: no header, whatever the server would prefer.
    let mut hs = server();
    let request = hs.receive_data(&request_with(&VALID)).unwrap().unwrap();
    let accept = Accept::new().subprotocol_from(&request, &["chat"]);
    let conn = hs.accept(&request, accept).unwrap();
    assert_eq!(conn.subprotocol(), None);
    assert!(!text(conn.pending_output()).contains("Sec-WebSocket-Protocol"));
}

#[test]
fn extra_headers_cannot_inject_lines() {
    let mut hs = server();
    let request = hs.receive_data(REQUEST).unwrap().unwrap();
    let accept = Accept::new().header("X-A", "b\r\nSet-Cookie: evil=1");
    assert!(matches!(
        hs.accept(&request, accept),
        Err(HandshakeError::InvalidHeader { .. })
    ));
    let mut hs = server();
    assert!(matches!(
        hs.reject_with_headers(403, &[("X-A\r\nEvil", "1")], b""),
        Err(HandshakeError::InvalidHeader { .. })
    ));
    let req = ClientRequest::new("ws://a/")
        .unwrap()
        .header("X", "1\r\n\r\nGET /");
    assert!(matches!(
        ClientHandshake::new(req, &Config::default()),
        Err(HandshakeError::InvalidHeader { .. })
    ));
}

#[test]
fn client_request_bytes_with_a_fixed_key() {
    let req = ClientRequest::new("ws://server.example.com/chat?room=1")
        .unwrap()
        .origin("http://example.com")
        .subprotocol("chat")
        .subprotocol("superchat")
        .extension("permessage-deflate; client_max_window_bits")
        .header("Authorization", "Bearer t0k3n");
    let hs = ClientHandshake::with_key(req, &Config::default(), SAMPLE_NONCE).unwrap();
    assert_eq!(
        text(hs.pending_output()),
        "GET /chat?room=1 HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Origin: http://example.com\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Authorization: Bearer t0k3n\r\n\r\n"
    );
}

#[test]
fn client_sends_url_credentials_as_basic_authorization() {
    let request = |url: &str| {
        let req = ClientRequest::new(url).unwrap();
        let hs = ClientHandshake::with_key(req, &Config::default(), SAMPLE_NONCE).unwrap();
        text(hs.pending_output())
    };
    // RFC 7617 §2: base64 of "Aladdin:open sesame", percent-decoded first.
    let bytes = request("ws://Aladdin:open%20sesame@server.example.com/");
    assert!(
        bytes.contains("\r\nHost: server.example.com\r\n"),
        "{bytes}"
    );
    assert!(
        bytes.contains("\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"),
        "{bytes}"
    );
    assert!(!bytes.contains("Aladdin") && !bytes.contains("sesame"));

    // An Authorization header set by the caller wins.
    let req = ClientRequest::new("ws://u:p@server.example.com/")
        .unwrap()
        .header("Authorization", "Bearer t0k3n");
    let hs = ClientHandshake::with_key(req, &Config::default(), SAMPLE_NONCE).unwrap();
    let bytes = text(hs.pending_output());
    assert_eq!(bytes.matches("Authorization").count(), 1, "{bytes}");
    assert!(bytes.contains("Authorization: Bearer t0k3n\r\n"));

    // A user name with a colon cannot be sent (RFC 7617 §2).
    let req = ClientRequest::new("ws://h/")
        .unwrap()
        .basic_auth("a:b", "c");
    assert!(matches!(
        ClientHandshake::new(req, &Config::default()),
        Err(HandshakeError::InvalidHeader { .. })
    ));
}

fn host_line(url: &str) -> String {
    let req = ClientRequest::new(url).unwrap();
    let hs = ClientHandshake::with_key(req, &Config::default(), SAMPLE_NONCE).unwrap();
    let out = text(hs.pending_output());
    out.lines()
        .find(|l| l.starts_with("Host: "))
        .unwrap()
        .to_string()
}

#[test]
fn client_host_header_omits_default_ports_and_brackets_ipv6() {
    assert_eq!(host_line("ws://example.com/"), "Host: example.com");
    assert_eq!(host_line("ws://example.com:80/"), "Host: example.com");
    assert_eq!(host_line("ws://example.com:443/"), "Host: example.com:443");
    assert_eq!(host_line("wss://example.com:443/"), "Host: example.com");
    assert_eq!(host_line("wss://example.com:80/"), "Host: example.com:80");
    assert_eq!(
        host_line("ws://example.com:8080/"),
        "Host: example.com:8080"
    );
    assert_eq!(host_line("ws://[::1]/"), "Host: [::1]");
    assert_eq!(
        host_line("ws://[2001:db8::1]:9001/"),
        "Host: [2001:db8::1]:9001"
    );
    let req = ClientRequest::new("ws://[2001:db8::1]:9001/x").unwrap();
    assert_eq!((req.host(), req.port()), ("2001:db8::1", 9001));
    let req = ClientRequest::from_parts("::1", 8080, "/x").unwrap();
    assert_eq!(req.host_header(), "[::1]:8080");
}

/// A client handshake for `ws://server.example.com/chat` with the RFC key,
/// offering `chat` and `superchat`, its request already written.
fn client() -> ClientHandshake {
    let req = ClientRequest::new("ws://server.example.com/chat")
        .unwrap()
        .subprotocol("chat")
        .subprotocol("superchat");
    let mut hs = ClientHandshake::with_key(req, &Config::default(), SAMPLE_NONCE).unwrap();
    let n = hs.pending_output().len();
    hs.consume_output(n);
    hs
}

fn response_with(lines: &[&str]) -> Vec<u8> {
    let mut all = vec![
        "HTTP/1.1 101 Switching Protocols",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    ];
    all.extend_from_slice(lines);
    request_with(&all)
}

#[test]
fn client_accepts_a_valid_response_and_keeps_leftover_frames() {
    let mut input = response_with(&["Sec-WebSocket-Protocol: superchat"]);
    input.extend_from_slice(UNMASKED_HELLO);
    let mut hs = client();
    let response = hs.receive_data(&input).unwrap().unwrap();
    assert_eq!(response.status(), 101);
    assert_eq!(response.subprotocol(), Some("superchat"));
    assert!(response.extensions().is_empty());
    let mut conn = hs.into_connection().unwrap();
    assert_eq!(conn.role(), Role::Client);
    assert_eq!(conn.subprotocol(), Some("superchat"));
    assert!(conn.pending_output().is_empty());
    assert_eq!(next_message(&mut conn), Message::text("Hello"));
}

#[test]
fn client_fails_each_check() {
    let cases: Vec<(Vec<u8>, HandshakeError)> = vec![
        (
            // Valid in every other way, and a frame in the same segment.
            [
                request_with(&[
                    "HTTP/1.0 101 Switching Protocols",
                    "Upgrade: websocket",
                    "Connection: Upgrade",
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                ]),
                UNMASKED_HELLO.to_vec(),
            ]
            .concat(),
            HandshakeError::ResponseNotHttp11,
        ),
        (
            request_with(&[
                "HTTP/1.1 101 Switching Protocols",
                "Connection: Upgrade",
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            ]),
            HandshakeError::ResponseUpgradeNotWebSocket,
        ),
        (
            request_with(&[
                "HTTP/1.1 101 Switching Protocols",
                "Upgrade: h2c",
                "Connection: Upgrade",
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            ]),
            HandshakeError::ResponseUpgradeNotWebSocket,
        ),
        (
            request_with(&[
                "HTTP/1.1 101 Switching Protocols",
                "Upgrade: websocket",
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            ]),
            HandshakeError::ResponseConnectionNotUpgrade,
        ),
        (
            request_with(&[
                "HTTP/1.1 101 Switching Protocols",
                "Upgrade: websocket",
                "Connection: Upgrade",
            ]),
            HandshakeError::MissingAccept,
        ),
        (
            response_with(&["Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]),
            HandshakeError::DuplicateAccept,
        ),
        (
            request_with(&[
                "HTTP/1.1 101 Switching Protocols",
                "Upgrade: websocket",
                "Connection: Upgrade",
                "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ]),
            HandshakeError::WrongAccept {
                expected: SAMPLE_ACCEPT.into(),
                got: "AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into(),
            },
        ),
        (
            response_with(&["Sec-WebSocket-Protocol: mqtt"]),
            HandshakeError::UnofferedSubprotocol {
                protocol: "mqtt".into(),
            },
        ),
        (
            response_with(&["Sec-WebSocket-Protocol: chat, superchat"]),
            HandshakeError::MultipleSubprotocols,
        ),
        (
            response_with(&["Sec-WebSocket-Extensions: permessage-deflate"]),
            HandshakeError::UnofferedExtension {
                name: "permessage-deflate".into(),
            },
        ),
        (
            response_with(&["Sec-WebSocket-Extensions: ;;"]),
            HandshakeError::MalformedExtensions,
        ),
    ];
    for (response, expected) in cases {
        let mut hs = client();
        let err = hs.receive_data(&response).unwrap_err();
        assert_eq!(err, expected);
        // Sticky, and no connection comes out of it.
        assert_eq!(hs.receive_data(UNMASKED_HELLO), Err(expected.clone()));
        assert_eq!(hs.into_connection().err(), Some(expected));
    }
}

#[test]
fn client_refuses_malformed_http() {
    let mut hs = client();
    assert!(matches!(
        hs.receive_data(b"HTTP/1.1 1O1 Switching\r\n\r\n"),
        Err(HandshakeError::MalformedHttp { .. })
    ));
}

#[test]
fn client_reports_an_http10_refusal_as_a_status() {
    let mut hs = client();
    let err = hs
        .receive_data(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        .unwrap_err();
    assert!(matches!(
        err,
        HandshakeError::UnexpectedStatus { status: 404, .. }
    ));
}

#[test]
fn client_reports_a_refusal_with_its_body() {
    let mut hs = client();
    let head =
        b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot";
    assert_eq!(hs.receive_data(head), Ok(None));
    match hs.receive_data(b" today") {
        Err(HandshakeError::UnexpectedStatus {
            status,
            headers,
            body,
        }) => {
            assert_eq!(status, 403);
            assert_eq!(headers.get_str("content-type"), Some("text/plain"));
            assert_eq!(body, b"not today");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_limits_the_response_head() {
    let config = Config::default().max_handshake_size(64);
    let req = ClientRequest::new("ws://a/").unwrap();
    let mut hs = ClientHandshake::new(req, &config).unwrap();
    let err = hs.receive_data(&[b'x'; 100]).unwrap_err();
    assert_eq!(err, HandshakeError::HeadTooLarge { limit: 64 });
    assert!(hs.buffered_len() <= 64);
}

/// Moves a handshake's output into a byte buffer, as a socket would.
fn drain(out: &[u8]) -> Vec<u8> {
    out.to_vec()
}

#[test]
fn client_and_server_end_to_end() {
    let config = Config::default();
    let req = ClientRequest::new("ws://localhost:9001/echo?x=1")
        .unwrap()
        .origin("http://localhost")
        .subprotocol("v1.chat")
        .subprotocol("v2.chat");
    let mut client = ClientHandshake::new(req, &config).unwrap();
    let mut server = ServerHandshake::new(&config);

    // Client -> server, in two reads.
    let wire = drain(client.pending_output());
    client.consume_output(wire.len());
    let (a, b) = wire.split_at(wire.len() / 2);
    assert_eq!(server.receive_data(a), Ok(None));
    let request = server.receive_data(b).unwrap().unwrap();
    assert_eq!(request.path(), "/echo?x=1");
    assert_eq!(request.host(), "localhost:9001");
    assert_eq!(request.origin(), Some("http://localhost"));

    let accept = Accept::new()
        .subprotocol_from(&request, &["v2.chat", "v1.chat"])
        .header("X-Server", "test");
    let mut server_conn = server.accept(&request, accept).unwrap();
    server_conn.send_text("welcome").unwrap();

    // Server -> client: the 101 and the first frame in one read.
    let wire = drain(server_conn.pending_output());
    server_conn.consume_output(wire.len());
    let response = client.receive_data(&wire).unwrap().unwrap();
    assert_eq!(response.subprotocol(), Some("v2.chat"));
    assert_eq!(response.headers().get_str("x-server"), Some("test"));
    let mut client_conn = client.into_connection().unwrap();
    assert_eq!(client_conn.subprotocol(), Some("v2.chat"));
    assert_eq!(next_message(&mut client_conn), Message::text("welcome"));

    // And back: the client's frames are masked, the server accepts them.
    client_conn.send_text("thanks").unwrap();
    let wire = drain(client_conn.pending_output());
    client_conn.consume_output(wire.len());
    server_conn.receive_data(&wire);
    assert_eq!(next_message(&mut server_conn), Message::text("thanks"));
}

#[test]
fn server_rejection_reaches_the_client() {
    let config = Config::default();
    let req = ClientRequest::new("ws://localhost/").unwrap();
    let mut client = ClientHandshake::new(req, &config).unwrap();
    let mut server = ServerHandshake::new(&config);
    let wire = drain(client.pending_output());
    let request = server.receive_data(&wire).unwrap().unwrap();
    assert_eq!(request.origin(), None);
    server.reject(403, b"origin required").unwrap();
    assert_eq!(
        server.receive_data(b""),
        Err(HandshakeError::Rejected { status: 403 })
    );

    let wire = drain(server.pending_output());
    match client.receive_data(&wire) {
        Err(HandshakeError::UnexpectedStatus { status, body, .. }) => {
            assert_eq!(status, 403);
            assert_eq!(body, b"origin required");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn server_error_response_reaches_the_client() {
    let config = Config::default();
    let mut server = ServerHandshake::new(&config);
    let err = server.receive_data(&valid_but(5, Some("Sec-WebSocket-Version: 8")));
    assert!(err.is_err());
    let mut client = client();
    match client.receive_data(server.pending_output()) {
        Err(HandshakeError::UnexpectedStatus {
            status, headers, ..
        }) => {
            assert_eq!(status, 426);
            assert_eq!(headers.get_str("Sec-WebSocket-Version"), Some("13"));
        }
        other => panic!("{other:?}"),
    }
}
