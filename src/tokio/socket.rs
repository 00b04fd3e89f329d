//! The state of one connection, a [`Connection`] and a stream, driven
//! from the `poll_*` calls of its handles (`handles.rs`).
//!
//! What each message costs on top of the core is kept to a minimum: no
//! waker is cloned or registered while the socket takes the output at
//! once, the clock is read only while a timer can be running, and empty
//! buffers are given back only when the connection has nothing left to
//! read or write.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker, ready};
use std::time::Instant;

use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use ::tokio::time::{Sleep, sleep_until};

use super::Error;
use crate::adapter::{end_of_connection, read_into_done, wanted};
use crate::{CloseCode, Connection, Event};
use crate::{SendError, State};

/// The most slices handed to one vectored write.
const WRITE_SLICES: usize = 16;

/// Which side is writing: the reader (pongs, close replies) or the writer
/// (messages). Each has a slot for the waker of a write that must wait.
#[derive(Clone, Copy)]
pub(super) enum Side {
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
pub(super) struct Inner<S> {
    pub(super) stream: S,
    pub(super) conn: Connection,
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
    pub(super) fn new(stream: S, mut conn: Connection) -> Self {
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
            done: false,
        }
    }

    /// Writes the pending output and flushes the socket, for `side`.
    ///
    /// The write is first tried without registering any waker: most
    /// complete at once. Only when the socket is full (or the other side
    /// already waits, so its registration must be kept) is the waker of
    /// `cx` stored and a waker for both sides registered.
    pub(super) fn poll_write_out(
        &mut self,
        cx: &mut Context<'_>,
        side: Side,
    ) -> Poll<io::Result<()>> {
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

    /// The read side: the next event that [`wanted`] hands out (all of
    /// them with `every`, else messages and pieces), or the end (reported
    /// once as an error, then `None`).
    pub(super) fn poll_read_event(
        &mut self,
        cx: &mut Context<'_>,
        every: bool,
    ) -> Poll<Option<Result<Event, Error>>> {
        // A timer that ran out acts before anything that arrived since.
        let mut told_time = false;
        if self.timer.as_ref().is_some_and(|timer| timer.is_elapsed()) {
            self.conn.handle_timeout(Instant::now());
            told_time = true;
        }
        while !self.done {
            let ended = match self.conn.next_event() {
                Ok(Some(event)) if wanted(&event, every) => return Poll::Ready(Some(Ok(event))),
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
                return Poll::Ready(Some(Err(end_of_connection(&self.conn))));
            }
            if let Poll::Ready(Err(e)) = written {
                return Poll::Ready(Some(Err(e.into())));
            }
            if self.conn.is_write_buffer_full() {
                return Poll::Pending; // the core decodes nothing until written
            }
            // Read straight into the connection's input buffer (tokio's
            // `read_buf` fills its spare room without zeroing it first).
            let mut buf = self.conn.read_buffer();
            let polled = pin!(self.stream.read_buf(&mut buf)).poll(cx);
            match polled {
                Poll::Ready(result) => {
                    if let Err(e) = read_into_done(&mut self.conn, buf, result.map(drop)) {
                        return Poll::Ready(Some(Err(e.into())));
                    }
                }
                Poll::Pending => {
                    self.conn.commit_read(buf);
                    if !told_time && self.conn.needs_clock() {
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
                    // Every message moves the keepalive deadline later; the
                    // timer is not moved with it (that costs a trip to the
                    // timer wheel per message) but left to fire early, and
                    // moved on then.
                    if timer.is_elapsed() || timer.deadline() > at.into() {
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
    pub(super) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.is_write_buffer_full() {
            ready!(self.poll_write_out(cx, Side::Writer))?;
        }
        Poll::Ready(Ok(()))
    }

    /// The write side: waits for room, queues frames with `queue` (taken
    /// once), and writes them out.
    pub(super) fn poll_send<F>(
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
    pub(super) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.state() == State::Open {
            self.conn.send_close(CloseCode::NORMAL, "")?;
        }
        self.poll_write_out(cx, Side::Writer).map_err(Error::from)
    }
}
