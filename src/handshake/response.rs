//! The server's answer as a client sees it: parsing and the checks of
//! RFC 6455 §4.1.

use super::HandshakeError;
use super::connect::{HandshakeMode, StatusCheck, check_status};
use super::extensions::{ExtensionOffer, parse_extension_fields};
use super::head::parsed_whole;
use super::headers::{Headers, trim_ows};

/// A server's acceptance of the handshake: a `101 Switching Protocols`
/// response that passed every check of RFC 6455 §4.1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Headers,
    subprotocol: Option<String>,
    extensions: Vec<ExtensionOffer>,
}

impl Response {
    /// The status code: always 101.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Every header field, in received order.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The subprotocol the server chose, one of those offered.
    pub fn subprotocol(&self) -> Option<&str> {
        self.subprotocol.as_deref()
    }

    /// The extensions the server accepted, with their parameters; each was
    /// offered by the client.
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }
}

/// A parsed response head: status line and header fields.
#[derive(Debug)]
pub(crate) struct ResponseHead {
    /// The status line reads `HTTP/1.1` (the only other version the parser
    /// accepts is `HTTP/1.0`).
    pub http11: bool,
    /// The response came on HTTP/2 (from an HTTP stack; bytes are 1.x).
    pub http2: bool,
    pub status: u16,
    pub headers: Headers,
}

/// Parses a complete response head into its status line and headers.
///
/// The status line must be `HTTP/1.0` or `HTTP/1.1` (upper case), one
/// space, three digits, then an optional reason phrase; anything else is
/// [`HandshakeError::MalformedHttp`].
pub(crate) fn parse_response(
    head: &[u8],
    header_lines: usize,
) -> Result<ResponseHead, HandshakeError> {
    let mut slots = vec![httparse::EMPTY_HEADER; header_lines];
    let mut parsed = httparse::Response::new(&mut slots);
    parsed_whole(parsed.parse(head), head.len())?;
    let status = parsed.code.ok_or_else(|| HandshakeError::MalformedHttp {
        reason: "no status code".into(),
    })?;
    let headers = parsed
        .headers
        .iter()
        .map(|h| (h.name, trim_ows(h.value)))
        .collect();
    Ok(ResponseHead {
        http11: parsed.version == Some(1),
        http2: false,
        status,
        headers,
    })
}

/// The body length of a refusal, if it is framed by a single valid
/// `Content-Length` (and no `Transfer-Encoding`, which overrides it).
pub(crate) fn content_length(headers: &Headers) -> Option<usize> {
    if headers.contains("Transfer-Encoding") || headers.count("Content-Length") != 1 {
        return None;
    }
    let value = headers.get("Content-Length")?;
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Only compared with a limit: an overflowing length is just "large".
    Some(
        std::str::from_utf8(value)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(usize::MAX),
    )
}

/// The client's checks on the response that accepts its handshake (RFC
/// 6455 §4.1, items 2–6, for a 101; RFC 8441 §5 for the 2xx answering an
/// extended CONNECT), given the mode of the request, the accept value
/// expected for the key sent (unused for an extended CONNECT) and what was
/// offered.
pub(crate) fn check_101(
    head: ResponseHead,
    mode: HandshakeMode,
    expected_accept: &str,
    subprotocols: &[String],
    extension_names: &[String],
) -> Result<Response, HandshakeError> {
    let ResponseHead {
        http11,
        http2,
        status,
        headers,
    } = head;
    match check_status(mode, status, http11, http2) {
        Ok(()) => {}
        Err(StatusCheck::Error(error)) => return Err(error),
        Err(StatusCheck::NotAccepted) => {
            return Err(HandshakeError::UnexpectedStatus {
                status,
                headers,
                body: Vec::new(),
            });
        }
    }
    if mode == HandshakeMode::Upgrade {
        check_upgrade_fields(&headers, expected_accept)?;
    }
    check_negotiated(status, headers, subprotocols, extension_names)
}

/// The fields of a 101 that only HTTP/1.1 has: `Upgrade`, `Connection`
/// and `Sec-WebSocket-Accept` (RFC 8441 §5: "not used" on HTTP/2).
fn check_upgrade_fields(headers: &Headers, expected_accept: &str) -> Result<(), HandshakeError> {
    // RFC 6455 §4.1: "If the response lacks an |Upgrade| header field or
    // the |Upgrade| header field contains a value that is not an ASCII
    // case-insensitive match for the value "websocket", the client MUST
    // _Fail the WebSocket Connection_."
    let upgrade: Vec<&[u8]> = headers.list("Upgrade").collect();
    if !matches!(upgrade.as_slice(), [u] if u.eq_ignore_ascii_case(b"websocket")) {
        return Err(HandshakeError::ResponseUpgradeNotWebSocket);
    }
    // RFC 6455 §4.1: "If the response lacks a |Connection| header field
    // or the |Connection| header field doesn't contain a token that is
    // an ASCII case-insensitive match for the value "Upgrade", the
    // client MUST _Fail the WebSocket Connection_."
    if !headers.has_token("Connection", "Upgrade") {
        return Err(HandshakeError::ResponseConnectionNotUpgrade);
    }
    // RFC 6455 §4.1: if |Sec-WebSocket-Accept| is missing or "contains a
    // value other than the base64-encoded SHA-1 of the concatenation of
    // the |Sec-WebSocket-Key| (as a string, not base64-decoded) with the
    // string "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" but ignoring any
    // leading and trailing whitespace, the client MUST _Fail the
    // WebSocket Connection_." §11.3.3: it "MUST NOT appear more than
    // once in an HTTP response."
    let accept = match headers.count("Sec-WebSocket-Accept") {
        0 => return Err(HandshakeError::MissingAccept),
        1 => headers.get("Sec-WebSocket-Accept").unwrap_or_default(),
        _ => return Err(HandshakeError::DuplicateAccept),
    };
    if trim_ows(accept) != expected_accept.as_bytes() {
        return Err(HandshakeError::WrongAccept {
            expected: expected_accept.to_string(),
            got: String::from_utf8_lossy(accept).into_owned(),
        });
    }
    Ok(())
}

/// The negotiated subprotocol and extensions, checked against the offer
/// in both modes.
fn check_negotiated(
    status: u16,
    headers: Headers,
    subprotocols: &[String],
    extension_names: &[String],
) -> Result<Response, HandshakeError> {
    // RFC 6455 §4.1: "If the response includes a
    // |Sec-WebSocket-Extensions| header field and this header field
    // indicates the use of an extension that was not present in the
    // client's handshake [...], the client MUST _Fail the WebSocket
    // Connection_."
    let extensions = parse_extension_fields(headers.get_all("Sec-WebSocket-Extensions"))?;
    for extension in &extensions {
        if !extension_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&extension.name))
        {
            return Err(HandshakeError::UnofferedExtension {
                name: extension.name.clone(),
            });
        }
    }
    // RFC 6455 §4.1: "If the response includes a |Sec-WebSocket-Protocol|
    // header field and this header field indicates the use of a
    // subprotocol that was not present in the client's handshake [...],
    // the client MUST _Fail the WebSocket Connection_." §11.3.4: the
    // header "MUST NOT appear more than once in an HTTP response".
    let subprotocol = match headers.count("Sec-WebSocket-Protocol") {
        0 => None,
        1 => {
            let value = trim_ows(headers.get("Sec-WebSocket-Protocol").unwrap_or_default());
            if value.contains(&b',') {
                return Err(HandshakeError::MultipleSubprotocols);
            }
            match subprotocols.iter().find(|p| p.as_bytes() == value) {
                Some(p) => Some(p.clone()),
                None => {
                    return Err(HandshakeError::UnofferedSubprotocol {
                        protocol: String::from_utf8_lossy(value).into_owned(),
                    });
                }
            }
        }
        _ => return Err(HandshakeError::MultipleSubprotocols),
    };
    Ok(Response {
        status,
        headers,
        subprotocol,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

    /// What a client offered, standing in for the handshake.
    struct Offer {
        subprotocols: Vec<String>,
        extensions: Vec<String>,
    }

    impl Offer {
        fn receive_data(&mut self, reply: &[u8]) -> Result<Option<Response>, HandshakeError> {
            check_101(
                parse_response(reply, 32)?,
                HandshakeMode::Upgrade,
                "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
                &self.subprotocols,
                &self.extensions,
            )
            .map(Some)
        }
    }

    fn plain() -> Offer {
        Offer {
            subprotocols: Vec::new(),
            extensions: Vec::new(),
        }
    }

    fn offering() -> Offer {
        Offer {
            subprotocols: vec!["chat".into(), "superchat".into()],
            extensions: vec!["permessage-deflate".into()],
        }
    }

    fn respond(hs: &mut Offer, extra: &str) -> Result<Option<Response>, HandshakeError> {
        hs.receive_data(format!("{OK}{extra}\r\n").as_bytes())
    }

    #[test]
    fn accepted() {
        let mut hs = offering();
        let response = respond(
            &mut hs,
            "Sec-WebSocket-Protocol: superchat\r\n\
             Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=15\r\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(response.status(), 101);
        assert_eq!(response.subprotocol(), Some("superchat"));
        assert_eq!(
            response.extensions()[0].param("client_max_window_bits"),
            Some(Some("15"))
        );
        assert_eq!(response.headers().len(), 5);
    }

    #[test]
    fn lenient_where_the_rfc_allows() {
        let mut hs = plain();
        let reply = "HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n\
            sec-websocket-accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n\r\n";
        assert!(hs.receive_data(reply.as_bytes()).unwrap().is_some());
    }

    #[test]
    fn each_check() {
        let cases: Vec<(&str, Offer, HandshakeError)> = vec![
            (
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                plain(),
                HandshakeError::ResponseUpgradeNotWebSocket,
            ),
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, h2c\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                plain(),
                HandshakeError::ResponseUpgradeNotWebSocket,
            ),
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                plain(),
                HandshakeError::ResponseConnectionNotUpgrade,
            ),
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: close\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                plain(),
                HandshakeError::ResponseConnectionNotUpgrade,
            ),
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                plain(),
                HandshakeError::MissingAccept,
            ),
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
                plain(),
                HandshakeError::DuplicateAccept,
            ),
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                plain(),
                HandshakeError::WrongAccept {
                    expected: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into(),
                    got: "dGhlIHNhbXBsZSBub25jZQ==".into(),
                },
            ),
        ];
        for (i, (reply, mut hs, expected)) in cases.into_iter().enumerate() {
            assert_eq!(
                hs.receive_data(reply.as_bytes()),
                Err(expected.clone()),
                "case {i}"
            );
        }
    }

    #[test]
    fn subprotocol_checks() {
        let err = |mut hs: Offer, extra: &str| respond(&mut hs, extra).err();
        assert_eq!(
            err(plain(), "Sec-WebSocket-Protocol: chat\r\n"),
            Some(HandshakeError::UnofferedSubprotocol {
                protocol: "chat".into()
            })
        );
        assert_eq!(
            err(offering(), "Sec-WebSocket-Protocol: Chat\r\n"),
            Some(HandshakeError::UnofferedSubprotocol {
                protocol: "Chat".into()
            })
        );
        assert_eq!(
            err(offering(), "Sec-WebSocket-Protocol: chat, superchat\r\n"),
            Some(HandshakeError::MultipleSubprotocols)
        );
        assert_eq!(
            err(
                offering(),
                "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n"
            ),
            Some(HandshakeError::MultipleSubprotocols)
        );
        assert_eq!(err(offering(), "Sec-WebSocket-Protocol: chat\r\n"), None);
    }

    #[test]
    fn extension_checks() {
        let err = |mut hs: Offer, extra: &str| respond(&mut hs, extra).err();
        assert_eq!(
            err(plain(), "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            Some(HandshakeError::UnofferedExtension {
                name: "permessage-deflate".into()
            })
        );
        assert_eq!(
            err(offering(), "Sec-WebSocket-Extensions: x-other\r\n"),
            Some(HandshakeError::UnofferedExtension {
                name: "x-other".into()
            })
        );
        assert_eq!(
            err(
                offering(),
                "Sec-WebSocket-Extensions: permessage-deflate;\r\n"
            ),
            Some(HandshakeError::MalformedExtensions)
        );
    }

    #[test]
    fn content_length_parsing() {
        let h = |list: &[(&str, &str)]| list.iter().map(|&(n, v)| (n, v)).collect::<Headers>();
        assert_eq!(content_length(&h(&[("Content-Length", "12")])), Some(12));
        assert_eq!(content_length(&h(&[("Content-Length", "1x")])), None);
        assert_eq!(content_length(&h(&[("Content-Length", "")])), None);
        assert_eq!(
            content_length(&h(&[("Content-Length", "1"), ("Content-Length", "1")])),
            None
        );
        assert_eq!(
            content_length(&h(&[
                ("Content-Length", "5"),
                ("Transfer-Encoding", "chunked")
            ])),
            None
        );
        assert_eq!(
            content_length(&h(&[("Content-Length", "99999999999999999999999999")])),
            Some(usize::MAX)
        );
    }

    #[test]
    fn malformed() {
        assert!(matches!(
            parse_response(b"HTTP/1.1 abc\r\n\r\n", 0),
            Err(HandshakeError::MalformedHttp { .. })
        ));
        assert!(matches!(
            parse_response(b"HTTP/1.1 101 OK\nA: b\n\nX\r\n\r\n", 4),
            Err(HandshakeError::MalformedHttp { .. })
        ));
    }

    /// What the status-line parser accepts: `HTTP/1.0` or `HTTP/1.1`, one
    /// space, three digits, and a reason phrase that may be empty or
    /// missing (RFC 9112 §4: it is ignored) and may hold obs-text.
    #[test]
    fn status_line_forms() {
        let parse = |line: &str| {
            let head = format!("{line}\r\nUpgrade: websocket\r\n\r\n");
            parse_response(head.as_bytes(), 4).map(|h| (h.http11, h.status))
        };
        for ok in [
            "HTTP/1.1 101 Switching Protocols",
            "HTTP/1.1 101 ",
            "HTTP/1.1 101",
            "HTTP/1.1 101 Umschalten \u{e9}",
        ] {
            assert_eq!(parse(ok), Ok((true, 101)), "{ok:?}");
        }
        assert_eq!(parse("HTTP/1.0 101 Switching Protocols"), Ok((false, 101)));
        for bad in [
            "HTTP/1.2 101 X",
            "HTTP/2 101 X",
            "HTTP/2.0 101 X",
            "http/1.1 101 X",
            " HTTP/1.1 101 X",
            "HTTP/1.1\t101 X",
            "HTTP/1.1  101 X",
            "HTTP/1.1 10 X",
            "HTTP/1.1 1010 X",
            "HTTP/1.1 101\tX",
            "HTTP/1.1 101 X\u{1}",
        ] {
            assert!(
                matches!(parse(bad), Err(HandshakeError::MalformedHttp { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn http10_101_is_refused() {
        let reply = OK.replacen("HTTP/1.1", "HTTP/1.0", 1) + "\r\n";
        assert_eq!(
            plain().receive_data(reply.as_bytes()),
            Err(HandshakeError::ResponseNotHttp11)
        );
    }
}
