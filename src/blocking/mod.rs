//! Blocking adapter: a [`WebSocket`] over any `std::io::Read + Write`.
//!
//! [`connect`] opens a TCP connection (through an HTTP proxy, with TLS for
//! `wss://`: see [`connect_with_options`]) and runs the opening handshake;
//! [`client`] runs it over a stream you opened, and [`accept`] the server
//! side over any stream (a `TcpStream`, a `rustls::StreamOwned`, a
//! `UnixStream`...), all within [`Config::handshake_timeout`].
//! [`WebSocket::from_upgraded`] takes a stream whose handshake an HTTP
//! server already did, and [`WebSocket::from_connection`] one whose
//! handshake you ran yourself with [`handshake`](crate::handshake).
//!
//! # Server
//!
//! ```no_run
//! use std::net::TcpListener;
//! use rfc6455::blocking;
//!
//! let listener = TcpListener::bind("127.0.0.1:9001")?;
//! for stream in listener.incoming() {
//!     let stream = stream?;
//!     std::thread::spawn(move || -> Result<(), blocking::Error> {
//!         let mut ws = blocking::accept(stream)?;
//!         loop {
//!             let message = ws.read()?; // Err(Error::Closed(_)) when the peer closes
//!             ws.send(message)?;
//!         }
//!     });
//! }
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # Client
//!
//! ```no_run
//! use rfc6455::{CloseCode, blocking};
//!
//! let (mut ws, _response) = blocking::connect("ws://127.0.0.1:9001/chat")?;
//! ws.send_text("hello")?;
//! println!("{:?}", ws.read()?);
//! ws.close(CloseCode::NORMAL, "bye")?;
//! while !matches!(ws.read(), Err(blocking::Error::Closed(_))) {} // the server's reply
//! # Ok::<(), blocking::Error>(())
//! ```
//!
//! # Timeouts and non-blocking sockets
//!
//! `read` feeds the connection only the bytes the socket delivered, and
//! `flush` consumes only what it wrote, so an error of kind `WouldBlock` or
//! `TimedOut` ([`Error::is_would_block`]) loses nothing: call again later.
//! Pings are answered, and close frames echoed, by `read` itself.
//!
//! The keepalive and close timers of [`Config`] run when `read` is called:
//! it passes the time to the connection before each wait. A `read` blocked
//! on a silent socket cannot act on them, so when you use keepalive or rely
//! on the close timeout, give the socket a read timeout (a second, say, or
//! the time until [`poll_timeout`](crate::Connection::poll_timeout)) and
//! call `read` again after a timeout. On a non-blocking socket, call `read`
//! when the socket is readable and when `poll_timeout` passes, and `flush`
//! when it is writable.
//!
//! The opening handshake needs a blocking socket.
//!
//! # The handshake timeout over other streams
//!
//! A blocking read can only be cut short by the stream. When the stream is
//! a `TcpStream`, a `UnixStream`, a [`MaybeTlsStream`] or a rustls
//! `StreamOwned` over a `TcpStream`, the handshake sets the socket's
//! timeouts to the time left (and restores them afterwards), so a peer
//! that sends nothing is dropped on time. Over any other stream the
//! deadline is checked each time a read or write returns: give such a
//! stream a read timeout of its own, or a silent peer holds the handshake
//! until it does. (This is why the handshake functions ask for
//! `S: 'static`: it lets them recognise the stream's type. Every owned
//! stream is `'static`.)

use std::any::Any;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

mod socket;
mod stream;

pub use self::socket::WebSocket;
pub use self::stream::MaybeTlsStream;
use self::stream::{Timeouts, socket_of};
use crate::Config;
pub use crate::adapter::{Error, Reject};
use crate::adapter::{Handshake, answer, would_block};
pub use crate::connect::{ConnectError, ConnectOptions, Proxy, ProxyError, TlsFailure};
use crate::connect::{Dial, Redirects, Route, TlsTarget, io_error};
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, Request, Response, ServerHandshake,
};

/// Connects to a `ws://` or `wss://` URL (host, port, path and query) and
/// runs the opening handshake, with the default [`Config`].
///
/// `wss://` needs the `rustls` feature, and trusts the roots of the
/// `rustls-webpki-roots` and `rustls-native-roots` features; the server's
/// certificate must be valid for the URL's host (a name or an IP address).
pub fn connect(url: &str) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    connect_with_config(ClientRequest::new(url)?, Config::default())
}

/// Like [`connect`], with a request carrying subprotocols, headers or an
/// origin, and a [`Config`].
///
/// Each address the host resolves to, in turn, gets
/// [`Config::connect_timeout`] to accept the TCP connection (name
/// resolution itself is not bounded); when none does, [`Error::Connect`]
/// lists each address and why it failed. From then on, the proxy's
/// tunnel, TLS and the opening handshake take at most
/// [`Config::handshake_timeout`]. Redirects are followed, each on a new
/// connection, up to [`Config::max_redirects`] (none by default).
pub fn connect_with_config(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    connect_with_options(request, config, &ConnectOptions::default())
}

/// Like [`connect_with_config`], through an HTTP proxy or with a TLS
/// configuration of your own (see [`ConnectOptions`]).
///
/// ```no_run
/// use rfc6455::blocking::{self, ConnectOptions, Proxy};
/// use rfc6455::{ClientRequest, Config};
///
/// let options = ConnectOptions::new().proxy(Proxy::new("http://127.0.0.1:3128")?);
/// let request = ClientRequest::new("wss://example.com/chat")?;
/// let (mut ws, _) = blocking::connect_with_options(request, Config::default(), &options)?;
/// ws.send_text("hello through the tunnel")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect_with_options(
    mut request: ClientRequest,
    config: Config,
    options: &ConnectOptions,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let mut redirects = Redirects::new(&request, &config);
    loop {
        match connect_once(request.clone(), &config, options) {
            Err(e) => request = redirects.follow(&request, e)?,
            done => return done,
        }
    }
}

/// One connection: dial, tunnel, TLS, handshake.
fn connect_once(
    request: ClientRequest,
    config: &Config,
    options: &ConnectOptions,
) -> Result<(WebSocket<MaybeTlsStream>, Response), Error> {
    let route = Route::new(&request, config, options)?;
    let addresses = (route.host.as_str(), route.port).to_socket_addrs()?;
    let mut tcp = dial(addresses, Dial::new(&route.host, route.port, config))?;
    let deadline = Instant::now() + config.handshake_timeout;
    tcp.set_nodelay(true)?;
    if let Some(mut tunnel) = route.tunnel {
        run_handshake(&mut tcp, &mut tunnel, deadline)?;
    }
    let stream = match route.tls {
        None => MaybeTlsStream::Plain(tcp),
        Some(tls) => tls_stream(tls, tcp)?,
    };
    // The TLS handshake runs in the first writes and reads.
    handshake_client(stream, request, config, deadline)
}

/// Tries each address in turn, each for the connect timeout, until one
/// accepts; else the error lists every attempt.
fn dial(
    addresses: impl IntoIterator<Item = SocketAddr>,
    mut dial: Dial,
) -> Result<TcpStream, Error> {
    for address in addresses {
        match TcpStream::connect_timeout(&address, dial.timeout()) {
            Ok(tcp) => return Ok(tcp),
            Err(e) if e.kind() == io::ErrorKind::TimedOut => dial.timed_out(address),
            Err(e) => dial.failed(address, e),
        }
    }
    Err(dial.into_error())
}

#[cfg(feature = "rustls")]
fn tls_stream(tls: TlsTarget, tcp: TcpStream) -> Result<MaybeTlsStream, Error> {
    let conn = rustls::ClientConnection::new(tls.config, tls.name)
        .map_err(crate::connect::rustls_error)?;
    Ok(MaybeTlsStream::Rustls(Box::new(rustls::StreamOwned::new(
        conn, tcp,
    ))))
}

#[cfg(not(feature = "rustls"))]
fn tls_stream(tls: TlsTarget, _: TcpStream) -> Result<MaybeTlsStream, Error> {
    match tls {}
}

/// Runs the client side of the opening handshake over a stream you opened
/// (TLS, a proxy's tunnel, a Unix socket...), with the default [`Config`].
/// The request's URL gives the `Host` header and the path; nothing is
/// dialed.
///
/// ```no_run
/// use rfc6455::{ClientRequest, blocking};
///
/// let stream = std::os::unix::net::UnixStream::connect("/run/app.sock")?;
/// let (mut ws, _response) = blocking::client(stream, ClientRequest::new("ws://localhost/")?)?;
/// ws.send_text("hello")?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn client<S>(stream: S, request: ClientRequest) -> Result<(WebSocket<S>, Response), Error>
where
    S: Read + Write + 'static,
{
    client_with_config(stream, request, Config::default())
}

/// Like [`client`], with a [`Config`]. The handshake takes at most
/// [`Config::handshake_timeout`] (see the module docs for streams other
/// than sockets).
pub fn client_with_config<S>(
    stream: S,
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<S>, Response), Error>
where
    S: Read + Write + 'static,
{
    let deadline = Instant::now() + config.handshake_timeout;
    handshake_client(stream, request, &config, deadline)
}

fn handshake_client<S>(
    mut stream: S,
    request: ClientRequest,
    config: &Config,
    deadline: Instant,
) -> Result<(WebSocket<S>, Response), Error>
where
    S: Read + Write + 'static,
{
    let saved = save_timeouts(&stream)?;
    let mut hs = ClientHandshake::new(request, config)?;
    let response = run_handshake(&mut stream, &mut hs, deadline)?;
    restore_timeouts(&stream, saved)?;
    Ok((
        WebSocket::from_connection(stream, hs.into_connection()?),
        response,
    ))
}

/// Runs the server side of the opening handshake on `stream`, accepting
/// any valid request, with the default [`Config`].
pub fn accept<S>(stream: S) -> Result<WebSocket<S>, Error>
where
    S: Read + Write + 'static,
{
    accept_with(stream, |_| Ok(Accept::new()))
}

/// Runs the server side of the opening handshake; `callback` sees the
/// [`Request`] and accepts it (choosing a subprotocol, adding headers) or
/// refuses it with an HTTP status.
///
/// ```no_run
/// use rfc6455::blocking::{self, Reject};
/// use rfc6455::handshake::Accept;
///
/// # fn f(stream: std::net::TcpStream) -> Result<(), blocking::Error> {
/// let ws = blocking::accept_with(stream, |request| {
///     if request.path() != "/chat" {
///         return Err(Reject::new(404));
///     }
///     Ok(Accept::new().subprotocol_from(request, &["v2.chat", "v1.chat"]))
/// })?;
/// # Ok(()) }
/// ```
pub fn accept_with<S, F>(stream: S, callback: F) -> Result<WebSocket<S>, Error>
where
    S: Read + Write + 'static,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    accept_with_config(stream, Config::default(), callback)
}

/// Like [`accept_with`], with a [`Config`]. The whole handshake takes at
/// most [`Config::handshake_timeout`]: a client that sends nothing, or
/// trickles its request, gets [`Error::HandshakeTimeout`]. An invalid or
/// refused request is answered with its HTTP error before the error is
/// returned. The socket's own timeouts are restored afterwards.
///
/// Over a rustls `StreamOwned`, the TLS handshake runs in the first reads
/// and counts against the timeout too; its failures are [`Error::Tls`].
///
/// ```no_run
/// use std::sync::Arc;
/// use rfc6455::{Config, blocking};
/// use rfc6455::handshake::Accept;
///
/// # fn f(tls: Arc<rustls::ServerConfig>, tcp: std::net::TcpStream) -> Result<(), Box<dyn std::error::Error>> {
/// let stream = rustls::StreamOwned::new(rustls::ServerConnection::new(tls)?, tcp);
/// let mut ws = blocking::accept_with_config(stream, Config::default(), |_| Ok(Accept::new()))?;
/// let message = ws.read()?;
/// # Ok(()) }
/// ```
pub fn accept_with_config<S, F>(
    mut stream: S,
    config: Config,
    callback: F,
) -> Result<WebSocket<S>, Error>
where
    S: Read + Write + 'static,
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    let deadline = Instant::now() + config.handshake_timeout;
    let saved = save_timeouts(&stream)?;
    let mut hs = ServerHandshake::new(&config);
    let request = run_handshake(&mut stream, &mut hs, deadline)?;
    let conn = match answer(&mut hs, &request, callback(&request)) {
        Ok(conn) => conn,
        Err(error) => {
            // The refusal, or the 500 for the application's mistake.
            let _ = write_handshake(&mut stream, &mut hs, deadline);
            return Err(error.into());
        }
    };
    let mut ws = WebSocket::from_connection(stream, conn);
    set_timeouts(ws.get_ref(), deadline)?;
    // The 101 response.
    ws.flush().map_err(|e| match e {
        e if e.is_would_block() => Error::HandshakeTimeout,
        Error::Io(e) => io_error(e),
        e => e,
    })?;
    restore_timeouts(ws.get_ref(), saved)?;
    Ok(ws)
}

/// The time left before `deadline`, or the handshake timeout error.
fn remaining(deadline: Instant) -> Result<Duration, Error> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(Error::HandshakeTimeout)
    } else {
        Ok(left)
    }
}

/// The socket's timeouts, if the adapter can reach its socket.
fn save_timeouts(stream: &dyn Any) -> Result<Option<Timeouts>, Error> {
    Ok(socket_of(stream).map(|s| s.timeouts()).transpose()?)
}

fn restore_timeouts(stream: &dyn Any, saved: Option<Timeouts>) -> Result<(), Error> {
    if let (Some(socket), Some(saved)) = (socket_of(stream), saved) {
        socket.set_timeouts(saved)?;
    }
    Ok(())
}

/// Bounds the next reads and writes by the time left; fails once it is
/// over.
fn set_timeouts(stream: &dyn Any, deadline: Instant) -> Result<(), Error> {
    let left = remaining(deadline)?;
    if let Some(socket) = socket_of(stream) {
        socket.set_timeouts((Some(left), Some(left)))?;
    }
    Ok(())
}

/// Moves handshake bytes both ways until the handshake completes or fails
/// (after writing any error response it queued).
fn run_handshake<S, H>(stream: &mut S, hs: &mut H, deadline: Instant) -> Result<H::Done, Error>
where
    S: Read + Write + 'static,
    H: Handshake,
{
    let mut buf = [0; 4096];
    loop {
        write_handshake(stream, hs, deadline)?;
        set_timeouts(stream, deadline)?;
        let result = match stream.read(&mut buf) {
            Ok(0) => Err(hs.receive_eof()),
            Ok(n) => hs.receive_data(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if would_block(&e) => return Err(Error::HandshakeTimeout),
            Err(e) => return Err(io_error(e)),
        };
        match result {
            Ok(Some(done)) => return Ok(done),
            Ok(None) => {}
            Err(e) => {
                let _ = write_handshake(stream, hs, deadline);
                return Err(e.into());
            }
        }
    }
}

fn write_handshake<S, H>(stream: &mut S, hs: &mut H, deadline: Instant) -> Result<(), Error>
where
    S: Read + Write + 'static,
    H: Handshake,
{
    while !hs.pending_output().is_empty() {
        set_timeouts(stream, deadline)?;
        match stream.write(hs.pending_output()) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
            Ok(n) => hs.consume_output(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if would_block(&e) => return Err(Error::HandshakeTimeout),
            Err(e) => return Err(io_error(e)),
        }
    }
    set_timeouts(stream, deadline)?;
    match stream.flush() {
        Ok(()) => Ok(()),
        Err(e) if would_block(&e) => Err(Error::HandshakeTimeout),
        Err(e) => Err(io_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// An address where nothing listens (bound, then released).
    fn closed() -> SocketAddr {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
    }

    #[test]
    fn dial_tries_each_address_in_turn() {
        let config = Config::default();
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = open.local_addr().unwrap();
        let (a, b) = (closed(), closed());
        let tcp = dial([a, target, b], Dial::new("h", 1, &config)).unwrap();
        assert_eq!(tcp.peer_addr().unwrap(), target);

        match dial([a, b], Dial::new("localhost", 7, &config)) {
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
    }

    /// A listener whose accept queue is full leaves new connections
    /// unanswered: the connect timeout ends the attempt, and the next
    /// address is tried. (tokio's socket sets the backlog.)
    #[cfg(feature = "tokio")]
    #[test]
    fn dial_times_out_per_address() {
        let rt = ::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let full = rt.block_on(async {
            let socket = ::tokio::net::TcpSocket::new_v4().unwrap();
            socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
            socket.listen(0).unwrap().into_std().unwrap()
        });
        let address = full.local_addr().unwrap();
        let short = Duration::from_millis(200);
        // Fill the queue (never accepted).
        let held: Vec<_> = (0..8)
            .map_while(|_| TcpStream::connect_timeout(&address, short).ok())
            .collect();
        let config = Config::default()
            .connect_timeout(Duration::from_millis(300))
            .handshake_timeout(Duration::from_secs(60));
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = open.local_addr().unwrap();
        let tcp = dial([address, target], Dial::new("h", 1, &config)).unwrap();
        assert_eq!(tcp.peer_addr().unwrap(), target);
        match dial([address], Dial::new("h", 1, &config)) {
            Err(Error::Connect(e)) => {
                assert_eq!(e.attempts()[0].1.kind(), io::ErrorKind::TimedOut);
                assert!(e.to_string().contains("no answer within 300ms"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        drop(held);
    }
}
