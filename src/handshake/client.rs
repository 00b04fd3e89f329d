//! The client side of the opening handshake (RFC 6455 §4.1).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::Rng;

use super::connect::HandshakeMode;
use super::extensions::parse_extensions;
use super::head::HeadReader;
use super::headers::{Headers, check_extra_header, is_field_value, is_token, write_header};
use super::response::{Response, ResponseHead, check_101, content_length, parse_response};
use super::url::ClientRequest;
use super::{HandshakeError, accept_key};
use crate::extension::{self, Agreed};
use crate::{Config, Connection, Role};

/// Headers the handshake writes; [`ClientRequest::header`] may not add them.
const RESERVED: &[&str] = &[
    "Host",
    "Upgrade",
    "Connection",
    "Origin",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Accept",
    "Content-Length",
    "Transfer-Encoding",
];

/// The client side of an opening handshake, without I/O.
///
/// Creating it queues the request in
/// [`pending_output`](Self::pending_output). Write that to the server, feed
/// what the server sends to [`receive_data`](Self::receive_data) until it
/// returns the [`Response`], then call
/// [`into_connection`](Self::into_connection).
///
/// ```
/// use rfc6455::Config;
/// use rfc6455::handshake::{ClientHandshake, ClientRequest};
///
/// let request = ClientRequest::new("ws://example.com/chat")?;
/// let mut hs = ClientHandshake::with_key(request, &Config::default(), *b"the sample nonce")?;
/// assert!(hs.pending_output().starts_with(b"GET /chat HTTP/1.1\r\nHost: example.com\r\n"));
/// let written = hs.pending_output().len();
/// hs.consume_output(written);
///
/// let reply = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
/// let response = hs.receive_data(reply)?.expect("a complete response");
/// assert_eq!(response.status(), 101);
/// let conn = hs.into_connection()?;
/// assert_eq!(conn.subprotocol(), None);
/// # Ok::<(), rfc6455::handshake::HandshakeError>(())
/// ```
pub struct ClientHandshake {
    config: Config,
    reader: HeadReader,
    state: State,
    output: Vec<u8>,
    expected_accept: String,
    subprotocols: Vec<String>,
    extension_names: Vec<String>,
    /// Upgrade on HTTP/1.1 or extended CONNECT on HTTP/2: which response
    /// accepts the handshake.
    mode: HandshakeMode,
    /// Whether the URL was `wss://` (the `:scheme` of an extended CONNECT).
    #[cfg(feature = "http")]
    secure: bool,
    /// The request's target and header fields, for
    /// [`http_request`](Self::http_request).
    #[cfg(feature = "http")]
    request: SentRequest,
}

/// The target and header fields of the request, kept for an HTTP stack
/// that sends it. Its `Debug` shows the field names only: values may hold
/// credentials.
#[cfg(feature = "http")]
pub(crate) struct SentRequest {
    pub(crate) path: String,
    pub(crate) fields: Vec<(String, String)>,
}

#[cfg(feature = "http")]
impl std::fmt::Debug for SentRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentRequest")
            .field("path", &self.path)
            .field(
                "fields",
                &self.fields.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl std::fmt::Debug for ClientHandshake {
    /// The request queued for sending shows as its length: it may carry
    /// credentials (`Authorization`, cookies).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandshake")
            .field("config", &self.config)
            .field("reader", &self.reader)
            .field("state", &self.state)
            .field("output_len", &self.output.len())
            .field("expected_accept", &self.expected_accept)
            .field("subprotocols", &self.subprotocols)
            .field("extension_names", &self.extension_names)
            .finish()
    }
}

#[derive(Debug)]
enum State {
    /// Waiting for the end of the response head.
    Reading,
    /// A non-101 response: collecting up to `needed` bytes of its body.
    Body {
        status: u16,
        headers: Headers,
        body: Vec<u8>,
        needed: usize,
    },
    /// A valid 101 was received; these bytes followed it.
    Done {
        leftover: Vec<u8>,
        subprotocol: Option<String>,
        agreed: Agreed,
    },
    Failed(HandshakeError),
}

impl ClientHandshake {
    /// Starts a handshake with a fresh random key and queues the request.
    ///
    /// RFC 6455 §4.1: the key "MUST be a nonce consisting of a randomly
    /// selected 16-byte value" and "MUST be selected randomly for each
    /// connection"; it comes from the thread-local CSPRNG.
    ///
    /// Fails if the request's origin, subprotocols, extensions or headers
    /// are invalid (see [`ClientRequest`]).
    pub fn new(request: ClientRequest, config: &Config) -> Result<Self, HandshakeError> {
        let mut key = [0u8; 16];
        rand::rng().fill_bytes(&mut key);
        Self::with_key(request, config, key)
    }

    /// Like [`new`](Self::new) with a chosen key, for byte-exact tests.
    /// Do not use a fixed key on a real connection.
    pub fn with_key(
        request: ClientRequest,
        config: &Config,
        key: [u8; 16],
    ) -> Result<Self, HandshakeError> {
        let key = STANDARD.encode(key);
        let mut offered = Vec::new();
        for offer in &request.extensions {
            let invalid = || HandshakeError::InvalidExtensionOffer {
                offer: offer.escape_debug().to_string(),
            };
            let parsed = parse_extensions(offer.as_bytes()).map_err(|_| invalid())?;
            if parsed.is_empty() || !is_field_value(offer.as_bytes()) {
                return Err(invalid());
            }
            offered.extend(parsed.into_iter().map(|e| e.name));
        }
        // RFC 6455 §4.1: the subprotocol elements "MUST be non-empty strings
        // with characters in the range U+0021 to U+007E not including
        // separator characters as defined in [RFC2616] and MUST all be
        // unique strings."
        for (i, protocol) in request.subprotocols.iter().enumerate() {
            if !is_token(protocol.as_bytes())
                || request.subprotocols.iter().take(i).any(|p| p == protocol)
            {
                return Err(HandshakeError::InvalidSubprotocol {
                    protocol: protocol.escape_debug().to_string(),
                });
            }
        }
        if let Some(origin) = &request.origin {
            check_extra_header("Origin", origin, &[])?;
        }
        if let Some(credentials) = &request.credentials {
            credentials.check()?;
        }
        for (name, value) in &request.headers {
            check_extra_header(name, value, RESERVED)?;
        }

        // RFC 6455 §4.1: "The method of the request MUST be GET, and the
        // HTTP version MUST be at least 1.1", with the |Host|, |Upgrade|
        // (including "websocket"), |Connection| (including "Upgrade"),
        // |Sec-WebSocket-Key| and |Sec-WebSocket-Version: 13| headers.
        let mut fields: Vec<(String, String)> = vec![
            ("Host".into(), request.host_header()),
            ("Upgrade".into(), "websocket".into()),
            ("Connection".into(), "Upgrade".into()),
            ("Sec-WebSocket-Key".into(), key.clone()),
            ("Sec-WebSocket-Version".into(), "13".into()),
        ];
        if let Some(origin) = &request.origin {
            fields.push(("Origin".into(), origin.clone()));
        }
        if !request.subprotocols.is_empty() {
            fields.push((
                "Sec-WebSocket-Protocol".into(),
                request.subprotocols.join(", "),
            ));
        }
        // The extensions this crate runs (permessage-deflate when the
        // Config enables it) follow the application's own offers.
        let mut extensions = request.extensions.clone();
        for offer in extension::client_offers(config) {
            offered.push(offer.name.clone());
            extensions.push(offer.to_string());
        }
        if !extensions.is_empty() {
            fields.push(("Sec-WebSocket-Extensions".into(), extensions.join(", ")));
        }
        if let Some(authorization) = request.authorization() {
            fields.push(("Authorization".into(), authorization));
        }
        fields.extend(request.headers.iter().cloned());

        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(b"GET ");
        out.extend_from_slice(request.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &fields {
            write_header(&mut out, name, value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");

        Ok(ClientHandshake {
            config: config.clone(),
            reader: HeadReader::new(config.max_handshake_size, config.max_handshake_headers),
            state: State::Reading,
            output: out,
            expected_accept: accept_key(key.as_bytes()),
            subprotocols: request.subprotocols,
            extension_names: offered,
            mode: HandshakeMode::Upgrade,
            #[cfg(feature = "http")]
            secure: request.secure,
            #[cfg(feature = "http")]
            request: SentRequest {
                path: request.path,
                fields,
            },
        })
    }

    /// The request bytes not written yet.
    pub fn pending_output(&self) -> &[u8] {
        &self.output
    }

    /// Marks the first `n` bytes of [`pending_output`](Self::pending_output)
    /// as written. `n` larger than the output is treated as all of it.
    pub fn consume_output(&mut self, n: usize) {
        self.output.drain(..n.min(self.output.len()));
    }

    /// Bytes of the incomplete response head held in memory (never more
    /// than [`Config::max_handshake_size`]).
    pub fn buffered_len(&self) -> usize {
        self.reader.buffered_len()
    }

    /// Total bytes the head reader has examined (for tests of its linear
    /// time).
    #[doc(hidden)]
    pub fn scanned_bytes(&self) -> usize {
        self.reader.scanned()
    }

    /// Feeds bytes received from the server.
    ///
    /// - `Ok(None)`: the response is not complete; read more.
    /// - `Ok(Some(response))`: the server accepted; every check of RFC 6455
    ///   §4.1 passed. Call [`into_connection`](Self::into_connection). Any
    ///   bytes after the head (the server's first frames) go to the
    ///   connection, as do bytes fed after this point (`Ok(None)` is
    ///   returned for those).
    /// - `Err(e)`: the server refused ([`HandshakeError::UnexpectedStatus`]
    ///   with the status, headers and start of the body) or broke the
    ///   protocol. Close the connection. The error is sticky.
    pub fn receive_data(&mut self, data: &[u8]) -> Result<Option<Response>, HandshakeError> {
        let result = self.receive_inner(data);
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
        }
        result
    }

    fn receive_inner(&mut self, data: &[u8]) -> Result<Option<Response>, HandshakeError> {
        match &mut self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Done { leftover, .. } => {
                leftover.extend_from_slice(data);
                return Ok(None);
            }
            State::Body { body, needed, .. } => {
                let room = needed.saturating_sub(body.len());
                body.extend_from_slice(data.get(..room).unwrap_or(data));
                return self.finish_body();
            }
            State::Reading => {}
        }
        let Some(head) = self.reader.feed(data)? else {
            return Ok(None);
        };
        let parsed = parse_response(&head.bytes, head.header_lines)?;
        let status = parsed.status;

        // RFC 6455 §4.1: "If the status code received from the server is
        // not 101, the client handles the response per HTTP procedures."
        // Here: the response is reported to the application.
        if status != 101 {
            let limit = self.config.max_rejection_body;
            let headers = parsed.headers;
            let needed = match content_length(&headers) {
                Some(length) => length.min(limit),
                None => head.leftover.len().min(limit),
            };
            let mut body = head.leftover;
            body.truncate(needed);
            self.state = State::Body {
                status,
                headers,
                body,
                needed,
            };
            return self.finish_body();
        }

        self.accepted(parsed, head.leftover).map(Some)
    }

    /// The checks on a 101 response and the extension agreement, for the
    /// byte parser and for a response parsed by an HTTP stack.
    pub(crate) fn accepted(
        &mut self,
        parsed: ResponseHead,
        leftover: Vec<u8>,
    ) -> Result<Response, HandshakeError> {
        let response = check_101(
            parsed,
            self.mode,
            &self.expected_accept,
            &self.subprotocols,
            &self.extension_names,
        )?;
        let agreed = extension::client_agree(response.extensions(), &self.config)?;
        self.state = State::Done {
            leftover,
            subprotocol: response.subprotocol().map(str::to_string),
            agreed,
        };
        Ok(response)
    }

    /// Records an error as the handshake's (sticky) state.
    #[cfg(feature = "http")]
    pub(crate) fn fail(&mut self, error: HandshakeError) -> HandshakeError {
        self.state = State::Failed(error.clone());
        error
    }

    /// Checks that the handshake still waits for the response head, and
    /// drops the request bytes: another HTTP stack sent the request.
    #[cfg(feature = "http")]
    pub(crate) fn sent_elsewhere(&mut self) -> Result<(), HandshakeError> {
        match &self.state {
            State::Reading => {
                self.output = Vec::new();
                Ok(())
            }
            State::Failed(e) => Err(e.clone()),
            State::Body { .. } | State::Done { .. } => Err(HandshakeError::NotComplete),
        }
    }

    /// How the handshake goes: an HTTP/1.1 upgrade (the default) or an
    /// HTTP/2 extended CONNECT (`ClientHandshake::extended_connect`, feature
    /// `http`). It decides which response is an acceptance.
    pub fn mode(&self) -> HandshakeMode {
        self.mode
    }

    /// Turns the handshake into an extended CONNECT (RFC 8441), sent by an
    /// HTTP/2 stack: no request bytes, and a 2xx on HTTP/2 accepts.
    #[cfg(feature = "http")]
    pub(crate) fn set_extended_connect(&mut self) {
        self.mode = HandshakeMode::ExtendedConnect;
        self.output = Vec::new();
    }

    /// Whether the URL was `wss://`.
    #[cfg(feature = "http")]
    pub(crate) fn secure(&self) -> bool {
        self.secure
    }

    /// The request's target and header fields, as sent.
    #[cfg(feature = "http")]
    pub(crate) fn request_parts(&self) -> (&str, &[(String, String)]) {
        (&self.request.path, &self.request.fields)
    }

    /// Fails with the non-101 response once its body is collected.
    fn finish_body(&mut self) -> Result<Option<Response>, HandshakeError> {
        match &mut self.state {
            State::Body {
                status,
                headers,
                body,
                needed,
            } if body.len() >= *needed => Err(HandshakeError::UnexpectedStatus {
                status: *status,
                headers: std::mem::take(headers),
                body: std::mem::take(body),
            }),
            _ => Ok(None),
        }
    }

    /// Tells the handshake the server closed its side of the connection.
    ///
    /// While a refusal's body is being collected, this ends it: the
    /// [`UnexpectedStatus`](HandshakeError::UnexpectedStatus) error is
    /// returned with the body received so far. Before the head is complete
    /// it fails with [`UnexpectedEof`](HandshakeError::UnexpectedEof).
    /// After a 101 it does nothing and returns `Ok(())`: pass the end of
    /// stream on to the connection. Errors are sticky.
    pub fn receive_eof(&mut self) -> Result<(), HandshakeError> {
        let error = match &mut self.state {
            State::Done { .. } => return Ok(()),
            State::Failed(e) => return Err(e.clone()),
            State::Reading => HandshakeError::UnexpectedEof,
            State::Body {
                status,
                headers,
                body,
                ..
            } => HandshakeError::UnexpectedStatus {
                status: *status,
                headers: std::mem::take(headers),
                body: std::mem::take(body),
            },
        };
        self.state = State::Failed(error.clone());
        Err(error)
    }

    /// Turns the completed handshake into a client [`Connection`].
    ///
    /// The bytes received after the 101 response are fed to the connection,
    /// the chosen subprotocol is recorded in it, and any request bytes not
    /// yet written are queued ahead of its frames.
    ///
    /// Fails with [`NotComplete`](HandshakeError::NotComplete) before
    /// [`receive_data`](Self::receive_data) has returned a response, or
    /// with the handshake's error if it failed.
    pub fn into_connection(self) -> Result<Connection, HandshakeError> {
        let (leftover, subprotocol, agreed) = match self.state {
            State::Done {
                leftover,
                subprotocol,
                agreed,
            } => (leftover, subprotocol, agreed),
            State::Failed(e) => return Err(e),
            State::Reading | State::Body { .. } => return Err(HandshakeError::NotComplete),
        };
        let mut conn = Connection::new(Role::Client, self.config);
        if !self.output.is_empty() {
            conn.queue_raw_output(&self.output);
        }
        conn.set_subprotocol(subprotocol);
        conn.set_agreed(agreed);
        if !leftover.is_empty() {
            conn.receive_data(&leftover);
        }
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 16] = *b"the sample nonce";
    const OK: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

    fn handshake(request: ClientRequest) -> ClientHandshake {
        ClientHandshake::with_key(request, &Config::default(), KEY).unwrap()
    }

    fn plain() -> ClientHandshake {
        handshake(ClientRequest::new("ws://server.example.com/chat").unwrap())
    }

    fn offering() -> ClientHandshake {
        handshake(
            ClientRequest::new("ws://server.example.com/chat")
                .unwrap()
                .subprotocol("chat")
                .subprotocol("superchat")
                .extension("permessage-deflate; client_max_window_bits"),
        )
    }

    #[test]
    fn request_bytes() {
        let hs = handshake(
            ClientRequest::new("ws://server.example.com/chat")
                .unwrap()
                .origin("http://example.com")
                .subprotocol("chat")
                .subprotocol("superchat")
                .extension("permessage-deflate; client_max_window_bits")
                .header("Authorization", "Bearer x"),
        );
        assert_eq!(
            String::from_utf8_lossy(hs.pending_output()),
            "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n\
             Sec-WebSocket-Protocol: chat, superchat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
             Authorization: Bearer x\r\n\r\n"
        );
    }

    #[test]
    fn random_keys_differ() {
        let req = ClientRequest::new("ws://a/").unwrap();
        let a = ClientHandshake::new(req.clone(), &Config::default()).unwrap();
        let b = ClientHandshake::new(req, &Config::default()).unwrap();
        assert_ne!(a.expected_accept, b.expected_accept);
        assert_ne!(a.pending_output(), b.pending_output());
    }

    #[test]
    fn invalid_requests() {
        let base = || ClientRequest::new("ws://a/").unwrap();
        let new = |r| ClientHandshake::new(r, &Config::default()).err();
        assert!(matches!(
            new(base().subprotocol("a b")),
            Some(HandshakeError::InvalidSubprotocol { .. })
        ));
        assert!(matches!(
            new(base().subprotocol("")),
            Some(HandshakeError::InvalidSubprotocol { .. })
        ));
        assert!(matches!(
            new(base().subprotocol("a").subprotocol("a")),
            Some(HandshakeError::InvalidSubprotocol { .. })
        ));
        assert!(matches!(
            new(base().extension("x;")),
            Some(HandshakeError::InvalidExtensionOffer { .. })
        ));
        assert!(matches!(
            new(base().extension("")),
            Some(HandshakeError::InvalidExtensionOffer { .. })
        ));
        assert!(matches!(
            new(base().origin("a\r\nb")),
            Some(HandshakeError::InvalidHeader { .. })
        ));
        assert!(matches!(
            new(base().header("X", "a\nb")),
            Some(HandshakeError::InvalidHeader { .. })
        ));
        assert!(matches!(
            new(base().header("Host", "b")),
            Some(HandshakeError::ReservedHeader { .. })
        ));
    }

    #[test]
    fn an_accepted_extension_offered_by_hand_is_refused() {
        // The application offered permessage-deflate itself, without
        // enabling it in the Config: nothing would decode its frames.
        let mut hs = offering();
        let input = format!(
            "{OK}Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n\r\n"
        );
        assert!(matches!(
            hs.receive_data(input.as_bytes()),
            Err(HandshakeError::InvalidExtensionResponse { .. })
        ));
    }

    #[cfg(feature = "deflate")]
    #[test]
    fn deflate_is_offered_and_agreed_through_the_config() {
        let config = Config::default().deflate(crate::deflate::DeflateConfig::default());
        let request = ClientRequest::new("ws://server.example.com/chat").unwrap();
        let mut hs = ClientHandshake::with_key(request, &config, [7; 16]).unwrap();
        let sent = String::from_utf8(hs.pending_output().to_vec()).unwrap();
        assert!(
            sent.contains(
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            )
        );
        let accept = accept_key(STANDARD.encode([7u8; 16]).as_bytes());
        let input = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n"
        );
        assert!(hs.receive_data(input.as_bytes()).unwrap().is_some());
        let mut conn = hs.into_connection().unwrap();
        // RFC 7692 §7.2.3.1: "Hello" compressed, with RSV1 on the frame.
        conn.receive_data(b"\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00");
        assert_eq!(
            conn.next_event().unwrap(),
            Some(crate::Event::Message(crate::Message::text("Hello")))
        );
    }

    #[test]
    fn accepted_response() {
        let mut hs = offering();
        let mut input = format!("{OK}Sec-WebSocket-Protocol: superchat\r\n\r\n").into_bytes();
        input.extend_from_slice(b"\x81\x02hi");
        let response = hs.receive_data(&input).unwrap().unwrap();
        assert_eq!(response.status(), 101);
        assert_eq!(response.subprotocol(), Some("superchat"));
        assert!(response.extensions().is_empty());
        assert_eq!(response.headers().len(), 4);
        assert_eq!(hs.receive_data(b"!"), Ok(None));
        match &hs.state {
            State::Done { leftover, .. } => assert_eq!(leftover, b"\x81\x02hi!"),
            other => panic!("{other:?}"),
        }
        assert_eq!(hs.receive_eof(), Ok(()));
        let conn = hs.into_connection().unwrap();
        assert_eq!(conn.subprotocol(), Some("superchat"));
    }

    #[test]
    fn refusal_with_content_length_waits_for_the_body() {
        let mut hs = plain();
        let head = "HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\n0123";
        assert_eq!(hs.receive_data(head.as_bytes()), Ok(None));
        assert_eq!(hs.receive_data(b"45"), Ok(None));
        match hs.receive_data(b"6789extra") {
            Err(HandshakeError::UnexpectedStatus {
                status,
                headers,
                body,
            }) => {
                assert_eq!(status, 403);
                assert_eq!(headers.get("content-length"), Some(&b"10"[..]));
                assert_eq!(body, b"0123456789");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refusal_body_is_bounded() {
        let config = Config::default().max_rejection_body(4);
        let req = ClientRequest::new("ws://a/").unwrap();
        let mut hs = ClientHandshake::with_key(req.clone(), &config, KEY).unwrap();
        let reply = "HTTP/1.1 500 Oops\r\nContent-Length: 999999999999999999999999\r\n\r\nabcdefgh";
        assert!(matches!(
            hs.receive_data(reply.as_bytes()),
            Err(HandshakeError::UnexpectedStatus { status: 500, body, .. }) if body == b"abcd"
        ));
        // Without Content-Length: what came with the head, bounded.
        let mut hs = ClientHandshake::with_key(req.clone(), &config, KEY).unwrap();
        let reply = "HTTP/1.1 404 Not Found\r\n\r\nabcdefgh";
        assert!(matches!(
            hs.receive_data(reply.as_bytes()),
            Err(HandshakeError::UnexpectedStatus { status: 404, body, .. }) if body == b"abcd"
        ));
        let mut hs = ClientHandshake::with_key(req, &config, KEY).unwrap();
        let reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(
            hs.receive_data(reply.as_bytes()),
            Err(HandshakeError::UnexpectedStatus { status: 404, body, .. }) if body.is_empty()
        ));
    }

    #[test]
    fn eof_while_reading_the_refusal_body() {
        let mut hs = plain();
        let head = "HTTP/1.1 401 Unauthorized\r\nContent-Length: 10\r\n\r\nab";
        assert_eq!(hs.receive_data(head.as_bytes()), Ok(None));
        assert!(matches!(
            hs.receive_eof(),
            Err(HandshakeError::UnexpectedStatus { status: 401, body, .. }) if body == b"ab"
        ));
        let mut hs = plain();
        assert_eq!(hs.receive_eof(), Err(HandshakeError::UnexpectedEof));
    }

    #[test]
    fn not_complete() {
        let hs = plain();
        assert_eq!(
            hs.into_connection().err(),
            Some(HandshakeError::NotComplete)
        );
    }

    #[test]
    fn malformed_response() {
        let mut hs = plain();
        assert!(matches!(
            hs.receive_data(b"HTTP/1.1 abc\r\n\r\n"),
            Err(HandshakeError::MalformedHttp { .. })
        ));
    }
}
