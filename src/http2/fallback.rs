//! Falling back to HTTP/1.1 when an HTTP/2 server does not offer extended
//! CONNECT.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Error, H2Stream, Http2Client};
use crate::handshake::{HandshakeError, Response};
use crate::tokio::WebSocket;
use crate::{ClientRequest, Config};

/// The stream under a WebSocket opened by [`connect_or_fall_back`]: a
/// stream of the HTTP/2 connection, or the HTTP/1.1 connection of its own
/// that the fallback dialed.
#[derive(Debug)]
pub enum Http2OrHttp1<S> {
    /// An extended CONNECT stream (RFC 8441).
    Http2(H2Stream),
    /// A connection upgraded with HTTP/1.1 (RFC 6455 §4).
    Http1(S),
}

/// A WebSocket opened by [`connect_or_fall_back`].
#[derive(Debug)]
pub struct Opened<S> {
    /// The WebSocket, over either kind of stream.
    pub socket: WebSocket<Http2OrHttp1<S>>,
    /// The server's answer to the opening handshake.
    pub response: Response,
    /// The HTTP/2 connection, for more WebSockets on it; `None` after a
    /// fallback.
    pub client: Option<Http2Client>,
}

/// Opens a WebSocket on the HTTP/2 connection `io` if its server offers
/// extended CONNECT (RFC 8441 §3), and otherwise with an HTTP/1.1 upgrade
/// on a new connection that `dial` makes: a plain TCP stream, or TLS that
/// offers ALPN `http/1.1` only (a server that answered `h2` once would
/// again).
///
/// A client that would rather fail with a named error than fall back calls
/// [`Http2Client::handshake`], which returns
/// [`HandshakeError::ExtendedConnectNotOffered`]. Errors of the HTTP/1.1
/// fallback, `dial`'s included, come as [`Error::Http1`].
pub async fn connect_or_fall_back<I, D, Fut, S>(
    io: I,
    request: ClientRequest,
    config: &Config,
    dial: D,
) -> Result<Opened<S>, Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    D: FnOnce() -> Fut,
    Fut: Future<Output = io::Result<S>>,
    S: AsyncRead + AsyncWrite + Unpin,
{
    match Http2Client::handshake(io).await {
        Ok(client) => {
            let (stream, conn, response) = client.open(request, config).await?;
            Ok(Opened {
                socket: WebSocket::from_connection(Http2OrHttp1::Http2(stream), conn),
                response,
                client: Some(client),
            })
        }
        Err(Error::Handshake(HandshakeError::ExtendedConnectNotOffered)) => {
            let stream = dial().await.map_err(crate::tokio::Error::Io)?;
            let (socket, response) = crate::tokio::client_with_config(
                Http2OrHttp1::Http1(stream),
                request,
                config.clone(),
            )
            .await?;
            Ok(Opened {
                socket,
                response,
                client: None,
            })
        }
        Err(other) => Err(other),
    }
}

/// Forwards a poll method to whichever stream this is.
macro_rules! either {
    ($self:ident, $method:ident($($arg:expr),*)) => {
        match $self.get_mut() {
            Http2OrHttp1::Http2(s) => Pin::new(s).$method($($arg),*),
            Http2OrHttp1::Http1(s) => Pin::new(s).$method($($arg),*),
        }
    };
}

impl<S: AsyncRead + Unpin> AsyncRead for Http2OrHttp1<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        either!(self, poll_read(cx, buf))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Http2OrHttp1<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        either!(self, poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        either!(self, poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Http2OrHttp1::Http2(s) => s.is_write_vectored(),
            Http2OrHttp1::Http1(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        either!(self, poll_shutdown(cx))
    }
}
