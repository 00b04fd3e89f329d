//! What a server answers, written once for the byte handshake
//! ([`ServerHandshake`](super::ServerHandshake)) and for `rfc6455::http`:
//! the fields of a 101 and the connection's settings when it accepts
//! ([`Agreement`]), the status and fields when it refuses ([`Refusal`]).

use super::headers::check_extra_header;
use super::request::Request;
use super::server::Accept;
use super::{HandshakeError, reason_phrase};
use crate::extension::{self, Agreed};
use crate::{Config, Connection, Role};

/// Headers an application may not add to the 101 response: the handshake
/// writes them (or, for extensions, will once they are negotiated), and a
/// 1xx response carries no body framing.
const ACCEPT_RESERVED: &[&str] = &[
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Sec-WebSocket-Version",
    "Content-Length",
    "Transfer-Encoding",
];

/// What a server answers to a request it refuses: status, header fields
/// and a short `text/plain` body. Written as bytes by [`ServerHandshake`]
/// and as an `http::Response` by `rfc6455::http`.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: u16,
    fields: Vec<(&'static str, &'static str)>,
    content_length: String,
    pub(crate) body: String,
}

impl Refusal {
    /// The refusal for a request error; `None` for errors that are not the
    /// peer's (no status).
    pub(crate) fn new(error: &HandshakeError) -> Option<Refusal> {
        let status = error.status()?;
        let body = format!("{}: {error}\n", reason_phrase(status));
        let mut fields = Vec::with_capacity(5);
        match status {
            // RFC 6455 §4.2.2: if the version is not understood, the server
            // MUST "send an appropriate HTTP error code (such as 426 Upgrade
            // Required) and a |Sec-WebSocket-Version| header field
            // indicating the version(s) the server is capable of
            // understanding". RFC 9110 §15.5.22: a 426 MUST carry an
            // Upgrade header, and §7.8: its sender MUST list "upgrade" in
            // Connection.
            426 => {
                fields.push(("Connection", "Upgrade, close"));
                fields.push(("Upgrade", "websocket"));
                fields.push(("Sec-WebSocket-Version", "13"));
            }
            // RFC 8441 §5 keeps RFC 6455's version negotiation; HTTP/2 has
            // no Upgrade for a 426 (RFC 9113 §8.6), so a 400 names it.
            400 if matches!(error, HandshakeError::ConnectUnsupportedVersion { .. }) => {
                fields.push(("Connection", "close"));
                fields.push(("Sec-WebSocket-Version", "13"));
            }
            // RFC 9110 §15.5.6: a 405 response MUST carry an Allow header.
            405 => {
                fields.push(("Connection", "close"));
                fields.push(("Allow", "GET"));
            }
            _ => fields.push(("Connection", "close")),
        }
        fields.push(("Content-Type", "text/plain; charset=utf-8"));
        Some(Refusal {
            status,
            fields,
            content_length: body.len().to_string(),
            body,
        })
    }

    /// The refusal for the application's own mistake (an unoffered
    /// subprotocol chosen, a bad extra header): a bare 500 that does not
    /// reveal the cause to the client.
    pub(crate) fn internal() -> Refusal {
        let body = format!("{}\n", reason_phrase(500));
        Refusal {
            status: 500,
            fields: vec![
                ("Connection", "close"),
                ("Content-Type", "text/plain; charset=utf-8"),
            ],
            content_length: body.len().to_string(),
            body,
        }
    }

    /// Drops the fields HTTP/2 forbids (RFC 9113 §8.2.2: "An endpoint MUST
    /// NOT generate an HTTP/2 message containing connection-specific header
    /// fields"): `Connection` and `Upgrade`. The stream ends with the
    /// response; the connection lives on.
    #[cfg(feature = "http")]
    pub(crate) fn for_http2(mut self) -> Refusal {
        self.fields
            .retain(|(name, _)| !matches!(*name, "Connection" | "Upgrade"));
        self
    }

    /// The header fields, in order, `Content-Length` last.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields
            .iter()
            .copied()
            .chain([("Content-Length", self.content_length.as_str())])
    }
}

/// What the server agreed to when it accepts a request: the 101 response's
/// header fields and the connection's settings. Both the byte handshake
/// ([`ServerHandshake::accept`]) and `rfc6455::http` build their response
/// from it, so the choice of subprotocol and extensions is made once.
#[derive(Debug)]
pub(crate) struct Agreement {
    accept_key: String,
    subprotocol: Option<String>,
    extensions: Option<String>,
    headers: Vec<(String, String)>,
    agreed: Agreed,
    extended_connect: bool,
}

impl Agreement {
    /// Checks `options` against `request` and negotiates the extensions
    /// `config` enables. The errors are the caller's mistakes.
    pub(crate) fn new(
        request: &Request,
        options: Accept,
        config: &Config,
    ) -> Result<Agreement, HandshakeError> {
        let subprotocol = match options.subprotocol {
            Some(protocol) => {
                // RFC 6455 §4.2.2: "The value chosen MUST be derived from
                // the client's handshake, specifically by selecting one of
                // the values from the |Sec-WebSocket-Protocol| field".
                if !request.offers_subprotocol(&protocol) {
                    return Err(HandshakeError::AcceptUnofferedSubprotocol { protocol });
                }
                Some(protocol)
            }
            None => options
                .preferences
                .iter()
                .find(|p| request.offers_subprotocol(p))
                .cloned(),
        };
        for (name, value) in &options.headers {
            check_extra_header(name, value, ACCEPT_RESERVED)?;
        }
        // RFC 6455 §9.1: the server lists the extensions it accepted, each
        // one the client offered, with the parameters it chose.
        let (agreed, accepted) = extension::server_agree(request.extensions(), config);
        let extensions = (!accepted.is_empty()).then(|| {
            accepted
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        });
        Ok(Agreement {
            accept_key: request.accept_key(),
            subprotocol,
            extensions,
            headers: options.headers,
            agreed,
            extended_connect: request.is_extended_connect(),
        })
    }

    /// The status that accepts: 101 for an HTTP/1.1 upgrade, 200 for an
    /// extended CONNECT (RFC 8441 §5: "a 200 response"; RFC 9113 §8.6: no
    /// 101 on HTTP/2).
    #[cfg(feature = "http")]
    pub(crate) fn status(&self) -> u16 {
        if self.extended_connect { 200 } else { 101 }
    }

    /// The accepting response's header fields, in order.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        // RFC 6455 §4.2.2, step 5: a 101 status line, |Upgrade: websocket|,
        // |Connection: Upgrade|, |Sec-WebSocket-Accept| computed from the
        // key, and optionally the chosen |Sec-WebSocket-Protocol|. RFC 8441
        // §5: on HTTP/2 "the Sec-WebSocket-Key and Sec-WebSocket-Accept
        // header fields are not used", and RFC 9113 §8.2.2 forbids
        // connection-specific fields (Upgrade, Connection).
        let upgrade = (!self.extended_connect).then_some(());
        [
            ("Upgrade", upgrade.map(|()| "websocket")),
            ("Connection", upgrade.map(|()| "Upgrade")),
            (
                "Sec-WebSocket-Accept",
                upgrade.map(|()| self.accept_key.as_str()),
            ),
            ("Sec-WebSocket-Protocol", self.subprotocol.as_deref()),
            ("Sec-WebSocket-Extensions", self.extensions.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
        .chain(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// A server connection set up for what was agreed (nothing queued).
    pub(crate) fn into_connection(self, config: Config) -> Connection {
        let mut conn = Connection::new(Role::Server, config);
        conn.set_subprotocol(self.subprotocol);
        conn.set_agreed(self.agreed);
        conn
    }
}
