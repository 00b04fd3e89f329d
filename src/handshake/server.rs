//! The server side of the opening handshake (RFC 6455 §4.2).

use super::answer::{Agreement, Refusal};
use super::head::HeadReader;
use super::headers::{check_extra_header, write_header};
use super::request::{Request, parse_request};
use super::{HandshakeError, write_status_line};
use crate::{Config, Connection};

/// Headers an application may not add to a rejection: the handshake writes
/// the framing and closes the connection.
const REJECT_RESERVED: &[&str] = &["Connection", "Content-Length", "Transfer-Encoding"];

/// The server side of an opening handshake, without I/O.
///
/// Feed it the bytes read from the client with
/// [`receive_data`](Self::receive_data) until it returns the [`Request`],
/// then either [`accept`](Self::accept) it — which turns the handshake into
/// a [`Connection`] whose output starts with the `101 Switching Protocols`
/// response — or [`reject`](Self::reject) it with an HTTP error.
///
/// When the request is invalid, `receive_data` returns the error *and*
/// queues the matching HTTP error response (400, 405, 426 or 431) in
/// [`pending_output`](Self::pending_output): write it, then close the
/// connection.
///
/// ```
/// use rfc6455::Config;
/// use rfc6455::handshake::{Accept, ServerHandshake};
///
/// let mut hs = ServerHandshake::new(&Config::default());
/// let bytes = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
///     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v1.chat, v2.chat\r\n\r\n";
/// // `None` would mean: read more bytes and call again.
/// let request = hs.receive_data(bytes)?.expect("a complete request");
/// assert_eq!(request.path(), "/chat");
///
/// let accept = Accept::new().subprotocol_from(&request, &["v2.chat", "v1.chat"]);
/// let conn = hs.accept(&request, accept)?;
/// assert_eq!(conn.subprotocol(), Some("v2.chat"));
/// assert!(conn.pending_output().starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
/// # Ok::<(), rfc6455::handshake::HandshakeError>(())
/// ```
#[derive(Debug)]
pub struct ServerHandshake {
    config: Config,
    reader: HeadReader,
    state: State,
    output: Vec<u8>,
}

#[derive(Debug)]
enum State {
    /// Waiting for the end of the request head.
    Reading,
    /// The request was returned; these bytes followed it.
    Received { leftover: Vec<u8> },
    /// Failed or rejected: any response is in `output`.
    Failed(HandshakeError),
}

impl ServerHandshake {
    /// A handshake waiting for a request, with the limits of `config`
    /// (which is cloned, and later handed to the [`Connection`]).
    pub fn new(config: &Config) -> Self {
        ServerHandshake {
            config: config.clone(),
            reader: HeadReader::new(config.max_handshake_size, config.max_handshake_headers),
            state: State::Reading,
            output: Vec::new(),
        }
    }

    /// Feeds bytes received from the client.
    ///
    /// - `Ok(None)`: the request head is not complete; read more.
    /// - `Ok(Some(request))`: a valid handshake request. Any bytes after its
    ///   head are kept and handed to the connection by
    ///   [`accept`](Self::accept). Bytes fed after this point are kept the
    ///   same way (and `Ok(None)` is returned).
    /// - `Err(e)`: the request is invalid. The error response for
    ///   [`e.status()`](HandshakeError::status) is queued in
    ///   [`pending_output`](Self::pending_output). The error is sticky.
    ///
    /// Memory and time are bounded by the configuration: at most
    /// [`Config::max_handshake_size`] bytes are buffered, each byte is
    /// scanned once, and the head fails with 431 as soon as it exceeds the
    /// size or [`Config::max_handshake_headers`].
    pub fn receive_data(&mut self, data: &[u8]) -> Result<Option<Request>, HandshakeError> {
        match &mut self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Received { leftover } => {
                leftover.extend_from_slice(data);
                return Ok(None);
            }
            State::Reading => {}
        }
        let parsed = match self.reader.feed(data) {
            Ok(None) => return Ok(None),
            Ok(Some(head)) => {
                parse_request(&head.bytes, head.header_lines).map(|r| (r, head.leftover))
            }
            Err(e) => Err(e),
        };
        match parsed {
            Ok((request, leftover)) => {
                self.state = State::Received { leftover };
                Ok(Some(request))
            }
            Err(e) => {
                self.queue_error_response(&e);
                self.state = State::Failed(e.clone());
                Err(e)
            }
        }
    }

    /// Tells the handshake the client closed its side of the connection.
    ///
    /// Before the request is complete this fails the handshake with
    /// [`HandshakeError::UnexpectedEof`] (no response is queued: nobody is
    /// listening). After the request was returned it does nothing and
    /// returns `Ok(())`; a failed handshake returns its error.
    pub fn receive_eof(&mut self) -> Result<(), HandshakeError> {
        match &self.state {
            State::Reading => {
                self.state = State::Failed(HandshakeError::UnexpectedEof);
                Err(HandshakeError::UnexpectedEof)
            }
            State::Received { .. } => Ok(()),
            State::Failed(e) => Err(e.clone()),
        }
    }

    /// Bytes to write to the client: an error or rejection response, if
    /// one was queued. Empty otherwise (the 101 response goes out through
    /// the [`Connection`]).
    pub fn pending_output(&self) -> &[u8] {
        &self.output
    }

    /// Marks the first `n` bytes of [`pending_output`](Self::pending_output)
    /// as written. `n` larger than the output is treated as all of it.
    pub fn consume_output(&mut self, n: usize) {
        self.output.drain(..n.min(self.output.len()));
    }

    /// Bytes of the incomplete request head held in memory (never more than
    /// [`Config::max_handshake_size`]).
    pub fn buffered_len(&self) -> usize {
        self.reader.buffered_len()
    }

    /// Total bytes the head reader has examined (for tests of its linear
    /// time).
    #[doc(hidden)]
    pub fn scanned_bytes(&self) -> usize {
        self.reader.scanned()
    }

    /// Accepts the handshake and returns the connection.
    ///
    /// The connection's [`pending_output`](Connection::pending_output)
    /// starts with the `101 Switching Protocols` response, and any bytes
    /// the client sent after its request head have already been fed to it.
    ///
    /// On success the handshake is spent (a later call returns
    /// [`AlreadyAccepted`](HandshakeError::AlreadyAccepted)). The errors
    /// are all caller mistakes: calling before a request was received
    /// ([`NotComplete`](HandshakeError::NotComplete), nothing queued) or
    /// after a failure (that error), and, once a request is in hand,
    /// choosing a subprotocol the client did not offer
    /// ([`AcceptUnofferedSubprotocol`](HandshakeError::AcceptUnofferedSubprotocol))
    /// or an invalid or reserved extra header. For those the handshake
    /// survives and queues a `500 Internal Server Error` in
    /// [`pending_output`](Self::pending_output): write it, then close the
    /// transport, so that the client learns the handshake failed on this
    /// side. [`Accept::subprotocol_from`] and [`Accept::preferring`] stay
    /// clear of the first mistake.
    ///
    /// ```
    /// use rfc6455::Config;
    /// use rfc6455::handshake::{Accept, HandshakeError, ServerHandshake};
    ///
    /// let mut hs = ServerHandshake::new(&Config::default());
    /// let request = hs.receive_data(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\
    ///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///     Sec-WebSocket-Version: 13\r\n\r\n")?.unwrap();
    /// let mistake = hs.accept(&request, Accept::new().subprotocol("never-offered"));
    /// assert!(matches!(mistake, Err(HandshakeError::AcceptUnofferedSubprotocol { .. })));
    /// assert!(hs.pending_output().starts_with(b"HTTP/1.1 500 Internal Server Error\r\n"));
    /// # Ok::<(), HandshakeError>(())
    /// ```
    pub fn accept(
        &mut self,
        request: &Request,
        options: Accept,
    ) -> Result<Connection, HandshakeError> {
        match &self.state {
            State::Reading => return Err(HandshakeError::NotComplete),
            State::Failed(e) => return Err(e.clone()),
            State::Received { .. } => {}
        }
        let agreement = match Agreement::new(request, options, &self.config) {
            Ok(agreement) => agreement,
            Err(e) => return Err(self.fail_internal(e)),
        };
        let leftover = match std::mem::replace(
            &mut self.state,
            State::Failed(HandshakeError::AlreadyAccepted),
        ) {
            State::Received { leftover } => leftover,
            _ => Vec::new(),
        };
        let mut response = Vec::with_capacity(160);
        write_status_line(&mut response, 101);
        for (name, value) in agreement.fields() {
            write_header(&mut response, name, value.as_bytes());
        }
        response.extend_from_slice(b"\r\n");
        let mut conn = agreement.into_connection(std::mem::take(&mut self.config));
        conn.queue_raw_output(&response);
        if !leftover.is_empty() {
            conn.receive_data(&leftover);
        }
        Ok(conn)
    }

    /// Refuses the handshake with `status` and a `text/plain` body.
    ///
    /// The response (with `Connection: close` and `Content-Length`) is
    /// queued in [`pending_output`](Self::pending_output); write it and
    /// close the connection. Later calls to
    /// [`receive_data`](Self::receive_data) return
    /// [`HandshakeError::Rejected`].
    ///
    /// ```
    /// use rfc6455::Config;
    /// use rfc6455::handshake::ServerHandshake;
    ///
    /// let mut hs = ServerHandshake::new(&Config::default());
    /// hs.reject(403, b"origin not allowed")?;
    /// assert!(hs.pending_output().starts_with(b"HTTP/1.1 403 Forbidden\r\n"));
    /// assert!(hs.pending_output().ends_with(b"\r\n\r\norigin not allowed"));
    /// # Ok::<(), rfc6455::handshake::HandshakeError>(())
    /// ```
    pub fn reject(&mut self, status: u16, body: &[u8]) -> Result<(), HandshakeError> {
        self.reject_with_headers(
            status,
            &[("Content-Type", "text/plain; charset=utf-8")],
            body,
        )
    }

    /// Refuses the handshake with `status`, extra `headers` (say
    /// `WWW-Authenticate` or `Location`) and `body`.
    ///
    /// `status` must be 300–599
    /// ([`InvalidRejectStatus`](HandshakeError::InvalidRejectStatus)
    /// otherwise), and the headers must be valid and not `Connection`,
    /// `Content-Length` or `Transfer-Encoding`, which the handshake writes.
    /// On such an error nothing is queued and the handshake is unchanged.
    /// Rejecting a handshake that already failed returns its error.
    pub fn reject_with_headers(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), HandshakeError> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        if !(300..=599).contains(&status) {
            return Err(HandshakeError::InvalidRejectStatus { status });
        }
        for (name, value) in headers {
            check_extra_header(name, value, REJECT_RESERVED)?;
        }
        let mut out = Vec::with_capacity(128 + body.len());
        write_status_line(&mut out, status);
        write_header(&mut out, "Connection", b"close");
        for (name, value) in headers {
            write_header(&mut out, name, value.as_bytes());
        }
        write_header(
            &mut out,
            "Content-Length",
            body.len().to_string().as_bytes(),
        );
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        self.output.extend_from_slice(&out);
        self.state = State::Failed(HandshakeError::Rejected { status });
        Ok(())
    }

    /// Queues the HTTP response for a request the handshake refused.
    fn queue_error_response(&mut self, error: &HandshakeError) {
        if let Some(refusal) = Refusal::new(error) {
            self.queue_refusal(&refusal);
        }
    }

    /// Fails the handshake for the application's mistake `error` (not the
    /// client's): a bare 500 is queued, which tells the client that the
    /// handshake failed on this side without saying why.
    pub(crate) fn fail_internal(&mut self, error: HandshakeError) -> HandshakeError {
        if !matches!(self.state, State::Failed(_)) {
            self.queue_refusal(&Refusal::internal());
            self.state = State::Failed(error.clone());
        }
        error
    }

    /// Queues a refusal's response.
    fn queue_refusal(&mut self, refusal: &Refusal) {
        let out = &mut self.output;
        write_status_line(out, refusal.status);
        for (name, value) in refusal.fields() {
            write_header(out, name, value.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(refusal.body.as_bytes());
    }
}

/// How to accept a handshake: the subprotocol chosen and extra response
/// headers. Used with [`ServerHandshake::accept`].
///
/// ```
/// use rfc6455::handshake::Accept;
///
/// let accept = Accept::new().subprotocol("stomp").header("X-Served-By", "a1");
/// # let _ = accept;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accept {
    pub(super) subprotocol: Option<String>,
    pub(super) preferences: Vec<String>,
    pub(super) headers: Vec<(String, String)>,
}

impl Accept {
    /// No subprotocol, no extra headers.
    pub fn new() -> Self {
        Accept::default()
    }

    /// Chooses `protocol`, which must be one the client offered.
    #[must_use]
    pub fn subprotocol(mut self, protocol: impl Into<String>) -> Self {
        self.subprotocol = Some(protocol.into());
        self
    }

    /// Chooses the first of the server's `preferences` that `request`
    /// offers, or no subprotocol if none is offered.
    #[must_use]
    pub fn subprotocol_from(mut self, request: &Request, preferences: &[&str]) -> Self {
        self.subprotocol = request.choose_subprotocol(preferences).map(str::to_string);
        self
    }

    /// Chooses, when the handshake is accepted, the first of the server's
    /// `preferences` that the client offered, or no subprotocol if it
    /// offered none of them. For callers that build the `Accept` before
    /// seeing the request (such as `rfc6455::http::accept`); a subprotocol
    /// set with [`subprotocol`](Self::subprotocol) takes precedence.
    ///
    /// ```
    /// use rfc6455::Config;
    /// use rfc6455::handshake::{Accept, ServerHandshake};
    ///
    /// let mut hs = ServerHandshake::new(&Config::default());
    /// let request = hs.receive_data(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\
    ///     Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    ///     Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v1, v2\r\n\r\n")?.unwrap();
    /// let conn = hs.accept(&request, Accept::new().preferring(["v3", "v2", "v1"]))?;
    /// assert_eq!(conn.subprotocol(), Some("v2"));
    /// # Ok::<(), rfc6455::handshake::HandshakeError>(())
    /// ```
    #[must_use]
    pub fn preferring<I>(mut self, preferences: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.preferences = preferences.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a header to the 101 response. It is checked by
    /// [`ServerHandshake::accept`]: the name must be a token, the value must
    /// hold no control characters (no CR/LF header injection), and the
    /// handshake's own headers cannot be overridden.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The subprotocol chosen so far.
    pub fn chosen_subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
        Upgrade: websocket\r\nConnection: Upgrade\r\n\
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
        Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";

    fn received() -> (ServerHandshake, Request) {
        let mut hs = ServerHandshake::new(&Config::default());
        let req = hs.receive_data(REQUEST).unwrap().unwrap();
        (hs, req)
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[test]
    fn accept_writes_the_rfc_example_response() {
        let (mut hs, req) = received();
        let conn = hs.accept(&req, Accept::new().subprotocol("chat")).unwrap();
        assert_eq!(
            text(conn.pending_output()),
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
             Sec-WebSocket-Protocol: chat\r\n\r\n"
        );
        assert_eq!(conn.subprotocol(), Some("chat"));
    }

    #[test]
    fn accept_without_subprotocol_and_with_extra_headers() {
        let (mut hs, req) = received();
        let conn = hs.accept(&req, Accept::new().header("X-A", "b")).unwrap();
        let out = text(conn.pending_output());
        assert!(!out.contains("Sec-WebSocket-Protocol"));
        assert!(out.ends_with("X-A: b\r\n\r\n"));
        assert_eq!(conn.subprotocol(), None);
    }

    #[test]
    fn accept_refuses_caller_mistakes() {
        let (mut hs, req) = received();
        assert_eq!(
            hs.accept(&req, Accept::new().subprotocol("v9")).err(),
            Some(HandshakeError::AcceptUnofferedSubprotocol {
                protocol: "v9".into()
            })
        );
        let (mut hs, req) = received();
        assert!(matches!(
            hs.accept(&req, Accept::new().header("X", "a\r\nSet-Cookie: x")),
            Err(HandshakeError::InvalidHeader { .. })
        ));
        let (mut hs, req) = received();
        assert!(matches!(
            hs.accept(&req, Accept::new().header("sec-websocket-accept", "x")),
            Err(HandshakeError::ReservedHeader { .. })
        ));
        let mut hs = ServerHandshake::new(&Config::default());
        let (_, req) = received();
        assert_eq!(
            hs.accept(&req, Accept::new()).err(),
            Some(HandshakeError::NotComplete)
        );
    }

    #[test]
    fn subprotocol_selection_prefers_the_server_order() {
        let (_, req) = received();
        let a = Accept::new().subprotocol_from(&req, &["superchat", "chat"]);
        assert_eq!(a.chosen_subprotocol(), Some("superchat"));
        let a = Accept::new()
            .subprotocol("x")
            .subprotocol_from(&req, &["other"]);
        assert_eq!(a.chosen_subprotocol(), None);
    }

    #[test]
    fn errors_queue_a_response_and_stick() {
        let mut hs = ServerHandshake::new(&Config::default());
        let err = hs.receive_data(b"POST / HTTP/1.1\r\n\r\n").unwrap_err();
        assert_eq!(err.status(), Some(405));
        let out = text(hs.pending_output());
        assert!(
            out.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{out}"
        );
        assert!(out.contains("\r\nAllow: GET\r\n"));
        assert!(out.contains("\r\nConnection: close\r\n"));
        assert_eq!(hs.receive_data(REQUEST), Err(err.clone()));
        assert_eq!(hs.receive_eof(), Err(err.clone()));
        assert_eq!(hs.reject(403, b""), Err(err));
        let len = hs.pending_output().len();
        hs.consume_output(10);
        assert_eq!(hs.pending_output().len(), len - 10);
        hs.consume_output(usize::MAX);
        assert!(hs.pending_output().is_empty());
    }

    #[test]
    fn error_response_is_well_framed() {
        let mut hs = ServerHandshake::new(&Config::default());
        let err = hs
            .receive_data(
                b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
            )
            .unwrap_err();
        assert_eq!(err, HandshakeError::MissingVersion);
        let out = hs.pending_output();
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let head = text(&out[..split]);
        let body = &out[split..];
        assert!(head.starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
        assert!(head.contains("\r\nSec-WebSocket-Version: 13\r\n"));
        assert!(head.contains("\r\nUpgrade: websocket\r\n"));
        assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())));
    }

    #[test]
    fn reject_validates_and_sticks() {
        let mut hs = ServerHandshake::new(&Config::default());
        assert_eq!(
            hs.reject(101, b""),
            Err(HandshakeError::InvalidRejectStatus { status: 101 })
        );
        assert_eq!(
            hs.reject(200, b""),
            Err(HandshakeError::InvalidRejectStatus { status: 200 })
        );
        assert!(matches!(
            hs.reject_with_headers(401, &[("Content-Length", "0")], b""),
            Err(HandshakeError::ReservedHeader { .. })
        ));
        assert!(hs.pending_output().is_empty());
        hs.reject_with_headers(401, &[("WWW-Authenticate", "Basic")], b"who?")
            .unwrap();
        assert_eq!(
            text(hs.pending_output()),
            "HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nWWW-Authenticate: Basic\r\n\
             Content-Length: 4\r\n\r\nwho?"
        );
        assert_eq!(
            hs.receive_data(REQUEST),
            Err(HandshakeError::Rejected { status: 401 })
        );
    }

    #[test]
    fn reject_after_the_request() {
        let (mut hs, req) = received();
        hs.reject(403, b"no").unwrap();
        assert!(
            hs.pending_output()
                .starts_with(b"HTTP/1.1 403 Forbidden\r\n")
        );
        assert_eq!(
            hs.accept(&req, Accept::new()).err(),
            Some(HandshakeError::Rejected { status: 403 })
        );
    }

    #[test]
    fn eof() {
        let mut hs = ServerHandshake::new(&Config::default());
        assert_eq!(hs.receive_data(b"GET / HT"), Ok(None));
        assert_eq!(hs.receive_eof(), Err(HandshakeError::UnexpectedEof));
        assert!(hs.pending_output().is_empty());
        let (mut hs, _) = received();
        assert_eq!(hs.receive_eof(), Ok(()));
    }

    #[test]
    fn bytes_after_the_request_are_kept() {
        let mut hs = ServerHandshake::new(&Config::default());
        let mut input = REQUEST.to_vec();
        input.extend_from_slice(b"\x81\x80");
        assert!(hs.receive_data(&input).unwrap().is_some());
        assert_eq!(hs.receive_data(b"more"), Ok(None));
        match &hs.state {
            State::Received { leftover } => assert_eq!(leftover, b"\x81\x80more"),
            other => panic!("{other:?}"),
        }
        assert_eq!(hs.buffered_len(), 0);
    }
}
