//! What the blocking and tokio adapters share: their error type, the
//! rejection an accept callback returns, and a common face for the
//! handshake state machines (and a proxy's tunnel). No I/O here either;
//! what `connect` shares is in `connect/`.

use std::io;

use bytes::BytesMut;

use crate::connect::{ConnectError, ProxyError, TlsFailure, Tunnel};
use crate::handshake::{
    Accept, ClientHandshake, HandshakeError, Request, Response, ServerHandshake,
};
use crate::{CloseFrame, Config, Connection, Event, Outcome, ProtocolError, Role, SendError};

/// The error of the blocking and tokio adapters.
///
/// Both adapters use this one type (it is re-exported as
/// `rfc6455::blocking::Error` and `rfc6455::tokio::Error`), so code that
/// handles errors works with either.
///
/// How a connection ends, as seen by `read`:
///
/// | the peer…                                            | `read` returns       |
/// |------------------------------------------------------|----------------------|
/// | completed the closing handshake (either side began)  | [`Closed`](Error::Closed), a clean close |
/// | ended the transport without a close frame, or never answered ours within [`Config::close_timeout`](crate::Config::close_timeout) | [`AbnormalClose`](Error::AbnormalClose) (code 1006) |
/// | broke the protocol (our close frame is sent)         | [`Protocol`](Error::Protocol) |
/// | reset the connection, or the socket failed           | [`Io`](Error::Io)    |
///
/// These outcomes are sticky: every later `read` returns the same one
/// (an `Io` error is reported once, then the connection counts as ended
/// without a close frame). The tokio `Stream` ends with `None` after a
/// clean close instead of yielding `Closed`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The closing handshake completed: both close frames were exchanged.
    /// Holds the peer's code and reason (code 1005 when its close frame
    /// had none). This is the normal end of a connection.
    #[error("connection closed (code {}, reason {:?})", .0.code, .0.reason.as_str())]
    Closed(CloseFrame),
    /// The connection ended without a closing handshake (RFC 6455 close
    /// code 1006): the transport ended before a close frame arrived, or
    /// the peer did not answer our close frame in time.
    #[error("connection ended without a closing handshake (code 1006)")]
    AbnormalClose,
    /// The peer broke the protocol or a configured limit. The close frame
    /// naming the reason was sent (as far as the transport allowed) and the
    /// connection is over.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A send was refused (after a close, a control payload over 125
    /// bytes, ...). Nothing was queued; the connection is unaffected.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The opening handshake failed or was rejected. A server has written
    /// the matching HTTP error response.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The opening handshake did not complete within
    /// [`Config::handshake_timeout`](crate::Config::handshake_timeout).
    /// For a client this covers connecting, the proxy's tunnel and the TLS
    /// handshake too.
    #[error("the opening handshake did not complete in time")]
    HandshakeTimeout,
    /// The TLS handshake failed (with the `rustls` feature): `kind` says
    /// why in a word ([`TlsFailure`]), `source` is the cause, a
    /// `rustls::Error` when rustls refused something.
    ///
    /// ```
    /// # #[cfg(feature = "rustls")] {
    /// use rfc6455::blocking::{Error, TlsFailure};
    ///
    /// # fn f(error: Error) {
    /// match error {
    ///     Error::Tls { kind: TlsFailure::WrongHostName, .. } => eprintln!("check the URL's host"),
    ///     Error::Tls { kind, source } => eprintln!("{kind}: {source}"),
    ///     other => eprintln!("{other}"),
    /// }
    /// # } }
    /// ```
    #[error("TLS failed: {kind}")]
    Tls {
        /// What failed.
        kind: TlsFailure,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A `wss://` connection cannot be made as configured: the crate was
    /// built without the `rustls` feature, no root certificates are
    /// available (enable `rustls-webpki-roots` or `rustls-native-roots`,
    /// or pass a `ClientConfig`), or the host is no name TLS can check.
    /// Nothing was sent.
    #[error("wss:// unavailable: {0}")]
    TlsUnavailable(&'static str),
    /// The HTTP proxy did not open a tunnel: it refused
    /// ([`ProxyError::Refused`], with its status), answered badly or
    /// closed the connection.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// `connect` could not open a TCP connection: no address of the host
    /// (or of the proxy) accepted it within
    /// [`Config::connect_timeout`](crate::Config::connect_timeout). The
    /// [`ConnectError`] lists each address tried and why it failed. (A
    /// name that does not resolve is an [`Io`](Error::Io) error.)
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The transport failed. With the blocking adapter this includes
    /// `WouldBlock` and `TimedOut` from a non-blocking socket or a socket
    /// timeout: see [`is_would_block`](Error::is_would_block).
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Error {
    /// Whether this is an I/O error of kind `WouldBlock` or `TimedOut`: the
    /// socket has nothing to give right now (non-blocking socket, or a read
    /// or write timeout passed). Nothing is lost; call again later.
    ///
    /// ```
    /// use std::io;
    /// use rfc6455::blocking::Error;
    ///
    /// assert!(Error::Io(io::ErrorKind::WouldBlock.into()).is_would_block());
    /// assert!(!Error::AbnormalClose.is_would_block());
    /// ```
    pub fn is_would_block(&self) -> bool {
        matches!(self, Error::Io(e) if would_block(e))
    }
}

/// Whether an I/O error only means "not now".
pub(crate) fn would_block(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The error that reports how a connection ended, once
/// [`Connection::should_close_transport`] is true: the core's
/// [`Outcome`], as the adapters' [`Error`].
pub(crate) fn end_of_connection(conn: &Connection) -> Error {
    match conn.outcome() {
        Some(Outcome::Clean(frame)) => Error::Closed(frame.clone()),
        Some(Outcome::Failed(e)) => Error::Protocol(e.clone()),
        Some(Outcome::Abnormal) | None => Error::AbnormalClose,
    }
}

/// Whether a read hands `event` to its caller. The event-level read
/// (`every`) takes every event but [`Event::Abnormal`], which is the end
/// and is reported as the error that ends the connection; the
/// message-level read takes messages and, with streaming receive, pieces.
pub(crate) fn wanted(event: &Event, every: bool) -> bool {
    match event {
        Event::Abnormal => false,
        Event::Message(_) | Event::Piece { .. } => true,
        _ => every,
    }
}

/// The connection for a stream whose opening handshake was done elsewhere
/// (an HTTP server's upgrade), with `leftover`, the bytes read past the
/// handshake, already received.
pub(crate) fn upgraded(role: Role, config: Config, leftover: &[u8]) -> Connection {
    let mut conn = Connection::new(role, config);
    conn.receive_data(leftover);
    conn
}

/// Hands a failed read to the connection: a reset after the peer's close
/// frame is just how the connection ended (the peer closed the socket
/// without waiting for our echo), so it counts as the end of the stream.
/// Any other error is returned; unless it only means "not now", the
/// transport is gone and the connection is told so.
pub(crate) fn read_failed(conn: &mut Connection, error: io::Error) -> Result<(), io::Error> {
    let closed_by_peer = matches!(conn.outcome(), Some(Outcome::Clean(_)));
    if !would_block(&error) {
        conn.receive_eof();
        if closed_by_peer {
            return Ok(());
        }
    }
    Err(error)
}

/// Hands the connection the buffer from [`Connection::read_buffer`] after
/// a read into it (`result`, with the bytes read in `buf`): the bytes, the
/// end of the transport (a read of nothing), or the error as
/// [`read_failed`] sorts it. Both adapters read this way, straight into the
/// connection's input buffer.
pub(crate) fn read_into_done(
    conn: &mut Connection,
    buf: BytesMut,
    result: io::Result<()>,
) -> Result<(), io::Error> {
    let eof = buf.is_empty();
    conn.commit_read(buf);
    match result {
        Ok(()) if eof => {
            conn.receive_eof();
            Ok(())
        }
        Ok(()) => Ok(()),
        Err(e) => read_failed(conn, e),
    }
}

/// A refusal of an opening handshake: what an `accept_with` callback
/// returns to answer with an HTTP error instead of `101`.
///
/// ```
/// use rfc6455::blocking::Reject;
///
/// let reject = Reject::new(401)
///     .header("WWW-Authenticate", "Bearer")
///     .body("token required");
/// # let _ = reject;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reject {
    /// A refusal with `status` (300–599) and an empty body.
    pub fn new(status: u16) -> Self {
        Reject {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a response header. Without any, the body is sent as
    /// `text/plain`.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the response body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Queues the response in `hs` and returns the error the adapter
    /// reports. An invalid status or header is answered with a bare 500.
    pub(crate) fn apply(self, hs: &mut ServerHandshake) -> HandshakeError {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let queued = if headers.is_empty() {
            hs.reject(self.status, &self.body)
        } else {
            hs.reject_with_headers(self.status, &headers, &self.body)
        };
        match queued {
            Ok(()) => HandshakeError::Rejected {
                status: self.status,
            },
            Err(e) => hs.fail_internal(e),
        }
    }
}

/// The application's answer to a request, applied to the handshake: the
/// connection, or the error with the response that tells the client
/// (the application's refusal, or a 500 for its mistake) queued in the
/// handshake's output, for the adapter to write before it closes. Both
/// adapters' `accept` flows go through here.
pub(crate) fn answer(
    hs: &mut ServerHandshake,
    request: &Request,
    answer: Result<Accept, Reject>,
) -> Result<Connection, HandshakeError> {
    match answer {
        Ok(accept) => hs.accept(request, accept),
        Err(reject) => Err(reject.apply(hs)),
    }
}

/// The I/O face of both handshake state machines, so that each adapter
/// drives them with one loop.
pub(crate) trait Handshake {
    /// What a completed handshake yields.
    type Done;
    /// Why it failed.
    type Error: Into<Error>;
    fn pending_output(&self) -> &[u8];
    fn consume_output(&mut self, n: usize);
    fn receive_data(&mut self, data: &[u8]) -> Result<Option<Self::Done>, Self::Error>;
    fn receive_eof(&mut self) -> Self::Error;
}

macro_rules! impl_handshake {
    ($ty:ty, $done:ty) => {
        impl Handshake for $ty {
            type Done = $done;
            type Error = HandshakeError;
            fn pending_output(&self) -> &[u8] {
                <$ty>::pending_output(self)
            }
            fn consume_output(&mut self, n: usize) {
                <$ty>::consume_output(self, n)
            }
            fn receive_data(&mut self, data: &[u8]) -> Result<Option<$done>, HandshakeError> {
                <$ty>::receive_data(self, data)
            }
            fn receive_eof(&mut self) -> HandshakeError {
                <$ty>::receive_eof(self)
                    .err()
                    .unwrap_or(HandshakeError::UnexpectedEof)
            }
        }
    };
}

impl_handshake!(ServerHandshake, Request);
impl_handshake!(ClientHandshake, Response);

/// A proxy's tunnel is opened by the same loop.
impl Handshake for Tunnel {
    type Done = ();
    type Error = ProxyError;
    fn pending_output(&self) -> &[u8] {
        Tunnel::pending_output(self)
    }
    fn consume_output(&mut self, n: usize) {
        Tunnel::consume_output(self, n)
    }
    fn receive_data(&mut self, data: &[u8]) -> Result<Option<()>, ProxyError> {
        Tunnel::receive_data(self, data)
    }
    fn receive_eof(&mut self) -> ProxyError {
        Tunnel::receive_eof(self)
    }
}
