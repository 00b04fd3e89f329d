//! A WebSocket (RFC 6455) implementation that does no I/O.
//!
//! The core of this crate is a state machine: bytes from the network go in,
//! events come out, and bytes to send wait in an output buffer. It never
//! touches a socket or reads a clock, so the same code serves blocking
//! sockets, async runtimes, in-memory tests and fuzzers.
//!
//! - [`handshake`]: the HTTP/1.1 Upgrade handshake for both roles.
//! - [`Connection`]: framing, masking, fragmentation, UTF-8 validation,
//!   ping/pong, the closing handshake, keepalive and close timers, and the
//!   limits that keep a hostile peer from using more memory than configured.
//! - [`frame`]: the frame header codec, for those who need frames directly.
//!
//! Around it, behind features: the blocking adapter (`std`), the tokio
//! adapter (`tokio`), permessage-deflate (`deflate`), the handshake over
//! the `http` crate's types for servers and clients whose HTTP stack parsed
//! the head (`http`, module `http`), upgrades in a hyper 1.x service
//! (`hyper`, module `hyper`) and an axum 0.8 extractor (`axum`, module
//! `axum`).
//!
//! # The call order
//!
//! 1. Feed what the transport delivered: [`Connection::receive_data`]
//!    (and [`Connection::receive_eof`] when it ends).
//! 2. Drain [`Connection::next_event`] until it returns `Ok(None)`.
//! 3. Write [`Connection::pending_output`] to the transport and report how
//!    much was written with [`Connection::consume_output`].
//! 4. Before waiting, pass the time to [`Connection::handle_timeout`] and
//!    wake up no later than [`Connection::poll_timeout`].
//! 5. Close the transport once [`Connection::should_close_transport`].
//!
//! A peer's protocol violation never panics and never needs an answer from
//! the application: `next_event` returns a [`ProtocolError`], the close
//! frame carrying its code (1002, 1007, 1009, …) is already queued, and the
//! error repeats on every later call.
//!
//! # Example: two endpoints talking through byte buffers
//!
//! ```
//! use rfc6455::{CloseCode, Config, Connection, Event, Message, Role};
//!
//! // Both ends of a connection whose handshake is already done.
//! let mut client = Connection::new(Role::Client, Config::default());
//! let mut server = Connection::new(Role::Server, Config::default());
//!
//! /// Moves everything `from` wants to send into `to`, as a socket would.
//! fn pump(from: &mut Connection, to: &mut Connection) {
//!     let wire: Vec<u8> = from.pending_output().to_vec();
//!     from.consume_output(wire.len());
//!     to.receive_data(&wire);
//! }
//!
//! client.send_text("hello").unwrap();
//! pump(&mut client, &mut server);
//!
//! // The server echoes every message back.
//! while let Some(event) = server.next_event().unwrap() {
//!     if let Event::Message(message) = event {
//!         server.send(&message).unwrap();
//!     }
//! }
//! pump(&mut server, &mut client);
//! assert_eq!(
//!     client.next_event().unwrap(),
//!     Some(Event::Message(Message::text("hello")))
//! );
//!
//! // The client closes; the server's reply completes the handshake.
//! client.send_close(CloseCode::NORMAL, "bye").unwrap();
//! pump(&mut client, &mut server);
//! let Some(Event::Close(frame)) = server.next_event().unwrap() else { panic!() };
//! assert_eq!((frame.code, &*frame.reason), (CloseCode::NORMAL, "bye"));
//! assert!(server.should_close_transport()); // the server closes TCP first
//! pump(&mut server, &mut client);
//! let Some(Event::Close(frame)) = client.next_event().unwrap() else { panic!() };
//! assert_eq!(frame.code, CloseCode::NORMAL);
//! client.receive_eof(); // the server closed the TCP connection
//! assert!(client.should_close_transport());
//! ```
#![deny(unsafe_code)]
#![deny(missing_docs)]

#[cfg(any(feature = "std", feature = "tokio"))]
mod adapter;
#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "std")]
pub mod blocking;
mod close;
mod config;
#[cfg(any(feature = "std", feature = "tokio"))]
mod connect;
mod connection;
#[cfg(feature = "deflate")]
pub mod deflate;
mod error;
mod extension;
pub mod frame;
pub mod handshake;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "http2")]
pub mod http2;
#[cfg(feature = "hyper")]
pub mod hyper;
mod mask;
mod message;
mod prepared;
#[cfg(feature = "tokio")]
pub mod tokio;
mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use config::{Config, Role};
pub use connection::{Connection, Event, Outcome, State};
pub use error::{ProtocolError, SendError};
pub use handshake::{ClientHandshake, ClientRequest, HandshakeError, ServerHandshake};
pub use message::{Message, MessageKind};
pub use prepared::PreparedMessage;
pub use utf8::{Utf8Bytes, Utf8Error, Utf8Validator};
