//! The handles on a connection: the [`WebSocket`], and its
//! [`ReadHalf`] and [`WriteHalf`] after [`split`](WebSocket::split).
//!
//! The unsplit [`WebSocket`] owns its state and reaches it without
//! locking. [`split`](WebSocket::split) moves the state behind an
//! `Arc<Mutex<_>>` that each half locks once per `poll_*` call, never
//! across an `.await`, and [`ReadHalf::reunite`] takes it back out. All
//! the work is done by the state in `socket.rs`; the handles only reach
//! it.

use std::future::{Future, poll_fn};
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};

use ::tokio::io::{AsyncRead, AsyncWrite};
use futures_core::Stream;
use futures_sink::Sink;

use super::Error;
use super::socket::{Inner, Side};
use crate::adapter::{end_of_connection, upgraded};
use crate::{CloseCode, CloseFrame, Config, Connection, Event, Message, MessageKind, Role};
use crate::{SendError, State};

/// Generates the API that every handle shares. Each handle has `shared`
/// (the state from `&self`: locked, for a half) and `inner_mut` (the state
/// from `&mut self`, for `poll_*` calls).
macro_rules! handle {
    ($name:ident) => {
        impl<S> $name<S> {
            /// Where the closing handshake stands.
            pub fn state(&self) -> State {
                self.shared().conn.state()
            }

            /// Whether the closing handshake is done or the connection
            /// failed.
            pub fn is_closed(&self) -> bool {
                self.state() == State::Closed
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
            ///
            /// With [`Config::streaming`] on, each piece of a message is
            /// returned as a message of its own; use
            /// [`read_event`](Self::read_event) to tell which one is last.
            ///
            /// Cancel safe: a `read` dropped before it completes (in
            /// `tokio::select!`, say) loses no message; the next call
            /// returns it.
            pub async fn read(&mut self) -> Result<Message, Error> {
                loop {
                    match self.read_event_where(false).await? {
                        Event::Message(message) | Event::Piece { data: message, .. } => {
                            return Ok(message);
                        }
                        _ => continue,
                    }
                }
            }

            /// The next event: a message (or, with [`Config::streaming`],
            /// a piece of one), a ping, a pong, or the peer's close frame,
            /// as each arrives. Pings are still answered by the connection
            /// when [`Config::auto_pong`] is on; with it off, answer them
            /// with `send_pong`. After the close frame (or when the
            /// connection ends without one) this returns the end as
            /// [`read`](Self::read) does. Cancel safe, like `read`.
            pub async fn read_event(&mut self) -> Result<Event, Error> {
                self.read_event_where(true).await
            }

            async fn read_event_where(&mut self, every: bool) -> Result<Event, Error> {
                let next = poll_fn(|cx| self.inner_mut().poll_read_event(cx, every)).await;
                next.unwrap_or_else(|| Err(end_of_connection(&self.inner_mut().conn)))
            }
        }

        /// Messages until the end: `None` after a clean close, an error
        /// (then `None`) after an abnormal one.
        impl<S: AsyncRead + AsyncWrite + Unpin> Stream for $name<S> {
            type Item = Result<Message, Error>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                let inner = &mut *self.get_mut().inner_mut();
                loop {
                    let next = match ready!(inner.poll_read_event(cx, false)) {
                        Some(Ok(Event::Message(message) | Event::Piece { data: message, .. })) => {
                            Some(Ok(message))
                        }
                        Some(Ok(_)) => continue,
                        Some(Err(Error::Closed(_))) | None => None,
                        Some(Err(e)) => Some(Err(e)),
                    };
                    return Poll::Ready(next);
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

            /// Sends a text message.
            pub async fn send_text(&mut self, text: &str) -> Result<(), Error> {
                self.write_with(|conn| conn.send_text(text)).await
            }

            /// Sends a binary message.
            pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
                self.write_with(|conn| conn.send_binary(data)).await
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

            /// Sends a pong (at most 125 bytes): the answer to a ping when
            /// [`Config::auto_pong`] is off, or an unsolicited heartbeat.
            pub async fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
                self.write_with(|conn| conn.send_pong(payload)).await
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
/// [`read`](WebSocket::read) (or [`read_event`](WebSocket::read_event)) or
/// as a `Stream`, write it with [`send`](WebSocket::send) or as a `Sink`,
/// or [`split`](WebSocket::split) it.
pub struct WebSocket<S> {
    inner: Inner<S>,
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

/// The halves given to [`ReadHalf::reunite`] came from two different
/// [`WebSocket`]s; both are handed back.
#[derive(Debug)]
pub struct ReuniteError<S>(pub ReadHalf<S>, pub WriteHalf<S>);

impl<S> std::fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the halves belong to different WebSockets")
    }
}

impl<S: std::fmt::Debug> std::error::Error for ReuniteError<S> {}

impl<S> WebSocket<S> {
    fn shared(&self) -> &Inner<S> {
        &self.inner
    }

    fn inner_mut(&mut self) -> &mut Inner<S> {
        &mut self.inner
    }

    /// The subprotocol agreed in the opening handshake.
    pub fn subprotocol(&self) -> Option<&str> {
        self.inner.conn.subprotocol()
    }

    /// The connection state machine: state, subprotocol, outcome, timers.
    pub fn connection(&self) -> &Connection {
        &self.inner.conn
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.inner.stream
    }

    /// The stream, to set socket options. Reading or writing it directly
    /// corrupts the WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner.stream
    }

    /// Gives back the stream (output not written yet is dropped).
    pub fn into_inner(self) -> S {
        self.inner.stream
    }
}

/// The state of a split connection, locked for one `poll_*` call.
struct Locked<'a, S>(MutexGuard<'a, Inner<S>>);

impl<S> Deref for Locked<'_, S> {
    type Target = Inner<S>;
    fn deref(&self) -> &Inner<S> {
        &self.0
    }
}

impl<S> DerefMut for Locked<'_, S> {
    fn deref_mut(&mut self) -> &mut Inner<S> {
        &mut self.0
    }
}

fn lock<S>(inner: &Mutex<Inner<S>>) -> Locked<'_, S> {
    Locked(inner.lock().unwrap_or_else(PoisonError::into_inner))
}

impl<S> ReadHalf<S> {
    fn shared(&self) -> Locked<'_, S> {
        lock(&self.inner)
    }

    fn inner_mut(&mut self) -> Locked<'_, S> {
        lock(&self.inner)
    }

    /// The subprotocol agreed in the opening handshake.
    pub fn subprotocol(&self) -> Option<String> {
        self.shared().conn.subprotocol().map(str::to_owned)
    }

    /// Puts the halves back together into the [`WebSocket`] they were
    /// split from; fails, giving both back, if `write` came from another.
    pub fn reunite(self, write: WriteHalf<S>) -> Result<WebSocket<S>, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.inner, &write.inner) {
            return Err(ReuniteError(self, write));
        }
        drop(write);
        let inner = Arc::into_inner(self.inner).expect("the other half was just dropped");
        Ok(WebSocket {
            inner: inner.into_inner().unwrap_or_else(PoisonError::into_inner),
        })
    }
}

impl<S> WriteHalf<S> {
    fn shared(&self) -> Locked<'_, S> {
        lock(&self.inner)
    }

    fn inner_mut(&mut self) -> Locked<'_, S> {
        lock(&self.inner)
    }

    /// The subprotocol agreed in the opening handshake.
    pub fn subprotocol(&self) -> Option<String> {
        self.shared().conn.subprotocol().map(str::to_owned)
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
        Self::from_connection(stream, upgraded(role, config, leftover))
    }

    /// Wraps a stream and the [`Connection`] made by a handshake you ran
    /// yourself. Output the connection holds (a server's 101 response) is
    /// written by the first read or write.
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket {
            inner: Inner::new(stream, conn),
        }
    }

    /// Splits the connection into a read half and a write half, for two
    /// tasks. The read half must keep being polled for pings to be
    /// answered and the connection to close. [`ReadHalf::reunite`] undoes
    /// it.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let inner = Arc::new(Mutex::new(self.inner));
        (
            ReadHalf {
                inner: Arc::clone(&inner),
            },
            WriteHalf { inner },
        )
    }
}
