//! An echo server: every text message comes back as text, every binary
//! message as binary.
//!
//! ```text
//! cargo run --release --example echo_server -- --addr 127.0.0.1:9002 --adapter tokio|std [--threads N]
//! cargo run --release --features deflate --example echo_server -- --addr 127.0.0.1:9002 --adapter tokio --deflate
//! cargo run --release --example echo_server -- --addr 127.0.0.1:9443 --adapter std --tls-cert cert.pem --tls-key key.pem
//! ```
//!
//! - `--addr HOST:PORT` (required): where to listen.
//! - `--adapter tokio|std` (required): `std` serves each connection on a
//!   thread of its own; `tokio` runs a multi-threaded runtime.
//! - `--threads N`: the tokio runtime's worker threads (default: one per
//!   core); ignored by `std`.
//! - `--deflate`: accept permessage-deflate (RFC 7692) when a client offers
//!   it, with `DeflateConfig::default()`. Needs the `deflate` feature; the
//!   server refuses to start if it was built without it.
//! - `--manual-pong`: turn `auto_pong` off and answer every ping from the
//!   application, through the event-level read (`read_event` and
//!   `send_pong`).
//! - `--stream`: streaming receive (`Config::streaming`): every piece of a
//!   message is echoed as a fragment as soon as it arrives, so a message of
//!   any size (up to 1 TiB) passes through with memory bounded by the reads.
//! - `--tls-cert FILE --tls-key FILE`: serve `wss://` with this certificate
//!   chain and private key (PEM files, the key in PKCS#8, PKCS#1 or SEC1
//!   form). `tokio` runs the TLS handshake with tokio-rustls
//!   (`rfc6455::tokio::accept_tls_with_config`), `std` with a
//!   `rustls::StreamOwned`; either way it counts against the handshake
//!   timeout.
//!
//! At most one line is logged per connection, to stderr, when it ends
//! badly; a bad client never stops the server.

mod common;

use std::convert::Infallible;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use rfc6455::handshake::Accept;
use rfc6455::{Config, Event, blocking};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const USAGE: &str = "usage: echo_server --addr HOST:PORT --adapter tokio|std [--threads N] \
     [--deflate] [--manual-pong] [--stream] [--tls-cert FILE --tls-key FILE]";

/// The largest message `--stream` echoes.
const STREAM_LIMIT: u64 = 1 << 40;

/// Limits large enough for the Autobahn testsuite (up to 16 MiB messages),
/// with permessage-deflate accepted when `deflate` is set, pings left to
/// the application with `--manual-pong`, and streaming receive with
/// `--stream`.
fn config(args: &Args) -> Config {
    common::testsuite_config(args.deflate)
        .auto_pong(!args.manual_pong)
        .streaming(args.stream.then_some(STREAM_LIMIT))
}

struct Args {
    addr: SocketAddr,
    tokio: bool,
    threads: Option<usize>,
    deflate: bool,
    manual_pong: bool,
    stream: bool,
    tls: Option<Arc<rustls::ServerConfig>>,
}

/// The TLS configuration from a PEM certificate chain and private key.
fn tls_config(cert: &PathBuf, key: &PathBuf) -> Result<Arc<rustls::ServerConfig>, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("--tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("--tls-cert {}: no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("--tls-key {}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("--tls-cert/--tls-key: {e}"))?;
    Ok(Arc::new(config))
}

fn parse_args() -> Result<Args, String> {
    let (mut addr, mut adapter, mut threads, mut deflate) = (None, None, None, false);
    let (mut cert, mut key) = (None::<PathBuf>, None::<PathBuf>);
    let (mut manual_pong, mut stream) = (false, false);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--deflate" if cfg!(feature = "deflate") => deflate = true,
            "--deflate" => {
                return Err("--deflate needs the `deflate` feature \
                     (cargo build --features deflate --example echo_server)"
                    .into());
            }
            "--addr" => addr = Some(value()?.parse().map_err(|e| format!("--addr: {e}"))?),
            "--adapter" => adapter = Some(value()?),
            "--threads" => {
                let n: usize = value()?.parse().map_err(|e| format!("--threads: {e}"))?;
                threads = Some(n.max(1));
            }
            "--manual-pong" => manual_pong = true,
            "--stream" => stream = true,
            "--tls-cert" => cert = Some(value()?.into()),
            "--tls-key" => key = Some(value()?.into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let tokio = match adapter.as_deref() {
        Some("tokio") => true,
        Some("std") => false,
        _ => return Err("--adapter must be tokio or std".into()),
    };
    let addr = addr.ok_or("--addr is required")?;
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(tls_config(&cert, &key)?),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    Ok(Args {
        addr,
        tokio,
        threads,
        deflate,
        manual_pong,
        stream,
        tls,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("echo_server: {e}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = config(&args);
    let served = if args.tokio {
        serve_tokio(args.addr, args.threads, config, args.tls)
    } else {
        serve_std(args.addr, config, args.tls)
    };
    if let Err(e) = served {
        eprintln!("echo_server: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Logs how a connection ended, unless it ended with a closing handshake.
fn log_end(peer: SocketAddr, error: &rfc6455::blocking::Error) {
    if !matches!(error, blocking::Error::Closed(_)) {
        // The cause too, when there is one (a TLS error's rustls error).
        match std::error::Error::source(error) {
            Some(cause) => eprintln!("{peer}: {error}: {cause}"),
            None => eprintln!("{peer}: {error}"),
        }
    }
}

fn serve_std(
    addr: SocketAddr,
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    eprintln!(
        "echo_server (std) listening on {}{}{}",
        listener.local_addr()?,
        tls_note(&tls),
        deflate_note(&config)
    );
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let (config, tls) = (config.clone(), tls.clone());
        std::thread::spawn(move || {
            let Err(end) = echo_std(stream, config, tls);
            log_end(peer, &end);
        });
    }
}

/// Echoes until the connection ends; returns how it ended.
fn echo_std(
    stream: TcpStream,
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<Infallible, blocking::Error> {
    stream.set_nodelay(true)?;
    match tls {
        // The TLS handshake runs in the WebSocket handshake's first reads.
        Some(tls) => {
            let conn = rustls::ServerConnection::new(tls).map_err(std::io::Error::other)?;
            echo_std_over(rustls::StreamOwned::new(conn, stream), config)
        }
        None => echo_std_over(stream, config),
    }
}

fn echo_std_over<S: Read + Write + 'static>(
    stream: S,
    config: Config,
) -> Result<Infallible, blocking::Error> {
    let events = !config.auto_pong || config.streaming.is_some();
    let mut ws = blocking::accept_with_config(stream, config, |_| Ok(Accept::new()))?;
    if !events {
        loop {
            let message = ws.read()?;
            ws.send(message)?;
        }
    }
    loop {
        match ws.read_event()? {
            Event::Message(message) => ws.send(message)?,
            Event::Piece { data, last } => ws.send_fragment(data.kind(), data.as_bytes(), last)?,
            // Only reported with auto_pong off: this is the answer.
            Event::Ping(payload) if !ws.connection().config().auto_pong => {
                ws.send_pong(&payload)?;
            }
            _ => {}
        }
    }
}

/// Echoes until the connection ends; returns how it ended.
async fn echo_tokio(
    stream: tokio::net::TcpStream,
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Result<Infallible, rfc6455::tokio::Error> {
    use rfc6455::tokio::{accept_tls_with_config, accept_with_config};
    stream.set_nodelay(true)?;
    match tls {
        Some(tls) => {
            let ws = accept_tls_with_config(stream, tls, config, |_| Ok(Accept::new())).await?;
            echo_tokio_over(ws).await
        }
        None => {
            echo_tokio_over(accept_with_config(stream, config, |_| Ok(Accept::new())).await?).await
        }
    }
}

async fn echo_tokio_over<S>(
    mut ws: rfc6455::tokio::WebSocket<S>,
) -> Result<Infallible, rfc6455::tokio::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let config = ws.connection().config();
    if config.auto_pong && config.streaming.is_none() {
        loop {
            let message = ws.read().await?;
            ws.send(message).await?;
        }
    }
    loop {
        match ws.read_event().await? {
            Event::Message(message) => ws.send(message).await?,
            Event::Piece { data, last } => {
                ws.send_fragment(data.kind(), data.as_bytes(), last).await?;
            }
            // Only reported with auto_pong off: this is the answer.
            Event::Ping(payload) if !ws.connection().config().auto_pong => {
                ws.send_pong(&payload).await?;
            }
            _ => {}
        }
    }
}

/// Says whether TLS is on, for the "listening" line.
fn tls_note(tls: &Option<Arc<rustls::ServerConfig>>) -> &'static str {
    if tls.is_some() { " (wss://, TLS)" } else { "" }
}

/// Says whether permessage-deflate is on, for the "listening" line.
fn deflate_note(config: &Config) -> &'static str {
    #[cfg(feature = "deflate")]
    if config.deflate.is_some() {
        return " (permessage-deflate on)";
    }
    let _ = config;
    ""
}

fn serve_tokio(
    addr: SocketAddr,
    threads: Option<usize>,
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n);
    }
    builder.enable_all().build()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!(
            "echo_server (tokio) listening on {}{}{}",
            listener.local_addr()?,
            tls_note(&tls),
            deflate_note(&config)
        );
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    eprintln!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let (config, tls) = (config.clone(), tls.clone());
            tokio::spawn(async move {
                let Err(end) = echo_tokio(stream, config, tls).await;
                log_end(peer, &end);
            });
        }
    })
}
