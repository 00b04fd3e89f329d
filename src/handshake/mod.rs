//! The opening handshake (RFC 6455 §4): an HTTP/1.1 `Upgrade` exchange,
//! without I/O.
//!
//! - A server feeds bytes to a [`ServerHandshake`] until it yields a
//!   [`Request`], then [`accept`](ServerHandshake::accept)s it — getting a
//!   [`Connection`](crate::Connection) whose output starts with the 101
//!   response — or [`reject`](ServerHandshake::reject)s it. Invalid
//!   requests are answered with the right HTTP error (400, 405, 426, 431)
//!   without the application's help.
//! - A client builds a [`ClientRequest`] from a `ws://` URL, writes the
//!   request a [`ClientHandshake`] queues, feeds it the server's bytes until
//!   it yields the [`Response`], then calls
//!   [`into_connection`](ClientHandshake::into_connection).
//! - A server whose HTTP stack (hyper, axum...) already parsed the request
//!   hands it to `rfc6455::http` (feature `http`), which runs the same
//!   checks and negotiation as [`ServerHandshake`] over the `http` crate's
//!   types; [`accept_key`] alone serves a hand-written upgrade.
//!
//! On both sides the head is read incrementally in linear time, memory is
//! bounded by [`Config::max_handshake_size`](crate::Config::max_handshake_size)
//! and [`Config::max_handshake_headers`](crate::Config::max_handshake_headers),
//! and bytes that arrive after the head (the peer's first frames) are handed
//! to the connection rather than lost.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

mod answer;
mod client;
mod connect;
mod error;
mod extensions;
pub(crate) mod head;
mod headers;
mod redirect;
mod request;
pub(crate) mod response;
mod server;
pub(crate) mod url;

pub use client::ClientHandshake;
pub use connect::{HandshakeMode, StreamEnd};
pub use error::HandshakeError;
pub use extensions::{ExtensionOffer, parse_extensions};
pub use headers::Headers;
pub use request::Request;
pub use response::Response;
pub use server::{Accept, ServerHandshake};
pub use url::ClientRequest;

#[cfg(feature = "http")]
pub(crate) use answer::{Agreement, Refusal};
#[cfg(feature = "http")]
pub(crate) use connect::{PseudoHeaders, check_connect};
#[cfg(feature = "http")]
pub(crate) use headers::{comma_list, trim_ows};
#[cfg(feature = "http")]
pub(crate) use request::check_request;
#[cfg(feature = "http")]
pub(crate) use response::ResponseHead;

/// The GUID that RFC 6455 §1.3 appends to the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`.
///
/// RFC 6455 §4.2.2: the server concatenates the key "with the string
/// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11", taking the SHA-1 hash of this
/// concatenated value to obtain a 20-byte value and base64-encoding" it.
/// Pass the key as received, trimmed but not decoded.
///
/// ```
/// use rfc6455::handshake::accept_key;
///
/// // The example of RFC 6455 §1.3.
/// assert_eq!(accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key);
    sha1.update(GUID);
    STANDARD.encode(sha1.finalize())
}

/// The reason phrase written after a status code.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// Appends `HTTP/1.1 {status} {reason}\r\n`. The reason phrase may be
/// empty (RFC 9112 §4), the space before it may not.
pub(crate) fn write_status_line(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn status_lines() {
        let mut out = Vec::new();
        write_status_line(&mut out, 431);
        write_status_line(&mut out, 499);
        assert_eq!(
            out,
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nHTTP/1.1 499 \r\n"
        );
    }
}
