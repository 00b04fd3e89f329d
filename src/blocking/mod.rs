//! Blocking adapter: a [`WebSocket`] over any `std::io::Read + Write`.
//!
//! [`connect`] and [`accept`] run the opening handshake on a `TcpStream`,
//! within [`Config::handshake_timeout`]. [`WebSocket::from_upgraded`] takes
//! a stream whose handshake an HTTP server already did, and
//! [`WebSocket::from_connection`] one whose handshake you ran yourself with
//! [`handshake`](crate::handshake) (over TLS, say).
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

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

mod socket;

pub use self::socket::WebSocket;
use crate::Config;
pub use crate::adapter::{Error, Reject};
use crate::adapter::{Handshake, no_tls, would_block};
use crate::handshake::{
    Accept, ClientHandshake, ClientRequest, Request, Response, ServerHandshake,
};

/// Connects to a `ws://` URL (host, port, path and query) and runs the
/// opening handshake, with the default [`Config`].
pub fn connect(url: &str) -> Result<(WebSocket<TcpStream>, Response), Error> {
    connect_with_config(ClientRequest::new(url)?, Config::default())
}

/// Like [`connect`], with a request carrying subprotocols, headers or an
/// origin, and a [`Config`]. Resolving the host, connecting and the
/// handshake together take at most [`Config::handshake_timeout`] (name
/// resolution itself is not bounded).
pub fn connect_with_config(
    request: ClientRequest,
    config: Config,
) -> Result<(WebSocket<TcpStream>, Response), Error> {
    if request.is_secure() {
        return Err(no_tls());
    }
    let deadline = Instant::now() + config.handshake_timeout;
    let mut last_error = None;
    for addr in (request.host(), request.port()).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, remaining(deadline)?) {
            Ok(mut stream) => {
                stream.set_nodelay(true)?;
                let mut hs = ClientHandshake::new(request, &config)?;
                let response = run_handshake(&mut stream, &mut hs, deadline)?;
                let ws = WebSocket::from_connection(stream, hs.into_connection()?);
                ws.get_ref().set_read_timeout(None)?;
                ws.get_ref().set_write_timeout(None)?;
                return Ok((ws, response));
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.map_or(Error::HandshakeTimeout, Error::Io))
}

/// Runs the server side of the opening handshake on `stream`, accepting
/// any valid request, with the default [`Config`].
pub fn accept(stream: TcpStream) -> Result<WebSocket<TcpStream>, Error> {
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
pub fn accept_with<F>(stream: TcpStream, callback: F) -> Result<WebSocket<TcpStream>, Error>
where
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    accept_with_config(stream, Config::default(), callback)
}

/// Like [`accept_with`], with a [`Config`]. The whole handshake takes at
/// most [`Config::handshake_timeout`]: a client that sends nothing, or
/// trickles its request, gets [`Error::HandshakeTimeout`]. An invalid or
/// refused request is answered with its HTTP error before the error is
/// returned. The socket's own timeouts are restored afterwards.
pub fn accept_with_config<F>(
    mut stream: TcpStream,
    config: Config,
    callback: F,
) -> Result<WebSocket<TcpStream>, Error>
where
    F: FnOnce(&Request) -> Result<Accept, Reject>,
{
    let deadline = Instant::now() + config.handshake_timeout;
    let timeouts = (stream.read_timeout()?, stream.write_timeout()?);
    let mut hs = ServerHandshake::new(&config);
    let request = run_handshake(&mut stream, &mut hs, deadline)?;
    let conn = match callback(&request) {
        Ok(accept) => hs.accept(&request, accept)?,
        Err(reject) => {
            let error = reject.apply(&mut hs);
            let _ = write_handshake(&mut stream, &mut hs, deadline);
            return Err(error.into());
        }
    };
    let mut ws = WebSocket::from_connection(stream, conn);
    ws.get_ref().set_write_timeout(Some(remaining(deadline)?))?;
    // The 101 response.
    ws.flush().map_err(|e| {
        if e.is_would_block() {
            Error::HandshakeTimeout
        } else {
            e
        }
    })?;
    ws.get_ref().set_read_timeout(timeouts.0)?;
    ws.get_ref().set_write_timeout(timeouts.1)?;
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

/// Moves handshake bytes both ways until the handshake completes or fails
/// (after writing any error response it queued).
fn run_handshake<H: Handshake>(
    stream: &mut TcpStream,
    hs: &mut H,
    deadline: Instant,
) -> Result<H::Done, Error> {
    let mut buf = [0; 4096];
    loop {
        write_handshake(stream, hs, deadline)?;
        stream.set_read_timeout(Some(remaining(deadline)?))?;
        let result = match stream.read(&mut buf) {
            Ok(0) => Err(hs.receive_eof()),
            Ok(n) => hs.receive_data(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if would_block(&e) => return Err(Error::HandshakeTimeout),
            Err(e) => return Err(e.into()),
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

fn write_handshake<H: Handshake>(
    stream: &mut TcpStream,
    hs: &mut H,
    deadline: Instant,
) -> Result<(), Error> {
    while !hs.pending_output().is_empty() {
        stream.set_write_timeout(Some(remaining(deadline)?))?;
        match stream.write(hs.pending_output()) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
            Ok(n) => hs.consume_output(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if would_block(&e) => return Err(Error::HandshakeTimeout),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
