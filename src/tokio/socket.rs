//! The async [`WebSocket`] and its halves: a [`Connection`] and a stream
//! behind a mutex held only inside `poll_*` calls.

use std::future::{Future, poll_fn};
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Instant;

use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::time::{Sleep, sleep_until};
use futures_core::Stream;
use futures_sink::Sink;

use super::Error;
use crate::adapter::end_of_connection;
use crate::{CloseCode, CloseFrame, Config, Connection, Event, Message, MessageKind, Role};
use crate::{SendError, State};

/// Which side of a split connection is polling: its waker slot.
/// The most read from the socket at once.
const READ_CHUNK: usize = 64 * 1024;
const READER: usize = 0;
const WRITER: usize = 1;

/// What both halves share.
struct Inner<S> {
    stream: S,
    conn: Connection,
    timer: Option<Pin<Box<Sleep>>>,
    /// The tasks waiting for the socket to take more output. A write may be
    /// attempted by either half, and the socket keeps one write waker, so
    /// writes are polled with a waker that wakes both.
    write_wakers: Arc<WriteWakers>,
    /// The close event the connection delivered.
    closed: Option<CloseFrame>,
    /// The end was reported and the socket shut down.
    done: bool,
}

#[derive(Default)]
struct WriteWakers([Mutex<Option<Waker>>; 2]);

impl Wake for WriteWakers {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        for slot in &self.0 {
            if let Some(waker) = slot.lock().unwrap_or_else(PoisonError::into_inner).take() {
                waker.wake();
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Inner<S> {
    /// Writes the pending output and flushes the socket.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, side: usize) -> Poll<io::Result<()>> {
        if self.conn.pending_output().is_empty() {
            return Poll::Ready(Ok(()));
        }
        let slot = &self.write_wakers.0[side];
        *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        let waker = Waker::from(self.write_wakers.clone());
        let mut cx = Context::from_waker(&waker);
        while !self.conn.pending_output().is_empty() {
            let out = self.conn.pending_output();
            match ready!(Pin::new(&mut self.stream).poll_write(&mut cx, out)) {
                Ok(0) => return Poll::Ready(Err(self.gone(io::ErrorKind::WriteZero.into()))),
                Ok(n) => self.conn.consume_output(n),
                Err(e) => return Poll::Ready(Err(self.gone(e))),
            }
        }
        let flushed = ready!(Pin::new(&mut self.stream).poll_flush(&mut cx));
        Poll::Ready(flushed.map_err(|e| self.gone(e)))
    }

    /// The transport failed: later reads report the end.
    fn gone(&mut self, error: io::Error) -> io::Error {
        self.conn.receive_eof();
        error
    }

    /// The read side: the next message, or the end (reported once as an
    /// error, then `None`).
    fn poll_read_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        while !self.done {
            self.conn.handle_timeout(Instant::now());
            let ended = match self.conn.next_event() {
                Ok(Some(Event::Message(message))) => return Poll::Ready(Some(Ok(message))),
                Ok(Some(Event::Close(frame))) => {
                    self.closed = Some(frame);
                    continue;
                }
                Ok(Some(_)) => continue,
                Ok(None) => self.conn.should_close_transport(),
                Err(_) => true,
            };
            let written = self.poll_write_out(cx, READER);
            if ended {
                // A broken socket is not news at the end: only wait.
                ready!(written).ok();
                ready!(Pin::new(&mut self.stream).poll_shutdown(cx)).ok();
                self.done = true;
                return Poll::Ready(Some(Err(end_of_connection(
                    &mut self.conn,
                    self.closed.as_ref(),
                ))));
            }
            if let Poll::Ready(Err(e)) = written {
                return Poll::Ready(Some(Err(e.into())));
            }
            if self.conn.is_write_buffer_full() {
                return Poll::Pending; // the core decodes nothing until written
            }
            // Read on the stack, so an idle connection holds no read buffer;
            // the core copies what arrives into its own.
            let mut storage = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut buf = ReadBuf::uninit(&mut storage);
            match Pin::new(&mut self.stream).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => self.conn.receive_eof(),
                Poll::Ready(Ok(())) => self.conn.receive_data(buf.filled()),
                // After the peer's close frame, a reset is just how it ended.
                Poll::Ready(Err(_)) if self.closed.is_some() => self.conn.receive_eof(),
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(self.gone(e).into()))),
                Poll::Pending => {
                    // Nothing more to read for now: give back empty buffers.
                    self.conn.release_memory();
                    let Some(at) = self.conn.poll_timeout() else {
                        return Poll::Pending;
                    };
                    let timer = self
                        .timer
                        .get_or_insert_with(|| Box::pin(sleep_until(at.into())));
                    if timer.deadline() != at.into() {
                        timer.as_mut().reset(at.into());
                    }
                    ready!(timer.as_mut().poll(cx));
                }
            }
        }
        Poll::Ready(None)
    }

    /// The write side: room for one more message.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.is_write_buffer_full() {
            ready!(self.poll_write_out(cx, WRITER))?;
        }
        Poll::Ready(Ok(()))
    }
}

/// Generates the types that share one [`Inner`].
macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<S> {
            inner: Arc<Mutex<Inner<S>>>,
        }

        impl<S> $name<S> {
            fn lock(&self) -> MutexGuard<'_, Inner<S>> {
                self.inner.lock().unwrap_or_else(PoisonError::into_inner)
            }

            /// The subprotocol agreed in the opening handshake.
            pub fn subprotocol(&self) -> Option<String> {
                self.lock().conn.subprotocol().map(str::to_owned)
            }

            /// Where the closing handshake stands.
            pub fn state(&self) -> State {
                self.lock().conn.state()
            }

            /// The peer's close frame, once its close event was read.
            pub fn close_frame(&self) -> Option<CloseFrame> {
                self.lock().closed.clone()
            }
        }

        impl<S> std::fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name)).field("conn", &self.lock().conn).finish()
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
                let next = poll_fn(|cx| self.lock().poll_read_message(cx)).await;
                next.unwrap_or_else(|| {
                    let inner = &mut *self.lock();
                    Err(end_of_connection(&mut inner.conn, inner.closed.as_ref()))
                })
            }
        }

        /// Messages until the end: `None` after a clean close, an error
        /// (then `None`) after an abnormal one.
        impl<S: AsyncRead + AsyncWrite + Unpin> Stream for $name<S> {
            type Item = Result<Message, Error>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                match ready!(self.lock().poll_read_message(cx)) {
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
            pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
                let message = message.into();
                self.write_with(|conn| conn.send(&message)).await
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
                poll_fn(|cx| self.lock().poll_ready(cx)).await?;
                queue(&mut self.lock().conn)?;
                self.flush().await
            }

            /// Writes everything queued and flushes the socket.
            pub async fn flush(&mut self) -> Result<(), Error> {
                Ok(poll_fn(|cx| self.lock().poll_write_out(cx, WRITER)).await?)
            }
        }

        /// Back-pressure: `poll_ready` is `Pending` while the output holds
        /// [`Config::write_buffer_high_water`] bytes or more. `poll_close`
        /// sends a close frame (code 1000) if none was sent, and flushes.
        impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for $name<S> {
            type Error = Error;

            fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.lock().poll_ready(cx)
            }

            fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
                Ok(self.lock().conn.send(&message)?)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                self.lock().poll_write_out(cx, WRITER).map_err(Error::from)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
                let inner = &mut *self.lock();
                if inner.conn.state() == State::Open {
                    inner.conn.send_close(CloseCode::NORMAL, "")?;
                }
                inner.poll_write_out(cx, WRITER).map_err(Error::from)
            }
        }
    };
}

handle!(
    /// A WebSocket connection over an async stream. Read it with
    /// [`read`](WebSocket::read) or as a `Stream`, write it with
    /// [`send`](WebSocket::send) or as a `Sink`, or
    /// [`split`](WebSocket::split) it.
    WebSocket
);
handle!(
    /// The reading half of a [`WebSocket`]: messages in, and the pongs and
    /// close echoes they call for out.
    ReadHalf
);
handle!(
    /// The writing half of a [`WebSocket`].
    WriteHalf
);
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
        let inner = Inner {
            stream,
            conn,
            timer: None,
            write_wakers: Arc::default(),
            closed: None,
            done: false,
        };
        WebSocket {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    /// Splits the connection into a read half and a write half, for two
    /// tasks. The read half must keep being polled for pings to be
    /// answered and the connection to close.
    pub fn split(self) -> (ReadHalf<S>, WriteHalf<S>) {
        let inner = Arc::clone(&self.inner);
        (ReadHalf { inner }, WriteHalf { inner: self.inner })
    }
}
