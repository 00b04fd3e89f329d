//! The connection state machine: bytes in, events out, bytes to send.
//!
//! The receive path lives in `recv.rs`, the send path in `send.rs` and the
//! keepalive and close timers in `timers.rs`; this file holds the state they
//! share and the parts of the API that concern the whole connection.

use std::fmt;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use crate::extension::{Agreed, Extension};
use crate::{CloseFrame, Config, Message, ProtocolError, Role};

mod input;
mod output;
mod recv;
mod send;
mod spare;
mod stream;
mod timers;

use input::Input;
use output::Output;
use recv::Reader;
use send::Writer;
use timers::Timers;

/// Something the peer did, as reported by [`Connection::next_event`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A complete text or binary message.
    Message(Message),
    /// A ping. With [`Config::auto_pong`] on (the default), the pong that
    /// answers it is already queued.
    Ping(Bytes),
    /// A pong, solicited or not.
    Pong(Bytes),
    /// A piece of a data message, with [`Config::streaming`] on: what has
    /// arrived of it so far. Text pieces are validated and end on code
    /// point boundaries, so each is valid UTF-8 on its own; a piece may be
    /// empty only when it is the last. Control frames may come between
    /// the pieces of a message.
    Piece {
        /// The piece, as a text or binary message of its own.
        data: Message,
        /// This piece ends the message.
        last: bool,
    },
    /// The peer's close frame: the closing handshake is complete, with the
    /// peer's code and reason ([`Outcome::Clean`]).
    ///
    /// If the peer started the closing handshake, the close frame that
    /// answers it is already queued. The code is
    /// [`CloseCode::NO_STATUS`](crate::CloseCode::NO_STATUS) (1005) when the
    /// peer's close frame carried none. No event follows this one.
    Close(CloseFrame),
    /// The connection ended without the closing handshake
    /// ([`Outcome::Abnormal`]): the transport ended before the peer's close
    /// frame arrived, or the peer did not answer ours within
    /// [`Config::close_timeout`]. RFC 6455 §7.1.5 names this close code
    /// 1006; no frame carries it. No event follows this one.
    Abnormal,
}

/// How a connection ended, as [`Connection::outcome`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The closing handshake completed: close frames went both ways (ours
    /// may still be in the output). Holds the peer's close frame.
    Clean(CloseFrame),
    /// The connection ended without the closing handshake: the transport
    /// ended before the peer's close frame arrived, or the peer did not
    /// answer ours within [`Config::close_timeout`] (RFC 6455 §7.1.5:
    /// close code 1006).
    Abnormal,
    /// This endpoint failed the connection (RFC 6455 §7.1.7) for this
    /// reason; the close frame carrying its code was queued. The peer
    /// broke the protocol, exceeded a limit, or did not answer a keepalive
    /// ping.
    Failed(ProtocolError),
}

/// Where the closing handshake stands (RFC 6455 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// This endpoint sent a close frame and waits for the peer's. Received
    /// messages are still delivered; nothing more can be sent.
    Closing,
    /// Both close frames have been exchanged, or the connection was failed,
    /// or the transport ended. Nothing more is sent or delivered.
    Closed,
}

/// One WebSocket connection, without I/O.
///
/// The application (or an adapter) moves bytes between the connection and
/// the transport, and asks the connection what happened:
///
/// 1. Feed what the transport delivered with [`receive_data`] (or read it
///    straight into the connection's buffer: [`read_buffer`] and
///    [`commit_read`], which saves a copy), and its end with
///    [`receive_eof`].
/// 2. Drain [`next_event`] until it returns `Ok(None)`. Frames are decoded
///    only here, so a slow reader holds back the peer (back-pressure).
/// 3. Write [`pending_output`] to the transport and report how much was
///    written with [`consume_output`]. Data is queued by the `send_*`
///    methods and by the connection itself (pongs, close replies).
/// 4. Before waiting for the transport, call [`handle_timeout`] with the
///    current time, then wake up no later than [`poll_timeout`].
/// 5. Once [`should_close_transport`] is true and the output is written,
///    close the transport.
///
/// The crate documentation shows a complete exchange.
///
/// [`receive_data`]: Connection::receive_data
/// [`receive_eof`]: Connection::receive_eof
/// [`read_buffer`]: Connection::read_buffer
/// [`commit_read`]: Connection::commit_read
/// [`next_event`]: Connection::next_event
/// [`pending_output`]: Connection::pending_output
/// [`consume_output`]: Connection::consume_output
/// [`handle_timeout`]: Connection::handle_timeout
/// [`poll_timeout`]: Connection::poll_timeout
/// [`should_close_transport`]: Connection::should_close_transport
pub struct Connection {
    role: Role,
    /// Shared by all connections that use the default configuration (see
    /// `Config::shared`).
    config: Arc<Config>,
    /// The limits read on every frame, copied out of `config` (read
    /// through its pointer, they cost the decoder ~18 instructions a
    /// message: callgrind, `benches/src/bin/codec-prof.rs`).
    limits: Limits,
    state: State,
    /// Received bytes not yet decoded, and the policy that sizes their
    /// buffers.
    input: Input,
    /// Encoded frames waiting to be written to the transport.
    output: Output,
    /// The transport takes vectored writes: large payloads are queued by
    /// reference (see [`Connection::set_vectored_output`]).
    vectored_output: bool,
    reader: Reader,
    writer: Writer,
    timers: Timers,
    /// How the connection ended, once it has. A failure is returned by
    /// every later `next_event`. Boxed: it is set once, at the end.
    outcome: Option<Box<Outcome>>,
    /// An [`Event::Abnormal`] made by the connection itself (the close
    /// timeout), waiting to be delivered.
    abnormal_pending: bool,
    /// The transport has ended in the receive direction.
    eof: bool,
    /// The adapter should close the transport once the output is written.
    close_transport: bool,
    subprotocol: Option<String>,
    /// What the opening handshake agreed on, and the extension running it.
    agreed: Agreed,
    extension: Option<Box<dyn Extension>>,
}

impl Connection {
    /// A connection in the [`Open`](State::Open) state, for a transport on
    /// which the opening handshake is already done.
    ///
    /// Use this when an HTTP server (hyper, axum, …) performed the upgrade;
    /// otherwise [`handshake`](crate::handshake) produces the connection.
    pub fn new(role: Role, config: Config) -> Self {
        let config = config.shared();
        Connection {
            role,
            limits: Limits {
                max_frame_size: config.max_frame_size,
                max_message_size: config.max_message_size,
                streaming: config.streaming,
                write_buffer_high_water: config.write_buffer_high_water,
            },
            config,
            state: State::Open,
            input: Input::default(),
            output: Output::default(),
            vectored_output: false,
            reader: Reader::default(),
            writer: Writer::default(),
            timers: Timers::default(),
            outcome: None,
            abnormal_pending: false,
            eof: false,
            close_transport: false,
            subprotocol: None,
            agreed: Agreed::None,
            extension: None,
        }
    }

    /// This endpoint's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where the closing handshake stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// How the connection ended, or `None` while it has not: a clean close
    /// with the peer's close frame, an abnormal end, or a failure with its
    /// error. Set at the same time as the last event
    /// ([`Event::Close`], [`Event::Abnormal`] or the error) is returned.
    ///
    /// ```
    /// use rfc6455::{Config, Connection, Event, Outcome, Role};
    ///
    /// let mut conn = Connection::new(Role::Client, Config::default());
    /// assert_eq!(conn.outcome(), None);
    /// conn.receive_eof(); // the server went away without a close frame
    /// assert_eq!(conn.next_event(), Ok(Some(Event::Abnormal)));
    /// assert_eq!(conn.outcome(), Some(&Outcome::Abnormal));
    /// ```
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_deref()
    }

    /// The subprotocol agreed in the opening handshake, if any.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// Bytes waiting to be written to the transport: all of them, or with
    /// [vectored output](Self::set_vectored_output) on, the first
    /// contiguous run of them (empty only when nothing waits).
    #[inline]
    pub fn pending_output(&self) -> &[u8] {
        self.output.front()
    }

    /// Fills `dst` with the bytes waiting to be written, in order, for one
    /// vectored write (`write_vectored`); returns how many slices it used.
    ///
    /// With vectored output off, everything waiting is one slice. Report
    /// what the write took with [`consume_output`](Self::consume_output)
    /// as usual.
    ///
    /// ```
    /// use std::io::IoSlice;
    /// use bytes::Bytes;
    /// use rfc6455::{Config, Connection, Message, Role};
    ///
    /// let mut conn = Connection::new(Role::Server, Config::default());
    /// conn.set_vectored_output(true);
    /// let big = Message::binary(Bytes::from(vec![7; 100_000]));
    /// conn.send(&big).unwrap();
    ///
    /// let mut slices = [IoSlice::new(&[]); 8];
    /// let n = conn.pending_output_vectored(&mut slices);
    /// assert_eq!(n, 2); // the frame header, then the payload, not copied
    /// assert_eq!(slices[0].len(), 10);
    /// assert_eq!(slices[1].as_ptr(), big.as_bytes().as_ptr());
    /// conn.consume_output(10 + 100_000);
    /// assert!(conn.pending_output().is_empty());
    /// ```
    pub fn pending_output_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        self.output.front_vectored(dst)
    }

    /// Declares that the transport takes vectored writes (off by default).
    ///
    /// When on, the payload of a message of a few KiB or more passed to
    /// [`send`](Self::send) or [`send_prepared`](Self::send_prepared) by a
    /// server is queued by reference, not copied: write the output with
    /// [`pending_output_vectored`](Self::pending_output_vectored) and one
    /// `write_vectored` call, so that header and payload leave together.
    /// [`pending_output`](Self::pending_output) then returns only the first
    /// contiguous run. A client copies every payload anyway, to mask it.
    pub fn set_vectored_output(&mut self, on: bool) {
        self.vectored_output = on;
    }

    /// Bytes waiting to be written, in total.
    pub fn pending_output_len(&self) -> usize {
        self.output.len()
    }

    /// Marks the first `n` bytes of the pending output as written. `n`
    /// larger than the pending output counts as all of it.
    pub fn consume_output(&mut self, n: usize) {
        self.output.consume(n);
        if self.state == State::Closed {
            // Nothing more will be sent: hold nothing.
            self.release_memory();
        } else {
            self.output.release_if_empty();
        }
    }

    /// Whether the output buffer holds more than
    /// [`Config::write_buffer_high_water`] bytes.
    ///
    /// While it does, [`next_event`](Self::next_event) decodes nothing (so a
    /// peer that sends pings but never reads cannot grow the output), and
    /// adapters stop accepting messages to send: write the output first.
    pub fn is_write_buffer_full(&self) -> bool {
        self.output.len() > self.limits.write_buffer_high_water
    }

    /// Whether the transport should be closed once the pending output is
    /// written.
    ///
    /// True when the connection was failed, when the transport ended, and
    /// after the closing handshake: at once for a server (RFC 6455 §7.1.1:
    /// the server closes the TCP connection first), and for a client when
    /// the server ends the transport or the close timeout passes.
    pub fn should_close_transport(&self) -> bool {
        self.close_transport
    }

    /// Bytes of memory currently held by the connection's buffers: received
    /// bytes, the message being assembled, and output.
    ///
    /// With the call order above it stays within
    /// [`Config::max_frame_size`] + [`Config::max_message_size`] plus twice
    /// the size of one `receive_data` call (or of the room
    /// [`read_buffer`](Self::read_buffer) hands out: at most 64 KiB, what a
    /// large frame in progress misses plus 256 bytes, or, after a large
    /// frame, room for one more of its size, up to 256 KiB), a 14-byte frame
    /// header (and up to 64 bytes that align the reads of a buffer of 16 KiB
    /// or more), the output queued and, on a connection receiving a stream of large
    /// frames, one spare receive buffer of at most 256 KiB that is reused
    /// frame after frame. Payloads already handed to the application are
    /// its own and are not counted. Empty buffers larger than a few KiB are
    /// released, and [`release_memory`](Self::release_memory) gives back
    /// the rest, so an idle connection returns to a small size after a
    /// large message.
    pub fn memory_usage(&self) -> usize {
        self.input.capacity()
            + self.reader.memory_usage()
            + self.writer.memory_usage()
            + self.output.memory_usage()
            + self.extension.as_ref().map_or(0, |e| e.memory_usage())
    }

    /// Gives back the memory of empty buffers.
    ///
    /// Buffers of a few KiB are kept between messages so that a busy
    /// connection does not allocate per message. Call this when the
    /// connection goes quiet (the tokio adapter does whenever the socket
    /// has nothing more to read) so that thousands of idle connections hold
    /// almost nothing; the buffers come back on the next message.
    ///
    /// Empty buffers of the small size are not freed but kept in a cache of
    /// the thread (at most eight, 32 KiB in all), for the next connection
    /// on it that needs one: a connection that goes quiet after every
    /// message then does not allocate per message.
    pub fn release_memory(&mut self) {
        self.input.release();
        self.output.release();
        self.writer.release_memory();
    }

    /// Queues bytes written ahead of every frame: the 101 response of a
    /// server handshake.
    pub(crate) fn queue_raw_output(&mut self, bytes: &[u8]) {
        self.output.buf().extend_from_slice(bytes);
    }

    /// Records the subprotocol agreed in an opening handshake done
    /// elsewhere (an HTTP server's upgrade), for [`subprotocol`](Self::subprotocol).
    pub fn set_subprotocol(&mut self, subprotocol: Option<String>) {
        self.subprotocol = subprotocol;
    }

    /// Turns on permessage-deflate with parameters agreed in an opening
    /// handshake done elsewhere (see
    /// [`deflate::server_accept`](crate::deflate::server_accept) and
    /// [`deflate::client_accept`](crate::deflate::client_accept)). Call it
    /// before any data is sent or received; the handshakes of this crate
    /// call it themselves.
    #[cfg(feature = "deflate")]
    pub fn set_deflate(&mut self, params: crate::deflate::DeflateParams) {
        self.set_agreed(Agreed::Deflate(params));
    }

    /// Installs the extension the opening handshake agreed on.
    pub(crate) fn set_agreed(&mut self, agreed: Agreed) {
        self.agreed = agreed;
        self.extension = agreed.instantiate();
    }

    /// Moves to `Closed` after the closing handshake, or after the transport
    /// ended or a timer ran out.
    fn closed(&mut self) {
        self.state = State::Closed;
        // RFC 6455 §1.4: after sending and receiving a close frame, any
        // further data is discarded.
        self.input = Input::default();
        self.reader = Reader::default();
        self.timers.stop_keepalive();
        match self.role {
            // RFC 6455 §7.1.1: the underlying TCP connection, in most normal
            // cases, SHOULD be closed first by the server.
            Role::Server => self.close_transport = true,
            Role::Client if self.eof => self.close_transport = true,
            // The client waits for the server's end of the stream, but not
            // forever.
            Role::Client => self.timers.arm_close(),
        }
        if self.close_transport {
            self.timers.stop_close();
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7): queues the close frame that
    /// tells the peer why, unless one was already sent, and stops all
    /// processing.
    fn fail(&mut self, error: ProtocolError) {
        if self.state == State::Open {
            let code = error.close_code();
            self.write_close(code, "");
        }
        self.outcome = Some(Box::new(Outcome::Failed(error)));
        self.closed();
        // RFC 6455 §7.1.7: after failing, the endpoint closes the transport
        // without waiting for the peer.
        self.close_transport = true;
        self.timers.stop_close();
    }
}

/// The fields of [`Config`] that the hot path reads, held by the
/// connection itself (see `Connection::limits`).
#[derive(Clone, Copy)]
struct Limits {
    max_frame_size: usize,
    max_message_size: usize,
    streaming: Option<u64>,
    write_buffer_high_water: usize,
}

/// The largest empty buffer kept for reuse. Larger ones, and ones that
/// still share memory with payloads handed to the application, are
/// released.
const RETAINED_BUFFER: usize = 4096;

/// Makes room for `additional` bytes in a buffer, starting an empty one at
/// the size that is kept between messages, or at `cap` if that is smaller.
fn reserve(buf: &mut BytesMut, additional: usize, cap: usize) {
    if buf.capacity() == 0 {
        *buf = spare::take(additional.max(RETAINED_BUFFER.min(cap)));
    } else {
        buf.reserve(additional);
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("state", &self.state)
            .field("buffered_input", &self.input.len())
            .field("pending_output", &self.output.len())
            .field("outcome", &self.outcome)
            .field("subprotocol", &self.subprotocol)
            .field("extension", &self.extension.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    /// A connection can be shared between threads (and so can the
    /// adapters' sockets that own one).
    #[test]
    fn connection_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Connection>();
    }
}
