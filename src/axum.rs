//! An [axum](https://docs.rs/axum/0.8) extractor for WebSocket upgrades (feature `axum`).
//!
//! [`WebSocketUpgrade`] has the shape of axum's own
//! `axum::extract::ws::WebSocketUpgrade`, so switching is a change of
//! import: `protocols`, `on_failed_upgrade` and `on_upgrade` are there, and
//! [`config`](WebSocketUpgrade::config) passes this crate's [`Config`]
//! (limits, timers, and permessage-deflate). The socket handed to the
//! callback is this crate's tokio [`WebSocket`](crate::tokio::WebSocket)
//! over the connection hyper upgraded.
//!
//! The request is checked by [`rfc6455::http`](crate::http), that is by
//! the same code as the byte handshake: a request RFC 6455 forbids is
//! refused with the same status (400, 405, or 426 with
//! `Sec-WebSocket-Version: 13`), even where axum's HTTP parsing took it.
//!
//! ```no_run
//! use axum::{Router, response::Response, routing::get};
//! use rfc6455::axum::WebSocketUpgrade;
//! use rfc6455::deflate::DeflateConfig;
//! use rfc6455::Config;
//!
//! async fn chat(ws: WebSocketUpgrade) -> Response {
//!     ws.protocols(["chat.v2", "chat.v1"])
//!         .config(Config::default().deflate(DeflateConfig::default()))
//!         .on_failed_upgrade(|error| eprintln!("upgrade failed: {error}"))
//!         .on_upgrade(|mut socket| async move {
//!             while let Ok(message) = socket.read().await {
//!                 if socket.send(message).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         })
//! }
//!
//! # async fn serve() -> std::io::Result<()> {
//! let app = Router::new().route("/chat", get(chat));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```
//!
//! A route that also serves plain HTTP takes an `Option<WebSocketUpgrade>`:
//! it is `None` for a request that does not ask for a WebSocket at all
//! (no `Upgrade: websocket`), and a bad upgrade request is still refused.

use std::fmt;
use std::future::Future;

use ::axum::extract::{FromRequestParts, OptionalFromRequestParts};
use ::axum::response::{IntoResponse, Response};
use ::http::request::Parts;
use ::hyper::upgrade::OnUpgrade;

use crate::Config;
use crate::handshake::{Accept, HandshakeError, Request};
use crate::http::{Rejection, accept_request, asks_for_websocket, request_from_parts};
use crate::hyper::spawn_upgraded;

/// The socket [`WebSocketUpgrade::on_upgrade`] hands to its callback: the
/// tokio adapter over the connection hyper upgraded (the same type as
/// [`rfc6455::hyper::WebSocket`](crate::hyper::WebSocket)).
pub type WebSocket = crate::hyper::WebSocket;

type FailedUpgrade = Box<dyn FnOnce(::hyper::Error) + Send>;

/// An extractor for a WebSocket upgrade request, checked as RFC 6455
/// §4.2.1 requires. See the [module documentation](self).
///
/// Extraction fails with a [`Rejection`] (answered with its status) when
/// the request is not a valid opening handshake, or when the connection
/// cannot be upgraded (500: the server is not hyper with upgrades, or the
/// request came over HTTP/2).
pub struct WebSocketUpgrade {
    request: Request,
    config: Config,
    accept: Accept,
    on_upgrade: OnUpgrade,
    on_failed_upgrade: Option<FailedUpgrade>,
}

impl fmt::Debug for WebSocketUpgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("request", &self.request)
            .field("config", &self.config)
            .field("accept", &self.accept)
            .finish_non_exhaustive()
    }
}

impl WebSocketUpgrade {
    /// The server's subprotocols, in its order of preference: the first one
    /// the client offered is chosen (none if it offered none of them).
    #[must_use]
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.accept = self.accept.preferring(protocols);
        self
    }

    /// The configuration of the connection: limits, timers, and
    /// permessage-deflate, negotiated when the client offers it and
    /// `config` enables it. Without this call, [`Config::default()`].
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Chooses how to accept in full (subprotocol, extra response
    /// headers), replacing [`protocols`](Self::protocols).
    #[must_use]
    pub fn accept(mut self, accept: Accept) -> Self {
        self.accept = accept;
        self
    }

    /// The checked request: path, `Origin` (check it when serving
    /// browsers, RFC 6455 §10.2), offered subprotocols and extensions.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Called, in the upgrade's task, if hyper fails to hand over the
    /// connection after the 101 response. Without it the failure is
    /// dropped.
    #[must_use]
    pub fn on_failed_upgrade<F>(mut self, callback: F) -> Self
    where
        F: FnOnce(::hyper::Error) + Send + 'static,
    {
        self.on_failed_upgrade = Some(Box::new(callback));
        self
    }

    /// Answers with `101 Switching Protocols` and runs `callback` with the
    /// socket, in a task of its own, once hyper hands the connection over.
    ///
    /// If the choices made (an [`accept`](Self::accept) naming a
    /// subprotocol the client did not offer, or a reserved header) cannot
    /// be honored, the answer is a 500 and `callback` never runs.
    pub fn on_upgrade<F, Fut>(self, callback: F) -> Response
    where
        F: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (response, conn) = match accept_request(&self.request, &self.config, self.accept) {
            Ok(accepted) => accepted,
            Err(rejection) => return rejection.into_response(),
        };
        let failed = self.on_failed_upgrade;
        spawn_upgraded(self.on_upgrade, conn, callback, move |error| {
            if let Some(report) = failed {
                report(error);
            }
        });
        response.map(|()| ::axum::body::Body::empty())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let request = request_from_parts(parts)?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or_else(|| Rejection::from(HandshakeError::NotUpgradable))?;
        Ok(WebSocketUpgrade {
            request,
            config: Config::default(),
            accept: Accept::new(),
            on_upgrade,
            on_failed_upgrade: None,
        })
    }
}

/// `None` for a request that does not ask for a WebSocket (no
/// `Upgrade: websocket`), so that one route can serve a page too; a request
/// that asks for one but breaks RFC 6455 is still refused.
impl<S: Send + Sync> OptionalFromRequestParts<S> for WebSocketUpgrade {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Rejection> {
        if !asks_for_websocket(parts) {
            return Ok(None);
        }
        <Self as FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(Some)
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.into_http_response().map(::axum::body::Body::from)
    }
}
