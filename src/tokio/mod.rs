//! Tokio adapter: a [`WebSocket`] over any `AsyncRead + AsyncWrite`, with
//! `Stream` and `Sink` implementations and a [`split`](WebSocket::split)
//! into halves that two tasks drive independently.
//!
//! The socket is polled directly. A [`WebSocket`] owns its
//! [`Connection`](crate::Connection) and socket and takes no lock to read
//! or write; after [`split`](WebSocket::split) they sit behind a
//! `std::sync::Mutex` that each half holds only inside a `poll_*` call,
//! never across an `.await`. The read half answers pings and echoes close
//! frames by writing them itself, so a task that only writes never needs
//! a reader's help, and writing never waits on reading. A write waits
//! (`send` does not return, `poll_ready` is `Pending`) while the output
//! holds [`Config::write_buffer_high_water`] bytes or more.
//!
//! Keepalive and close timers run while the read side is polled: a split
//! read half must be polled (with `read` or `next`) for pings to be
//! answered, timers to fire and the connection to close. A runtime with
//! the time driver is needed (`#[tokio::main]` has it).
//!
//! [`connect`] opens a TCP connection (through an HTTP proxy, with TLS for
//! `wss://`: see [`connect_with_options`]) and runs the opening handshake;
//! [`client`] runs it over a stream you opened, [`accept`] the server side
//! over any stream, and [`accept_tls_with_config`] a TLS handshake then
//! the server side. Each bounds all it does by
//! [`Config::handshake_timeout`].
//!
//! # Server
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use rfc6455::tokio as ws;
//!
//! # async fn f() -> std::io::Result<()> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
//! loop {
//!     let (stream, _) = listener.accept().await?;
//!     tokio::spawn(async move {
//!         let mut socket = ws::accept(stream).await?;
//!         while let Some(message) = socket.next().await {
//!             socket.send(message?).await?; // echo
//!         }
//!         Ok::<_, ws::Error>(()) // the client closed cleanly
//!     });
//! }
//! # }
//! ```
//!
//! # Client
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use rfc6455::{CloseCode, Message, tokio as ws};
//!
//! # async fn f() -> Result<(), ws::Error> {
//! let (mut socket, _response) = ws::connect("ws://127.0.0.1:9001/chat").await?;
//! socket.send(Message::text("hello")).await?;
//! println!("{:?}", socket.next().await);
//! socket.close(CloseCode::NORMAL, "bye").await?;
//! while let Some(message) = socket.next().await { // ends at the server's reply
//!     message?;
//! }
//! # Ok(()) }
//! ```

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use ::tokio::net::TcpStream;
use ::tokio::time::timeout;

mod handles;
mod socket;
mod stream;

pub use self::handles::{ReadHalf, ReuniteError, WebSocket, WriteHalf};
pub use self::stream::MaybeTlsStream;
use crate::Config;
pub use crate::adapter::{Error, Reject};
use crate::adapter::{Handshake, answer};
pub use crate::connect::{ConnectError, ConnectOptions, Proxy, ProxyError, TlsFailure};
use crate::connect::{Dial, Redirects, Route, TlsTarget, io_error};
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, Request, Response, ServerHandshake,
};

/// Connects to a `ws://` or `wss://` URL and runs the opening handshake,
/// with the default [`Config`].
///
/// `wss://` needs the `rustls` feature, and trusts the roots of the
/// `rustls-webpki-roots` and `rustls-native-roots` features; the server's
/// certificate must be valid for the URL's host (a name or an IP address).
pub async fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    connect_with_config(ClientRequest::new(url)?, Config::default()).await
}

/// Like [`connect`], with a request carrying subprotocols, headers or an
/// origin, and a [`Config`].
///
/// Each address the host resolves to, in turn, gets
/// [`Config::connect_timeout`] to accept the TCP connection; when none
/// does, [`Error::Connect`] lists each address and why it failed. From
/// then on, the proxy's tunnel, TLS and the opening handshake take at most
/// [`Config::handshake_timeout`].
/// Redirects are followed, each on a new connection, up to
/// [`Config::max_redirects`] (none by default).
pub async fn connect_with_config(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    connect_with_options(request, config, &ConnectOptions::default()).await
}

/// Like [`connect_with_config`], through an HTTP proxy or with a TLS
/// configuration of your own (see [`ConnectOptions`]).
///
/// ```no_run
/// use rfc6455::tokio::{self as ws, ConnectOptions, Proxy};
/// use rfc6455::{ClientRequest, Config};
///
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let options = ConnectOptions::new().proxy(Proxy::new("http://127.0.0.1:3128")?);
/// let request = ClientRequest::new("wss://example.com/chat")?;
/// let (socket, _) = ws::connect_with_options(request, Config::default(), &options).await?;
/// # Ok(()) }
/// ```
pub async fn connect_with_options(
    mut request: ClientRequest,
    config: Config,
    options: &ConnectOptions,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let mut redirects = Redirects::new(&request, &config);
    loop {
        // On the heap, like the server's: see `accept_with_config`.
        match Box::pin(connect_once(request.clone(), &config, options)).await {
            Err(e) => request = redirects.follow(&request, e)?,
            done => return done,
        }
    }
}

/// One connection: dial, tunnel, TLS, handshake.
async fn connect_once(
    request: ClientRequest,
    config: &Config,
    options: &ConnectOptions,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let route = Route::new(&request, config, options)?;
    let addresses = ::tokio::net::lookup_host((route.host.as_str(), route.port)).await?;
    let mut tcp = dial(addresses, Dial::new(&route.host, route.port, config)).await?;
    let handshake = async move {
        tcp.set_nodelay(true)?;
        if let Some(mut tunnel) = route.tunnel {
            run_handshake(&mut tcp, &mut tunnel).await?;
        }
        let stream = match route.tls {
            None => MaybeTlsStream::Plain(tcp),
            Some(tls) => tls_stream(tls, tcp).await?,
        };
        handshake_client(stream, request, config).await
    };
    timeout(config.handshake_timeout, handshake)
        .await
        .map_err(|_| Error::HandshakeTimeout)?
}

/// Tries each address in turn, each for the connect timeout, until one
/// accepts; else the error lists every attempt.
async fn dial(
    addresses: impl IntoIterator<Item = SocketAddr>,
    mut dial: Dial,
) -> Result<TcpStream, Error> {
    for address in addresses {
        match timeout(dial.timeout(), TcpStream::connect(address)).await {
            Ok(Ok(tcp)) => return Ok(tcp),
            Ok(Err(e)) => dial.failed(address, e),
            Err(_) => dial.timed_out(address),
        }
    }
    Err(dial.into_error())
}

#[cfg(feature = "rustls")]
async fn tls_stream(tls: TlsTarget, tcp: TcpStream) -> Result<MaybeTlsStream, Error> {
    let connector = tokio_rustls::TlsConnector::from(tls.config);
    let stream = connector
        .connect(tls.name, tcp)
        .await
        .map_err(crate::connect::tls_error)?;
    Ok(MaybeTlsStream::Rustls(Box::new(stream)))
}

#[cfg(not(feature = "rustls"))]
async fn tls_stream(tls: TlsTarget, _: TcpStream) -> Result<MaybeTlsStream, Error> {
    match tls {}
}

/// Runs the client side of the opening handshake over a stream you opened
/// (TLS, a proxy's tunnel, a Unix socket, an in-memory duplex...), with
/// the default [`Config`]. The request's URL gives the `Host` header and
/// the path; nothing is dialed.
///
/// ```no_run
/// use rfc6455::{ClientRequest, tokio as ws};
///
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let stream = tokio::net::UnixStream::connect("/run/app.sock").await?;
/// let (socket, _response) = ws::client(stream, ClientRequest::new("ws://localhost/")?).await?;
/// # Ok(()) }
/// ```
pub async fn client<S>(stream: S, request: ClientRequest) -> Result<(WebSocket<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    client_with_config(stream, request, Config::default()).await
}

/// Like [`client`], with a [`Config`]. The handshake takes at most
/// [`Config::handshake_timeout`].
pub async fn client_with_config<S>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let limit = config.handshake_timeout;
    Box::pin(timeout(limit, handshake_client(stream, request, &config)))
        .await
        .map_err(|_| Error::HandshakeTimeout)?
}

async fn handshake_client<S>(
    mut stream: S,
    request: ClientRequest,
    config: &Config,
) -> Result<(WebSocket<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut hs = ClientHandshake::new(request, config)?;
    let response = run_handshake(&mut stream, &mut hs).await?;
    Ok((
        WebSocket::from_connection(stream, hs.into_connection()?),
        response,
    ))
}
/// Runs the server side of the opening handshake, accepting any valid
/// request, with the default [`Config`].
///
/// Like [`accept_with_config`], this returns a small future (one pointer)
/// that keeps the handshake's state on the heap until the handshake ends.
pub fn accept<S>(stream: S) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with_config(stream, Config::default(), |_| Ok(Accept::new()))
}

/// Runs the server side of the opening handshake; `callback` sees the
/// [`Request`] and accepts it (choosing a subprotocol, adding headers) or
/// refuses it with an HTTP status.
///
/// ```no_run
/// use rfc6455::handshake::Accept;
/// use rfc6455::tokio::{self as ws, Reject};
///
/// # async fn f(stream: tokio::net::TcpStream) -> Result<(), ws::Error> {
/// let socket = ws::accept_with(stream, |request| {
///     if request.path() != "/chat" {
///         return Err(Reject::new(404));
///     }
///     Ok(Accept::new().subprotocol_from(request, &["v2.chat", "v1.chat"]))
/// })
/// .await?;
/// # Ok(()) }
/// ```
pub fn accept_with<S, F>(
    stream: S,
    callback: F,
) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    accept_with_config(stream, Config::default(), callback)
}

/// Like [`accept_with`], with a [`Config`]. The whole handshake takes at
/// most [`Config::handshake_timeout`] ([`Error::HandshakeTimeout`]); an
/// invalid or refused request is answered with its HTTP error first.
///
/// The returned future is one pointer: the handshake's state (the
/// handshake machine, its read buffer, the timeout's timer) lives on the
/// heap, allocated here and freed when the handshake ends. A future is as
/// large as its largest state, so a handshake held inline would stay part
/// of the task that serves the connection for the connection's whole life.
pub fn accept_with_config<S, F>(
    stream: S,
    config: Config,
    callback: F,
) -> impl Future<Output = Result<WebSocket<S>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    Box::pin(async move {
        let limit = config.handshake_timeout;
        timeout(limit, handshake_server(stream, config, callback))
            .await
            .map_err(|_| Error::HandshakeTimeout)?
    })
}

async fn handshake_server<S, F>(
    mut stream: S,
    config: Config,
    callback: F,
) -> Result<WebSocket<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    let mut hs = ServerHandshake::new(&config);
    let request = run_handshake(&mut stream, &mut hs).await?;
    let conn = match answer(&mut hs, &request, callback(&request)) {
        Ok(conn) => conn,
        Err(error) => {
            // The refusal, or the 500 for the application's mistake.
            let _ = write_handshake(&mut stream, &mut hs).await;
            return Err(error.into());
        }
    };
    let mut ws = WebSocket::from_connection(stream, conn);
    // The 101 response.
    ws.flush().await.map_err(|e| match e {
        Error::Io(e) => io_error(e),
        e => e,
    })?;
    Ok(ws)
}

/// The most read from the socket at once during the opening handshake:
/// enough for a request or response head in one read.
const HANDSHAKE_READ: usize = 4096;

/// Moves handshake bytes both ways until the handshake completes or fails
/// (after writing any error response it queued).
async fn run_handshake<S, H>(stream: &mut S, hs: &mut H) -> Result<H::Done, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    H: Handshake,
{
    // Reads go straight into the vector's spare capacity: nothing is
    // zeroed, and memory is touched only as far as the request goes.
    let mut buf = Vec::with_capacity(HANDSHAKE_READ);
    loop {
        write_handshake(stream, hs).await?;
        buf.clear();
        let result = match stream.read_buf(&mut buf).await.map_err(io_error)? {
            0 => Err(hs.receive_eof()),
            _ => hs.receive_data(&buf),
        };
        match result {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => {}
            Err(e) => {
                let _ = write_handshake(stream, hs).await;
                return Err(e.into());
            }
        }
    }
}

async fn write_handshake<S, H>(stream: &mut S, hs: &mut H) -> Result<(), Error>
where
    S: AsyncWrite + Unpin,
    H: Handshake,
{
    write_all(stream, hs).await.map_err(io_error)
}

async fn write_all<S, H>(stream: &mut S, hs: &mut H) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
    H: Handshake,
{
    stream.write_all(hs.pending_output()).await?;
    let n = hs.pending_output().len();
    hs.consume_output(n);
    stream.flush().await
}

/// Runs a TLS handshake (tokio-rustls, with `tls`) then the server side of
/// the opening handshake, both within [`Config::handshake_timeout`]. A
/// failed TLS handshake is [`Error::Tls`]: a plaintext client, for
/// instance, is [`TlsFailure::NotTls`] (and receives a TLS alert, which
/// an rfc6455 client reports as
/// [`HandshakeError::TlsRecord`](crate::HandshakeError::TlsRecord)).
///
/// ```no_run
/// use std::sync::Arc;
/// use rfc6455::{Config, tokio as ws};
/// use rfc6455::handshake::Accept;
///
/// # async fn f(tls: Arc<rustls::ServerConfig>) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9443").await?;
/// loop {
///     let (tcp, _) = listener.accept().await?;
///     let tls = Arc::clone(&tls);
///     tokio::spawn(async move {
///         let mut socket =
///             ws::accept_tls_with_config(tcp, tls, Config::default(), |_| Ok(Accept::new())).await?;
///         while let Ok(message) = socket.read().await {
///             socket.send(message).await?;
///         }
///         Ok::<_, ws::Error>(())
///     });
/// }
/// # }
/// ```
#[cfg(feature = "rustls")]
pub fn accept_tls_with_config<S, F>(
    stream: S,
    tls: std::sync::Arc<rustls::ServerConfig>,
    config: Config,
    callback: F,
) -> impl Future<Output = Result<WebSocket<tokio_rustls::server::TlsStream<S>>, Error>>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    Box::pin(async move {
        let limit = config.handshake_timeout;
        let handshake = async move {
            let acceptor = tokio_rustls::TlsAcceptor::from(tls);
            let stream = acceptor
                .accept(stream)
                .await
                .map_err(crate::connect::tls_error)?;
            handshake_server(stream, config, callback).await
        };
        timeout(limit, handshake)
            .await
            .map_err(|_| Error::HandshakeTimeout)?
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// An address where nothing listens (bound, then released).
    fn closed() -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    }

    #[tokio::test]
    async fn dial_tries_each_address_in_turn() {
        let config = Config::default();
        let open = ::tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let target = open.local_addr().unwrap();
        let (a, b) = (closed(), closed());
        let tcp = dial([a, target, b], Dial::new("h", 1, &config))
            .await
            .unwrap();
        assert_eq!(tcp.peer_addr().unwrap(), target);

        match dial([a, b], Dial::new("localhost", 7, &config)).await {
            Err(Error::Connect(e)) => {
                let tried: Vec<_> = e.attempts().iter().map(|(addr, _)| *addr).collect();
                assert_eq!(tried, [a, b]);
                for (_, reason) in e.attempts() {
                    assert_eq!(reason.kind(), io::ErrorKind::ConnectionRefused);
                }
                let text = e.to_string();
                assert!(
                    text.starts_with("could not connect to localhost:7: "),
                    "{text}"
                );
                assert!(text.contains(&a.to_string()) && text.contains(&b.to_string()));
            }
            other => panic!("{other:?}"),
        }
        match dial([], Dial::new("::1", 7, &config)).await {
            Err(Error::Connect(e)) => {
                assert_eq!(e.to_string(), "[::1]:7 resolved to no address");
            }
            other => panic!("{other:?}"),
        }
    }

    /// A listener whose accept queue is full leaves new connections
    /// unanswered: the connect timeout, not the handshake timeout, ends
    /// the attempt, and the next address is tried.
    #[tokio::test]
    async fn dial_times_out_per_address() {
        let socket = ::tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let full = socket.listen(0).unwrap();
        let address = full.local_addr().unwrap();
        // Fill the queue (never accepted).
        let mut held = Vec::new();
        for _ in 0..8 {
            match timeout(Duration::from_millis(200), TcpStream::connect(address)).await {
                Ok(Ok(tcp)) => held.push(tcp),
                _ => break,
            }
        }
        let config = Config::default()
            .connect_timeout(Duration::from_millis(300))
            .handshake_timeout(Duration::from_secs(60));
        let open = ::tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap();
        let target = open.local_addr().unwrap();
        let tcp = dial([address, target], Dial::new("h", 1, &config))
            .await
            .unwrap();
        assert_eq!(tcp.peer_addr().unwrap(), target);
        match dial([address], Dial::new("h", 1, &config)).await {
            Err(Error::Connect(e)) => {
                assert_eq!(e.attempts()[0].1.kind(), io::ErrorKind::TimedOut);
                assert!(e.to_string().contains("no answer within 300ms"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        drop(held);
    }
}
