//! The stream `connect` returns, and the socket timeouts that bound a
//! handshake on streams whose socket the adapter can reach.

use std::any::Any;
use std::io::{self, IoSlice, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The stream of a connection made by [`connect`](super::connect): plain
/// TCP for `ws://`, TLS over TCP for `wss://`.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// A `ws://` connection.
    Plain(TcpStream),
    /// A `wss://` connection (with the `rustls` feature).
    #[cfg(feature = "rustls")]
    Rustls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl MaybeTlsStream {
    /// The TCP socket underneath: to set timeouts, non-blocking mode or
    /// `TCP_NODELAY`. Reading or writing it directly corrupts the stream.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp,
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => &tls.sock,
        }
    }

    /// Whether the connection runs over TLS.
    pub fn is_tls(&self) -> bool {
        !matches!(self, MaybeTlsStream::Plain(_))
    }
}

impl Read for MaybeTlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.read(buf),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.read(buf),
        }
    }
}

impl Write for MaybeTlsStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.write(buf),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.write_vectored(bufs),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            MaybeTlsStream::Plain(tcp) => tcp.flush(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(tls) => tls.flush(),
        }
    }
}

/// A socket whose timeouts the adapter sets during a handshake.
pub(super) enum Socket<'a> {
    Tcp(&'a TcpStream),
    #[cfg(unix)]
    Unix(&'a std::os::unix::net::UnixStream),
}

/// The socket under `stream`, when its type is one the adapter knows:
/// `TcpStream`, `UnixStream`, [`MaybeTlsStream`], and rustls's
/// `StreamOwned` over a `TcpStream`.
pub(super) fn socket_of(stream: &dyn Any) -> Option<Socket<'_>> {
    if let Some(tcp) = stream.downcast_ref::<TcpStream>() {
        return Some(Socket::Tcp(tcp));
    }
    if let Some(s) = stream.downcast_ref::<MaybeTlsStream>() {
        return Some(Socket::Tcp(s.tcp()));
    }
    #[cfg(unix)]
    if let Some(unix) = stream.downcast_ref::<std::os::unix::net::UnixStream>() {
        return Some(Socket::Unix(unix));
    }
    #[cfg(feature = "rustls")]
    {
        use rustls::{ClientConnection, ServerConnection, StreamOwned};
        if let Some(s) = stream.downcast_ref::<StreamOwned<ServerConnection, TcpStream>>() {
            return Some(Socket::Tcp(&s.sock));
        }
        if let Some(s) = stream.downcast_ref::<StreamOwned<ClientConnection, TcpStream>>() {
            return Some(Socket::Tcp(&s.sock));
        }
    }
    None
}

/// Read and write timeouts.
pub(super) type Timeouts = (Option<Duration>, Option<Duration>);

impl Socket<'_> {
    pub(super) fn timeouts(&self) -> io::Result<Timeouts> {
        match self {
            Socket::Tcp(s) => Ok((s.read_timeout()?, s.write_timeout()?)),
            #[cfg(unix)]
            Socket::Unix(s) => Ok((s.read_timeout()?, s.write_timeout()?)),
        }
    }

    pub(super) fn set_timeouts(&self, (read, write): Timeouts) -> io::Result<()> {
        match self {
            Socket::Tcp(s) => {
                s.set_read_timeout(read)?;
                s.set_write_timeout(write)
            }
            #[cfg(unix)]
            Socket::Unix(s) => {
                s.set_read_timeout(read)?;
                s.set_write_timeout(write)
            }
        }
    }
}
