//! WebSocket upgrades in a [hyper](https://docs.rs/hyper/1) 1.x service (feature `hyper`).
//!
//! [`accept`] is the whole server side of the opening handshake for a
//! request hyper parsed ([`upgrade`] the same as a service function): it checks the request and negotiates as
//! [`rfc6455::http::accept`](crate::http::accept) does (the same code as
//! the byte handshake), returns the response to send (the 101, or the
//! refusal with the byte handshake's status: 400, 405, 426), and once hyper
//! hands the connection over, runs your callback with this crate's tokio
//! [`WebSocket`](crate::tokio::WebSocket) over it, in a task of its own.
//! Serve the connection with `.with_upgrades()`.
//!
//! ```no_run
//! use hyper::server::conn::http1;
//! use hyper::service::service_fn;
//! use hyper_util::rt::TokioIo;
//! use rfc6455::Config;
//! use rfc6455::handshake::Accept;
//!
//! async fn echo(mut socket: rfc6455::hyper::WebSocket) {
//!     while let Ok(message) = socket.read().await {
//!         let _ = socket.send(message).await;
//!     }
//! }
//!
//! # async fn serve(tcp: tokio::net::TcpStream) -> hyper::Result<()> {
//! let service = service_fn(|mut request| async move {
//!     if request.uri().path() != "/chat" {
//!         let mut missing = hyper::Response::new(String::new());
//!         *missing.status_mut() = hyper::StatusCode::NOT_FOUND;
//!         return Ok::<_, std::convert::Infallible>(missing);
//!     }
//!     let accept = Accept::new().preferring(["chat.v2", "chat.v1"]);
//!     let response = rfc6455::hyper::accept(&mut request, &Config::default(), accept, echo);
//!     Ok::<_, std::convert::Infallible>(response)
//! });
//! http1::Builder::new()
//!     .serve_connection(TokioIo::new(tcp), service)
//!     .with_upgrades()
//!     .await
//! # }
//! ```
//!
//! For more control (looking at the request before deciding, another body
//! type), use [`rfc6455::http`](crate::http) and `hyper::upgrade::on`
//! yourself, as the `hyper_echo` example does.

use std::convert::Infallible;
use std::future::Future;

use ::hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;

use crate::handshake::{Accept, HandshakeError};
use crate::http::{Rejection, accept_request, check_head};
use crate::{Config, Connection};

/// The socket [`accept`] and [`upgrade`] hand to their callback: the tokio adapter over
/// the connection hyper upgraded.
pub type WebSocket = crate::tokio::WebSocket<TokioIo<Upgraded>>;

/// Answers `request` as a WebSocket opening handshake, for a service
/// that routes requests itself (see [`upgrade`] for a whole service).
///
/// Returns the response to send: `101 Switching Protocols` with the
/// negotiated subprotocol (from `accept`) and extension (from `config`),
/// or a refusal with the byte handshake's status and header fields (also a
/// 500 when the connection cannot be upgraded: hyper without
/// `with_upgrades`, or HTTP/2). After a 101, `callback` runs with the
/// socket in a task of its own once hyper hands the connection over; if
/// hyper fails to, the callback does not run.
pub fn accept<B, F, Fut>(
    request: &mut ::http::Request<B>,
    config: &Config,
    accept: Accept,
    callback: F,
) -> ::http::Response<String>
where
    F: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    match check(request, config, accept) {
        Ok((response, conn, on_upgrade)) => {
            spawn_upgraded(on_upgrade, conn, callback, |_| {});
            response.map(|()| String::new())
        }
        Err(rejection) => rejection.into_http_response(),
    }
}

/// [`accept`] as a hyper service function: every request is answered as
/// an upgrade. It never fails (the error type is `Infallible`).
///
/// ```no_run
/// use hyper::{server::conn::http1, service::service_fn};
/// use hyper_util::rt::TokioIo;
/// use rfc6455::{Config, handshake::Accept, hyper::upgrade};
///
/// # async fn serve(tcp: tokio::net::TcpStream) -> hyper::Result<()> {
/// let service = service_fn(|request| {
///     upgrade(request, Config::default(), Accept::new(), |mut socket| async move {
///         while let Ok(message) = socket.read().await {
///             let _ = socket.send(message).await;
///         }
///     })
/// });
/// http1::Builder::new()
///     .serve_connection(TokioIo::new(tcp), service)
///     .with_upgrades()
///     .await
/// # }
/// ```
pub async fn upgrade<B, F, Fut>(
    mut request: ::http::Request<B>,
    config: Config,
    options: Accept,
    callback: F,
) -> Result<::http::Response<String>, Infallible>
where
    F: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Ok(accept(&mut request, &config, options, callback))
}

fn check<B>(
    request: &mut ::http::Request<B>,
    config: &Config,
    accept: Accept,
) -> Result<(::http::Response<()>, Connection, OnUpgrade), Rejection> {
    let checked = check_head(
        request.method(),
        request.version(),
        request.uri(),
        request.headers(),
        request.extensions(),
    )?;
    let on_upgrade = request
        .extensions_mut()
        .remove::<OnUpgrade>()
        .ok_or(HandshakeError::NotUpgradable)?;
    let (response, conn) = accept_request(&checked, config, accept)?;
    Ok((response, conn, on_upgrade))
}

/// Runs `callback` with the socket once `on_upgrade` resolves, in a task
/// of its own; `failed` gets hyper's error otherwise.
pub(crate) fn spawn_upgraded<F, Fut, E>(
    on_upgrade: OnUpgrade,
    conn: Connection,
    callback: F,
    failed: E,
) where
    F: FnOnce(WebSocket) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
    E: FnOnce(::hyper::Error) + Send + 'static,
{
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                callback(WebSocket::from_connection(TokioIo::new(upgraded), conn)).await
            }
            Err(error) => failed(error),
        }
    });
}
