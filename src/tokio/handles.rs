//! The handles on a connection: the [`WebSocket`], and its
//! [`ReadHalf`] and [`WriteHalf`] after [`split`](WebSocket::split).
//!
//! The unsplit [`WebSocket`] owns its state and reaches it through
//! `&mut self` without locking (its mutex is there only so that the type
//! is `Sync`; `Mutex::get_mut` takes no lock). [`split`](WebSocket::split)
//! moves the state behind an `Arc<Mutex<_>>` that each half locks once
//! per `poll_*` call, never across an `.await`. All the work is done by
//! the shared state in `socket.rs`; the handles only reach it.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::Error;
use super::socket::{Inner, Side};
use crate::adapter::end_of_connection;
use crate::{CloseCode, CloseFrame, Config, Connection, Message, MessageKind, Role};
use crate::{SendError, State};

/// Generates the API that every handle shares. Each handle has `shared`
/// (the state from `&self`, locked) and `inner_mut` (the state from
/// `&mut self`, for `poll_*` calls).
macro_rules! handle {
    ($name:ident) => {
        impl<S> $name<S> {
            /// The subprotocol agreed in the opening handshake.
            pub fn subprotocol(&self) -> Option<String> {
                self.shared().conn.subprotocol().map(str::to_owned)
            }

            /// Where the closing handshake stands.
            pub fn state(&self) -> State {
                self.shared().conn.state()
            }

            /// The peer's close frame, once the closing handshake is
            /// complete.
            pub fn close_frame(&self) -> Option<CloseFrame> {
                match self.shared().conn.outcome() {
                    Some(crate::Outcome::Clean(frame)) => Some(frame.clone()),
                    _ => None,
                }
            }
        }

        impl<S> std::fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("conn", &self.shared().conn)
                    .finish()
            }
        }
    };
}

/// Generates the reading API of a handle.
macro_rules! reader {
    ($name:ident) => {
        impl<S: AsyncRead + AsyncWrite + Unpin> $name<S> {
            /// The next message. Pings are answered and the closing
            /// handshake carried out while waiting. At the end this returns
            /// [`Error::Closed`] (a clean close), [`Error::AbnormalClose`]
            /// or [`Error::Protocol`], on every call; see [`Error`].
            pub async fn read(&mut self) -> Result<Message, Error> {
                let next = poll_fn(|cx| self.inner_mut().poll_read_message(cx)).await;
                next.unwrap_or_else(|| {
                    let inner = &mut *self.inner_mut();
                    Err(end_of_connection(&inner.conn))
                })
            }
        }

        /// Messages until the end: `None` after a clean close, an error
        /// (then `None`) after an abnormal one.
        impl<S: AsyncRead + AsyncWrite + Unpin> Stream for $name<S> {
            type Item = Result<Message, Error>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                match ready!(self.get_mut().inner_mut().poll_read_message(cx)) {
                    Some(Err(Error::Closed(_))) => Poll::Ready(None),
                    next => Poll::Ready(next),
                }
            }
        }
    };
}

/// Generates the writing API of a handle.
macro_rules! writer {
    ($name:ident) => {
        impl<S: AsyncRead + AsyncWrite + Unpin> $name<S> {
            /// Sends a message: waits for room below the high-water mark,
            /// queues it, and writes it out.
            ///
            /// The future holds the message and a reference to the
            /// connection, nothing more: a connection's task holds it
            /// whenever a send waits.
            pub fn send(
                &mut self,
                message: impl Into<Message>,
            ) -> impl Future<Output = Result<(), Error>> {
                let message = message.into();
                let mut queue = Some(move |conn: &mut Connection| conn.send(&message));
                poll_fn(move |cx| self.inner_mut().poll_send(cx, &mut queue))
            }

            /// Sends one fragment of a message; see
            /// [`Connection::send_fragment`].
            pub async fn send_fragment(
                &mut self,
                kind: MessageKind,
                data: &[u8],
                fin: bool,
            ) -> Result<(), Error> {
                self.write_with(|conn| conn.send_fragment(kind, data, fin))
                    .await
            }

            /// Sends a ping (at most 125 bytes).
            pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
                self.write_with(|conn| conn.send_ping(payload)).await
            }

            /// Starts the closing handshake. Keep reading until the end
            /// (the peer's answer) to complete it.
            pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
                self.write_with(|conn| conn.send_close(code, reason)).await
            }

            /// Waits for room below [`Config::write_buffer_high_water`],
            /// queues frames with `queue`, and writes them out. If the
            /// future is dropped, the frames are either all queued (and
            /// written by a later call) or not queued at all.
            pub async fn write_with(
                &mut self,
                queue: impl FnOnce(&mut Connection) -> Result<(), SendError>,
            ) -> Result<(), Error> {
                let mut queue = Some(queue);
                poll_fn(|cx| self.inner_mut().poll_send(cx, &mut queue)).await
            }

            /// Writes everything queued and flushes the socket.
            pub async fn flush(&mut self) -> Result<(), Error> {
                Ok(poll_fn(|cx| self.inner_mut().poll_write_out(cx, Side::Writer)).await?)
            }
        }

        /// Back-pressure: `poll_ready` is `Pending` while the output holds
        /// [`Config::write_buffer_high_water`] bytes or more. `poll_close`
        /// sends a close frame (code 1000) if none was sent, and flushes.
        impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for $name<S> {
            type Error = Error;

            fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.get_mut().inner_mut().poll_ready(cx)
            }

            fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
                Ok(self.get_mut().inner_mut().conn.send(&message)?)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                let inner = &mut *self.get_mut().inner_mut();
                inner.poll_write_out(cx, Side::Writer).map_err(Error::from)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.get_mut().inner_mut().poll_close(cx)
            }
        }
    };
}

/// A WebSocket connection over an async stream. Read it with
/// [`read`](WebSocket::read) or as a `Stream`, write it with
/// [`send`](WebSocket::send) or as a `Sink`, or
/// [`split`](WebSocket::split) it.
pub struct WebSocket<S> {
    /// Only locked through `&self` (`subprotocol`, `state`, …): every
    /// read and write goes through `&mut self` and `Mutex::get_mut`.
    inner: Mutex<Inner<S>>,
}

/// The reading half of a [`WebSocket`]: messages in, and the pongs and
/// close echoes they call for out.
pub struct ReadHalf<S> {
    inner: Arc<Mutex<Inner<S>>>,
}

/// The writing half of a [`WebSocket`].
pub struct WriteHalf<S> {
    inner: Arc<Mutex<Inner<S>>>,
}

impl<S> WebSocket<S> {
    fn shared(&self) -> MutexGuard<'_, Inner<S>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn inner_mut(&mut self) -> &mut Inner<S> {
        self.inner.get_mut().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S> ReadHalf<S> {
    fn shared(&self) -> MutexGuard<'_, Inner<S>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn inner_mut(&mut self) -> MutexGuard<'_, Inner<S>> {
        self.shared()
    }
}

impl<S> WriteHalf<S> {
    fn shared(&self) -> MutexGuard<'_, Inner<S>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn inner_mut(&mut self) -> MutexGuard<'_, Inner<S>> {
        self.shared()
    }
}

handle!(WebSocket);
handle!(ReadHalf);
handle!(WriteHalf);
reader!(WebSocket);
reader!(ReadHalf);
writer!(WebSocket);
writer!(WriteHalf);

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocket<S> {
    /// Wraps a stream whose opening handshake was done elsewhere (an HTTP
    /// server's upgrade). `leftover` holds any bytes read from the stream
    /// after the handshake: they are the start of the WebSocket traffic.
    pub fn from_upgraded(stream: S, role: Role, config: Config, leftover: &[u8]) -> Self {
        let mut conn = Connection::new(role, config);
        conn.receive_data(leftover);
        Self::from_connection(stream, conn)
    }

    /// Wraps a stream and the [`Connection`] made by a handshake you ran
    /// yourself. Output the connection holds (a server's 101 response) is
    /// written by the first read or write.
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket {
            inner: Mutex::new(Inner::new(stream, conn)),
        }
    }

    /// Splits the connection into a read half and a write half, for two
    /// tasks. The read half must keep being polled for pings to be
    /// answered and the connection to close.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let inner = Arc::new(self.inner);
        (
            ReadHalf {
                inner: Arc::clone(&inner),
            },
            WriteHalf { inner },
        )
    }
}
