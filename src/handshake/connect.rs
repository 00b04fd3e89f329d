//! The WebSocket over HTTP/2 (RFC 8441): the checks on an extended CONNECT
//! a server receives, beside the HTTP/1.1 ones of [`check_request`]
//! (`super::request`), and how a WebSocket's end maps onto its stream.
//!
//! What follows the checks is shared with HTTP/1.1: the same [`Request`],
//! the same subprotocol and extension negotiation
//! ([`Agreement`](super::Agreement)), the same frames on the stream.
//!
//! [`check_request`]: super::request::check_request

use super::HandshakeError;
#[cfg(any(feature = "http", test))]
use super::headers::Headers;
#[cfg(any(feature = "http", test))]
use super::request::{Request, version_13};
use crate::Outcome;

/// How an HTTP version and method carry the opening handshake: which
/// response a client may take as "WebSocket accepted".
///
/// RFC 8441 changes the meaning of a 2xx only for an extended CONNECT, and
/// RFC 6455 gives a 101 that meaning only on HTTP/1.1: a client that took
/// either in the other mode would take an ordinary response as a tunnel
/// (the confusion behind Envoy's CVE-2024-23326).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HandshakeMode {
    /// `GET` with `Upgrade: websocket` on HTTP/1.1, answered with a 101.
    Upgrade,
    /// `CONNECT` with `:protocol websocket` on HTTP/2, answered with a 2xx.
    ExtendedConnect,
}

/// What the transport does to the stream that carried a WebSocket once
/// the connection is over ([`Outcome::stream_end`]).
///
/// RFC 8441 §5: "An END_STREAM flag in the HTTP/2 stream is equivalent to
/// a TCP FIN", and a RST_STREAM to a TCP RST.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StreamEnd {
    /// The closing handshake completed: end the stream (END_STREAM) once
    /// the output is written, as a TCP connection would be shut down.
    Finish,
    /// The connection failed or ended abnormally: reset the stream
    /// (RST_STREAM, `CANCEL`), as a TCP connection would be dropped.
    Reset,
}

impl Outcome {
    /// How the stream that carried this connection ends (RFC 8441 §5): an
    /// orderly close finishes it, anything else resets it.
    pub fn stream_end(&self) -> StreamEnd {
        match self {
            Outcome::Clean(_) => StreamEnd::Finish,
            Outcome::Abnormal | Outcome::Failed(_) => StreamEnd::Reset,
        }
    }
}

/// The pseudo-header fields of an HTTP/2 request, as its HTTP stack
/// parsed them.
#[cfg(any(feature = "http", test))]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PseudoHeaders<'a> {
    pub method: &'a str,
    pub protocol: Option<&'a str>,
    pub scheme: Option<&'a str>,
    pub authority: Option<&'a str>,
    pub path: Option<&'a str>,
}

/// The server's checks on an extended CONNECT (RFC 8441 §4–5). The
/// request's `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` are
/// then checked as on HTTP/1.1.
#[cfg(any(feature = "http", test))]
pub(crate) fn check_connect(
    pseudo: PseudoHeaders<'_>,
    headers: Headers,
) -> Result<Request, HandshakeError> {
    // RFC 8441 §4: the extended CONNECT is a CONNECT carrying ":protocol";
    // §5: "The :protocol pseudo-header field MUST be included in the
    // CONNECT request, and it MUST have a value of "websocket"".
    if pseudo.method != "CONNECT" {
        return Err(HandshakeError::MethodNotGet {
            method: pseudo.method.to_string(),
        });
    }
    match pseudo.protocol {
        Some("websocket") => {}
        other => {
            return Err(HandshakeError::ProtocolNotWebSocket {
                protocol: other.unwrap_or_default().to_string(),
            });
        }
    }
    // RFC 8441 §4: "On requests that contain the :protocol pseudo-header
    // field, the :scheme and :path pseudo-header fields of the target URI
    // MUST also be included." RFC 9113 §8.3.1: a request without them is
    // malformed.
    if pseudo.scheme.is_none_or(str::is_empty) {
        return Err(HandshakeError::MissingPseudoHeader { name: ":scheme" });
    }
    let path = match pseudo.path {
        Some(path) if !path.is_empty() => path,
        _ => return Err(HandshakeError::MissingPseudoHeader { name: ":path" }),
    };
    // RFC 8441 §4: ":authority" is interpreted as for other requests (RFC
    // 9113 §8.3.1), and RFC 6455 §4.2.1 needs the server's authority.
    let host = match pseudo.authority {
        Some(a) if !a.is_empty() && a.bytes().all(|b| b.is_ascii_graphic()) => a,
        _ => {
            return Err(HandshakeError::MissingPseudoHeader { name: ":authority" });
        }
    };
    // RFC 8441 §5: "The Sec-WebSocket-Version header field [...] MUST be
    // included"; its value is RFC 6455's 13. No 426 on HTTP/2 (RFC 9113
    // §8.6 has no Upgrade): a 400 naming the version.
    if let Err(version) = version_13(&headers) {
        return Err(HandshakeError::ConnectUnsupportedVersion {
            version: version.unwrap_or_default(),
        });
    }
    // RFC 8441 §5: "the Sec-WebSocket-Key and Sec-WebSocket-Accept header
    // fields are not used": a key, if sent, is ignored.
    Request::build(
        pseudo.method,
        path,
        host.to_string(),
        String::new(),
        headers,
        true,
    )
}

/// The client's check of a response's status and version against the mode
/// of its request, before the fields both modes share.
///
/// `http2` says whether the response came on HTTP/2; `http11` whether it
/// came as HTTP/1.1 (not 1.0).
pub(crate) fn check_status(
    mode: HandshakeMode,
    status: u16,
    http11: bool,
    http2: bool,
) -> Result<(), StatusCheck> {
    match mode {
        // RFC 6455 §4.1: "If the status code received from the server is
        // not 101, the client handles the response per HTTP procedures."
        // A 101 exists only on HTTP/1.1 (RFC 9113 §8.6: HTTP/2 "does not
        // support the 101 (Switching Protocols) informational status code").
        HandshakeMode::Upgrade if status != 101 || http2 => Err(StatusCheck::NotAccepted),
        HandshakeMode::Upgrade if !http11 => {
            Err(StatusCheck::Error(HandshakeError::ResponseNotHttp11))
        }
        HandshakeMode::Upgrade => Ok(()),
        // RFC 8441 §5 and RFC 9113 §8.5: a 2xx establishes the tunnel;
        // anything else is an ordinary response.
        HandshakeMode::ExtendedConnect if !(200..300).contains(&status) => {
            Err(StatusCheck::NotAccepted)
        }
        HandshakeMode::ExtendedConnect if !http2 => {
            Err(StatusCheck::Error(HandshakeError::ResponseNotHttp2))
        }
        HandshakeMode::ExtendedConnect => Ok(()),
    }
}

/// Why [`check_status`] refused a response.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StatusCheck {
    /// An ordinary response: reported as
    /// [`UnexpectedStatus`](HandshakeError::UnexpectedStatus).
    NotAccepted,
    /// The status says "accepted" in the wrong version.
    Error(HandshakeError),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CloseFrame;

    fn valid() -> PseudoHeaders<'static> {
        PseudoHeaders {
            method: "CONNECT",
            protocol: Some("websocket"),
            scheme: Some("https"),
            authority: Some("server.example.com"),
            path: Some("/chat?x=1"),
        }
    }

    fn fields(extra: &[(&'static str, &'static [u8])]) -> Headers {
        let mut all: Vec<(&str, &[u8])> = vec![("sec-websocket-version", b"13")];
        all.extend_from_slice(extra);
        all.into_iter().collect()
    }

    #[test]
    fn a_valid_extended_connect() {
        let req = check_connect(
            valid(),
            fields(&[
                ("sec-websocket-protocol", b"chat, v2"),
                ("sec-websocket-extensions", b"permessage-deflate"),
                ("origin", b"https://example.com"),
            ]),
        )
        .unwrap();
        assert!(req.is_extended_connect());
        assert_eq!(req.method(), "CONNECT");
        assert_eq!(req.path(), "/chat?x=1");
        assert_eq!(req.host(), "server.example.com");
        assert_eq!(req.key(), "");
        assert_eq!(req.origin(), Some("https://example.com"));
        assert_eq!(req.subprotocols().collect::<Vec<_>>(), ["chat", "v2"]);
        assert_eq!(req.extensions().len(), 1);
    }

    #[test]
    fn each_rule_and_its_status() {
        type Edit = fn(&mut PseudoHeaders<'static>);
        let cases: [(Edit, u16); 9] = [
            (|p| p.method = "GET", 405),
            (|p| p.protocol = None, 501),
            (|p| p.protocol = Some("websockets"), 501),
            (|p| p.protocol = Some("WebSocket"), 501),
            (|p| p.scheme = None, 400),
            (|p| p.path = None, 400),
            (|p| p.path = Some(""), 400),
            (|p| p.authority = None, 400),
            (|p| p.authority = Some("a b"), 400),
        ];
        for (i, (edit, status)) in cases.into_iter().enumerate() {
            let mut pseudo = valid();
            edit(&mut pseudo);
            let error = check_connect(pseudo, fields(&[])).unwrap_err();
            assert_eq!(error.status(), Some(status), "case {i}: {error}");
        }
    }

    #[test]
    fn version_13_is_required_with_a_400() {
        for (headers, version) in [
            (Headers::default(), ""),
            (
                [("sec-websocket-version", &b"8"[..])].into_iter().collect(),
                "8",
            ),
            (
                [("sec-websocket-version", &b"13, 8"[..])]
                    .into_iter()
                    .collect(),
                "13, 8",
            ),
        ] {
            let error = check_connect(valid(), headers).unwrap_err();
            assert_eq!(
                error,
                HandshakeError::ConnectUnsupportedVersion {
                    version: version.into()
                }
            );
            assert_eq!(error.status(), Some(400));
        }
    }

    #[test]
    fn offers_are_checked_as_on_http_1_1() {
        let error = check_connect(valid(), fields(&[("sec-websocket-protocol", b"a b")]));
        assert_eq!(error.unwrap_err(), HandshakeError::MalformedSubprotocols);
        let error = check_connect(valid(), fields(&[("sec-websocket-extensions", b";")]));
        assert_eq!(error.unwrap_err().status(), Some(400));
    }

    #[test]
    fn a_key_is_not_needed_nor_used() {
        let req = check_connect(valid(), fields(&[("sec-websocket-key", b"abc")])).unwrap();
        assert_eq!(req.key(), "");
    }

    #[test]
    fn a_2xx_only_answers_an_extended_connect_and_a_101_only_http_1_1() {
        use HandshakeMode::*;
        let not = Err(StatusCheck::NotAccepted);
        // (mode, status, http11, http2) -> result
        assert_eq!(check_status(Upgrade, 101, true, false), Ok(()));
        assert_eq!(check_status(Upgrade, 200, true, false), not);
        assert_eq!(check_status(Upgrade, 101, false, true), not);
        assert_eq!(
            check_status(Upgrade, 101, false, false),
            Err(StatusCheck::Error(HandshakeError::ResponseNotHttp11))
        );
        assert_eq!(check_status(ExtendedConnect, 200, false, true), Ok(()));
        assert_eq!(check_status(ExtendedConnect, 204, false, true), Ok(()));
        assert_eq!(check_status(ExtendedConnect, 101, false, true), not);
        assert_eq!(check_status(ExtendedConnect, 101, true, false), not);
        assert_eq!(check_status(ExtendedConnect, 404, false, true), not);
        assert_eq!(
            check_status(ExtendedConnect, 200, true, false),
            Err(StatusCheck::Error(HandshakeError::ResponseNotHttp2))
        );
    }

    #[test]
    fn an_orderly_close_finishes_the_stream_anything_else_resets_it() {
        assert_eq!(
            Outcome::Clean(CloseFrame::new(crate::CloseCode::NORMAL, "")).stream_end(),
            StreamEnd::Finish
        );
        assert_eq!(Outcome::Abnormal.stream_end(), StreamEnd::Reset);
        assert_eq!(
            Outcome::Failed(crate::ProtocolError::ReservedOpcode(3)).stream_end(),
            StreamEnd::Reset
        );
    }
}
