//! Why an opening handshake failed.

use super::Headers;

/// Why an opening handshake failed.
///
/// The variants fall in three groups:
///
/// - **The peer's head broke HTTP or RFC 6455.** On a server these come with
///   an HTTP status ([`status`](HandshakeError::status)), and the matching
///   error response is already queued in
///   [`ServerHandshake::pending_output`](super::ServerHandshake::pending_output).
///   A few of them (`HeadTooLarge`, `TooManyHeaders`, `MalformedHttp`,
///   `MalformedExtensions`) can also be found in a server's response by a
///   client; `status` then still names what a server would have answered,
///   and the client just closes the connection.
/// - **The server's response failed the client's checks** (RFC 6455 §4.1):
///   `UnexpectedStatus` to `InvalidExtensionResponse`. `status` is `None`.
/// - **The caller misused the API** (an unoffered subprotocol accepted, a
///   header with a line break, a bad URL...). `status` is `None`.
///
/// Errors are sticky: once a handshake has failed, every later call returns
/// the same error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head did not end within
    /// [`Config::max_handshake_size`](crate::Config::max_handshake_size)
    /// bytes. Server status 431.
    #[error("handshake head longer than {limit} bytes")]
    HeadTooLarge {
        /// The configured limit.
        limit: usize,
    },
    /// The head has more header fields than
    /// [`Config::max_handshake_headers`](crate::Config::max_handshake_headers).
    /// Server status 431.
    #[error("handshake head has more than {limit} header fields")]
    TooManyHeaders {
        /// The configured limit.
        limit: usize,
    },
    /// The head is not valid HTTP/1.x syntax. Server status 400.
    #[error("malformed HTTP head: {reason}")]
    MalformedHttp {
        /// What the parser objected to.
        reason: String,
    },
    /// The request is not HTTP/1.1 (RFC 6455 §4.2.1: "An HTTP/1.1 or higher
    /// GET request"). Server status 400.
    #[error("request is not HTTP/1.1 or higher (RFC 6455 §4.2.1)")]
    UnsupportedHttpVersion,
    /// The request method is not GET (§4.2.1). Server status 405, with
    /// `Allow: GET`.
    #[error("request method {method:?} is not GET (RFC 6455 §4.2.1)")]
    MethodNotGet {
        /// The method received.
        method: String,
    },
    /// The request has no `Host` header (§4.2.1). Server status 400.
    #[error("request has no Host header (RFC 6455 §4.2.1)")]
    MissingHost,
    /// The request has more than one `Host` header (RFC 9112 §3.2). Server
    /// status 400.
    #[error("request has more than one Host header (RFC 9112 §3.2)")]
    DuplicateHost,
    /// The `Host` header is empty or not a printable ASCII authority
    /// (RFC 9112 §3.2). Server status 400.
    #[error("request has an invalid Host header (RFC 9112 §3.2)")]
    InvalidHost,
    /// The request's `Upgrade` header is missing or lacks the `websocket`
    /// token (§4.2.1). Server status 400.
    #[error("request Upgrade header does not include \"websocket\" (RFC 6455 §4.2.1)")]
    UpgradeNotWebSocket,
    /// The request's `Connection` header is missing or lacks the `Upgrade`
    /// token (§4.2.1). Server status 400.
    #[error("request Connection header does not include \"Upgrade\" (RFC 6455 §4.2.1)")]
    ConnectionNotUpgrade,
    /// The request has no `Sec-WebSocket-Key` (§4.2.1). Server status 400.
    #[error("request has no Sec-WebSocket-Key header (RFC 6455 §4.2.1)")]
    MissingKey,
    /// The request has more than one `Sec-WebSocket-Key` (§11.3.1). Server
    /// status 400.
    #[error("request has more than one Sec-WebSocket-Key header (RFC 6455 §11.3.1)")]
    DuplicateKey,
    /// The `Sec-WebSocket-Key` is not base64 of 16 bytes (§4.2.1). Server
    /// status 400.
    #[error("Sec-WebSocket-Key is not base64 of 16 bytes (RFC 6455 §4.2.1)")]
    InvalidKey,
    /// The request has no `Sec-WebSocket-Version` (§4.2.1). Server status
    /// 426, with `Sec-WebSocket-Version: 13`.
    #[error("request has no Sec-WebSocket-Version header (RFC 6455 §4.2.1)")]
    MissingVersion,
    /// The `Sec-WebSocket-Version` is not 13 (§4.2.2). Server status 426,
    /// with `Sec-WebSocket-Version: 13`.
    #[error("Sec-WebSocket-Version {version:?} is not 13 (RFC 6455 §4.2.2)")]
    UnsupportedVersion {
        /// The version(s) received, as text.
        version: String,
    },
    /// The request's `Sec-WebSocket-Protocol` is not a list of tokens
    /// (§4.1). Server status 400.
    #[error("Sec-WebSocket-Protocol is not a list of tokens (RFC 6455 §4.1)")]
    MalformedSubprotocols,
    /// A `Sec-WebSocket-Extensions` header does not follow the grammar of
    /// §9.1. Server status 400.
    #[error("Sec-WebSocket-Extensions does not follow RFC 6455 §9.1")]
    MalformedExtensions,
    /// The peer sent a TLS record where an HTTP head was expected: it
    /// speaks TLS and this end does not. A TLS client on a plaintext
    /// server's port (the server answers 400, which the client's TLS
    /// refuses), or a plaintext `ws://` client whose server speaks TLS and
    /// answered with an alert (use `wss://`). Found at the first byte,
    /// without waiting for more. Server status 400.
    #[error("the peer speaks TLS where plaintext HTTP was expected (use wss:// for a TLS server)")]
    TlsRecord,
    /// The client gave up before the head was complete. No response is
    /// sent.
    #[error("connection closed during the opening handshake")]
    UnexpectedEof,

    /// The server answered with a status other than 101 (§4.1).
    ///
    /// `body` holds at most
    /// [`Config::max_rejection_body`](crate::Config::max_rejection_body)
    /// bytes: with a valid `Content-Length` (and no `Transfer-Encoding`),
    /// the handshake waits for that many bytes (or the limit, or the end of
    /// the stream); otherwise it holds the bytes that arrived together with
    /// the head, raw.
    ///
    /// For a redirect, the message names the `Location` (with any user
    /// information of the URL hidden).
    #[error(
        "server answered with status {status}, not 101 (RFC 6455 §4.1){}",
        super::redirect::location_note(.status, .headers)
    )]
    UnexpectedStatus {
        /// The response status code.
        status: u16,
        /// The response headers.
        headers: Headers,
        /// The start of the response body.
        body: Vec<u8>,
    },
    /// The server switched protocols in an HTTP/1.0 response. Only HTTP/1.1
    /// has `Upgrade` (RFC 9110 §7.8), and RFC 6455 §4.2.2 sends the 101 as
    /// "HTTP/1.1 101": an HTTP/1.0 server cannot have understood the
    /// request, so nothing after its head is taken as frames.
    #[error(
        "server switched protocols in an HTTP/1.0 response, not HTTP/1.1 (RFC 6455 §4.2.2, RFC 9110 §7.8)"
    )]
    ResponseNotHttp11,
    /// A redirect would leave `wss://` for `ws://`: refused, as the
    /// connection would lose its TLS protection.
    /// The message hides any user information of the `Location`.
    #[error(
        "redirect from wss:// to the insecure {:?} refused",
        super::url::redacted(.location)
    )]
    InsecureRedirect {
        /// The redirect's `Location`.
        location: String,
    },
    /// More redirects than
    /// [`Config::max_redirects`](crate::Config::max_redirects) allows.
    #[error("too many redirects: {}", .chain.join(" -> "))]
    TooManyRedirects {
        /// Every URL tried, the first request's included, then the
        /// redirect that was not followed.
        chain: Vec<String>,
    },
    /// The response's `Upgrade` header is missing or not `websocket`
    /// (§4.1).
    #[error("response Upgrade header is not \"websocket\" (RFC 6455 §4.1)")]
    ResponseUpgradeNotWebSocket,
    /// The response's `Connection` header is missing or lacks `Upgrade`
    /// (§4.1).
    #[error("response Connection header does not include \"Upgrade\" (RFC 6455 §4.1)")]
    ResponseConnectionNotUpgrade,
    /// The response has no `Sec-WebSocket-Accept` (§4.1).
    #[error("response has no Sec-WebSocket-Accept header (RFC 6455 §4.1)")]
    MissingAccept,
    /// The response has more than one `Sec-WebSocket-Accept` (§11.3.3).
    #[error("response has more than one Sec-WebSocket-Accept header (RFC 6455 §11.3.3)")]
    DuplicateAccept,
    /// The `Sec-WebSocket-Accept` does not match the key sent (§4.1).
    #[error(
        "Sec-WebSocket-Accept {got:?} does not match the expected {expected:?} (RFC 6455 §4.1)"
    )]
    WrongAccept {
        /// The value computed from the key sent.
        expected: String,
        /// The value received.
        got: String,
    },
    /// The server chose a subprotocol the client did not offer (§4.1).
    #[error("server chose subprotocol {protocol:?}, which was not offered (RFC 6455 §4.1)")]
    UnofferedSubprotocol {
        /// The value received.
        protocol: String,
    },
    /// The server named more than one subprotocol (§4.2.2: "a single
    /// value"; §11.3.4).
    #[error("server chose more than one subprotocol (RFC 6455 §11.3.4)")]
    MultipleSubprotocols,
    /// The server accepted an extension the client did not offer (§4.1).
    #[error("server accepted extension {name:?}, which was not offered (RFC 6455 §4.1)")]
    UnofferedExtension {
        /// The extension's name.
        name: String,
    },
    /// The server accepted an offered extension with parameters the
    /// client must refuse: unknown, repeated, invalid, or not matching the
    /// offer (for `permessage-deflate`, RFC 7692 §7: the client "MUST
    /// _Fail the WebSocket Connection_").
    #[error("server's response for extension {name:?} is invalid: {reason}")]
    InvalidExtensionResponse {
        /// The extension's name.
        name: String,
        /// What is wrong with the parameters.
        reason: String,
    },

    /// The application chose a subprotocol the client did not offer. The
    /// server may only pick one of the client's (§4.2.2).
    #[error("subprotocol {protocol:?} was not offered by the client (RFC 6455 §4.2.2)")]
    AcceptUnofferedSubprotocol {
        /// The subprotocol the application chose.
        protocol: String,
    },
    /// An application-supplied header name is not a token, or its value
    /// contains a control character (CR, LF...) or surrounding whitespace.
    #[error("invalid header {name:?}: bad name or control character in value")]
    InvalidHeader {
        /// The header name (escaped).
        name: String,
    },
    /// An application-supplied header is one the handshake writes itself.
    #[error("header {name:?} is written by the handshake and cannot be added")]
    ReservedHeader {
        /// The header name.
        name: String,
    },
    /// A subprotocol to offer is not a token, or is offered twice (§4.1).
    #[error("subprotocol {protocol:?} is not a token or is offered twice (RFC 6455 §4.1)")]
    InvalidSubprotocol {
        /// The subprotocol.
        protocol: String,
    },
    /// An extension offer does not follow the grammar of §9.1.
    #[error("extension offer {offer:?} does not follow RFC 6455 §9.1")]
    InvalidExtensionOffer {
        /// The offer.
        offer: String,
    },
    /// The WebSocket URL cannot be used (RFC 6455 §3).
    #[error("invalid WebSocket URL: {reason} (RFC 6455 §3)")]
    InvalidUrl {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// [`ServerHandshake::reject`](super::ServerHandshake::reject) was given
    /// a status outside 300–599.
    #[error("status {status} cannot reject a handshake (use 300-599)")]
    InvalidRejectStatus {
        /// The status given.
        status: u16,
    },
    /// The application rejected the handshake; the response is queued.
    #[error("handshake rejected with status {status}")]
    Rejected {
        /// The status sent.
        status: u16,
    },
    /// [`ServerHandshake::accept`](super::ServerHandshake::accept) was
    /// called again after it succeeded: the connection it returned carries
    /// on.
    #[error("the handshake was already accepted")]
    AlreadyAccepted,
    /// An extended CONNECT (RFC 8441 §4) lacks a pseudo-header field it
    /// must carry (`:scheme`, `:path` or `:authority`): a malformed HTTP/2
    /// request (RFC 9113 §8.3.1). Server status 400.
    #[error("extended CONNECT without {name} (RFC 8441 §4, RFC 9113 §8.3.1)")]
    MissingPseudoHeader {
        /// The pseudo-header field missing.
        name: &'static str,
    },
    /// An HTTP/2 CONNECT asks for a protocol other than `websocket` (its
    /// `:protocol`, RFC 8441 §4), or for a plain tunnel (none). Server
    /// status 501: the server does not implement what was asked (RFC 9110
    /// §15.6.2).
    #[error("extended CONNECT for protocol {protocol:?}, not \"websocket\" (RFC 8441 §4)")]
    ProtocolNotWebSocket {
        /// The `:protocol` received (empty when there was none).
        protocol: String,
    },
    /// An extended CONNECT carries no `sec-websocket-version: 13` (RFC 8441
    /// §5 keeps the field of RFC 6455 §4.1). Server status 400 with
    /// `sec-websocket-version: 13`: HTTP/2 has no `Upgrade`, so no 426.
    #[error("extended CONNECT with sec-websocket-version {version:?}, not 13 (RFC 8441 §5)")]
    ConnectUnsupportedVersion {
        /// The version(s) received, joined (empty when absent).
        version: String,
    },
    /// A 2xx that accepts an extended CONNECT came in a response that is
    /// not HTTP/2 (RFC 8441 §5). A 2xx only means "WebSocket" as the
    /// answer to an extended CONNECT, and a 101 only on HTTP/1.1.
    #[error("a 2xx accepting an extended CONNECT must be HTTP/2 (RFC 8441 §5)")]
    ResponseNotHttp2,
    /// The HTTP/2 server did not send `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`
    /// (RFC 8441 §3): it cannot carry a WebSocket on a stream.
    #[error("the HTTP/2 server does not offer extended CONNECT (RFC 8441 §3)")]
    ExtendedConnectNotOffered,
    /// The handshake is not complete yet: no request (server) or response
    /// (client) has been received.
    #[error("the opening handshake is not complete")]
    NotComplete,
    /// The HTTP server cannot hand this connection over (for hyper: the
    /// request carries no `hyper::upgrade::OnUpgrade`, because the
    /// connection is not served with upgrades enabled, or is HTTP/2
    /// without extended CONNECT or the `http2` feature). A server mistake,
    /// answered with 500.
    #[error("the HTTP server cannot upgrade this connection")]
    NotUpgradable,
}

impl HandshakeError {
    /// The HTTP status a server answers with when it finds this error in a
    /// request; `None` for errors only a client or the application makes.
    ///
    /// ```
    /// use rfc6455::handshake::HandshakeError;
    ///
    /// assert_eq!(HandshakeError::MissingKey.status(), Some(400));
    /// assert_eq!(HandshakeError::MissingVersion.status(), Some(426));
    /// assert_eq!(HandshakeError::MissingAccept.status(), None);
    /// ```
    pub fn status(&self) -> Option<u16> {
        use HandshakeError::*;
        match self {
            HeadTooLarge { .. } | TooManyHeaders { .. } => Some(431),
            MethodNotGet { .. } => Some(405),
            ProtocolNotWebSocket { .. } => Some(501),
            MissingVersion | UnsupportedVersion { .. } => Some(426),
            MalformedHttp { .. }
            | UnsupportedHttpVersion
            | MissingHost
            | DuplicateHost
            | InvalidHost
            | UpgradeNotWebSocket
            | ConnectionNotUpgrade
            | MissingKey
            | DuplicateKey
            | InvalidKey
            | MalformedSubprotocols
            | MalformedExtensions
            | MissingPseudoHeader { .. }
            | ConnectUnsupportedVersion { .. }
            | TlsRecord => Some(400),
            Rejected { status } => Some(*status),
            UnexpectedEof
            | UnexpectedStatus { .. }
            | ResponseNotHttp11
            | ResponseNotHttp2
            | ExtendedConnectNotOffered
            | InsecureRedirect { .. }
            | TooManyRedirects { .. }
            | ResponseUpgradeNotWebSocket
            | ResponseConnectionNotUpgrade
            | MissingAccept
            | DuplicateAccept
            | WrongAccept { .. }
            | UnofferedSubprotocol { .. }
            | MultipleSubprotocols
            | UnofferedExtension { .. }
            | InvalidExtensionResponse { .. }
            | AcceptUnofferedSubprotocol { .. }
            | InvalidHeader { .. }
            | ReservedHeader { .. }
            | InvalidSubprotocol { .. }
            | InvalidExtensionOffer { .. }
            | InvalidUrl { .. }
            | InvalidRejectStatus { .. }
            | NotComplete
            | AlreadyAccepted
            | NotUpgradable => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(
            HandshakeError::HeadTooLarge { limit: 1 }.status(),
            Some(431)
        );
        assert_eq!(
            HandshakeError::TooManyHeaders { limit: 1 }.status(),
            Some(431)
        );
        assert_eq!(
            HandshakeError::MethodNotGet {
                method: "POST".into()
            }
            .status(),
            Some(405)
        );
        assert_eq!(
            HandshakeError::UnsupportedVersion {
                version: "8".into()
            }
            .status(),
            Some(426)
        );
        assert_eq!(HandshakeError::InvalidKey.status(), Some(400));
        assert_eq!(HandshakeError::Rejected { status: 403 }.status(), Some(403));
        assert_eq!(HandshakeError::NotComplete.status(), None);
    }

    #[test]
    fn messages_name_the_rule() {
        assert!(HandshakeError::MissingHost.to_string().contains("§4.2.1"));
        assert!(HandshakeError::DuplicateKey.to_string().contains("§11.3.1"));
        assert!(HandshakeError::MissingAccept.to_string().contains("§4.1"));
    }
}
