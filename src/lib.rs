//! rfc6455 (docs being written)
#![deny(unsafe_code)]
#![deny(missing_docs)]

mod close;
mod config;
mod connection;
mod error;
pub mod handshake;
mod utf8;

pub use close::{CloseCode, CloseFrame};
pub use config::{Config, Role};
pub use connection::Connection;
pub use error::{ProtocolError, SendError};
pub use utf8::{Utf8Bytes, Utf8Error, Utf8Validator};
