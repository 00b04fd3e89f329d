//! The opening handshake over the `http` crate's types, for
//! servers and clients whose own HTTP stack (hyper, axum, ...) parsed the
//! head (feature `http`).
//!
//! This module only translates. A request given here goes through the
//! same checks as one read by [`ServerHandshake`](crate::ServerHandshake)
//! (RFC 6455 §4.2.1: GET, HTTP/1.1 or later, `Host`, the `Upgrade` and
//! `Connection` tokens, one `Sec-WebSocket-Key` of 16 bytes, version 13),
//! and the same subprotocol and extension negotiation (permessage-deflate
//! from the [`Config`]); a refusal carries the same status and header
//! fields (400, 405, or 426 with `Sec-WebSocket-Version: 13`).
//!
//! # Server
//!
//! ```
//! use rfc6455::Config;
//! use rfc6455::handshake::Accept;
//!
//! let request = http::Request::get("/chat")
//!     .header("Host", "example.com")
//!     .header("Upgrade", "websocket")
//!     .header("Connection", "Upgrade")
//!     .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
//!     .header("Sec-WebSocket-Version", "13")
//!     .header("Sec-WebSocket-Protocol", "v1.chat, v2.chat")
//!     .header("Sec-WebSocket-Extensions", "permessage-deflate")
//!     .body(())?;
//!
//! let config = Config::default().deflate(rfc6455::deflate::DeflateConfig::default());
//! let (response, conn) = rfc6455::http::accept(&request, &config, Accept::new().preferring(["v2.chat"]))?;
//! assert_eq!(response.status(), 101);
//! assert_eq!(response.headers()["Sec-WebSocket-Accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
//! assert_eq!(response.headers()["Sec-WebSocket-Protocol"], "v2.chat");
//! assert_eq!(response.headers()["Sec-WebSocket-Extensions"], "permessage-deflate");
//! assert_eq!(conn.subprotocol(), Some("v2.chat"));
//! // Send `response`; once the HTTP stack hands over the stream, run
//! // `conn` on it (for tokio: `rfc6455::tokio::WebSocket::from_connection`).
//!
//! // A request RFC 6455 forbids gets the status the byte parser would give.
//! let old = http::Request::get("/").header("Host", "a").header("Upgrade", "websocket")
//!     .header("Connection", "Upgrade").header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
//!     .header("Sec-WebSocket-Version", "8").body(())?;
//! let refused = rfc6455::http::accept(&old, &config, Accept::new()).unwrap_err();
//! let response = refused.into_http_response();
//! assert_eq!(response.status(), 426);
//! assert_eq!(response.headers()["Sec-WebSocket-Version"], "13");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Client
//!
//! [`ClientRequest`] converts from an `http::Request<()>`, so that headers
//! such as `Authorization` or `Cookie` ride along. A client whose own HTTP
//! stack sends the request takes it from
//! [`ClientHandshake::http_request`] and checks the answer with
//! [`ClientHandshake::receive_http_response`].
//!
//! ```
//! use rfc6455::{ClientHandshake, ClientRequest, Config};
//!
//! let request = http::Request::get("ws://example.com/chat")
//!     .header("Authorization", "Bearer 123")
//!     .body(())?;
//! let request = ClientRequest::try_from(request)?;
//! let mut hs = ClientHandshake::with_key(request, &Config::default(), *b"the sample nonce")?;
//! let sent = hs.http_request()?;
//! assert_eq!(sent.headers()["Authorization"], "Bearer 123");
//! assert_eq!(sent.headers()["Sec-WebSocket-Key"], "dGhlIHNhbXBsZSBub25jZQ==");
//!
//! let answer = http::Response::builder()
//!     .status(101)
//!     .header("Upgrade", "websocket")
//!     .header("Connection", "Upgrade")
//!     .header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
//!     .body(())?;
//! hs.receive_http_response(&answer)?;
//! let conn = hs.into_connection()?;
//! # let _ = conn;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use ::http::header::{HeaderMap, HeaderName, HeaderValue};
use ::http::{Method, StatusCode, Uri, Version};

use crate::handshake::{
    Accept, Agreement, ClientHandshake, ClientRequest, HandshakeError, HandshakeMode, Headers,
    PseudoHeaders, Refusal, Request, Response, ResponseHead, check_connect, check_request,
    comma_list, trim_ows,
};
use crate::{Config, Connection};

/// Copies an `http` header map into [`Headers`], values trimmed as the
/// byte parser trims them. This is the only translation the rules need:
/// every check then runs on the same type as for a parsed head.
impl From<&HeaderMap> for Headers {
    fn from(map: &HeaderMap) -> Headers {
        map.iter()
            .map(|(name, value)| (name.as_str(), trim_ows(value.as_bytes())))
            .collect()
    }
}

/// Whether a request asks for a WebSocket at all: an `Upgrade` header with
/// the `websocket` token (the test of RFC 6455 §4.2.1, alone). For a route
/// that serves plain HTTP to other requests; the full checks are
/// [`accept`]'s.
///
/// ```
/// let page = http::Request::get("/").header("Host", "a").body(())?;
/// assert!(!rfc6455::http::wants_websocket(page.headers()));
/// let upgrade = http::Request::get("/").header("Upgrade", "WebSocket").body(())?;
/// assert!(rfc6455::http::wants_websocket(upgrade.headers()));
/// # Ok::<(), http::Error>(())
/// ```
pub fn wants_websocket(headers: &HeaderMap) -> bool {
    let upgrade: Headers = headers
        .get_all(::http::header::UPGRADE)
        .iter()
        .map(|value| ("upgrade", trim_ows(value.as_bytes())))
        .collect();
    upgrade.has_token("upgrade", "websocket")
}

/// Checks a request's head (RFC 6455 §4.2.1; with feature `http2`, RFC
/// 8441 §4–5 for an HTTP/2 extended CONNECT) and returns it as a
/// [`Request`], for a server that wants to look at it (path, origin,
/// offered subprotocols) before [`accept_request`].
pub fn request_from_parts(parts: &::http::request::Parts) -> Result<Request, Rejection> {
    check_head(
        &parts.method,
        parts.version,
        &parts.uri,
        &parts.headers,
        &parts.extensions,
    )
}

/// The `:protocol` of an HTTP/2 request, as h2 or hyper store it in the
/// request's extensions (feature `http2`).
pub(crate) fn protocol(extensions: &::http::Extensions) -> Option<&str> {
    #[cfg(feature = "http2")]
    {
        if let Some(p) = extensions.get::<::h2::ext::Protocol>() {
            return Some(p.as_str());
        }
        #[cfg(feature = "hyper")]
        if let Some(p) = extensions.get::<::hyper::ext::Protocol>() {
            return Some(p.as_str());
        }
    }
    let _ = extensions;
    None
}

/// Whether a request asks for a WebSocket: [`wants_websocket`] on
/// HTTP/1.1, or a CONNECT with a `:protocol` on HTTP/2.
#[cfg(feature = "axum")]
pub(crate) fn asks_for_websocket(parts: &::http::request::Parts) -> bool {
    wants_websocket(&parts.headers)
        || (parts.method == Method::CONNECT && protocol(&parts.extensions).is_some())
}

/// [`request_from_parts`] for the pieces of a head. An HTTP/2 CONNECT
/// goes through the extended CONNECT checks, anything else through RFC
/// 6455's.
pub(crate) fn check_head(
    method: &Method,
    version: Version,
    uri: &Uri,
    headers: &HeaderMap,
    extensions: &::http::Extensions,
) -> Result<Request, Rejection> {
    let path = uri.path_and_query().map(|p| p.as_str());
    let http2 = version == Version::HTTP_2;
    let checked = if http2 && method == Method::CONNECT {
        let pseudo = PseudoHeaders {
            method: method.as_str(),
            protocol: protocol(extensions),
            scheme: uri.scheme_str(),
            authority: uri.authority().map(|a| a.as_str()),
            path,
        };
        check_connect(pseudo, Headers::from(headers))
    } else {
        check_request(
            method.as_str(),
            version >= Version::HTTP_11,
            path.unwrap_or("/"),
            Headers::from(headers),
        )
    };
    checked.map_err(|error| Rejection { error, http2 })
}

/// Accepts an upgrade request whose head an HTTP stack parsed: checks it
/// as [`ServerHandshake`](crate::ServerHandshake) does, negotiates the
/// subprotocol (from `options`) and the extensions (from `config`), and
/// returns the `101 Switching Protocols` response to send with a server
/// [`Connection`] set up for what was agreed.
///
/// The connection's output is empty: the HTTP stack writes the response.
/// Run the connection on the stream the stack hands over after the
/// response (any bytes it read past the head are part of that stream).
///
/// A refused request gives a [`Rejection`] carrying the response to send:
/// the status the byte parser gives (400, 405, 426), or 500 for a mistake
/// in `options` (a subprotocol the client did not offer, a bad header).
pub fn accept<B>(
    request: &::http::Request<B>,
    config: &Config,
    options: Accept,
) -> Result<(::http::Response<()>, Connection), Rejection> {
    let checked = check_head(
        request.method(),
        request.version(),
        request.uri(),
        request.headers(),
        request.extensions(),
    )?;
    accept_request(&checked, config, options)
}

/// [`accept`] for the head of a request, as a
/// [`FromRequestParts`](https://docs.rs/axum/0.8/axum/extract/trait.FromRequestParts.html)
/// extractor or a hyper service that split its request sees it.
pub fn accept_parts(
    parts: &::http::request::Parts,
    config: &Config,
    options: Accept,
) -> Result<(::http::Response<()>, Connection), Rejection> {
    accept_request(&request_from_parts(parts)?, config, options)
}

/// [`accept`] for a request already checked by [`request_from_parts`].
pub fn accept_request(
    request: &Request,
    config: &Config,
    options: Accept,
) -> Result<(::http::Response<()>, Connection), Rejection> {
    let http2 = request.is_extended_connect();
    let rejection = |error| Rejection { error, http2 };
    let agreement = Agreement::new(request, options, config).map_err(rejection)?;
    let mut response = ::http::Response::new(());
    *response.status_mut() = StatusCode::from_u16(agreement.status())
        .map_err(|_| rejection(HandshakeError::NotComplete))?;
    append_fields(response.headers_mut(), agreement.fields()).map_err(rejection)?;
    Ok((response, agreement.into_connection(config.clone())))
}

fn append_fields<'a>(
    map: &mut HeaderMap,
    fields: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), HandshakeError> {
    for (name, value) in fields {
        let invalid = || HandshakeError::InvalidHeader {
            name: name.escape_debug().to_string(),
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        map.append(name, value);
    }
    Ok(())
}

/// A refused upgrade: why, and the response that says so.
///
/// For an error in the request the status and header fields are those the
/// byte handshake writes (400; 405 with `Allow: GET`; 426 with
/// `Upgrade: websocket` and `Sec-WebSocket-Version: 13`), with a short
/// `text/plain` body naming the rule. For a server-side mistake (see
/// [`accept`]) it is a bare 500 that does not reveal the cause.
///
/// With the `axum` feature it is an `IntoResponse`.
#[derive(Debug)]
pub struct Rejection {
    error: HandshakeError,
    /// The request came on HTTP/2: the response carries no
    /// connection-specific fields.
    http2: bool,
}

impl Rejection {
    /// The same refusal, answered on an HTTP/2 stream (no
    /// connection-specific fields).
    #[cfg(feature = "http2")]
    pub(crate) fn on_http2(mut self) -> Self {
        self.http2 = true;
        self
    }

    /// Why the upgrade was refused.
    pub fn error(&self) -> &HandshakeError {
        &self.error
    }

    /// The status of the response.
    pub fn status(&self) -> StatusCode {
        self.error
            .status()
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The response to send, body included.
    pub fn into_http_response(self) -> ::http::Response<String> {
        let mut refusal = Refusal::new(&self.error).unwrap_or_else(Refusal::internal);
        if self.http2 {
            refusal = refusal.for_http2();
        }
        let mut response = ::http::Response::new(String::new());
        *response.status_mut() = self.status();
        // The fields are constants and a number: always valid.
        let _ = append_fields(response.headers_mut(), refusal.fields());
        *response.body_mut() = refusal.body;
        response
    }
}

impl From<HandshakeError> for Rejection {
    fn from(error: HandshakeError) -> Self {
        Rejection {
            error,
            http2: false,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "upgrade refused ({}): {}", self.status(), self.error)
    }
}

impl std::error::Error for Rejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Header fields of an `http::Request` that the client handshake writes
/// itself, and so does not copy.
const WRITTEN_BY_HANDSHAKE: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
];

/// The target and header fields of a request built with the `http` crate.
///
/// The URI must be absolute, `ws://` or `wss://` (as for
/// [`ClientRequest::new`]), and the method GET
/// ([`HandshakeError::MethodNotGet`] otherwise). `Origin`,
/// `Sec-WebSocket-Protocol` (a list) and `Sec-WebSocket-Extensions` become
/// the request's origin, subprotocol offers and extension offers; `Host`,
/// `Upgrade`, `Connection`, `Sec-WebSocket-Key` and
/// `Sec-WebSocket-Version` are left out, since the handshake writes them
/// (with a fresh key); every other field rides along unchanged, and is
/// checked when the request is given to
/// [`ClientHandshake::new`](crate::ClientHandshake::new).
impl TryFrom<::http::Request<()>> for ClientRequest {
    type Error = HandshakeError;

    fn try_from(request: ::http::Request<()>) -> Result<Self, HandshakeError> {
        if request.method() != Method::GET {
            return Err(HandshakeError::MethodNotGet {
                method: request.method().to_string(),
            });
        }
        let mut out = ClientRequest::new(&request.uri().to_string())?;
        for (name, value) in request.headers() {
            let name = name.as_str();
            if WRITTEN_BY_HANDSHAKE.contains(&name) {
                continue;
            }
            let value = value
                .to_str()
                .map_err(|_| HandshakeError::InvalidHeader {
                    name: name.to_string(),
                })?
                .trim();
            out = match name {
                "origin" => out.origin(value),
                "sec-websocket-protocol" => comma_list(value.as_bytes())
                    .fold(out, |out, p| out.subprotocol(String::from_utf8_lossy(p))),
                "sec-websocket-extensions" => out.extension(value),
                _ => out.header(name, value),
            };
        }
        Ok(out)
    }
}

impl ClientHandshake {
    /// The opening request as an `http::Request`, for a client whose own
    /// HTTP stack sends it: the same target and header fields as
    /// [`pending_output`](Self::pending_output) (do not send both).
    ///
    /// Fails only if a header field cannot be an `http` header (the
    /// handshake checked them when it was created).
    ///
    /// For an [`extended_connect`](Self::extended_connect) handshake it is
    /// the HTTP/2 request of RFC 8441 §5: `CONNECT` to the absolute URI
    /// (`:scheme`, `:authority` and `:path`), without `Host`, `Upgrade`,
    /// `Connection` or `Sec-WebSocket-Key`. The HTTP/2 stack adds the
    /// `:protocol` (`websocket`), which the `http` crate has no place for.
    pub fn http_request(&self) -> Result<::http::Request<()>, HandshakeError> {
        let (path, fields) = self.request_parts();
        let bad_path = |_| HandshakeError::InvalidUrl {
            reason: "bad character in path",
        };
        let mut request = ::http::Request::new(());
        let connect = self.mode() == HandshakeMode::ExtendedConnect;
        if connect {
            let host = fields.iter().find(|(n, _)| n == "Host").map(|(_, v)| v);
            let scheme = if self.secure() { "https" } else { "http" };
            let uri = format!("{scheme}://{}{path}", host.map_or("", String::as_str));
            *request.uri_mut() = uri.parse().map_err(bad_path)?;
            *request.method_mut() = Method::CONNECT;
            *request.version_mut() = Version::HTTP_2;
        } else {
            *request.uri_mut() = path.parse().map_err(bad_path)?;
        }
        // RFC 8441 §5: "the Sec-WebSocket-Key and Sec-WebSocket-Accept header
        // fields are not used"; RFC 9113 §8.2.2 forbids Connection and
        // Upgrade, and §8.3.1 puts the host in :authority.
        let h2_only = |name: &str| {
            !(connect && ["Host", "Upgrade", "Connection", "Sec-WebSocket-Key"].contains(&name))
        };
        append_fields(
            request.headers_mut(),
            fields
                .iter()
                .filter(|(n, _)| h2_only(n))
                .map(|(n, v)| (n.as_str(), v.as_str())),
        )?;
        Ok(request)
    }

    /// A handshake for an HTTP/2 extended CONNECT (RFC 8441): the same
    /// request fields and negotiation as [`new`](Self::new), sent by an
    /// HTTP/2 stack from [`http_request`](Self::http_request), and accepted
    /// only by a 2xx response on HTTP/2 (a 101 is not an acceptance there,
    /// and a 2xx is none for an HTTP/1.1 upgrade).
    pub fn extended_connect(
        request: ClientRequest,
        config: &Config,
    ) -> Result<Self, HandshakeError> {
        let mut handshake = ClientHandshake::new(request, config)?;
        handshake.set_extended_connect();
        Ok(handshake)
    }

    /// Checks a response that the client's own HTTP stack received, as
    /// [`receive_data`](Self::receive_data) checks bytes (RFC 6455 §4.1).
    /// On success call [`into_connection`](Self::into_connection) and run
    /// the connection on the stream the stack hands over.
    ///
    /// The request bytes in [`pending_output`](Self::pending_output) are
    /// dropped: the HTTP stack sent the request, from
    /// [`http_request`](Self::http_request). Call this only once, before
    /// any [`receive_data`](Self::receive_data).
    ///
    /// A status other than 101 gives
    /// [`UnexpectedStatus`](HandshakeError::UnexpectedStatus) with an empty
    /// body (the body belongs to the HTTP stack). Errors are sticky.
    pub fn receive_http_response<B>(
        &mut self,
        response: &::http::Response<B>,
    ) -> Result<Response, HandshakeError> {
        self.receive_http_head(response.version(), response.status(), response.headers())
    }

    /// [`receive_http_response`](Self::receive_http_response) for the head
    /// of a response.
    pub fn receive_http_parts(
        &mut self,
        parts: &::http::response::Parts,
    ) -> Result<Response, HandshakeError> {
        self.receive_http_head(parts.version, parts.status, &parts.headers)
    }

    fn receive_http_head(
        &mut self,
        version: Version,
        status: StatusCode,
        headers: &HeaderMap,
    ) -> Result<Response, HandshakeError> {
        self.sent_elsewhere()?;
        let status = status.as_u16();
        let headers = Headers::from(headers);
        // The status and version are checked against the request's mode
        // (a 101 on HTTP/1.1, a 2xx on HTTP/2 for an extended CONNECT);
        // any other response is reported to the application.
        let head = ResponseHead {
            http11: version == Version::HTTP_11,
            http2: version == Version::HTTP_2,
            status,
            headers,
        };
        let result = self.accepted(head, Vec::new());
        result.map_err(|e| self.fail(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::ServerHandshake;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn valid() -> ::http::request::Builder {
        ::http::Request::get("/chat?x=1")
            .header("Host", "server.example.com")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", KEY)
            .header("Sec-WebSocket-Version", "13")
    }

    /// The same request through the byte parser, for comparison.
    fn as_bytes(request: &::http::Request<()>) -> Vec<u8> {
        let version = match request.version() {
            Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        };
        let mut out = format!("{} {} {version}\r\n", request.method(), request.uri());
        for (name, value) in request.headers() {
            out.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
        }
        out.push_str("\r\n");
        out.into_bytes()
    }

    fn byte_result(request: &::http::Request<()>) -> Result<Request, HandshakeError> {
        let mut hs = ServerHandshake::new(&Config::default());
        hs.receive_data(&as_bytes(request))
            .map(|r| r.expect("complete"))
    }

    #[test]
    fn every_rule_gives_the_byte_parsers_answer() {
        type Edit = fn(::http::request::Builder) -> ::http::request::Builder;
        let edits: &[(Edit, u16)] = &[
            (|b| b, 101),
            (|b| b.method("POST"), 405),
            (|b| b.version(Version::HTTP_10), 400),
            (|b| b.header("Host", "other"), 400),
            (|b| b.header("Upgrade", "h2c"), 101),
            (|b| b.header("Sec-WebSocket-Key", KEY), 400),
            (|b| b.header("Sec-WebSocket-Version", "8"), 426),
            (|b| b.header("Sec-WebSocket-Protocol", "a b"), 400),
            (|b| b.header("Sec-WebSocket-Extensions", "a;"), 400),
        ];
        for (i, (edit, status)) in edits.iter().enumerate() {
            let request = edit(valid()).body(()).unwrap();
            let ours = check_head(
                request.method(),
                request.version(),
                request.uri(),
                request.headers(),
                request.extensions(),
            );
            let bytes = byte_result(&request);
            match (&ours, &bytes) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(*status, 101, "case {i}");
                    assert_eq!(a.key(), b.key());
                    assert_eq!(a.path(), b.path());
                }
                (Err(a), Err(b)) => {
                    assert_eq!(a.error(), b, "case {i}");
                    assert_eq!(a.status().as_u16(), *status, "case {i}");
                }
                _ => panic!("case {i}: {ours:?} vs {bytes:?}"),
            }
        }
    }

    fn without(name: &str, value: &str) -> ::http::Request<()> {
        let mut request = valid().body(()).unwrap();
        request.headers_mut().remove(name);
        if !value.is_empty() {
            request.headers_mut().insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        request
    }

    #[test]
    fn refusals_carry_the_byte_handshakes_fields() {
        let cases = [
            (without("host", ""), HandshakeError::MissingHost, 400),
            (
                without("sec-websocket-key", "abc"),
                HandshakeError::InvalidKey,
                400,
            ),
            (
                without("sec-websocket-key", ""),
                HandshakeError::MissingKey,
                400,
            ),
            (
                without("sec-websocket-version", "8"),
                HandshakeError::UnsupportedVersion {
                    version: "8".into(),
                },
                426,
            ),
            (
                without("upgrade", ""),
                HandshakeError::UpgradeNotWebSocket,
                400,
            ),
            (
                without("connection", "keep-alive"),
                HandshakeError::ConnectionNotUpgrade,
                400,
            ),
        ];
        for (request, error, status) in cases {
            let rejection = accept(&request, &Config::default(), Accept::new()).unwrap_err();
            assert_eq!(rejection.error(), &error);
            assert!(rejection.to_string().contains(&status.to_string()));
            let response = rejection.into_http_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response.headers()["content-length"],
                response.body().len().to_string()
            );
            assert!(response.body().contains(&error.to_string()));
            if status == 426 {
                assert_eq!(response.headers()["sec-websocket-version"], "13");
                assert_eq!(response.headers()["upgrade"], "websocket");
            }
        }
        let post = valid().method("POST").body(()).unwrap();
        let response = accept(&post, &Config::default(), Accept::new())
            .unwrap_err()
            .into_http_response();
        assert_eq!(response.headers()["allow"], "GET");
    }

    #[test]
    fn accept_matches_the_byte_handshake() {
        let request = valid()
            .header("Sec-WebSocket-Protocol", "chat, superchat")
            .header(
                "Sec-WebSocket-Extensions",
                "permessage-deflate; client_max_window_bits",
            )
            .body(())
            .unwrap();
        #[cfg(feature = "deflate")]
        let config = Config::default().deflate(crate::deflate::DeflateConfig::default());
        #[cfg(not(feature = "deflate"))]
        let config = Config::default();
        let options = Accept::new().preferring(["superchat"]).header("X-A", "b");
        let (response, conn) = accept(&request, &config, options.clone()).unwrap();
        assert!(conn.pending_output().is_empty());
        assert_eq!(conn.subprotocol(), Some("superchat"));

        let mut hs = ServerHandshake::new(&config);
        let parsed = hs.receive_data(&as_bytes(&request)).unwrap().unwrap();
        let byte_conn = hs.accept(&parsed, options).unwrap();
        let mut expected = String::from("HTTP/1.1 101 Switching Protocols\r\n");
        for (name, value) in response.headers() {
            let name = name.as_str();
            // `http` lower-cases names; the byte handshake writes them
            // capitalized.
            let written = [
                "Upgrade",
                "Connection",
                "Sec-WebSocket-Accept",
                "Sec-WebSocket-Protocol",
                "Sec-WebSocket-Extensions",
                "X-A",
            ]
            .into_iter()
            .find(|n| n.eq_ignore_ascii_case(name))
            .unwrap();
            expected.push_str(&format!("{written}: {}\r\n", value.to_str().unwrap()));
        }
        expected.push_str("\r\n");
        assert_eq!(
            String::from_utf8_lossy(byte_conn.pending_output()),
            expected
        );
        #[cfg(feature = "deflate")]
        assert!(expected.contains("Sec-WebSocket-Extensions: permessage-deflate"));
    }

    #[test]
    fn caller_mistakes_are_a_500_without_details() {
        let request = valid().body(()).unwrap();
        let rejection =
            accept(&request, &Config::default(), Accept::new().subprotocol("x")).unwrap_err();
        assert_eq!(
            rejection.error(),
            &HandshakeError::AcceptUnofferedSubprotocol {
                protocol: "x".into()
            }
        );
        let response = rejection.into_http_response();
        assert_eq!(response.status(), 500);
        assert!(!response.body().contains("x"));
        let rejection = accept(
            &request,
            &Config::default(),
            Accept::new().header("Upgrade", "x"),
        )
        .unwrap_err();
        assert_eq!(rejection.status(), 500);
    }

    #[test]
    fn parts_and_request_agree() {
        let (parts, ()) = valid().body(()).unwrap().into_parts();
        let checked = request_from_parts(&parts).unwrap();
        assert_eq!(checked.path(), "/chat?x=1");
        assert_eq!(checked.host(), "server.example.com");
        let (response, _) = accept_parts(&parts, &Config::default(), Accept::new()).unwrap();
        assert_eq!(
            response.headers()["sec-websocket-accept"],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn client_request_from_http() {
        let request = ::http::Request::get("wss://example.com/chat")
            .header("Authorization", "Bearer 1")
            .header("Cookie", "a=b")
            .header("Origin", "https://example.com")
            .header("Sec-WebSocket-Protocol", "v1, v2")
            .header("Sec-WebSocket-Key", "ignored")
            .body(())
            .unwrap();
        let request = ClientRequest::try_from(request).unwrap();
        assert!(request.is_secure());
        assert_eq!(request.port(), 443);
        let hs =
            ClientHandshake::with_key(request, &Config::default(), *b"the sample nonce").unwrap();
        let text = String::from_utf8_lossy(hs.pending_output()).into_owned();
        assert!(text.contains("\r\nauthorization: Bearer 1\r\n"), "{text}");
        assert!(text.contains("\r\ncookie: a=b\r\n"));
        assert!(text.contains("\r\nOrigin: https://example.com\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Protocol: v1, v2\r\n"));
        assert!(text.contains("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
        assert!(!text.contains("ignored"));

        let sent = hs.http_request().unwrap();
        assert_eq!(sent.uri(), "/chat");
        assert_eq!(sent.headers()["host"], "example.com");
        assert_eq!(sent.headers()["cookie"], "a=b");

        let post = ::http::Request::post("ws://a/").body(()).unwrap();
        assert!(matches!(
            ClientRequest::try_from(post),
            Err(HandshakeError::MethodNotGet { .. })
        ));
        let http = ::http::Request::get("http://a/").body(()).unwrap();
        assert!(matches!(
            ClientRequest::try_from(http),
            Err(HandshakeError::InvalidUrl { .. })
        ));
    }

    fn client() -> ClientHandshake {
        let request = ClientRequest::new("ws://server.example.com/chat")
            .unwrap()
            .subprotocol("chat");
        ClientHandshake::with_key(request, &Config::default(), *b"the sample nonce").unwrap()
    }

    fn answer(status: u16) -> ::http::response::Builder {
        ::http::Response::builder()
            .status(status)
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    #[test]
    fn client_checks_an_http_response() {
        let mut hs = client();
        let ok = answer(101)
            .header("Sec-WebSocket-Protocol", "chat")
            .body(())
            .unwrap();
        assert!(!hs.pending_output().is_empty());
        let response = hs.receive_http_response(&ok).unwrap();
        assert_eq!(response.subprotocol(), Some("chat"));
        // The HTTP stack sent the request: none of it goes out again.
        assert!(hs.pending_output().is_empty());
        let conn = hs.into_connection().unwrap();
        assert_eq!(conn.subprotocol(), Some("chat"));
        assert!(conn.pending_output().is_empty());

        let mut hs = client();
        let wrong = answer(101)
            .header("Sec-WebSocket-Protocol", "other")
            .body(())
            .unwrap();
        let error = hs.receive_http_response(&wrong).unwrap_err();
        assert!(matches!(error, HandshakeError::UnofferedSubprotocol { .. }));
        // Sticky, as for bytes.
        assert_eq!(hs.receive_http_response(&ok), Err(error.clone()));
        assert_eq!(hs.into_connection().err(), Some(error));

        let mut hs = client();
        let (parts, ()) = answer(403).body(()).unwrap().into_parts();
        assert!(matches!(
            hs.receive_http_parts(&parts),
            Err(HandshakeError::UnexpectedStatus { status: 403, .. })
        ));

        let mut hs = client();
        let mut bad = answer(101).body(()).unwrap();
        bad.headers_mut()
            .insert("sec-websocket-accept", "AAAA".parse().unwrap());
        assert!(matches!(
            hs.receive_http_response(&bad),
            Err(HandshakeError::WrongAccept { .. })
        ));
    }
}
