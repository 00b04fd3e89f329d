//! Chat rooms in the browser: the page at `/`, the WebSocket at `/ws`, one
//! port, on one process or many sharing Redis.
//!
//! ```text
//! cargo run --release --example chat -- --addr 127.0.0.1:8080
//! ```
//!
//! then open `http://127.0.0.1:8080/?room=lobby&name=alice` (the room
//! defaults to `lobby`, the name to a random guest's). With
//! `--redis redis://HOST:PORT`, every process started with the same Redis
//! serves the same rooms: start two on two ports and chat across them.
//!
//! Options:
//! - `--addr HOST:PORT`: where to listen (default 127.0.0.1:8080; port 0
//!   picks a free one, printed on stderr as `chat listening on http://...`).
//! - `--redis URL`: share rooms, history and presence through Redis pub/sub.
//! - `--rate N`, `--burst N`: requests a connection may send per second on
//!   average (default 10) and at once (default 20); more gets an `error`
//!   and close 1008.
//! - `--queue N`: messages queued per member (default 256); a member whose
//!   queue fills is closed with 1013.
//! - `--slow-after SECS`: how long a member's socket may stay full (its
//!   output above the high-water mark) before it is closed with 1013
//!   (default 10).
//! - `--keepalive SECS`: ping an idle connection after SECS and drop it if
//!   no pong comes within SECS more (default 20): a browser that vanished
//!   leaves the member lists within twice that.
//! - `--tls-cert FILE --tls-key FILE`: serve over TLS (PEM files; the
//!   address is then printed as `https://...`).
//! - `--http2`: with TLS, offer HTTP/2 (ALPN `h2`, then `http/1.1`): a
//!   browser loads the page over HTTP/2 and opens its WebSocket on the same
//!   connection with an extended CONNECT (RFC 8441). `/http2-websockets`
//!   counts the WebSockets that came that way.
//! - `--presence-ttl SECS`: with Redis, how long a process's presence
//!   entries live without renewal (default 15): the members of a process
//!   that died leave the lists within 4/3 of that.
//!
//! The wire protocol, `chat.v1`, is in `protocol.rs`. The page, embedded in
//! the binary, is `static/`. permessage-deflate is accepted with no context
//! takeover on the server's side, so that each broadcast is compressed once
//! for the whole room.

mod bus;
mod hub;
mod member;
mod protocol;
mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Version, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::serve::ListenerExt;
use rfc6455::Config;
use rfc6455::axum::WebSocketUpgrade;
use rfc6455::deflate::DeflateConfig;

use self::bus::Bus;
use self::hub::Hub;
use self::member::Limits;
use self::protocol::{MAX_FRAME, SUBPROTOCOL};

const USAGE: &str = "usage: chat [--addr HOST:PORT] [--redis redis://HOST:PORT] [--rate N] \
[--burst N] [--queue N] [--slow-after SECS] [--keepalive SECS] [--presence-ttl SECS] \
[--tls-cert FILE --tls-key FILE [--http2]]";

/// The command line.
struct Options {
    addr: SocketAddr,
    redis: Option<String>,
    limits: Limits,
    keepalive: Duration,
    presence_ttl: Duration,
    tls: Option<(PathBuf, PathBuf)>,
    http2: bool,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut options = Options {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            redis: None,
            limits: Limits {
                rate: 10.0,
                burst: 20.0,
                queue: 256,
                slow_after: Duration::from_secs(10),
            },
            keepalive: Duration::from_secs(20),
            presence_ttl: Duration::from_secs(15),
            tls: None,
            http2: false,
        };
        let (mut cert, mut key) = (None, None);
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--addr" => options.addr = parse(&flag, &value()?)?,
                "--redis" => options.redis = Some(value()?),
                "--rate" => options.limits.rate = positive(&flag, &value()?)?,
                "--burst" => options.limits.burst = positive(&flag, &value()?)?.max(1.0),
                "--queue" => options.limits.queue = parse::<usize>(&flag, &value()?)?.max(1),
                "--slow-after" => options.limits.slow_after = seconds(&flag, &value()?)?,
                "--keepalive" => options.keepalive = seconds(&flag, &value()?)?,
                "--presence-ttl" => options.presence_ttl = seconds(&flag, &value()?)?,
                "--tls-cert" => cert = Some(PathBuf::from(value()?)),
                "--tls-key" => key = Some(PathBuf::from(value()?)),
                "--http2" => options.http2 = true,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        options.tls = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => return Err("--tls-cert and --tls-key go together".into()),
        };
        if options.http2 && options.tls.is_none() {
            return Err("--http2 needs --tls-cert and --tls-key (ALPN h2)".into());
        }
        Ok(options)
    }

    /// Every connection's configuration.
    fn config(&self) -> Config {
        Config::default()
            .max_message_size(MAX_FRAME)
            .max_frame_size(MAX_FRAME)
            .keepalive(Some(self.keepalive), self.keepalive)
            .deflate(DeflateConfig::default().server_no_context_takeover(true))
    }
}

fn parse<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: {value:?} is not valid"))
}

fn positive(flag: &str, value: &str) -> Result<f64, String> {
    match parse::<f64>(flag, value)? {
        v if v > 0.0 && v.is_finite() => Ok(v),
        _ => Err(format!("{flag}: {value:?} must be above 0")),
    }
}

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    Ok(Duration::from_secs_f64(positive(flag, value)?))
}

/// What every request handler shares.
#[derive(Clone)]
struct App {
    hub: Arc<Hub>,
    config: Config,
    limits: Limits,
}

async fn websocket(State(app): State<App>, version: Version, ws: WebSocketUpgrade) -> Response {
    tls::count(version);
    // RFC 6455 §10.2: a browser names the page's origin; only this
    // server's own pages may join (no cross-site WebSocket hijacking).
    let request = ws.request();
    if let Some(origin) = request.origin() {
        let host = origin.split_once("://").map_or(origin, |(_, host)| host);
        if !host.eq_ignore_ascii_case(request.host()) {
            return (StatusCode::FORBIDDEN, "cross-origin WebSocket refused\n").into_response();
        }
    }
    ws.protocols([SUBPROTOCOL])
        .config(app.config.clone())
        .on_upgrade(move |socket| member::serve(app.hub, app.limits, socket))
}

/// The page's files, in the binary.
fn page(file: &'static str, content_type: &'static str) -> Response {
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CACHE_CONTROL, "no-cache"),
    ];
    (headers, file).into_response()
}

fn router(app: App) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async {
                page(
                    include_str!("static/index.html"),
                    "text/html; charset=utf-8",
                )
            }),
        )
        .route(
            "/chat.js",
            get(|| async { page(include_str!("static/chat.js"), "text/javascript") }),
        )
        .route(
            "/chat.css",
            get(|| async { page(include_str!("static/chat.css"), "text/css") }),
        )
        .route("/ws", any(websocket))
        .route(
            "/http2-websockets",
            get(|| async { format!("{}\n", tls::http2_websockets()) }),
        )
        .with_state(app)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("chat: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let (bus, subscription) = match &options.redis {
        None => (Bus::Local, None),
        Some(url) => match Bus::redis(url, options.presence_ttl).await {
            Ok((bus, subscription)) => (bus, Some(subscription)),
            Err(e) => {
                eprintln!("chat: redis at {url}: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    let hub = Arc::new(Hub::new(bus, true));
    if let Some(subscription) = subscription {
        tokio::spawn(bus::listen(Arc::clone(&hub), subscription));
    }
    let app = App {
        hub: Arc::clone(&hub),
        config: options.config(),
        limits: options.limits,
    };
    let listener = match tokio::net::TcpListener::bind(options.addr).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("chat: {}: {e}", options.addr);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().unwrap_or(options.addr);
    let shared = if options.redis.is_some() {
        " (rooms shared through redis)"
    } else {
        ""
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let served = match &options.tls {
        Some((cert, key)) => {
            let acceptor = match tls::acceptor(cert, key, options.http2) {
                Ok(acceptor) => acceptor,
                Err(e) => {
                    eprintln!("chat: {e}");
                    return ExitCode::FAILURE;
                }
            };
            eprintln!("chat listening on https://{addr}/{shared}");
            tls::serve(listener, acceptor, router(app), shutdown).await;
            Ok(())
        }
        None => {
            eprintln!("chat listening on http://{addr}/{shared}");
            let listener = listener.tap_io(|stream| {
                let _ = stream.set_nodelay(true);
            });
            axum::serve(listener, router(app))
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    // The members of this process leave the shared lists now, rather than
    // when their entries expire.
    hub.bus().shutdown(&hub).await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn the_command_line_is_parsed() {
        let o = options(&["--addr", "127.0.0.1:0", "--redis", "redis://127.0.0.1:1"]).unwrap();
        assert_eq!(o.addr.port(), 0);
        assert_eq!(o.redis.as_deref(), Some("redis://127.0.0.1:1"));
        assert!(options(&["--rate", "0"]).is_err());
        assert!(options(&["--slow-after"]).is_err());
        assert!(options(&["--bogus"]).is_err());
        assert!(options(&["--http2"]).is_err());
        assert!(options(&["--tls-cert", "c.pem"]).is_err());
        let o = options(&["--tls-cert", "c.pem", "--tls-key", "k.pem", "--http2"]).unwrap();
        assert!(o.http2 && o.tls.is_some());
    }
}
