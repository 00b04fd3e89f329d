//! The echo handlers of the end-to-end servers, one per library: each
//! takes an accepted TCP connection, runs the library's server handshake
//! and echoes every data message until the connection ends. The `srv-*`
//! binaries serve them; `sizes` reports how large each handler's future
//! (the memory a spawned task holds for its whole life) is.

use std::future::Future;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;

/// rfc6455's tokio adapter.
pub fn rfc6455(stream: TcpStream) -> impl Future<Output = ()> {
    rfc6455_with(stream, rfc6455::Config::default)
}

/// rfc6455 with keepalive pings on (every 20 s, giving up after 20 s, as
/// Python's websockets does by default): what an armed timer costs an
/// idle connection.
pub fn rfc6455_keepalive(stream: TcpStream) -> impl Future<Output = ()> {
    rfc6455_with(stream, || {
        let twenty = std::time::Duration::from_secs(20);
        rfc6455::Config::default().keepalive(Some(twenty), twenty)
    })
}

/// rfc6455 accepting permessage-deflate when offered, with the library's
/// defaults (a client's `*_no_context_takeover` is honoured) at level
/// [`deflate_level`].
pub fn rfc6455_deflate(stream: TcpStream) -> impl Future<Output = ()> {
    rfc6455_with(stream, || {
        use rfc6455::deflate::DeflateConfig;
        let deflate = DeflateConfig::default().compression_level(deflate_level());
        rfc6455::Config::default().deflate(deflate)
    })
}

/// The rfc6455 echo task. The configuration comes from a function called
/// at the handshake, not as a value: an `async fn`'s arguments stay in its
/// future for the task's whole life, and a `Config` is 192 bytes.
async fn rfc6455_with(stream: TcpStream, config: impl FnOnce() -> rfc6455::Config) {
    use rfc6455::handshake::Accept;
    let Ok(mut ws) =
        rfc6455::tokio::accept_with_config(stream, config(), |_| Ok(Accept::new())).await
    else {
        return;
    };
    while let Ok(message) = ws.read().await {
        if ws.send(message).await.is_err() {
            return;
        }
    }
}

/// No WebSocket library: the hand-written handshake, then a task that
/// holds only the `TcpStream` and waits for it to become readable (and
/// drops it at the end of the stream). The floor for the idle-memory
/// benchmark: what tokio itself costs per connection (the task, the
/// socket's registration with the I/O driver).
pub async fn tcp_only(mut stream: TcpStream) {
    // Boxed, so that the handshake's state (its header array) is freed
    // and not part of the task for the connection's life.
    if Box::pin(crate::handshake::server_accept(&mut stream))
        .await
        .is_err()
    {
        return;
    }
    let mut byte = [0u8; 1];
    loop {
        if stream.readable().await.is_err() {
            return;
        }
        match stream.try_read(&mut byte) {
            Ok(0) => return,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok(_) | Err(_) => return,
        }
    }
}

/// The DEFLATE level every server with compression on uses:
/// `BENCH_DEFLATE_LEVEL` (0–9), 3 if unset (rfc6455's default; yawc's and
/// sockudo-ws's is 6). One level for all, so that the wire sizes compare.
pub fn deflate_level() -> u32 {
    std::env::var("BENCH_DEFLATE_LEVEL")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .min(9)
}

/// tokio-tungstenite.
pub async fn tokio_tungstenite(stream: TcpStream) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

/// fastwebsockets, with `FragmentCollector` as in its own echo_server
/// example. fastwebsockets leaves the HTTP upgrade to hyper; a minimal
/// hand-written handshake stands in for it.
pub async fn fastwebsockets(mut stream: TcpStream) {
    use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
    let Ok(leftover) = crate::handshake::server_accept(&mut stream).await else {
        return;
    };
    assert!(leftover.is_empty(), "the load client waits for the 101");
    let mut ws = FragmentCollector::new(WebSocket::after_handshake(stream, Role::Server));
    while let Ok(frame) = ws.read_frame().await {
        let echo = match frame.opcode {
            OpCode::Close => return,
            OpCode::Text | OpCode::Binary => frame,
            _ => continue,
        };
        if ws.write_frame(echo).await.is_err() {
            return;
        }
    }
}

/// tokio-websockets.
pub async fn tokio_websockets(stream: TcpStream) {
    let Ok((_request, mut ws)) = tokio_websockets::ServerBuilder::new().accept(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

/// sockudo-ws, with its own handshake helpers as in its simple_echo
/// example. Heartbeat pings and the idle timeout are off, like the other
/// libraries' defaults.
pub async fn sockudo_ws(mut stream: TcpStream) {
    use sockudo_ws::handshake::{build_response, generate_accept_key};
    use tokio::io::AsyncWriteExt;
    let Some((key, _)) = sockudo_request(&mut stream).await else {
        return;
    };
    let response = build_response(&generate_accept_key(&key), None, None);
    if stream.write_all(&response).await.is_err() {
        return;
    }
    sockudo_echo(sockudo_ws::WebSocketStream::server(
        stream,
        sockudo_config(),
    ))
    .await
}

/// sockudo-ws with permessage-deflate (its default `permessage-deflate`
/// feature): the offer negotiated by `negotiate_server_deflate` against its
/// default `DeflateConfig` at level [`deflate_level`] (a client's
/// `*_no_context_takeover` is honoured), then a `CompressedWebSocketStream`,
/// as its axum integration does.
pub async fn sockudo_ws_deflate(mut stream: TcpStream) {
    use sockudo_ws::deflate::{DeflateConfig, negotiate_server_deflate};
    use sockudo_ws::handshake::{build_response, generate_accept_key};
    use tokio::io::AsyncWriteExt;
    let Some((key, offers)) = sockudo_request(&mut stream).await else {
        return;
    };
    let policy = DeflateConfig {
        compression_level: deflate_level(),
        ..DeflateConfig::default()
    };
    let agreed = offers.and_then(|o| negotiate_server_deflate(&o, &policy));
    let header = agreed.as_ref().map(|a| a.to_response_header());
    let response = build_response(&generate_accept_key(&key), None, header.as_deref());
    if stream.write_all(&response).await.is_err() {
        return;
    }
    match agreed {
        Some(agreed) => {
            let ws = sockudo_ws::CompressedWebSocketStream::server(
                stream,
                sockudo_config(),
                agreed.config,
            );
            sockudo_echo(ws).await
        }
        None => {
            sockudo_echo(sockudo_ws::WebSocketStream::server(
                stream,
                sockudo_config(),
            ))
            .await
        }
    }
}

fn sockudo_config() -> sockudo_ws::Config {
    sockudo_ws::Config::builder()
        .auto_ping(false)
        .idle_timeout(0)
        .build()
}

/// Reads the upgrade request with sockudo-ws's parser: the key and the
/// `Sec-WebSocket-Extensions` value, or `None` if the request is bad.
async fn sockudo_request(stream: &mut TcpStream) -> Option<(String, Option<String>)> {
    use sockudo_ws::handshake::parse_request;
    use tokio::io::AsyncReadExt;
    let mut buf = bytes::BytesMut::with_capacity(4096);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        match parse_request(&buf) {
            Ok(Some((request, _))) => {
                return Some((
                    request.key.to_owned(),
                    request.extensions.map(str::to_owned),
                ));
            }
            Ok(None) => {}
            Err(_) => return None,
        }
    }
}

async fn sockudo_echo<W>(mut ws: W)
where
    W: futures_util::Stream<Item = sockudo_ws::Result<sockudo_ws::Message>>
        + futures_util::Sink<sockudo_ws::Message>
        + Unpin,
{
    use sockudo_ws::Message;
    while let Some(Ok(message)) = ws.next().await {
        match message {
            Message::Text(_) | Message::Binary(_) => {}
            Message::Close(_) => return,
            _ => continue,
        }
        if ws.send(message).await.is_err() {
            return;
        }
    }
}

/// yawc, upgraded through hyper as in its own echo server example, with
/// UTF-8 validation of text on (`with_utf8`; RFC 6455 §8.1 requires it and
/// the other servers do it) and compression off.
pub async fn yawc(stream: TcpStream) {
    yawc_with(
        stream,
        yawc::Options::default().with_utf8().without_compression(),
    )
    .await
}

/// yawc with compression on at level [`deflate_level`]: it accepts a
/// client's permessage-deflate offer, `*_no_context_takeover` included.
pub async fn yawc_deflate(stream: TcpStream) {
    let level = yawc::CompressionLevel::new(deflate_level());
    yawc_with(
        stream,
        yawc::Options::default()
            .with_utf8()
            .with_compression_level(level),
    )
    .await
}

async fn yawc_with(stream: TcpStream, options: yawc::Options) {
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    let service = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
        let upgrade = yawc::WebSocket::upgrade_with_options(&mut request, options.clone());
        async move {
            let (response, upgrade) = upgrade?;
            tokio::spawn(async move {
                if let Ok(ws) = upgrade.await {
                    yawc_echo(ws).await
                }
            });
            Ok::<_, yawc::WebSocketError>(response)
        }
    });
    let io = hyper_util::rt::TokioIo::new(stream);
    let _ = http1::Builder::new()
        .serve_connection(io, service)
        .with_upgrades()
        .await;
}

async fn yawc_echo(mut ws: yawc::WebSocket<yawc::HttpStream>) {
    use yawc::OpCode;
    while let Some(frame) = ws.next().await {
        match frame.opcode() {
            OpCode::Text | OpCode::Binary => {}
            OpCode::Close => return,
            _ => continue,
        }
        if ws.send(frame).await.is_err() {
            return;
        }
    }
}
