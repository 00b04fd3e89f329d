//! The async [`WebSocket`] and its halves: a [`Connection`] and a stream
//! driven from `poll_*` calls.
//!
//! The unsplit [`WebSocket`] owns its state and reaches it through
//! `&mut self` without locking (its mutex is there only so that the type
//! is `Sync`; `Mutex::get_mut` takes no lock). [`split`](WebSocket::split)
//! moves the state behind an `Arc<Mutex<_>>` that each half locks once
//! per `poll_*` call, never across an `.await`.
//!
//! What each message costs on top of the core is kept to a minimum: no
//! waker is cloned or registered while the socket takes the output at
//! once, the clock is read only while a timer can be running, and empty
//! buffers are given back only when the connection has nothing left to
//! read or write.

use std::future::{Future, poll_fn};
use std::io::{self, IoSlice};
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

/// The most read from the socket at once.
const READ_CHUNK: usize = 64 * 1024;
/// The most slices handed to one vectored write.
const WRITE_SLICES: usize = 16;

/// Which side is writing: the reader (pongs, close replies) or the writer
/// (messages). Each has a slot for the waker of a write that must wait.
#[derive(Clone, Copy)]
enum Side {
    Reader = 0,
    Writer = 1,
}

impl Side {
    fn other(self) -> Side {
        match self {
            Side::Reader => Side::Writer,
            Side::Writer => Side::Reader,
        }
    }
}

/// The state of one connection, whether split or not.
struct Inner<S> {
    stream: S,
    conn: Connection,
    /// The keepalive or close timer, while the connection has one running.
    timer: Option<Pin<Box<Sleep>>>,
    /// Made by the first write that has to wait; see [`WriteWakers`].
    write_wakers: Option<Arc<WriteWakers>>,
    /// Which sides are waiting for the socket to take more output: their
    /// last write returned `Pending` and none has completed since.
    waiting: [bool; 2],
    /// Bytes were written to the stream and its `poll_flush` has not
    /// completed since.
    unflushed: bool,
    /// The close event the connection delivered (boxed: most connections
    /// spend their life without one).
    closed: Option<Box<CloseFrame>>,
    /// The end was reported and the socket shut down.
    done: bool,
}

/// The wakers of the sides waiting to write.
///
/// Either side may write (the reader answers pings), but a socket keeps
/// only the waker of the last write that returned `Pending`. A write that
/// must wait therefore registers a waker that wakes both slots, so that
/// neither side's registration is lost to the other's.
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
    fn new(stream: S, mut conn: Connection) -> Self {
        if stream.is_write_vectored() {
            // Large payloads are then queued by reference and leave with
            // their headers in one vectored write, never copied.
            conn.set_vectored_output(true);
        }
        Inner {
            stream,
            conn,
            timer: None,
            write_wakers: None,
            waiting: [false; 2],
            unflushed: false,
            closed: None,
            done: false,
        }
    }

    /// Writes the pending output and flushes the socket, for `side`.
    ///
    /// The write is first tried without registering any waker: most
    /// complete at once. Only when the socket is full (or the other side
    /// already waits, so its registration must be kept) is the waker of
    /// `cx` stored and a waker for both sides registered.
    fn poll_write_out(&mut self, cx: &mut Context<'_>, side: Side) -> Poll<io::Result<()>> {
        if !self.unflushed && self.conn.pending_output_len() == 0 {
            self.waiting[side as usize] = false;
            return Poll::Ready(Ok(()));
        }
        if !self.waiting[side.other() as usize] {
            let mut quiet = Context::from_waker(Waker::noop());
            if let Poll::Ready(result) = self.poll_write_socket(&mut quiet) {
                self.waiting[side as usize] = false;
                return Poll::Ready(result);
            }
        }
        let wakers = self.write_wakers.get_or_insert_with(Arc::default);
        *wakers.0[side as usize]
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        let both = Waker::from(Arc::clone(wakers));
        let result = self.poll_write_socket(&mut Context::from_waker(&both));
        self.waiting[side as usize] = result.is_pending();
        result
    }

    /// The one place that writes to the socket: all of the pending output,
    /// then a flush.
    ///
    /// With vectored output on, payloads queued by reference follow their
    /// frame headers in one vectored write; output that is all in one piece
    /// (every small message) goes out with a plain write.
    fn poll_write_socket(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let front = self.conn.pending_output();
            let pending = self.conn.pending_output_len();
            if pending == 0 {
                break;
            }
            let stream = Pin::new(&mut self.stream);
            let written = if front.len() == pending {
                stream.poll_write(cx, front)
            } else {
                let mut slices = [IoSlice::new(&[]); WRITE_SLICES];
                let n = self.conn.pending_output_vectored(&mut slices);
                stream.poll_write_vectored(cx, &slices[..n])
            };
            match ready!(written) {
                Ok(0) => return Poll::Ready(Err(self.gone(io::ErrorKind::WriteZero.into()))),
                Ok(n) => {
                    self.conn.consume_output(n);
                    self.unflushed = true;
                }
                Err(e) => return Poll::Ready(Err(self.gone(e))),
            }
        }
        if self.unflushed {
            let flushed = ready!(Pin::new(&mut self.stream).poll_flush(cx));
            self.unflushed = false;
            flushed.map_err(|e| self.gone(e))?;
        }
        Poll::Ready(Ok(()))
    }

    /// The transport failed: later reads report the end.
    fn gone(&mut self, error: io::Error) -> io::Error {
        self.conn.receive_eof();
        error
    }

    /// Whether the connection can have a timer running, so that it must be
    /// told the time before waiting. Keepalive pings run only when
    /// [`Config::keepalive_interval`] is set, and the close timer only once
    /// the closing handshake has begun: an open connection without
    /// keepalive never needs the clock.
    fn needs_time(&self) -> bool {
        self.conn.state() != State::Open || self.conn.config().keepalive_interval.is_some()
    }

    /// The read side: the next message, or the end (reported once as an
    /// error, then `None`).
    fn poll_read_message(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message, Error>>> {
        // A timer that ran out acts before anything that arrived since.
        let mut told_time = false;
        if self.timer.as_ref().is_some_and(|timer| timer.is_elapsed()) {
            self.conn.handle_timeout(Instant::now());
            told_time = true;
        }
        while !self.done {
            let ended = match self.conn.next_event() {
                Ok(Some(Event::Message(message))) => return Poll::Ready(Some(Ok(message))),
                Ok(Some(Event::Close(frame))) => {
                    self.closed = Some(Box::new(frame));
                    continue;
                }
                Ok(Some(_)) => continue,
                Ok(None) => self.conn.should_close_transport(),
                Err(_) => true,
            };
            let written = self.poll_write_out(cx, Side::Reader);
            if ended {
                // A broken socket is not news at the end: only wait.
                ready!(written).ok();
                ready!(Pin::new(&mut self.stream).poll_shutdown(cx)).ok();
                self.done = true;
                self.timer = None;
                return Poll::Ready(Some(Err(end_of_connection(
                    &mut self.conn,
                    self.closed.as_deref(),
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
                    if !told_time && self.needs_time() {
                        // Before waiting, the core is told the time; it
                        // may queue a ping or end the connection, so look
                        // again before going to sleep.
                        self.conn.handle_timeout(Instant::now());
                        told_time = true;
                        continue;
                    }
                    if written.is_ready() {
                        // Nothing to read and nothing to write: give back
                        // empty buffers, so an idle connection holds
                        // almost nothing.
                        self.conn.release_memory();
                    }
                    let Some(at) = self.conn.poll_timeout() else {
                        self.timer = None;
                        return Poll::Pending;
                    };
                    let timer = self
                        .timer
                        .get_or_insert_with(|| Box::pin(sleep_until(at.into())));
                    if timer.deadline() != at.into() {
                        timer.as_mut().reset(at.into());
                    }
                    ready!(timer.as_mut().poll(cx));
                    self.conn.handle_timeout(Instant::now());
                    told_time = true;
                }
            }
        }
        Poll::Ready(None)
    }

    /// The write side: room for one more message.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.is_write_buffer_full() {
            ready!(self.poll_write_out(cx, Side::Writer))?;
        }
        Poll::Ready(Ok(()))
    }

    /// The write side: waits for room, queues frames with `queue` (taken
    /// once), and writes them out.
    fn poll_send<F>(
        &mut self,
        cx: &mut Context<'_>,
        queue: &mut Option<F>,
    ) -> Poll<Result<(), Error>>
    where
        F: FnOnce(&mut Connection) -> Result<(), SendError>,
    {
        if queue.is_some() {
            ready!(self.poll_ready(cx))?;
            if let Some(queue) = queue.take() {
                queue(&mut self.conn)?;
            }
        }
        self.poll_write_out(cx, Side::Writer).map_err(Error::from)
    }

    /// `Sink::poll_close`: a close frame (code 1000) unless one was sent,
    /// then everything written.
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.state() == State::Open {
            self.conn.send_close(CloseCode::NORMAL, "")?;
        }
        self.poll_write_out(cx, Side::Writer).map_err(Error::from)
    }
}

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

            /// The peer's close frame, once its close event was read.
            pub fn close_frame(&self) -> Option<CloseFrame> {
                self.shared().closed.as_deref().cloned()
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
                    Err(end_of_connection(&mut inner.conn, inner.closed.as_deref()))
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
