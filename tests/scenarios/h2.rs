//! The scenario suite over HTTP/2 (RFC 8441): the subject is the tokio
//! `WebSocket` on a stream of a prior-knowledge h2c connection over
//! loopback TCP — served by `rfc6455::http2::serve` when the subject is the
//! server, opened by `rfc6455::http2::Http2Client` when it is the client.
//!
//! The peer is the suite's usual one: the raw core speaking HTTP/1.1 over
//! TCP. Between the two runs a relay (test code, a thread of its own) that
//! translates only the opening handshake — the peer's HTTP/1.1 upgrade into
//! an extended CONNECT and the 200 back into a 101, or the other way round
//! — and then copies bytes both ways, since RFC 8441 §5 leaves the framing
//! on the stream unchanged. What ends one side ends the other: a TCP FIN is
//! END_STREAM, END_STREAM (or a reset) is a FIN, and a failed TCP
//! connection resets the stream. So every scenario's expectations (close
//! codes, 1006 on a dropped transport, back-pressure, timers) hold as they
//! are, with h2's framing and flow control in the subject's path.
//!
//! The h2c connections set `TCP_NODELAY`, as an HTTP/2 deployment should:
//! without it each window's WINDOW_UPDATE waits out a delayed ACK, and a
//! 16 MiB message takes seconds instead of milliseconds.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use rfc6455::blocking::Error;
use rfc6455::handshake::{ClientRequest, StreamEnd, accept_key};
use rfc6455::http2::{self, H2Stream, Http2Client};
use rfc6455::{Config, Role};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::peer::PATIENCE;
use super::subject::{Callback, OnRuntime, runtime, to_tokio, tokio_operations};

/// Our HTTP/2 WebSocket, either role.
pub struct Http2 {
    on: OnRuntime<rfc6455::tokio::WebSocket<H2Stream>>,
    /// The client's handle on its HTTP/2 connection, kept for as long as
    /// the WebSocket (the server's connection task lives in the runtime).
    _client: Option<Http2Client>,
    relay: Option<thread::JoinHandle<()>>,
}

impl Drop for Http2 {
    /// h2 queues what a stream sends and the connection's task writes it
    /// (a TCP write is on the wire when it returns), so the runtime must
    /// run until the other end has it: here, until the relay saw the
    /// stream end both ways. As a TCP socket dropped without a shutdown is
    /// reset, so is a stream that did not end.
    fn drop(&mut self) {
        self.on.ws.get_mut().end(StreamEnd::Reset);
        let Some(relay) = self.relay.take() else {
            return;
        };
        self.on.rt.block_on(async {
            let deadline = tokio::time::Instant::now() + 2 * PATIENCE;
            while !relay.is_finished() && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
    }
}

/// The headers that describe the WebSocket rather than the HTTP/1.1
/// upgrade: the relay carries these across, and drops `Host`, `Upgrade`,
/// `Connection` and the key/accept pair, which HTTP/2 has no use for.
fn carried(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("sec-websocket-")
        && name != "sec-websocket-key"
        && name != "sec-websocket-accept"
        || name == "origin"
}

impl super::Subject for Http2 {
    fn connect(request: ClientRequest, config: Config) -> Result<Self, Error> {
        let relay = TcpListener::bind("127.0.0.1:0").unwrap();
        let relay_addr = relay.local_addr().unwrap();
        let peer = (request.host().to_owned(), request.port());
        let relay = spawn_relay(async move {
            let (tcp, _) = to_tokio_listener(relay).accept().await?;
            tcp.set_nodelay(true)?;
            let peer = tokio::net::TcpStream::connect(peer).await?;
            relay_connect_to_upgrade(tcp, peer).await
        });
        let rt = runtime();
        let (client, ws) = rt.block_on(async {
            let tcp = tokio::net::TcpStream::connect(relay_addr).await?;
            tcp.set_nodelay(true)?;
            let client = Http2Client::handshake(tcp).await.map_err(h2_error)?;
            let (ws, _) = client.connect(request, &config).await.map_err(h2_error)?;
            Ok::<_, Error>((client, ws))
        })?;
        Ok(Http2 {
            on: OnRuntime { rt, ws },
            _client: Some(client),
            relay: Some(relay),
        })
    }

    fn accept(stream: TcpStream, config: Config, callback: Callback) -> Result<Self, Error> {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = server.local_addr().unwrap();
        let relay = spawn_relay(async move {
            let tcp = tokio::net::TcpStream::connect(server_addr).await?;
            tcp.set_nodelay(true)?;
            relay_upgrade_to_connect(to_tokio(stream), tcp).await
        });
        let rt = runtime();
        let ws = rt.block_on(async {
            let (tcp, _) = to_tokio_listener(server).accept().await?;
            tcp.set_nodelay(true)?;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            // The connection task lives in this runtime, which runs it
            // whenever the subject awaits its socket.
            tokio::spawn(http2::serve(
                tcp,
                config,
                // The cases that run here all accept; refusals on a stream
                // are tests/http2.rs's business.
                move |request| match callback(request) {
                    Ok(accept) => Ok(accept),
                    Err(_) => panic!("refusals are not tested through the relay"),
                },
                move |_, ws| {
                    let _ = tx.send(ws);
                    async {}
                },
            ));
            tokio::time::timeout(PATIENCE, rx.recv())
                .await
                .ok()
                .flatten()
                .ok_or_else(|| Error::Io(io::Error::other("no WebSocket stream was accepted")))
        })?;
        Ok(Http2 {
            on: OnRuntime { rt, ws },
            _client: None,
            relay: Some(relay),
        })
    }

    fn from_upgraded(_: TcpStream, _: Role, _: Config, _: &[u8]) -> Self {
        unreachable!("an HTTP/2 WebSocket is opened by its own handshake")
    }

    fn spawn_echo_server(_: TcpListener, _: Config, _: usize) {
        unreachable!("the HTTP/1.1 handshake timeouts do not apply over HTTP/2")
    }

    tokio_operations!(on);
}

fn h2_error(error: http2::Error) -> Error {
    match error {
        http2::Error::Handshake(e) => Error::Handshake(e),
        other => Error::Io(io::Error::other(other)),
    }
}

fn to_tokio_listener(listener: TcpListener) -> tokio::net::TcpListener {
    listener.set_nonblocking(true).unwrap();
    tokio::net::TcpListener::from_std(listener).unwrap()
}

/// The relay's allowance for small DATA frames buffered unread (h2 charges
/// each frame under 256 bytes against it and sends GOAWAY
/// `ENHANCE_YOUR_CALM` when it runs out). The relay's single-threaded
/// runtime reads a whole burst of tiny frames — `Burst`'s 1,000 echoes, each
/// its own frame — before its copy task takes any, which h2's default
/// (half the connection window: about 130 such frames) would call a flood.
/// The subject is what is tested; the relay only has to be tolerant.
const RELAY_FRAME_BUDGET: usize = 64 << 20;

/// Runs `relay` on a thread and runtime of its own, for at most twice the
/// suite's patience. Its failures are not the subject's: a relay that
/// stops only ends the connection, which the scenario then notices.
fn spawn_relay(
    relay: impl Future<Output = io::Result<()>> + Send + 'static,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        runtime().block_on(async move {
            match tokio::time::timeout(2 * PATIENCE, relay).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("relay: {e}"),
                Err(_) => eprintln!("relay: timed out"),
            }
        })
    })
}

/// Reads an HTTP/1.1 head; returns it and the bytes read past it.
async fn read_head(tcp: &mut tokio::net::TcpStream) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut read = Vec::new();
    let mut buf = [0; 4096];
    loop {
        if let Some(end) = read.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = read.split_off(end + 4);
            return Ok((read, rest));
        }
        if read.len() > 16 << 10 {
            return Err(io::Error::other("head too long"));
        }
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        read.extend_from_slice(&buf[..n]);
    }
}

/// Copies the stream's bytes both ways until both directions ended (a
/// FIN on one side ends the stream on the other); an error drops both,
/// which resets the HTTP/2 stream and closes the TCP connection.
async fn copy_both(
    mut tcp: tokio::net::TcpStream,
    mut stream: H2Stream,
    leftover: &[u8],
) -> io::Result<()> {
    stream.write_all(leftover).await?;
    tokio::io::copy_bidirectional(&mut tcp, &mut stream).await?;
    Ok(())
}

/// The server-side relay: the peer's HTTP/1.1 upgrade in on `peer`, an
/// extended CONNECT out on a new h2c connection `h2c`.
async fn relay_upgrade_to_connect(
    mut peer: tokio::net::TcpStream,
    h2c: tokio::net::TcpStream,
) -> io::Result<()> {
    let (send, mut connection) = h2::client::Builder::new()
        .data_frame_budget(RELAY_FRAME_BUDGET)
        .handshake::<_, bytes::Bytes>(h2c)
        .await
        .map_err(io::Error::other)?;
    let mut ping = connection
        .ping_pong()
        .expect("a fresh connection has its ping-pong");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let (head, leftover) = read_head(&mut peer).await?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Request::new(&mut headers);
    parsed.parse(&head).map_err(io::Error::other)?;
    let mut request = ::http::Request::builder()
        .method(::http::Method::CONNECT)
        .version(::http::Version::HTTP_2)
        .uri(format!("http://127.0.0.1{}", parsed.path.unwrap_or("/")))
        .extension(h2::ext::Protocol::from_static("websocket"));
    let mut key = None;
    for header in parsed.headers.iter() {
        if header.name.eq_ignore_ascii_case("sec-websocket-key") {
            key = Some(header.value.to_vec());
        } else if carried(header.name) {
            request = request.header(header.name, header.value);
        }
    }
    let key = key.ok_or_else(|| io::Error::other("no Sec-WebSocket-Key"))?;
    // The server's SETTINGS (with ENABLE_CONNECT_PROTOCOL) precede its
    // answer to a PING.
    ping.ping(h2::Ping::opaque())
        .await
        .map_err(io::Error::other)?;
    let mut send = send.ready().await.map_err(io::Error::other)?;
    let (response, stream) = send
        .send_request(request.body(()).unwrap(), false)
        .map_err(io::Error::other)?;
    let response = response.await.map_err(io::Error::other)?;
    if response.status() != 200 {
        let refusal = format!(
            "HTTP/1.1 {} Refused\r\nContent-Length: 0\r\n\r\n",
            response.status().as_u16()
        );
        return peer.write_all(refusal.as_bytes()).await;
    }
    let mut answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        accept_key(&key)
    );
    for (name, value) in response.headers() {
        if carried(name.as_str()) {
            answer += &format!("{}: {}\r\n", name, value.to_str().unwrap());
        }
    }
    answer += "\r\n";
    peer.write_all(answer.as_bytes()).await?;
    let (_, recv) = response.into_parts();
    copy_both(peer, H2Stream::new(stream, recv), &leftover).await
}

/// The client-side relay: an extended CONNECT in on the h2c connection
/// `h2c`, the HTTP/1.1 upgrade out to the peer on `peer`.
async fn relay_connect_to_upgrade(
    h2c: tokio::net::TcpStream,
    mut peer: tokio::net::TcpStream,
) -> io::Result<()> {
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .data_frame_budget(RELAY_FRAME_BUDGET)
        .handshake::<_, bytes::Bytes>(h2c)
        .await
        .map_err(io::Error::other)?;
    let (request, mut respond) = connection
        .accept()
        .await
        .ok_or_else(|| io::Error::other("no stream"))?
        .map_err(io::Error::other)?;
    // The connection goes on being driven while the stream lives.
    tokio::spawn(async move { while let Some(Ok(_)) = connection.accept().await {} });
    let (parts, recv) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let addr: SocketAddr = peer.peer_addr()?;
    // The relay's own nonce: the peer checks its accept against it.
    let mut upgrade = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    );
    for (name, value) in &parts.headers {
        if carried(name.as_str()) {
            upgrade += &format!("{}: {}\r\n", name, value.to_str().unwrap());
        }
    }
    upgrade += "\r\n";
    peer.write_all(upgrade.as_bytes()).await?;
    let (head, leftover) = read_head(&mut peer).await?;
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut parsed = httparse::Response::new(&mut headers);
    parsed.parse(&head).map_err(io::Error::other)?;
    let mut response = ::http::Response::builder().version(::http::Version::HTTP_2);
    if parsed.code != Some(101) {
        let refused = response
            .status(parsed.code.unwrap_or(502))
            .body(())
            .unwrap();
        let _ = respond.send_response(refused, true);
        return Ok(());
    }
    response = response.status(200);
    for header in parsed.headers.iter() {
        if carried(header.name) {
            response = response.header(header.name, header.value);
        }
    }
    let stream = respond
        .send_response(response.body(()).unwrap(), false)
        .map_err(io::Error::other)?;
    copy_both(peer, H2Stream::new(stream, recv), &leftover).await
}
