//! Serving one TCP connection through axum or through bare hyper, the way
//! their users do, and handing back the WebSocket (or the refusal) that
//! came out of it. Shared by the scenario suite, the refusal tests and the
//! interop tests of the http and axum paths.
#![allow(dead_code)]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rfc6455::Config;
use rfc6455::axum::WebSocketUpgrade;
use rfc6455::handshake::{Accept, HandshakeError, Request};
use rfc6455::http::Rejection;
use tokio::sync::oneshot;

/// The socket both stacks hand over.
pub type Socket = rfc6455::axum::WebSocket;

/// Which HTTP stack serves the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// An axum `Router` with a fallback handler taking
    /// [`WebSocketUpgrade`], served by hyper's HTTP/1.1 connection.
    Axum,
    /// A hyper `service_fn` calling `rfc6455::http` directly.
    Hyper,
    /// `rfc6455::hyper::upgrade` as the hyper service. It accepts with
    /// `Accept::new()` (no [`Choose`]) and keeps refusals to itself: a
    /// refused request's outcome is `UnexpectedEof` once hyper closes.
    HyperUpgrade,
}

/// What the server decides for a checked request.
pub type Choose = Arc<dyn Fn(&Request) -> Accept + Send + Sync>;

/// A [`Choose`] from a function.
pub fn choose(f: impl Fn(&Request) -> Accept + Send + Sync + 'static) -> Choose {
    Arc::new(f)
}

/// What came out of one connection: the socket, or the handshake error the
/// stack answered with (its status went to the client).
pub type Outcome = Result<Socket, HandshakeError>;

type Report = Arc<Mutex<Option<oneshot::Sender<Outcome>>>>;

fn report(slot: &Report, outcome: Outcome) {
    if let Some(tx) = slot.lock().unwrap().take() {
        let _ = tx.send(outcome);
    }
}

/// Serves `stream` with `stack` (HTTP/1.1, upgrades on) and returns the
/// first upgrade's outcome. A connection that ends without one, or no
/// outcome within `limit`, is `UnexpectedEof`.
pub async fn serve_one(
    stack: Stack,
    stream: tokio::net::TcpStream,
    config: Config,
    choose: Choose,
    limit: Duration,
) -> Outcome {
    let (tx, rx) = oneshot::channel();
    let slot: Report = Arc::new(Mutex::new(Some(tx)));
    let io = TokioIo::new(stream);
    match stack {
        Stack::Axum => {
            let app =
                Router::new().fallback(move |ws: Result<WebSocketUpgrade, Rejection>| async move {
                    axum_route(ws, config, &choose, slot).await
                });
            let service = TowerToHyperService::new(app);
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(io, service)
                    .with_upgrades(),
            );
        }
        Stack::Hyper => {
            let service = hyper::service::service_fn(move |request| {
                let response = hyper_route(request, &config, &choose, &slot);
                async move { Ok::<_, Infallible>(response) }
            });
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(io, service)
                    .with_upgrades(),
            );
        }
        Stack::HyperUpgrade => {
            let _ = choose;
            let service = hyper::service::service_fn(move |request| {
                let slot = Arc::clone(&slot);
                rfc6455::hyper::upgrade(
                    request,
                    config.clone(),
                    Accept::new(),
                    move |socket| async move { report(&slot, Ok(socket)) },
                )
            });
            tokio::spawn(
                http1::Builder::new()
                    .serve_connection(io, service)
                    .with_upgrades(),
            );
        }
    }
    match tokio::time::timeout(limit, rx).await {
        Ok(Ok(outcome)) => outcome,
        _ => Err(HandshakeError::UnexpectedEof),
    }
}

async fn axum_route(
    ws: Result<WebSocketUpgrade, Rejection>,
    config: Config,
    choose: &Choose,
    slot: Report,
) -> Response {
    match ws {
        Err(rejection) => {
            report(&slot, Err(rejection.error().clone()));
            rejection.into_response()
        }
        Ok(ws) => {
            let accept = choose(ws.request());
            let failed = Arc::clone(&slot);
            ws.config(config)
                .accept(accept)
                .on_failed_upgrade(move |_| report(&failed, Err(HandshakeError::NotUpgradable)))
                .on_upgrade(move |socket| async move { report(&slot, Ok(socket)) })
        }
    }
}

fn hyper_route(
    request: hyper::Request<Incoming>,
    config: &Config,
    choose: &Choose,
    slot: &Report,
) -> hyper::Response<Full<Bytes>> {
    let (mut parts, _body) = request.into_parts();
    let refuse = |rejection: Rejection| {
        report(slot, Err(rejection.error().clone()));
        rejection.into_http_response().map(Full::from)
    };
    let request = match rfc6455::http::request_from_parts(&parts) {
        Ok(request) => request,
        Err(rejection) => return refuse(rejection),
    };
    let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
        return refuse(HandshakeError::NotUpgradable.into());
    };
    let (response, conn) = match rfc6455::http::accept_request(&request, config, choose(&request)) {
        Ok(accepted) => accepted,
        Err(rejection) => return refuse(rejection),
    };
    let slot = Arc::clone(slot);
    tokio::spawn(async move {
        let outcome = match on_upgrade.await {
            Ok(upgraded) => Ok(Socket::from_connection(TokioIo::new(upgraded), conn)),
            Err(_) => Err(HandshakeError::NotUpgradable),
        };
        report(&slot, outcome);
    });
    response.map(|()| Full::default())
}
