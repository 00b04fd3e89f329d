//! An echo server on hyper 1.x (`server::conn::http1` with upgrades, no
//! framework): every text message comes back as text, every binary message
//! as binary, on path `/`.
//!
//! ```text
//! cargo run --release --example hyper_echo --features http -- --addr 127.0.0.1:9002 [--deflate]
//! ```
//!
//! - `--addr HOST:PORT` (required): where to listen.
//! - `--deflate`: accept permessage-deflate (RFC 7692) when a client offers
//!   it, with `DeflateConfig::default()`.
//!
//! A plain `GET /` (no `Upgrade: websocket`) gets a short page; an upgrade
//! request that breaks RFC 6455 gets the status the byte handshake gives
//! (400, 405, 426), from `rfc6455::http::accept`.

mod common;

use std::convert::Infallible;
use std::process::ExitCode;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use rfc6455::Config;
use rfc6455::handshake::Accept;
use rfc6455::tokio::WebSocket;

const USAGE: &str = "usage: hyper_echo --addr HOST:PORT [--deflate]";

/// The testsuite's limits, with permessage-deflate when `deflate` is set.
fn config(deflate: bool) -> Config {
    common::testsuite_config(deflate)
}

/// One HTTP request: a page, a refusal, or a 101 and an echo task.
async fn handle(
    mut request: Request<Incoming>,
    config: Config,
) -> Result<Response<Full<Bytes>>, Infallible> {
    if !rfc6455::http::wants_websocket(request.headers()) {
        let mut page = Response::new(Full::from(
            "<p>rfc6455 hyper echo server: connect a WebSocket client to /</p>\n",
        ));
        if request.uri().path() != "/" {
            *page.status_mut() = StatusCode::NOT_FOUND;
        }
        return Ok(page);
    }
    match rfc6455::http::accept(&request, &config, Accept::new()) {
        Ok((response, conn)) => {
            let upgrade = hyper::upgrade::on(&mut request);
            tokio::spawn(async move {
                match upgrade.await {
                    Ok(upgraded) => {
                        echo(WebSocket::from_connection(TokioIo::new(upgraded), conn)).await
                    }
                    Err(e) => eprintln!("upgrade failed: {e}"),
                }
            });
            Ok(response.map(|()| Full::default()))
        }
        Err(rejection) => Ok(rejection.into_http_response().map(Full::from)),
    }
}

async fn echo<S>(mut socket: WebSocket<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        let message = match socket.read().await {
            Ok(message) => message,
            Err(rfc6455::tokio::Error::Closed(_)) => return,
            Err(e) => return eprintln!("connection ended: {e}"),
        };
        if let Err(e) = socket.send(message).await {
            return eprintln!("connection ended: {e}");
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let (addr, deflate) = match common::addr_and_deflate() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("hyper_echo: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = config(deflate);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("hyper_echo: {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let note = if deflate { " (permessage-deflate)" } else { "" };
    eprintln!("hyper_echo listening on {addr}{note}");
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                eprintln!("accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let config = config.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(request, config.clone()));
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = served.await {
                eprintln!("http: {e}");
            }
        });
    }
}
