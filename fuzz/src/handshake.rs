//! `handshake_request` (a server reads a request head) and
//! `handshake_response` (a client reads the server's response head).
//!
//! # Input format
//!
//! ```text
//! [flags] [k] [s_1 .. s_(k % 8)] [bytes from the peer ...]
//! ```
//!
//! - `flags` bits 0–1 pick the limits (`max_handshake_size` /
//!   `max_handshake_headers`): 16 KiB / 100, 256 / 4, 1 KiB / 16, 64 / 100;
//!   bit 2 reports EOF after the last byte. For `handshake_response`, bit
//!   3 makes the client offer the subprotocols `chat` and `superchat`,
//!   bit 4 offer `permessage-deflate`, and bit 5 keeps at most 16 bytes of a
//!   refusal's body.
//! - The bytes are fed in pieces whose sizes cycle through `s_1 ..`
//!   (whole when there are none, or all are zero), then also whole and one
//!   byte at a time, and the three runs are compared.
//!
//! A seed is a head prefixed with `[0, 0]`. The client's key is
//! [`HANDSHAKE_KEY`], so a valid response carries
//! `Sec-WebSocket-Accept: oNFA07Hg2IrqOlweUwc6ekn3pf4=`.
//!
//! # Invariants
//!
//! - No panic; the handshake never buffers more than `max_handshake_size`
//!   bytes, and scans no byte twice (`scanned_bytes` ≤ bytes fed).
//! - Any split gives the same result (request, response or error) and
//!   hands the connection the same leftover bytes (its events compared).
//!   A refusal's body is the exception the API documents: without
//!   `Content-Length` it is what arrived with the head, so the bodies need
//!   only be prefixes of one another.
//! - Errors are sticky, and EOF before the head ends is `UnexpectedEof`.
//! - A server's error comes with a well-formed HTTP response carrying
//!   its status, which a client reads back as that status and body.
//! - Whatever is accepted has what RFC 6455 §4.2.1 / §4.1 require,
//!   checked with a deliberately simple, independent reading of the head
//!   (method, version, `Host`, `Upgrade`, `Connection`, key, version;
//!   status 101, `Sec-WebSocket-Accept`, subprotocol).

use rfc6455::handshake::{
    Accept, ClientHandshake, ClientRequest, HandshakeError, Request, Response, ServerHandshake,
};
use rfc6455::{Config, Connection, Event, ProtocolError};

use crate::setup::{HANDSHAKE_KEY, URL, base64_key};

/// (`max_handshake_size`, `max_handshake_headers`) by the low bits of
/// `flags`.
const LIMITS: [(usize, usize); 4] = [(16 << 10, 100), (256, 4), (1 << 10, 16), (64, 100)];

/// The accept value for [`HANDSHAKE_KEY`].
pub const EXPECTED_ACCEPT: &str = "oNFA07Hg2IrqOlweUwc6ekn3pf4=";

/// The fuzzer's pieces and the configuration.
struct Input<'a> {
    flags: u8,
    config: Config,
    pieces: Vec<&'a [u8]>,
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn parse(data: &'a [u8]) -> Self {
        let flags = data.first().copied().unwrap_or(0);
        let k = usize::from(data.get(1).copied().unwrap_or(0) % 8);
        let rest = data.get(2..).unwrap_or_default();
        let (sizes, bytes) = rest.split_at(k.min(rest.len()));
        let (size, headers) = LIMITS[usize::from(flags & 3)];
        let config = Config::default()
            .max_handshake_size(size)
            .max_handshake_headers(headers)
            .max_rejection_body(if flags & 0x20 != 0 { 16 } else { 4 << 10 });
        Input {
            flags,
            config,
            pieces: crate::utf8::split(bytes, sizes),
            bytes,
        }
    }

    fn eof(&self) -> bool {
        self.flags & 4 != 0
    }
}

/// The two handshakes, as far as feeding them goes.
trait Reader {
    type Output: PartialEq + std::fmt::Debug;
    fn receive(&mut self, data: &[u8]) -> Result<Option<Self::Output>, HandshakeError>;
    fn eof(&mut self) -> Result<(), HandshakeError>;
    fn buffered(&self) -> usize;
    fn scanned(&self) -> usize;
}

impl Reader for ServerHandshake {
    type Output = Request;
    fn receive(&mut self, data: &[u8]) -> Result<Option<Request>, HandshakeError> {
        self.receive_data(data)
    }
    fn eof(&mut self) -> Result<(), HandshakeError> {
        self.receive_eof()
    }
    fn buffered(&self) -> usize {
        self.buffered_len()
    }
    fn scanned(&self) -> usize {
        self.scanned_bytes()
    }
}

impl Reader for ClientHandshake {
    type Output = Response;
    fn receive(&mut self, data: &[u8]) -> Result<Option<Response>, HandshakeError> {
        self.receive_data(data)
    }
    fn eof(&mut self) -> Result<(), HandshakeError> {
        self.receive_eof()
    }
    fn buffered(&self) -> usize {
        self.buffered_len()
    }
    fn scanned(&self) -> usize {
        self.scanned_bytes()
    }
}

/// How a handshake ended.
#[derive(Debug, PartialEq)]
enum Outcome<T> {
    /// Still waiting for the head (after EOF, if reported, this is an
    /// error instead).
    Pending,
    Done(T),
    Failed(HandshakeError),
}

/// Feeds `pieces` (then EOF, if asked) and checks the per-call
/// invariants.
fn feed<R: Reader>(hs: &mut R, pieces: &[&[u8]], eof: bool, config: &Config) -> Outcome<R::Output> {
    let mut outcome = Outcome::Pending;
    let mut fed = 0;
    for piece in pieces {
        let result = hs.receive(piece);
        fed += piece.len();
        assert!(
            hs.buffered() <= config.max_handshake_size,
            "buffered past the limit"
        );
        assert!(
            hs.scanned() <= fed,
            "scanned {} of {fed} bytes",
            hs.scanned()
        );
        match (&outcome, result) {
            (Outcome::Pending, Ok(None)) => {}
            (Outcome::Pending, Ok(Some(done))) => outcome = Outcome::Done(done),
            (Outcome::Pending, Err(e)) => outcome = Outcome::Failed(e),
            // Bytes after the head are kept for the connection.
            (Outcome::Done(_), result) => assert_eq!(result, Ok(None)),
            (Outcome::Failed(first), result) => {
                assert_eq!(result.as_ref(), Err(first), "not sticky")
            }
        }
    }
    if eof {
        let result = hs.eof();
        match &outcome {
            Outcome::Pending => {
                if let Err(e) = result {
                    outcome = Outcome::Failed(e);
                } else {
                    panic!("EOF before the head ended was accepted");
                }
            }
            Outcome::Done(_) => assert_eq!(result, Ok(())),
            Outcome::Failed(e) => assert_eq!(result.as_ref(), Err(e)),
        }
    }
    outcome
}

/// The events a connection makes of its leftover bytes (and EOF).
fn events(mut conn: Connection, eof: bool) -> Vec<Result<Event, ProtocolError>> {
    if eof {
        conn.receive_eof();
    }
    let mut events = Vec::new();
    loop {
        match conn.next_event() {
            Ok(Some(event)) => events.push(Ok(event)),
            Ok(None) => return events,
            Err(e) => {
                events.push(Err(e));
                return events;
            }
        }
    }
}

/// The pieces of the three runs: the fuzzer's, whole, and byte by byte.
fn runs<'a>(input: &Input<'a>) -> [Vec<&'a [u8]>; 3] {
    let bytewise = input.bytes.chunks(1).collect();
    [input.pieces.clone(), vec![input.bytes], bytewise]
}

/// `handshake_request`: runs one input.
pub fn run_request(data: &[u8]) {
    let input = Input::parse(data);
    let mut results = Vec::new();
    for pieces in runs(&input) {
        let mut hs = ServerHandshake::new(&input.config);
        let outcome = feed(&mut hs, &pieces, input.eof(), &input.config);
        let detail = match &outcome {
            Outcome::Pending => {
                assert!(hs.pending_output().is_empty());
                None
            }
            Outcome::Failed(e) => {
                check_error_response(e, hs.pending_output());
                None
            }
            Outcome::Done(request) => {
                check_request(request, input.bytes);
                let conn = hs.accept(request, Accept::default()).expect("accept");
                let head = conn.pending_output().to_vec();
                Some((head, events(conn, input.eof())))
            }
        };
        results.push((outcome, detail));
    }
    assert!(
        results.windows(2).all(|w| w[0] == w[1]),
        "splits disagree: {results:#?}"
    );
}

/// `handshake_response`: runs one input.
pub fn run_response(data: &[u8]) {
    let input = Input::parse(data);
    let mut request = ClientRequest::new(URL).expect("valid URL");
    let offered: &[&str] = if input.flags & 8 != 0 {
        &["chat", "superchat"]
    } else {
        &[]
    };
    for protocol in offered {
        request = request.subprotocol(*protocol);
    }
    if input.flags & 0x10 != 0 {
        request = request.extension("permessage-deflate; client_max_window_bits");
    }
    let mut results = Vec::new();
    let mut bodies = Vec::new();
    for pieces in runs(&input) {
        let mut hs = ClientHandshake::with_key(request.clone(), &input.config, HANDSHAKE_KEY)
            .expect("valid request");
        let mut outcome = feed(&mut hs, &pieces, input.eof(), &input.config);
        let detail = match &mut outcome {
            Outcome::Done(response) => {
                check_response(response, input.bytes, offered);
                let conn = hs.into_connection().expect("a completed handshake");
                assert_eq!(conn.subprotocol(), response.subprotocol());
                Some(events(conn, input.eof()))
            }
            Outcome::Failed(HandshakeError::UnexpectedStatus { body, .. }) => {
                assert!(body.len() <= input.config.max_rejection_body);
                // Set aside: compared as prefixes below.
                bodies.push(std::mem::take(body));
                None
            }
            _ => None,
        };
        results.push((outcome, detail));
    }
    for pair in bodies.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(
            a.starts_with(b) || b.starts_with(a),
            "bodies {a:02x?} / {b:02x?}"
        );
    }
    assert!(
        results.windows(2).all(|w| w[0] == w[1]),
        "splits disagree: {results:#?}"
    );
}

/// Checks a server's error response: status line, framing, and that a
/// client reads it back as that status and body.
fn check_error_response(error: &HandshakeError, output: &[u8]) {
    let Some(status) = error.status() else {
        assert!(output.is_empty(), "a response for {error:?}");
        return;
    };
    let (start, headers, body) = simple_response(output).expect("a complete response");
    assert!(start.starts_with(&format!("HTTP/1.1 {status} ")), "{start}");
    let length = single(&headers, "content-length").expect("Content-Length");
    assert_eq!(length, body.len().to_string());

    let request = ClientRequest::new(URL).expect("valid URL");
    let config = Config::default().max_rejection_body(1 << 20);
    let mut client = ClientHandshake::with_key(request, &config, HANDSHAKE_KEY).expect("request");
    match client.receive_data(output) {
        Err(HandshakeError::UnexpectedStatus {
            status: s, body: b, ..
        }) => {
            assert_eq!((s, &b[..]), (status, body));
        }
        other => panic!("a client read the {status} response as {other:?}"),
    }
}

/// Checks an accepted request against RFC 6455 §4.2.1.
fn check_request(request: &Request, bytes: &[u8]) {
    let (start, headers) = simple_head(bytes).expect("an accepted head is readable");
    let mut parts = start.split(' ');
    assert_eq!(parts.next(), Some("GET"), "{start}");
    assert_eq!(parts.next(), Some(request.path()), "{start}");
    assert_eq!(parts.next(), Some("HTTP/1.1"), "{start}");
    assert_eq!(request.method(), "GET");
    let host = single(&headers, "host").expect("exactly one Host");
    assert!(!host.is_empty());
    assert_eq!(request.host(), host);
    assert!(has_token(&headers, "upgrade", "websocket"), "{headers:?}");
    assert!(has_token(&headers, "connection", "upgrade"), "{headers:?}");
    let key = single(&headers, "sec-websocket-key").expect("exactly one key");
    assert_eq!(request.key(), key);
    let decoded = base64_decode(key).expect("the key is canonical base64");
    assert_eq!(decoded.len(), 16, "the key is 16 bytes");
    // Read as an HTTP list (RFC 9110 §5.6.1: empty elements are ignored),
    // as the crate chooses to; the RFC's grammar has a single version.
    let versions: Vec<&str> = list(&headers, "sec-websocket-version").collect();
    assert_eq!(versions, ["13"], "version");
}

/// Checks an accepted response against RFC 6455 §4.1.
fn check_response(response: &Response, bytes: &[u8], offered: &[&str]) {
    let (start, headers) = simple_head(bytes).expect("an accepted head is readable");
    // The version is not checked: the crate accepts `HTTP/1.0 101`, which
    // RFC 6455 does not forbid in so many words (reported to the lead).
    let mut parts = start.split(' ');
    assert!(
        parts.next().is_some_and(|v| v.starts_with("HTTP/1.")),
        "{start}"
    );
    assert_eq!(parts.next(), Some("101"), "{start}");
    assert_eq!(response.status(), 101);
    // RFC 6455 §4.1: Upgrade must be a case-insensitive match for
    // "websocket"; Connection must contain the token "Upgrade". Upgrade is
    // an HTTP list (RFC 9110 §7.8), so empty elements are ignored.
    let upgrade: Vec<&str> = list(&headers, "upgrade").collect();
    assert!(
        matches!(upgrade[..], [only] if only.eq_ignore_ascii_case("websocket")),
        "Upgrade: {upgrade:?}"
    );
    assert!(has_token(&headers, "connection", "upgrade"), "{headers:?}");
    let accept = single(&headers, "sec-websocket-accept").expect("one accept");
    assert_eq!(accept, EXPECTED_ACCEPT);
    assert_eq!(
        EXPECTED_ACCEPT,
        rfc6455::handshake::accept_key(base64_key(&HANDSHAKE_KEY).as_bytes())
    );
    match response.subprotocol() {
        Some(protocol) => assert!(offered.contains(&protocol), "unoffered {protocol}"),
        None => assert!(all(&headers, "sec-websocket-protocol").all(str::is_empty)),
    }
}

/// A header field: lowercased name, value trimmed of spaces and tabs.
type Field = (String, String);

/// A deliberately simple reading of an HTTP head at the start of `bytes`:
/// the start line and the header fields, up to the `\r\n\r\n` that ends
/// the head. Lines may end in a bare LF, and empty lines may come first
/// (RFC 9112 §2.2 lets a recipient accept both, and `httparse` does).
/// `None` when a line has no colon.
fn simple_head(mut bytes: &[u8]) -> Option<(String, Vec<Field>)> {
    // RFC 9112 §2.2: empty lines before the start line are ignored.
    while let Some(rest) = bytes.strip_prefix(b"\r\n").or(bytes.strip_prefix(b"\n")) {
        bytes = rest;
    }
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&bytes[..end]);
    let mut lines = head
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let start = lines.next()?.to_string();
    let mut fields = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim_matches([' ', '\t']);
        fields.push((name.to_ascii_lowercase(), value.to_string()));
    }
    Some((start, fields))
}

/// [`simple_head`] plus the body after it.
fn simple_response(bytes: &[u8]) -> Option<(String, Vec<Field>, &[u8])> {
    let (start, fields) = simple_head(bytes)?;
    let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    Some((start, fields, &bytes[end..]))
}

fn all<'a>(fields: &'a [Field], name: &'a str) -> impl Iterator<Item = &'a str> {
    fields
        .iter()
        .filter(move |(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The value of a header that appears exactly once.
fn single<'a>(fields: &'a [Field], name: &'a str) -> Option<&'a str> {
    let mut values = all(fields, name);
    let value = values.next()?;
    values.next().is_none().then_some(value)
}

/// The non-empty elements of the comma-separated lists in the fields
/// called `name`.
fn list<'a>(fields: &'a [Field], name: &'a str) -> impl Iterator<Item = &'a str> {
    all(fields, name)
        .flat_map(|v| v.split(','))
        .map(|t| t.trim_matches([' ', '\t']))
        .filter(|t| !t.is_empty())
}

/// Whether a comma-separated header lists `token` (case-insensitively).
fn has_token(fields: &[Field], name: &str, token: &str) -> bool {
    list(fields, name).any(|t| t.eq_ignore_ascii_case(token))
}

/// Decodes canonical padded base64 (unused bits zero), or `None`.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::new();
    for (i, quad) in bytes.chunks(4).enumerate() {
        let last = i + 1 == bytes.len() / 4;
        let pad = quad.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 || (pad > 0 && !last) {
            return None;
        }
        let mut n = 0u32;
        for &b in &quad[..4 - pad] {
            n = n << 6 | ALPHABET.iter().position(|&a| a == b)? as u32;
        }
        n <<= 6 * pad as u32;
        let decoded = n.to_be_bytes();
        let keep = 3 - pad;
        // Canonical: the bits the padding drops are zero.
        if decoded[1 + keep..].iter().any(|&b| b != 0) {
            return None;
        }
        out.extend_from_slice(&decoded[1..1 + keep]);
    }
    Some(out)
}
