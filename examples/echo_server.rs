//! An echo server: every text message comes back as text, every binary
//! message as binary.
//!
//! ```text
//! cargo run --release --example echo_server -- --addr 127.0.0.1:9002 --adapter tokio|std [--threads N]
//! ```
//!
//! `std` serves each connection on a thread of its own; `tokio` runs a
//! multi-threaded runtime with `N` workers (default: one per core). At most
//! one line is logged per connection, to stderr, when it ends badly; a bad
//! client never stops the server.

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use rfc6455::handshake::Accept;
use rfc6455::{Config, blocking};

/// Limits large enough for the Autobahn testsuite (up to 16 MiB messages).
fn config() -> Config {
    Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(64 << 20)
}

struct Args {
    addr: SocketAddr,
    tokio: bool,
    threads: Option<usize>,
}

fn parse_args() -> Result<Args, String> {
    let (mut addr, mut adapter, mut threads) = (None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--addr" => addr = Some(value()?.parse().map_err(|e| format!("--addr: {e}"))?),
            "--adapter" => adapter = Some(value()?),
            "--threads" => {
                let n: usize = value()?.parse().map_err(|e| format!("--threads: {e}"))?;
                threads = Some(n.max(1));
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let tokio = match adapter.as_deref() {
        Some("tokio") => true,
        Some("std") => false,
        _ => return Err("--adapter must be tokio or std".into()),
    };
    let addr = addr.ok_or("--addr is required")?;
    Ok(Args {
        addr,
        tokio,
        threads,
    })
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("echo_server: {e}");
            eprintln!("usage: echo_server --addr HOST:PORT --adapter tokio|std [--threads N]");
            return ExitCode::from(2);
        }
    };
    let served = if args.tokio {
        serve_tokio(args.addr, args.threads)
    } else {
        serve_std(args.addr)
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
        eprintln!("{peer}: {error}");
    }
}

fn serve_std(addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    eprintln!("echo_server (std) listening on {}", listener.local_addr()?);
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        std::thread::spawn(move || {
            let Err(end) = echo_std(stream);
            log_end(peer, &end);
        });
    }
}

/// Echoes until the connection ends; returns how it ended.
fn echo_std(stream: TcpStream) -> Result<Infallible, blocking::Error> {
    stream.set_nodelay(true)?;
    let mut ws = blocking::accept_with_config(stream, config(), |_| Ok(Accept::new()))?;
    loop {
        let message = ws.read()?;
        ws.send(message)?;
    }
}

/// Echoes until the connection ends; returns how it ended.
async fn echo_tokio(stream: tokio::net::TcpStream) -> Result<Infallible, rfc6455::tokio::Error> {
    stream.set_nodelay(true)?;
    let mut ws =
        rfc6455::tokio::accept_with_config(stream, config(), |_| Ok(Accept::new())).await?;
    loop {
        let message = ws.read().await?;
        ws.send(message).await?;
    }
}

fn serve_tokio(addr: SocketAddr, threads: Option<usize>) -> std::io::Result<()> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n);
    }
    builder.enable_all().build()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        eprintln!(
            "echo_server (tokio) listening on {}",
            listener.local_addr()?
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
            tokio::spawn(async move {
                let Err(end) = echo_tokio(stream).await;
                log_end(peer, &end);
            });
        }
    })
}
