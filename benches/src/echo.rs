//! The echo handlers of the end-to-end servers, one per library: each
//! takes an accepted TCP connection, runs the library's server handshake
//! and echoes every data message until the connection ends. The `srv-*`
//! binaries serve them; `sizes` reports how large each handler's future
//! (the memory a spawned task holds for its whole life) is.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;

/// rfc6455's tokio adapter.
pub async fn rfc6455(stream: TcpStream) {
    use rfc6455::Config;
    use rfc6455::handshake::Accept;
    let Ok(mut ws) =
        rfc6455::tokio::accept_with_config(stream, Config::default(), |_| Ok(Accept::new())).await
    else {
        return;
    };
    while let Ok(message) = ws.read().await {
        if ws.send(message).await.is_err() {
            return;
        }
    }
}

/// rfc6455 with keepalive pings on (every 20 s, giving up after 20 s, as
/// Python's websockets does by default): what an armed timer costs an
/// idle connection.
pub async fn rfc6455_keepalive(stream: TcpStream) {
    use rfc6455::Config;
    use rfc6455::handshake::Accept;
    use std::time::Duration;
    let twenty = Duration::from_secs(20);
    let config = Config::default().keepalive(Some(twenty), twenty);
    let Ok(mut ws) =
        rfc6455::tokio::accept_with_config(stream, config, |_| Ok(Accept::new())).await
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
    use sockudo_ws::handshake::{build_response, generate_accept_key, parse_request};
    use sockudo_ws::protocol::Message;
    use sockudo_ws::{Config, WebSocketStream};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = bytes::BytesMut::with_capacity(4096);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        match parse_request(&buf) {
            Ok(Some((request, _))) => {
                let response = build_response(&generate_accept_key(request.key), None, None);
                if stream.write_all(&response).await.is_err() {
                    return;
                }
                break;
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
    drop(buf);
    let config = Config::builder().auto_ping(false).idle_timeout(0).build();
    let mut ws = WebSocketStream::server(stream, config);
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
