//! The client's opening handshake as a server sees it: parsing and the
//! checks of RFC 6455 §4.2.1.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::extensions::{ExtensionOffer, parse_extension_fields};
use super::head::parsed_whole;
use super::headers::{Headers, is_token, trim_ows};
use super::{HandshakeError, accept_key};

/// A valid WebSocket opening request, as received by a server.
///
/// Returned by [`ServerHandshake::receive_data`](super::ServerHandshake::receive_data)
/// once every check of RFC 6455 §4.2.1 has passed. The application looks
/// at it (path, origin, offered subprotocols...) and then accepts or
/// rejects the handshake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    method: String,
    path: String,
    headers: Headers,
    host: String,
    key: String,
    subprotocols: Vec<String>,
    extensions: Vec<ExtensionOffer>,
    extended_connect: bool,
}

impl Request {
    /// The request method: `GET` in an HTTP/1.1 handshake, `CONNECT` in an
    /// HTTP/2 extended CONNECT (RFC 8441).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request-target as sent, query included: `/chat?room=1`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Every header field, in received order.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The `Host` header (HTTP/1.1) or the `:authority` (HTTP/2): the
    /// authority the client connected to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The `Origin` header, if present and UTF-8. Browsers always send it;
    /// a server that serves browsers should check it (RFC 6455 §10.2).
    pub fn origin(&self) -> Option<&str> {
        self.headers.get_str("Origin").map(str::trim)
    }

    /// The `Sec-WebSocket-Key`, trimmed; empty for an extended CONNECT,
    /// which has none (RFC 8441 §5).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value the response's `Sec-WebSocket-Accept` carries for this
    /// request's key.
    pub fn accept_key(&self) -> String {
        accept_key(self.key.as_bytes())
    }

    /// The subprotocols offered, from every `Sec-WebSocket-Protocol` header,
    /// in the client's order of preference.
    pub fn subprotocols(&self) -> impl Iterator<Item = &str> {
        self.subprotocols.iter().map(String::as_str)
    }

    /// Whether the client offered `protocol` (exact match).
    pub fn offers_subprotocol(&self, protocol: &str) -> bool {
        self.subprotocols.iter().any(|p| p == protocol)
    }

    /// The first of the server's `preferences` that the client offered.
    ///
    /// The server's order wins over the client's: with an offer of
    /// `v1, v2` and preferences `["v2", "v1"]` the choice is `v2`.
    pub fn choose_subprotocol<'a>(&self, preferences: &[&'a str]) -> Option<&'a str> {
        preferences
            .iter()
            .copied()
            .find(|p| self.offers_subprotocol(p))
    }

    /// The extensions offered in `Sec-WebSocket-Extensions`, in order.
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// Whether the request is an HTTP/2 extended CONNECT (RFC 8441), to
    /// be answered with a 200 on its stream, rather than an HTTP/1.1
    /// upgrade answered with a 101.
    pub fn is_extended_connect(&self) -> bool {
        self.extended_connect
    }

    /// A request from the fields both ways in share; `headers` hold the
    /// subprotocol and extension offers, checked here.
    pub(crate) fn build(
        method: &str,
        path: &str,
        host: String,
        key: String,
        headers: Headers,
        extended_connect: bool,
    ) -> Result<Request, HandshakeError> {
        // RFC 6455 §4.1: the subprotocol elements "MUST be non-empty strings
        // with characters in the range U+0021 to U+007E not including
        // separator characters" (that is, tokens).
        let mut subprotocols = Vec::new();
        for item in headers.list("Sec-WebSocket-Protocol") {
            if !is_token(item) {
                return Err(HandshakeError::MalformedSubprotocols);
            }
            subprotocols.push(String::from_utf8_lossy(item).into_owned());
        }
        let extensions = parse_extension_fields(headers.get_all("Sec-WebSocket-Extensions"))?;
        Ok(Request {
            method: method.to_string(),
            path: path.to_string(),
            host,
            key,
            subprotocols,
            extensions,
            headers,
            extended_connect,
        })
    }
}

/// The check of `Sec-WebSocket-Version: 13` (RFC 6455 §4.1, kept by RFC
/// 8441 §5): `Err(None)` when the field is absent, `Err(Some(values))` when
/// it says something else.
pub(crate) fn version_13(headers: &Headers) -> Result<(), Option<String>> {
    let versions: Vec<&[u8]> = headers.list("Sec-WebSocket-Version").collect();
    match versions.as_slice() {
        [] if !headers.contains("Sec-WebSocket-Version") => Err(None),
        [b"13"] => Ok(()),
        _ => Err(Some(
            versions
                .iter()
                .map(|v| String::from_utf8_lossy(v))
                .collect::<Vec<_>>()
                .join(", "),
        )),
    }
}

/// Parses a complete request head, then applies [`check_request`].
pub(crate) fn parse_request(head: &[u8], header_lines: usize) -> Result<Request, HandshakeError> {
    let mut slots = vec![httparse::EMPTY_HEADER; header_lines];
    let mut parsed = httparse::Request::new(&mut slots);
    parsed_whole(parsed.parse(head), head.len())?;
    let headers: Headers = parsed
        .headers
        .iter()
        .map(|h| (h.name, trim_ows(h.value)))
        .collect();
    let (Some(method), Some(path), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(HandshakeError::MalformedHttp {
            reason: "incomplete request line".into(),
        });
    };
    check_request(method, version >= 1, path, headers)
}

/// The checks of RFC 6455 §4.2.1 on a request, however it was parsed:
/// the byte parser above and the `http` crate's types
/// (`rfc6455::http`) both end here, so each rule is written once.
///
/// `http_1_1_or_later` is the request's HTTP version test; `headers` hold
/// trimmed values. The checks run in an order that gives clients of old
/// protocol versions a 426 rather than a 400 (the version is checked
/// before the key).
pub(crate) fn check_request(
    method: &str,
    http_1_1_or_later: bool,
    path: &str,
    headers: Headers,
) -> Result<Request, HandshakeError> {
    // RFC 6455 §4.2.1: the request MUST be "an HTTP/1.1 or higher GET
    // request, including a "Request-URI"".
    if !http_1_1_or_later {
        return Err(HandshakeError::UnsupportedHttpVersion);
    }
    if method != "GET" {
        return Err(HandshakeError::MethodNotGet {
            method: method.to_string(),
        });
    }

    // RFC 6455 §4.2.1: "A |Host| header field containing the server's
    // authority." RFC 9112 §3.2: a server MUST answer 400 to a request
    // without Host, with more than one, or with an invalid value.
    let host = match headers.count("Host") {
        0 => return Err(HandshakeError::MissingHost),
        1 => headers.get("Host").unwrap_or_default(),
        _ => return Err(HandshakeError::DuplicateHost),
    };
    if host.is_empty() || !host.iter().all(|b| b.is_ascii_graphic()) {
        return Err(HandshakeError::InvalidHost);
    }
    let host = String::from_utf8_lossy(host).into_owned();

    // RFC 6455 §4.2.1: "An |Upgrade| header field containing the value
    // "websocket", treated as an ASCII case-insensitive value."
    if !headers.has_token("Upgrade", "websocket") {
        return Err(HandshakeError::UpgradeNotWebSocket);
    }
    // RFC 6455 §4.2.1: "A |Connection| header field that includes the token
    // "Upgrade", treated as an ASCII case-insensitive value."
    if !headers.has_token("Connection", "Upgrade") {
        return Err(HandshakeError::ConnectionNotUpgrade);
    }

    // RFC 6455 §4.2.1: "A |Sec-WebSocket-Version| header field, with a value
    // of 13." §4.2.2: otherwise the server MUST abort and send an error
    // (426) with a |Sec-WebSocket-Version| header of the versions it
    // understands.
    match version_13(&headers) {
        Ok(()) => {}
        Err(None) => return Err(HandshakeError::MissingVersion),
        Err(Some(version)) => return Err(HandshakeError::UnsupportedVersion { version }),
    }

    // RFC 6455 §11.3.1: "The |Sec-WebSocket-Key| header field MUST NOT
    // appear more than once in an HTTP request."
    let key = match headers.count("Sec-WebSocket-Key") {
        0 => return Err(HandshakeError::MissingKey),
        1 => headers.get("Sec-WebSocket-Key").unwrap_or_default(),
        _ => return Err(HandshakeError::DuplicateKey),
    };
    // RFC 6455 §4.2.1: "A |Sec-WebSocket-Key| header field with a
    // base64-encoded value that, when decoded, is 16 bytes in length."
    if !is_valid_key(key) {
        return Err(HandshakeError::InvalidKey);
    }
    let key = String::from_utf8_lossy(key).into_owned();

    Request::build(method, path, host, key, headers, false)
}

/// Whether `key` is the base64 encoding of exactly 16 bytes.
fn is_valid_key(key: &[u8]) -> bool {
    // 16 bytes encode to 22 characters plus `==`; checking the length first
    // keeps the decoder from allocating for long values.
    key.len() == 24
        && STANDARD
            .decode(key)
            .is_ok_and(|decoded| decoded.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(lines: &[&str]) -> Vec<u8> {
        let mut head = String::new();
        for line in lines {
            head.push_str(line);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    fn valid_lines() -> Vec<String> {
        vec![
            "GET /chat?x=1 HTTP/1.1".into(),
            "Host: server.example.com".into(),
            "Upgrade: websocket".into(),
            "Connection: Upgrade".into(),
            format!("Sec-WebSocket-Key: {KEY}"),
            "Sec-WebSocket-Version: 13".into(),
        ]
    }

    fn parse_lines(lines: &[String]) -> Result<Request, HandshakeError> {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        parse_request(&request(&refs), lines.len() - 1)
    }

    fn with(
        mut lines: Vec<String>,
        f: impl FnOnce(&mut Vec<String>),
    ) -> Result<Request, HandshakeError> {
        f(&mut lines);
        parse_lines(&lines)
    }

    #[test]
    fn valid_request() {
        let req = with(valid_lines(), |l| {
            l.push("Origin: http://example.com".into());
            l.push("Sec-WebSocket-Protocol: chat, superchat".into());
            l.push("Sec-WebSocket-Protocol: v2".into());
            l.push("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits".into());
        })
        .unwrap();
        assert_eq!(req.method(), "GET");
        assert_eq!(req.path(), "/chat?x=1");
        assert_eq!(req.host(), "server.example.com");
        assert_eq!(req.origin(), Some("http://example.com"));
        assert_eq!(req.key(), KEY);
        assert_eq!(req.accept_key(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(
            req.subprotocols().collect::<Vec<_>>(),
            ["chat", "superchat", "v2"]
        );
        assert_eq!(
            req.choose_subprotocol(&["v3", "superchat", "chat"]),
            Some("superchat")
        );
        assert_eq!(req.choose_subprotocol(&["v3"]), None);
        assert_eq!(req.extensions().len(), 1);
        assert_eq!(req.headers().len(), 9);
    }

    #[test]
    fn tokens_are_case_insensitive_and_listed() {
        let req = with(valid_lines(), |l| {
            l[2] = "upgrade: WebSocket".into();
            l[3] = "connection: keep-alive, UPGRADE".into();
        });
        assert!(req.is_ok());
    }

    #[test]
    fn each_rule() {
        type Edit = Box<dyn Fn(&mut Vec<String>)>;
        let cases: Vec<(Edit, HandshakeError)> = vec![
            (
                Box::new(|l| l[0] = "GET / HTTP/1.0".into()),
                HandshakeError::UnsupportedHttpVersion,
            ),
            (
                Box::new(|l| l[0] = "POST / HTTP/1.1".into()),
                HandshakeError::MethodNotGet {
                    method: "POST".into(),
                },
            ),
            (
                Box::new(|l| l[0] = "get / HTTP/1.1".into()),
                HandshakeError::MethodNotGet {
                    method: "get".into(),
                },
            ),
            (
                Box::new(|l| {
                    l.remove(1);
                }),
                HandshakeError::MissingHost,
            ),
            (
                Box::new(|l| l.push("Host: other".into())),
                HandshakeError::DuplicateHost,
            ),
            (
                Box::new(|l| l[1] = "Host:".into()),
                HandshakeError::InvalidHost,
            ),
            (
                Box::new(|l| l[1] = "Host: a b".into()),
                HandshakeError::InvalidHost,
            ),
            (
                Box::new(|l| {
                    l.remove(2);
                }),
                HandshakeError::UpgradeNotWebSocket,
            ),
            (
                Box::new(|l| l[2] = "Upgrade: h2c".into()),
                HandshakeError::UpgradeNotWebSocket,
            ),
            (
                Box::new(|l| l[2] = "Upgrade: websockets".into()),
                HandshakeError::UpgradeNotWebSocket,
            ),
            (
                Box::new(|l| {
                    l.remove(3);
                }),
                HandshakeError::ConnectionNotUpgrade,
            ),
            (
                Box::new(|l| l[3] = "Connection: keep-alive".into()),
                HandshakeError::ConnectionNotUpgrade,
            ),
            (
                Box::new(|l| {
                    l.remove(4);
                }),
                HandshakeError::MissingKey,
            ),
            (
                Box::new(|l| l.push(format!("Sec-WebSocket-Key: {KEY}"))),
                HandshakeError::DuplicateKey,
            ),
            (
                Box::new(|l| l[4] = "Sec-WebSocket-Key: abc".into()),
                HandshakeError::InvalidKey,
            ),
            // 17 bytes of base64 without padding is 23 characters; 24
            // characters that decode to 17 or 18 bytes are refused too.
            (
                Box::new(|l| l[4] = "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAAA".into()),
                HandshakeError::InvalidKey,
            ),
            (
                Box::new(|l| l[4] = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=!".into()),
                HandshakeError::InvalidKey,
            ),
            (
                Box::new(|l| {
                    l.remove(5);
                }),
                HandshakeError::MissingVersion,
            ),
            (
                Box::new(|l| l[5] = "Sec-WebSocket-Version: 8".into()),
                HandshakeError::UnsupportedVersion {
                    version: "8".into(),
                },
            ),
            (
                Box::new(|l| l.push("Sec-WebSocket-Version: 8".into())),
                HandshakeError::UnsupportedVersion {
                    version: "13, 8".into(),
                },
            ),
            (
                Box::new(|l| l[5] = "Sec-WebSocket-Version:".into()),
                HandshakeError::UnsupportedVersion { version: "".into() },
            ),
            (
                Box::new(|l| l.push("Sec-WebSocket-Protocol: a b".into())),
                HandshakeError::MalformedSubprotocols,
            ),
            (
                Box::new(|l| l.push("Sec-WebSocket-Extensions: a;".into())),
                HandshakeError::MalformedExtensions,
            ),
        ];
        for (i, (edit, expected)) in cases.into_iter().enumerate() {
            let mut lines = valid_lines();
            edit(&mut lines);
            assert_eq!(parse_lines(&lines).err(), Some(expected), "case {i}");
        }
    }

    #[test]
    fn version_is_checked_before_the_key() {
        let req = with(valid_lines(), |l| {
            l.remove(4);
            l[4] = "Sec-WebSocket-Version: 8".into();
        });
        assert_eq!(req.err().and_then(|e| e.status()), Some(426));
    }

    #[test]
    fn malformed_http() {
        for head in [
            &b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n"[..],
            b"\r\n\r\n",
            b"GET / HTTP/1.1\nHost: a\n\nX\r\n\r\n",
            b"GET  HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n",
        ] {
            assert!(
                matches!(
                    parse_request(head, 10),
                    Err(HandshakeError::MalformedHttp { .. })
                ),
                "{:?}",
                String::from_utf8_lossy(head)
            );
        }
    }

    #[test]
    fn key_values() {
        assert!(is_valid_key(KEY.as_bytes()));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ"));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="[..23].as_ref()));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZR=="));
    }
}
