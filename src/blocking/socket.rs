//! The blocking [`WebSocket`]: a loop between a stream and a
//! [`Connection`].

use std::io::{self, Read, Write};
use std::time::Instant;

use super::Error;
use crate::adapter::{end_of_connection, read_into_done, upgraded, wanted, would_block};
use crate::{
    CloseCode, CloseFrame, Config, Connection, Event, Message, MessageKind, Outcome, Role,
};
use crate::{SendError, State};

/// A WebSocket connection over a blocking (or non-blocking) stream.
#[derive(Debug)]
pub struct WebSocket<S> {
    stream: S,
    conn: Connection,
}

impl<S: Read + Write> WebSocket<S> {
    /// Wraps a stream whose opening handshake was done elsewhere (an HTTP
    /// server's upgrade). `leftover` holds any bytes read from the stream
    /// after the handshake: they are the start of the WebSocket traffic.
    pub fn from_upgraded(stream: S, role: Role, config: Config, leftover: &[u8]) -> Self {
        Self::from_connection(stream, upgraded(role, config, leftover))
    }

    /// Wraps a stream and the [`Connection`] made by a handshake you ran
    /// yourself. Output the connection holds (a server's 101 response) is
    /// written by the first `flush`, `send` or `read`.
    pub fn from_connection(stream: S, conn: Connection) -> Self {
        WebSocket { stream, conn }
    }

    /// The next message. Pings are answered and the closing handshake is
    /// carried out while waiting for it.
    ///
    /// When the connection is over this returns [`Error::Closed`] (a clean
    /// close), [`Error::AbnormalClose`] or [`Error::Protocol`], and the
    /// same on every later call; see [`Error`]. Drop the `WebSocket` then
    /// to close the socket. `WouldBlock` and `TimedOut` errors lose nothing.
    /// With [`Config::streaming`] on, each piece of a message is returned
    /// as a message of its own; [`read_event`](Self::read_event) tells
    /// which one is last.
    pub fn read(&mut self) -> Result<Message, Error> {
        loop {
            if let Event::Message(message) | Event::Piece { data: message, .. } =
                self.read_where(false)?
            {
                return Ok(message);
            }
        }
    }

    /// The next event: a message (or, with [`Config::streaming`], a piece
    /// of one), a ping, a pong, or the peer's close frame, as each
    /// arrives. Pings are still answered by the connection when
    /// [`Config::auto_pong`] is on; with it off, answer them with
    /// [`send_pong`](Self::send_pong). After the close frame (or when the
    /// connection ends without one) this returns the end as
    /// [`read`](Self::read) does.
    pub fn read_event(&mut self) -> Result<Event, Error> {
        self.read_where(true)
    }

    fn read_where(&mut self, every: bool) -> Result<Event, Error> {
        loop {
            if self.conn.needs_clock() {
                self.conn.handle_timeout(Instant::now());
            }
            match self.conn.next_event() {
                Ok(Some(event)) if wanted(&event, every) => return Ok(event),
                Ok(Some(_)) => {}
                Ok(None) if !self.conn.should_close_transport() => {
                    self.flush()?;
                    self.fill()?;
                }
                Ok(None) | Err(_) => {
                    self.flush_before_end()?;
                    return Err(end_of_connection(&self.conn));
                }
            }
        }
    }

    /// Sends a message. `Ok` means it is queued and written as far as the
    /// socket allows; see [`write_with`](Self::write_with) for the details.
    pub fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        let message = message.into();
        self.write_with(|conn| conn.send(&message))
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), Error> {
        self.write_with(|conn| conn.send_text(text))
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), Error> {
        self.write_with(|conn| conn.send_binary(data))
    }

    /// Sends one fragment of a message; see [`Connection::send_fragment`].
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        fin: bool,
    ) -> Result<(), Error> {
        self.write_with(|conn| conn.send_fragment(kind, data, fin))
    }

    /// Sends a ping (at most 125 bytes). The pong is consumed by `read`
    /// and shown by [`read_event`](Self::read_event).
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.write_with(|conn| conn.send_ping(payload))
    }

    /// Sends a pong (at most 125 bytes): the answer to a ping when
    /// [`Config::auto_pong`] is off, or an unsolicited heartbeat.
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.write_with(|conn| conn.send_pong(payload))
    }

    /// Starts the closing handshake. Keep calling [`read`](Self::read)
    /// until it returns [`Error::Closed`] with the peer's answer (messages
    /// the peer sent before its close frame still arrive first).
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.write_with(|conn| conn.send_close(code, reason))
    }

    /// Queues frames with `queue` and writes them.
    ///
    /// While the output holds [`Config::write_buffer_high_water`] bytes
    /// or more, it is written out first; if that fails (with `WouldBlock`
    /// on a non-blocking socket, say) the error is returned and nothing is
    /// queued, so the call can simply be repeated. Once queued, a
    /// `WouldBlock` or `TimedOut` while writing is not an error: the rest
    /// stays queued for the next [`flush`](Self::flush), `send` or `read`.
    pub fn write_with(
        &mut self,
        queue: impl FnOnce(&mut Connection) -> Result<(), SendError>,
    ) -> Result<(), Error> {
        if self.conn.is_write_buffer_full() {
            self.flush()?;
        }
        queue(&mut self.conn)?;
        match self.flush() {
            Err(e) if e.is_would_block() => Ok(()),
            result => result,
        }
    }

    /// Writes everything queued and flushes the stream.
    pub fn flush(&mut self) -> Result<(), Error> {
        while !self.conn.pending_output().is_empty() {
            match self.stream.write(self.conn.pending_output()) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => self.conn.consume_output(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(e)),
            }
        }
        self.stream.flush().map_err(|e| self.io_error(e))
    }

    /// The connection state machine: state, subprotocol, timers.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The subprotocol agreed in the opening handshake.
    pub fn subprotocol(&self) -> Option<&str> {
        self.conn.subprotocol()
    }

    /// The stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream, to set timeouts or non-blocking mode. Reading or writing
    /// it directly corrupts the WebSocket stream.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Reads once from the stream, straight into the connection's input
    /// buffer. `Read` fills only initialized memory, so the room is zeroed
    /// first (what a read does not fill is cut off again).
    fn fill(&mut self) -> Result<(), Error> {
        let mut buf = self.conn.read_buffer();
        buf.resize(buf.capacity(), 0);
        let result = self.stream.read(&mut buf);
        buf.truncate(*result.as_ref().unwrap_or(&0));
        match result {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => self.conn.commit_read(buf),
            result => read_into_done(&mut self.conn, buf, result.map(drop))?,
        }
        Ok(())
    }

    /// An I/O error; unless it only means "not now", the transport is gone
    /// and later reads report the end.
    fn io_error(&mut self, error: io::Error) -> Error {
        if !would_block(&error) {
            self.conn.receive_eof();
        }
        error.into()
    }

    /// Writes the last frames (a close echo) before the end is reported.
    /// Only "not now" errors are returned; a broken socket is not news.
    fn flush_before_end(&mut self) -> Result<(), Error> {
        match self.flush() {
            Err(e) if e.is_would_block() => Err(e),
            _ => Ok(()),
        }
    }
}

impl<S> WebSocket<S> {
    /// Whether the closing handshake is done or the connection failed.
    pub fn is_closed(&self) -> bool {
        self.conn.state() == State::Closed
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.conn.state()
    }

    /// The peer's close frame, once the closing handshake is complete.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        match self.conn.outcome() {
            Some(Outcome::Clean(frame)) => Some(frame),
            _ => None,
        }
    }

    /// Gives back the stream.
    pub fn into_inner(self) -> S {
        self.stream
    }
}
