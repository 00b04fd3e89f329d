//! An echo server in axum: every text message comes back as text, every
//! binary message as binary, on path `/`.
//!
//! ```text
//! cargo run --release --example axum_echo --features axum -- --addr 127.0.0.1:9002 [--deflate]
//! ```
//!
//! - `--addr HOST:PORT` (required): where to listen.
//! - `--deflate`: accept permessage-deflate (RFC 7692) when a client offers
//!   it, with `DeflateConfig::default()`.
//!
//! A plain `GET /` (no `Upgrade: websocket`) gets a short page; an upgrade
//! request that breaks RFC 6455 gets the status the byte handshake gives
//! (400, 405, 426).

mod common;

use std::process::ExitCode;

use axum::Router;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use rfc6455::Config;
use rfc6455::axum::{WebSocket, WebSocketUpgrade};

const USAGE: &str = "usage: axum_echo --addr HOST:PORT [--deflate]";

/// The testsuite's limits, with permessage-deflate when `deflate` is set.
fn config(deflate: bool) -> Config {
    common::testsuite_config(deflate)
}

async fn root(State(config): State<Config>, ws: Option<WebSocketUpgrade>) -> Response {
    match ws {
        Some(ws) => ws.config(config).on_upgrade(echo),
        None => Html("<p>rfc6455 axum echo server: connect a WebSocket client to /</p>\n")
            .into_response(),
    }
}

async fn echo(mut socket: WebSocket) {
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
            eprintln!("axum_echo: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let app = Router::new()
        .route("/", get(root))
        .with_state(config(deflate));
    let listener = match tokio::net::TcpListener::bind(addr).await {
        // Small echoes go out at once rather than waiting for an ACK.
        Ok(listener) => listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        }),
        Err(e) => {
            eprintln!("axum_echo: {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let note = if deflate { " (permessage-deflate)" } else { "" };
    eprintln!("axum_echo listening on {addr}{note}");
    if let Err(e) = axum::serve(listener, app).await {
        eprintln!("axum_echo: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
