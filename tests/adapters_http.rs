//! The server side of the scenario suite (`tests/scenarios/`) through axum
//! (`rfc6455::axum::WebSocketUpgrade`), through a bare hyper service
//! calling `rfc6455::http`, and through `rfc6455::hyper::upgrade`, over
//! loopback TCP; and requests that hyper's HTTP
//! parser takes but RFC 6455 forbids, which must get the byte handshake's
//! status.

mod scenarios;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;

use rfc6455::handshake::{Accept, ClientHandshake, ClientRequest, HandshakeError};
use rfc6455::{CloseCode, Config, Message, ServerHandshake};
use scenarios::peer::PATIENCE;
use scenarios::upgrade::{Choose, Stack, choose, serve_one};
use scenarios::{Peer, run_server};

macro_rules! server_suite {
    ($stack:ident, $subject:ty; $($name:ident: $case:ident),* $(,)?) => {
        mod $stack {
            use super::*;
            $(
                #[test]
                fn $name() {
                    run_server::<$subject, _>(scenarios::cases::$case::default());
                }
            )*
        }
    };
}

macro_rules! both {
    ($($name:ident: $case:ident),* $(,)?) => {
        server_suite!(axum, scenarios::http::Axum; $($name: $case),*);
        server_suite!(hyper, scenarios::http::Hyper; $($name: $case),*);
        server_suite!(hyper_upgrade, scenarios::http::HyperUpgrade; $($name: $case),*);
    };
}

scenarios::peer_cases!(both!());

/// A request that is no upgrade gets a 400 (`rfc6455::hyper::upgrade`
/// answers every request as an upgrade too, but keeps the error to itself:
/// `forbidden_requests_get_our_status_hyper_upgrade` covers it).
#[test]
fn malformed_axum() {
    scenarios::cases::malformed::<scenarios::http::Axum>();
}

#[test]
fn malformed_hyper() {
    scenarios::cases::malformed::<scenarios::http::Hyper>();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Serves one connection on a thread of its own; returns the port and
/// the handshake error (or `None` if it upgraded).
fn serve(stack: Stack, choose: Choose) -> (u16, thread::JoinHandle<Option<HandshakeError>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        runtime().block_on(async move {
            stream.set_nonblocking(true).unwrap();
            let stream = tokio::net::TcpStream::from_std(stream).unwrap();
            match serve_one(stack, stream, Config::default(), choose, PATIENCE).await {
                Ok(mut ws) => {
                    // Echo until the peer closes.
                    while let Ok(message) = ws.read().await {
                        let _ = ws.send(message).await;
                    }
                    None
                }
                Err(e) => Some(e),
            }
        })
    });
    (port, handle)
}

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// Requests hyper's parser takes but RFC 6455 forbids (or that are no
/// upgrade at all), each with what the byte parser says about it.
fn forbidden() -> Vec<(&'static str, String)> {
    let head = |lines: &[&str]| {
        let mut text = String::from("GET /chat HTTP/1.1\r\n");
        for line in lines {
            text.push_str(line);
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        text
    };
    let key = format!("Sec-WebSocket-Key: {KEY}");
    let upgrade = ["Upgrade: websocket", "Connection: Upgrade"];
    let with = |extra: &[&str]| {
        let mut lines = vec!["Host: a", upgrade[0], upgrade[1]];
        lines.extend_from_slice(extra);
        head(&lines)
    };
    vec![
        (
            "missing Host",
            head(&[upgrade[0], upgrade[1], &key, "Sec-WebSocket-Version: 13"]),
        ),
        (
            "two keys",
            with(&[
                &key,
                "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==",
                "Sec-WebSocket-Version: 13",
            ]),
        ),
        (
            "short key",
            with(&["Sec-WebSocket-Key: c2hvcnQ=", "Sec-WebSocket-Version: 13"]),
        ),
        ("version 8", with(&[&key, "Sec-WebSocket-Version: 8"])),
        ("no version", with(&[&key])),
        (
            "two Host fields",
            head(&[
                "Host: a",
                "Host: b",
                upgrade[0],
                upgrade[1],
                &key,
                "Sec-WebSocket-Version: 13",
            ]),
        ),
        (
            "Connection without Upgrade",
            head(&[
                "Host: a",
                upgrade[0],
                "Connection: keep-alive",
                &key,
                "Sec-WebSocket-Version: 13",
            ]),
        ),
        (
            "POST",
            with(&[&key, "Sec-WebSocket-Version: 13", "Content-Length: 0"])
                .replacen("GET", "POST", 1),
        ),
        (
            "HTTP/1.0",
            with(&[&key, "Sec-WebSocket-Version: 13"]).replacen("HTTP/1.1", "HTTP/1.0", 1),
        ),
        (
            "bad subprotocol list",
            with(&[
                &key,
                "Sec-WebSocket-Version: 13",
                "Sec-WebSocket-Protocol: a b",
            ]),
        ),
    ]
}

/// Splits a response into its status, lower-cased head and body.
fn status_and_head(reply: &[u8]) -> (u16, String, String) {
    let text = String::from_utf8_lossy(reply).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a complete head");
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn forbidden_requests_get_our_status(stack: Stack) {
    for (what, request) in forbidden() {
        let mut hs = ServerHandshake::new(&Config::default());
        let expected = hs
            .receive_data(request.as_bytes())
            .expect_err("the byte parser refuses it");
        let (expected_status, expected_head, _) = status_and_head(hs.pending_output());
        assert_eq!(Some(expected_status), expected.status());

        let (port, server) = serve(stack, choose(|_| Accept::new()));
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut reply = Vec::new();
        // Every refusal carries `Connection: close`: read to the end.
        stream.read_to_end(&mut reply).unwrap();
        let (status, head, body) = status_and_head(&reply);
        assert_eq!(status, expected_status, "{what} via {stack:?}: {head}");
        let seen = server.join().unwrap();
        if stack == Stack::HyperUpgrade {
            // The helper answers refusals itself; the connection just ends.
            assert_eq!(seen, Some(HandshakeError::UnexpectedEof), "{what}");
        } else {
            assert_eq!(seen, Some(expected.clone()), "{what}");
        }
        assert!(body.contains(&expected.to_string()), "{what}: {body}");
        // The same fields as the byte handshake's refusal (hyper adds a
        // Date).
        for line in expected_head.lines().skip(1) {
            assert!(
                head.contains(line),
                "{what} via {stack:?}: {line:?} not in {head}"
            );
        }
        if status == 426 {
            assert!(head.contains("\r\nsec-websocket-version: 13"), "{what}");
        }
    }
}

#[test]
fn forbidden_requests_get_our_status_axum() {
    forbidden_requests_get_our_status(Stack::Axum);
}

#[test]
fn forbidden_requests_get_our_status_hyper() {
    forbidden_requests_get_our_status(Stack::Hyper);
}

/// The server's preference among the client's offers, chosen through the
/// stack; the peer's client handshake sees the choice.
fn subprotocol_choice(stack: Stack) {
    let (port, server) = serve(
        stack,
        choose(|_| Accept::new().preferring(["b.v2", "a.v1"])),
    );
    let mut peer = Peer::client(port, &["a.v1", "b.v2"]);
    assert_eq!(peer.subprotocol.as_deref(), Some("b.v2"));
    peer.send(&Message::text("hi"));
    assert_eq!(peer.expect_message(), Message::text("hi"));
    peer.close(CloseCode::NORMAL, "");
    assert_eq!(server.join().unwrap(), None);
}

#[test]
fn forbidden_requests_get_our_status_hyper_upgrade() {
    forbidden_requests_get_our_status(Stack::HyperUpgrade);
}

#[test]
fn subprotocol_choice_axum() {
    subprotocol_choice(Stack::Axum);
}

#[test]
fn subprotocol_choice_hyper() {
    subprotocol_choice(Stack::Hyper);
}

/// The first frames may arrive in the same packet as the request: hyper
/// keeps them in the upgraded stream, and they are not lost.
fn frames_with_the_request(stack: Stack) {
    let (port, server) = serve(stack, choose(|_| Accept::new()));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
    let mut hs = ClientHandshake::new(request, &Config::default()).unwrap();
    let mut bytes = hs.pending_output().to_vec();
    // A text frame "early", masked with a zero key.
    bytes.extend_from_slice(&[0x81, 0x85, 0, 0, 0, 0]);
    bytes.extend_from_slice(b"early");
    stream.write_all(&bytes).unwrap();
    hs.consume_output(usize::MAX);
    let mut buf = [0; 1024];
    for _ in 0..100 {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed during the handshake");
        if hs.receive_data(&buf[..n]).unwrap().is_some() {
            break;
        }
    }
    let mut peer = Peer::new(stream, hs.into_connection().unwrap());
    assert_eq!(peer.expect_message(), Message::text("early"));
    peer.close(CloseCode::NORMAL, "");
    assert_eq!(server.join().unwrap(), None);
}

#[test]
fn frames_with_the_request_axum() {
    frames_with_the_request(Stack::Axum);
}

#[test]
fn frames_with_the_request_hyper() {
    frames_with_the_request(Stack::Hyper);
}

#[test]
fn frames_with_the_request_hyper_upgrade() {
    frames_with_the_request(Stack::HyperUpgrade);
}

/// A client whose own HTTP stack sends the request: hyper's HTTP/1.1
/// client sends `ClientHandshake::http_request`, the answer is checked with
/// `receive_http_response`, and the connection hyper upgrades carries the
/// messages. The server is the byte handshake, which sees the header that
/// rode along.
#[test]
fn hyper_client_sends_the_request() {
    use http_body_util::Empty;
    use hyper_util::rt::TokioIo;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut hs = ServerHandshake::new(&Config::default());
        let mut buf = [0; 4096];
        let request = loop {
            let n = stream.read(&mut buf).unwrap();
            assert!(n > 0, "client left during the handshake");
            if let Some(request) = hs.receive_data(&buf[..n]).unwrap() {
                break request;
            }
        };
        assert_eq!(request.headers().get_str("authorization"), Some("Bearer 1"));
        let accept = Accept::new().subprotocol_from(&request, &["chat"]);
        let mut peer = Peer::new(stream, hs.accept(&request, accept).unwrap());
        let message = peer.expect_message();
        peer.send(&message);
        peer.expect_message()
    });

    runtime().block_on(async move {
        let request = ::http::Request::get(format!("ws://127.0.0.1:{port}/chat"))
            .header("Authorization", "Bearer 1")
            .header("Sec-WebSocket-Protocol", "chat")
            .body(())
            .unwrap();
        let request = ClientRequest::try_from(request).unwrap();
        let mut hs = ClientHandshake::new(request, &Config::default()).unwrap();
        let sent = hs
            .http_request()
            .unwrap()
            .map(|()| Empty::<bytes::Bytes>::new());

        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let (mut sender, connection) = ::hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(connection.with_upgrades());
        let response = tokio::time::timeout(PATIENCE, sender.send_request(sent))
            .await
            .unwrap()
            .unwrap();
        let checked = hs.receive_http_response(&response).unwrap();
        assert_eq!(checked.subprotocol(), Some("chat"));
        let upgraded = ::hyper::upgrade::on(response).await.unwrap();
        let mut ws = rfc6455::tokio::WebSocket::from_connection(
            TokioIo::new(upgraded),
            hs.into_connection().unwrap(),
        );
        ws.send(Message::text("over hyper")).await.unwrap();
        let echo = tokio::time::timeout(PATIENCE, ws.read()).await.unwrap();
        assert_eq!(echo.unwrap(), Message::text("over hyper"));
        ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
        ws.flush().await.unwrap();
    });
    assert_eq!(server.join().unwrap(), Message::binary(vec![1, 2, 3]));
}
