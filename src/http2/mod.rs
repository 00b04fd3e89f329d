//! WebSocket over HTTP/2 (RFC 8441), on the `h2` crate (feature `http2`).
//!
//! Many WebSockets share one HTTP/2 connection, each on a stream opened by
//! an extended CONNECT (`:method CONNECT`, `:protocol websocket`). The
//! checks and the subprotocol and permessage-deflate negotiation are the
//! core's (those of `rfc6455::http`); each accepted stream becomes the
//! same tokio [`WebSocket`] as on HTTP/1.1, over an [`H2Stream`].
//!
//! - A server calls [`serve`] with a connection that speaks HTTP/2 (TLS
//!   that negotiated ALPN `h2`, or prior-knowledge h2c): it advertises
//!   `SETTINGS_ENABLE_CONNECT_PROTOCOL`, answers each extended CONNECT
//!   (200, or the refusal's status) and runs the callback on each accepted
//!   WebSocket in a task of its own. Other requests get a 404.
//! - A client calls [`Http2Client::handshake`] once per connection, then
//!   [`Http2Client::connect`] for each WebSocket. The handshake waits for
//!   the server's SETTINGS and fails with
//!   [`HandshakeError::ExtendedConnectNotOffered`] when extended CONNECT is
//!   not offered. [`connect_or_fall_back`] instead opens the WebSocket with
//!   an HTTP/1.1 upgrade on a new connection in that case.
//!
//! With `hyper` or `axum` also on, their upgrade paths
//! (`rfc6455::hyper::upgrade`, `rfc6455::axum::WebSocketUpgrade`) accept an
//! extended CONNECT too, on a hyper server built with HTTP/2 and
//! `enable_connect_protocol`.

mod fallback;
mod stream;

use std::future::Future;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

pub use fallback::{Http2OrHttp1, Opened, connect_or_fall_back};
pub use stream::H2Stream;

use crate::handshake::{Accept, HandshakeError, Request, Response};
use crate::http::{Rejection, accept_request, request_from_parts};
use crate::tokio::WebSocket;
use crate::{ClientHandshake, ClientRequest, Config, Connection};

/// The receive window of a whole connection, on both sides: sixteen times
/// a stream's (h2's default, 65,535 bytes). A WebSocket whose application
/// does not read holds at most its stream's window of it, so up to sixteen
/// stalled WebSockets leave the others room; with the RFC 9113 default
/// (one stream window for the whole connection) a single one would stall
/// every stream.
const CONNECTION_WINDOW: u32 = 16 * 65_535;

/// Why an HTTP/2 WebSocket could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The HTTP/2 connection or stream failed (h2's error).
    #[error(transparent)]
    Http2(#[from] h2::Error),
    /// The opening handshake failed: refused by the server, a response
    /// that breaks RFC 8441/6455, or extended CONNECT not offered.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// The HTTP/1.1 fallback of [`connect_or_fall_back`] failed: dialing
    /// its connection, or its handshake.
    #[error("HTTP/1.1 fallback: {0}")]
    Http1(#[from] crate::tokio::Error),
}

/// What a server decides for each extended CONNECT that passed the core's
/// checks: accept with these options, or refuse with the response.
pub type Decision = Result<Accept, Rejection>;

/// Serves one HTTP/2 connection: extended CONNECT on (RFC 8441 §3), each
/// valid WebSocket request given to `decide`, each accepted WebSocket to
/// `callback` (with its request) in a task of its own. Returns when the
/// client ends the connection, or with h2's error.
///
/// `io` must already speak HTTP/2: TLS with ALPN `h2`, or a plain
/// connection whose client knows the server speaks it (h2c). Set
/// `TCP_NODELAY` on its TCP stream: HTTP/2's WINDOW_UPDATE frames are
/// small, and waiting out delayed ACKs for them slows large messages by
/// orders of magnitude.
pub async fn serve<S, D, F, Fut>(io: S, config: Config, decide: D, callback: F) -> Result<(), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    D: Fn(&Request) -> Decision,
    F: Fn(Request, WebSocket<H2Stream>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // RFC 8441 §3: "a server [...] MAY send [SETTINGS_ENABLE_CONNECT_PROTOCOL]
    // with a value of 1" to let clients use the extended CONNECT.
    let mut connection = h2::server::Builder::new()
        .enable_connect_protocol()
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake::<_, Bytes>(io)
        .await?;
    // Each accepted stream is driven by this loop polling the connection.
    while let Some(next) = connection.accept().await {
        let (request, mut respond) = next?;
        let (parts, recv) = request.into_parts();
        let checked = if parts.method == ::http::Method::CONNECT {
            request_from_parts(&parts).and_then(|request| {
                let options = decide(&request)?;
                let (response, conn) = accept_request(&request, &config, options)?;
                Ok((request, response, conn))
            })
        } else {
            Err(Rejection::from(HandshakeError::Rejected { status: 404 }))
        };
        match checked {
            Ok((request, response, conn)) => {
                let send = match respond.send_response(response, false) {
                    Ok(send) => send,
                    Err(_) => continue, // the stream is gone already
                };
                let socket = WebSocket::from_connection(H2Stream::new(send, recv), conn);
                tokio::spawn(callback(request, socket));
            }
            Err(rejection) => {
                let (head, body) = rejection.on_http2().into_http_response().into_parts();
                let response = ::http::Response::from_parts(head, ());
                if let Ok(mut send) = respond.send_response(response, body.is_empty()) {
                    let _ = send.send_data(Bytes::from(body), true);
                }
            }
        }
    }
    Ok(())
}

/// The client side of one HTTP/2 connection that carries WebSockets.
/// Clones share the connection.
#[derive(Clone, Debug)]
pub struct Http2Client {
    send: h2::client::SendRequest<Bytes>,
}

impl Http2Client {
    /// Starts HTTP/2 on `io` (TLS with ALPN `h2`, or h2c), drives the
    /// connection in a tokio task, and waits for the server's SETTINGS.
    ///
    /// Fails with [`HandshakeError::ExtendedConnectNotOffered`] when the
    /// server did not send `SETTINGS_ENABLE_CONNECT_PROTOCOL = 1`. As for
    /// [`serve`], set `TCP_NODELAY` on the TCP stream under `io`.
    pub async fn handshake<S>(io: S) -> Result<Http2Client, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (send, mut connection) = h2::client::Builder::new()
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake(io)
            .await?;
        let mut ping = connection.ping_pong();
        tokio::spawn(async move {
            let _ = connection.await;
        });
        // A server's SETTINGS is the first frame it sends (RFC 9113
        // §3.4), so once a PING is answered they have been received.
        if let Some(ping) = ping.as_mut() {
            ping.ping(h2::Ping::opaque()).await?;
        }
        let send = send.ready().await?;
        // RFC 8441 §3: "Upon receipt of SETTINGS_ENABLE_CONNECT_PROTOCOL
        // with a value of 1, a client MAY use the Extended CONNECT".
        if !send.is_extended_connect_protocol_enabled() {
            return Err(HandshakeError::ExtendedConnectNotOffered.into());
        }
        Ok(Http2Client { send })
    }

    /// Opens a WebSocket on a new stream of the connection: an extended
    /// CONNECT to `request`'s URL (its scheme gives `:scheme`), checked as
    /// RFC 8441 §5 says (a 2xx on HTTP/2), with the negotiation of `config`.
    pub async fn connect(
        &self,
        request: ClientRequest,
        config: &Config,
    ) -> Result<(WebSocket<H2Stream>, Response), Error> {
        let (stream, conn, response) = self.open(request, config).await?;
        Ok((WebSocket::from_connection(stream, conn), response))
    }

    /// The extended CONNECT of [`connect`](Self::connect): the stream, the
    /// connection it opened and the server's response.
    pub(super) async fn open(
        &self,
        request: ClientRequest,
        config: &Config,
    ) -> Result<(H2Stream, Connection, Response), Error> {
        let mut handshake = ClientHandshake::extended_connect(request, config)?;
        let mut head = handshake.http_request()?;
        // RFC 8441 §5: "The :protocol pseudo-header field MUST be included
        // in the CONNECT request, and it MUST have a value of "websocket"".
        head.extensions_mut()
            .insert(h2::ext::Protocol::from_static("websocket"));
        let mut send = self.send.clone().ready().await?;
        let (response, send_stream) = send.send_request(head, false)?;
        let response = response.await?;
        let (parts, recv) = response.into_parts();
        let accepted = handshake.receive_http_parts(&parts)?;
        let conn = handshake.into_connection()?;
        Ok((H2Stream::new(send_stream, recv), conn, accepted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::HandshakeMode;
    use crate::http::accept;

    fn connect_request() -> ::http::request::Builder {
        ::http::Request::builder()
            .method(::http::Method::CONNECT)
            .version(::http::Version::HTTP_2)
            .uri("https://example.com/chat")
            .extension(h2::ext::Protocol::from_static("websocket"))
            .header("sec-websocket-version", "13")
            .header("sec-websocket-protocol", "v1, v2")
    }

    #[test]
    fn an_extended_connect_is_answered_with_a_200_without_key_or_upgrade() {
        let request = connect_request().body(()).unwrap();
        let (response, conn) = accept(
            &request,
            &Config::default(),
            Accept::new().preferring(["v2"]),
        )
        .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["sec-websocket-protocol"], "v2");
        for absent in ["upgrade", "connection", "sec-websocket-accept"] {
            assert!(!response.headers().contains_key(absent), "{absent}");
        }
        assert_eq!(conn.subprotocol(), Some("v2"));
    }

    #[test]
    fn refusals_on_http2_carry_no_connection_fields() {
        let old = connect_request()
            .header("sec-websocket-version", "8")
            .body(())
            .unwrap();
        let refused = accept(&old, &Config::default(), Accept::new()).unwrap_err();
        let response = refused.into_http_response();
        assert_eq!(response.status(), 400);
        assert_eq!(response.headers()["sec-websocket-version"], "13");
        assert!(!response.headers().contains_key("connection"));
        let other = ::http::Request::builder()
            .method(::http::Method::CONNECT)
            .version(::http::Version::HTTP_2)
            .uri("https://example.com/chat")
            .extension(h2::ext::Protocol::from_static("connect-udp"))
            .body(())
            .unwrap();
        let refused = accept(&other, &Config::default(), Accept::new()).unwrap_err();
        assert_eq!(refused.status(), 501);
    }

    #[test]
    fn the_client_sends_connect_and_takes_only_a_2xx_on_http2() {
        let request = ClientRequest::new("wss://example.com:8443/chat?x=1")
            .unwrap()
            .subprotocol("v1");
        let config = Config::default();
        let hs = ClientHandshake::extended_connect(request.clone(), &config).unwrap();
        assert_eq!(hs.mode(), HandshakeMode::ExtendedConnect);
        assert!(hs.pending_output().is_empty());
        let sent = hs.http_request().unwrap();
        assert_eq!(sent.method(), ::http::Method::CONNECT);
        assert_eq!(sent.uri(), "https://example.com:8443/chat?x=1");
        assert_eq!(sent.headers()["sec-websocket-version"], "13");
        for absent in ["host", "upgrade", "connection", "sec-websocket-key"] {
            assert!(!sent.headers().contains_key(absent), "{absent}");
        }
        let answer = |status: u16, version| {
            ::http::Response::builder()
                .status(status)
                .version(version)
                .header("sec-websocket-protocol", "v1")
                .body(())
                .unwrap()
        };
        let mut ok = ClientHandshake::extended_connect(request.clone(), &config).unwrap();
        let response = ok
            .receive_http_response(&answer(200, ::http::Version::HTTP_2))
            .unwrap();
        assert_eq!(response.subprotocol(), Some("v1"));
        assert!(ok.into_connection().is_ok());
        // A 101 on HTTP/2, or a 200 not on HTTP/2, is no acceptance.
        let mut hs = ClientHandshake::extended_connect(request.clone(), &config).unwrap();
        let error = hs
            .receive_http_response(&answer(101, ::http::Version::HTTP_2))
            .unwrap_err();
        assert!(matches!(
            error,
            HandshakeError::UnexpectedStatus { status: 101, .. }
        ));
        let mut hs = ClientHandshake::extended_connect(request.clone(), &config).unwrap();
        let error = hs
            .receive_http_response(&answer(200, ::http::Version::HTTP_11))
            .unwrap_err();
        assert_eq!(error, HandshakeError::ResponseNotHttp2);
        // And an HTTP/1.1 upgrade takes no 2xx (CVE-2024-23326).
        let mut hs = ClientHandshake::new(request, &config).unwrap();
        let error = hs
            .receive_http_response(&answer(200, ::http::Version::HTTP_11))
            .unwrap_err();
        assert!(matches!(
            error,
            HandshakeError::UnexpectedStatus { status: 200, .. }
        ));
    }
}
