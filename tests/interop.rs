//! Interoperability with a WebSocket implementation written elsewhere:
//! tokio-tungstenite, both as server (our client connects) and as client
//! (our server accepts), over loopback, for both of our adapters.
//!
//! Covered both ways: subprotocol negotiation, text, binary, 16 MiB
//! messages, fragmented messages (ours with `send_fragment`, theirs with
//! raw `Frame`s), pings and pongs, and close codes with reasons from
//! either side.

mod scenarios;

use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rfc6455::blocking::Error;
use rfc6455::handshake::{Accept, ClientRequest};
use rfc6455::{CloseCode, Config, Message, MessageKind};
use scenarios::{Blocking, Subject, Tokio};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{
    Request as TRequest, Response as TResponse,
};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame as TCloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Bytes, Message as TMessage};

const LIMIT: Duration = Duration::from_secs(60);

fn config() -> Config {
    Config::default()
        .max_frame_size(32 << 20)
        .max_message_size(64 << 20)
}

fn big_binary() -> Vec<u8> {
    (0..16u32 << 20).map(|i| (i % 253) as u8).collect()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// A raw tungstenite data frame.
fn frame(data: &'static str, opcode: Data, fin: bool) -> TMessage {
    TMessage::Frame(Frame::message(
        Bytes::from_static(data.as_bytes()),
        OpCode::Data(opcode),
        fin,
    ))
}

fn close_frame(code: u16, reason: &'static str) -> TCloseFrame {
    TCloseFrame {
        code: code.into(),
        reason: reason.into(),
    }
}

fn expect_closed(error: Error, code: u16, reason: &str) {
    match error {
        Error::Closed(frame) => assert_eq!((u16::from(frame.code), &*frame.reason), (code, reason)),
        other => panic!("expected a clean close, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Their server, our client.

/// A tokio-tungstenite server for `connections` connections: it picks
/// subprotocol `b.v2` when offered, echoes data messages, and obeys a few
/// commands. It reports each close frame it receives.
#[allow(clippy::result_large_err)] // their callback's error type
fn their_server(connections: usize) -> (u16, mpsc::Receiver<Option<TCloseFrame>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (report, reports) = mpsc::channel();
    thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            for _ in 0..connections {
                let (stream, _) = listener.accept().await.unwrap();
                let report = report.clone();
                let pick = |request: &TRequest, mut response: TResponse| {
                    let offered = request.headers().get("Sec-WebSocket-Protocol");
                    if offered.is_some_and(|v| v.to_str().unwrap().contains("b.v2")) {
                        let chosen = HeaderValue::from_static("b.v2");
                        response
                            .headers_mut()
                            .insert("Sec-WebSocket-Protocol", chosen);
                    }
                    Ok(response)
                };
                let mut ws = tokio_tungstenite::accept_hdr_async(stream, pick)
                    .await
                    .unwrap();
                while let Some(message) = ws.next().await {
                    let reply = match message.unwrap() {
                        TMessage::Text(t) if t == "fragment-please" => {
                            ws.feed(frame("one ", Data::Text, false)).await.unwrap();
                            ws.feed(frame("two ", Data::Continue, false)).await.unwrap();
                            frame("three", Data::Continue, true)
                        }
                        TMessage::Text(t) if t == "ping-please" => TMessage::Ping("theirs".into()),
                        TMessage::Text(t) if t == "close-please" => {
                            TMessage::Close(Some(close_frame(4002, "their reason")))
                        }
                        TMessage::Ping(p) => TMessage::text(format!("saw ping: {}", utf8(&p))),
                        TMessage::Pong(p) => TMessage::text(format!("got pong: {}", utf8(&p))),
                        TMessage::Close(frame) => {
                            report.send(frame).unwrap();
                            continue;
                        }
                        data => data,
                    };
                    ws.send(reply).await.unwrap();
                }
            }
        });
    });
    (port, reports)
}

fn utf8(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap()
}

fn our_client_their_server<T: Subject>() {
    let (port, reports) = their_server(2);
    let request = ClientRequest::from_parts("127.0.0.1", port, "/")
        .unwrap()
        .subprotocol("a.v1")
        .subprotocol("b.v2");
    let mut ws = T::connect(request, config()).unwrap();
    assert_eq!(ws.subprotocol().as_deref(), Some("b.v2"));

    for message in [
        Message::text("hello, ☃"),
        Message::binary(vec![0, 1, 2, 255]),
        Message::binary(big_binary()),
        Message::text("é".repeat(8 << 20)),
    ] {
        ws.send(message.clone()).unwrap();
        assert_eq!(ws.read().unwrap(), message);
    }
    ws.send_fragment(MessageKind::Text, b"frag", false).unwrap();
    ws.send_fragment(MessageKind::Text, b"ment", false).unwrap();
    ws.send_fragment(MessageKind::Text, b"ed", true).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("fragmented"));
    ws.send(Message::text("fragment-please")).unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("one two three"));
    ws.ping(b"ours").unwrap();
    assert_eq!(ws.read().unwrap(), Message::text("saw ping: ours"));
    ws.send(Message::text("ping-please")).unwrap(); // their ping, our pong
    assert_eq!(ws.read().unwrap(), Message::text("got pong: theirs"));

    ws.close(CloseCode::from(4001), "our reason").unwrap();
    expect_closed(ws.read().unwrap_err(), 4001, "our reason");
    let seen = reports.recv_timeout(LIMIT).unwrap().unwrap();
    assert_eq!(
        (u16::from(seen.code), seen.reason.as_str()),
        (4001, "our reason")
    );
    drop(ws);

    let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
    let mut ws = T::connect(request, config()).unwrap();
    assert_eq!(ws.subprotocol(), None);
    ws.send(Message::text("close-please")).unwrap();
    expect_closed(ws.read().unwrap_err(), 4002, "their reason");
}

#[test]
fn blocking_client_with_tungstenite_server() {
    our_client_their_server::<Blocking>();
}

#[test]
fn tokio_client_with_tungstenite_server() {
    our_client_their_server::<Tokio>();
}

// ---------------------------------------------------------------------------
// Their client, our server.

/// The next message that is not a pong... unless a pong is expected.
async fn next<S>(ws: &mut S) -> TMessage
where
    S: futures_util::Stream<Item = Result<TMessage, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    tokio::time::timeout(LIMIT, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
}

/// tokio-tungstenite as client: two connections, the first closed by it,
/// the second by our server.
async fn their_client(port: u16) {
    let mut request = format!("ws://127.0.0.1:{port}/chat")
        .into_client_request()
        .unwrap();
    let offer = HeaderValue::from_static("a.v1, b.v2");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", offer);
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "b.v2");

    for message in [
        TMessage::text("hello, ☃"),
        TMessage::binary(vec![0, 1, 2, 255]),
        TMessage::binary(big_binary()),
    ] {
        ws.send(message.clone()).await.unwrap();
        assert_eq!(next(&mut ws).await, message);
    }
    ws.feed(frame("frag", Data::Text, false)).await.unwrap();
    ws.feed(frame("ment", Data::Continue, false)).await.unwrap();
    ws.send(frame("ed", Data::Continue, true)).await.unwrap();
    assert_eq!(next(&mut ws).await, TMessage::text("fragmented"));
    ws.send(TMessage::text("fragment-please")).await.unwrap();
    assert_eq!(next(&mut ws).await, TMessage::text("one two three"));
    ws.send(TMessage::Ping("theirs".into())).await.unwrap();
    assert_eq!(next(&mut ws).await, TMessage::Pong("theirs".into()));
    ws.send(TMessage::text("ping-please")).await.unwrap();
    assert_eq!(next(&mut ws).await, TMessage::Ping("ours".into()));

    ws.close(Some(close_frame(4003, "their reason")))
        .await
        .unwrap();
    match next(&mut ws).await {
        TMessage::Close(Some(frame)) => assert_eq!(u16::from(frame.code), 4003),
        other => panic!("{other:?}"),
    }
    assert!(ws.next().await.is_none());

    let url = format!("ws://127.0.0.1:{port}/");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.send(TMessage::text("close-please")).await.unwrap();
    match next(&mut ws).await {
        TMessage::Close(Some(frame)) => {
            assert_eq!(
                (u16::from(frame.code), frame.reason.as_str()),
                (4004, "our reason")
            );
        }
        other => panic!("{other:?}"),
    }
    // Their reply goes out; our server then closes the TCP connection.
    let end = tokio::time::timeout(LIMIT, ws.next()).await.unwrap();
    assert!(end.is_none(), "{end:?}");
}

/// Our server: echoes, and obeys the same commands as theirs. Returns how
/// the connection ended.
fn our_server<T: Subject>(ws: &mut T) -> Error {
    loop {
        let message = match ws.read() {
            Ok(message) => message,
            Err(end) => return end,
        };
        match message.as_text() {
            Some("fragment-please") => {
                ws.send_fragment(MessageKind::Text, b"one ", false).unwrap();
                ws.send_fragment(MessageKind::Text, b"two ", false).unwrap();
                ws.send_fragment(MessageKind::Text, b"three", true).unwrap();
            }
            Some("ping-please") => ws.ping(b"ours").unwrap(),
            Some("close-please") => ws.close(CloseCode::from(4004), "our reason").unwrap(),
            _ => ws.send(message).unwrap(),
        }
    }
}

fn their_client_our_server<T: Subject>() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let client = thread::spawn(move || runtime().block_on(their_client(port)));

    let stream = listener.accept().unwrap().0;
    let mut ws = T::accept(stream, config(), |request| {
        assert_eq!(request.path(), "/chat");
        Ok(Accept::new().subprotocol_from(request, &["b.v2", "a.v1"]))
    })
    .unwrap();
    assert_eq!(ws.subprotocol().as_deref(), Some("b.v2"));
    expect_closed(our_server(&mut ws), 4003, "their reason");
    drop(ws);

    let stream = listener.accept().unwrap().0;
    let mut ws = T::accept(stream, config(), |_| Ok(Accept::new())).unwrap();
    expect_closed(our_server(&mut ws), 4004, "our reason");
    drop(ws);
    client.join().unwrap();
}

#[test]
fn tungstenite_client_with_blocking_server() {
    their_client_our_server::<Blocking>();
}

#[test]
fn tungstenite_client_with_tokio_server() {
    their_client_our_server::<Tokio>();
}

#[cfg(feature = "axum")]
#[test]
fn tungstenite_client_with_axum_server() {
    their_client_our_server::<scenarios::http::Axum>();
}

#[cfg(feature = "axum")]
#[test]
fn tungstenite_client_with_hyper_server() {
    their_client_our_server::<scenarios::http::Hyper>();
}
