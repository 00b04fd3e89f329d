//! A command-line client: sends each line of stdin as a text message and
//! prints every message that comes back, one a line.
//!
//! ```text
//! cargo run --release --example client -- ws://127.0.0.1:9002/
//! cargo run --release --example client -- --adapter std ws://127.0.0.1:9002/
//! cargo run --release --example client -- --ca ca.pem wss://localhost:9443/
//! cargo run --release --example client -- --deflate ws://127.0.0.1:9002/
//! ```
//!
//! `client [--adapter tokio|std] [--deflate] [--ca FILE] [--proxy URL]
//! [--max-redirects N] URL`:
//!
//! - `--adapter tokio|std`: the adapter that runs the connection, tokio
//!   (the default) or the blocking one.
//! - `--ca FILE`: for `wss://`, trust the CA certificates of this PEM file
//!   (a private CA) instead of the built-in roots.
//! - `--deflate`: offer permessage-deflate (RFC 7692) with
//!   `DeflateConfig::default()` and print, to stderr, what the server
//!   agreed to. It needs the `deflate` feature.
//! - `--proxy URL`: connect through an HTTP proxy
//!   (`http://[user:password@]host:port`), with `CONNECT`.
//! - `--max-redirects N`: follow at most N redirects (301, 302, 303, 307,
//!   308) during the opening handshake; 5 unless given (`0` follows none,
//!   as the library's `Config` does by default). A redirect from `wss://`
//!   to `ws://` is never followed.
//!
//! Credentials in the URL (`ws://user:password@host/`) are sent as
//! `Authorization: Basic`; nothing printed shows the password.
//!
//! # How it ends
//!
//! The client ends when the connection ends, whatever stdin does. At the
//! end of stdin it closes with 1000 and waits (at most 5 s) for the
//! server's answer. When the server closes first, or the connection is
//! lost, the client ends at once with a line on stderr that says so: the
//! server's close code and reason, or "connection lost" when it ended
//! without a close frame.
//!
//! Exit status: `0` when the client closed (stdin ended) and the server
//! answered its close frame, the one clean end this client starts; `1`
//! for every other end: the server closed first (with any code), the
//! connection was lost or broke the protocol, or it could not be opened;
//! `2` for a bad command line.
//!
//! stdin is read on a thread of its own, which hands lines over a
//! channel, so neither adapter waits on stdin: the tokio adapter selects
//! between the channel and the socket, and the blocking one reads the
//! socket with a short timeout and looks at the channel between reads.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rfc6455::handshake::ClientRequest;
use rfc6455::{CloseCode, CloseFrame, Config, Event, Message, blocking, tokio as ws};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

const USAGE: &str = "usage: client [--adapter tokio|std] [--deflate] [--ca FILE] [--proxy URL] \
                     [--max-redirects N] ws[s]://HOST:PORT/PATH";

/// How long the client waits for the server's answer to its close frame,
/// and for the server to end the TCP connection after a close.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// How long the client waits for the server to end the TCP connection
/// after the server's close frame was answered.
const TCP_END_WAIT: Duration = Duration::from_millis(500);

/// The redirects the example follows unless told otherwise.
const DEFAULT_REDIRECTS: usize = 5;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Adapter {
    Tokio,
    Std,
}

/// The command line.
struct Args {
    url: String,
    adapter: Adapter,
    deflate: bool,
    ca: Option<PathBuf>,
    proxy: Option<String>,
    max_redirects: usize,
}

fn parse_args() -> Result<Args, String> {
    let (mut url, mut deflate, mut ca, mut proxy) = (None, false, None, None);
    let (mut adapter, mut max_redirects) = (Adapter::Tokio, DEFAULT_REDIRECTS);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--deflate" if cfg!(feature = "deflate") => deflate = true,
            "--deflate" => return Err("--deflate needs the `deflate` feature".into()),
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--proxy" => proxy = Some(value()?),
            "--adapter" => {
                adapter = match value()?.as_str() {
                    "tokio" => Adapter::Tokio,
                    "std" => Adapter::Std,
                    other => return Err(format!("--adapter {other:?}: tokio or std")),
                }
            }
            "--max-redirects" => {
                max_redirects = value()?
                    .parse()
                    .map_err(|_| "--max-redirects needs a number")?
            }
            flag if flag.starts_with("--") => return Err(format!("unknown argument {flag:?}")),
            _ if url.is_some() => return Err("only one URL".into()),
            _ => url = Some(arg),
        }
    }
    Ok(Args {
        url: url.ok_or("a ws:// or wss:// URL is required")?,
        adapter,
        deflate,
        ca,
        proxy,
        max_redirects,
    })
}

/// How the connection ended, for the exit status and stderr.
enum End {
    /// stdin ended, the client closed, the server answered: exit 0.
    Closed,
    /// The server closed first, with this close frame.
    ServerClosed(CloseFrame),
    /// The connection ended otherwise: lost, or broken by a protocol
    /// error.
    Broken(ws::Error),
    /// The server did not answer our close frame within [`CLOSE_WAIT`].
    NoAnswer,
    /// The connection could not be opened.
    Failed(Box<dyn std::error::Error>),
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("client: {e}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let end = match args.adapter {
        Adapter::Tokio => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(run_tokio(&args))
        }
        Adapter::Std => run_std(&args),
    };
    match end {
        End::Closed => ExitCode::SUCCESS,
        End::ServerClosed(frame) => {
            eprintln!(
                "client: the server closed the connection: code {}, reason {:?}",
                u16::from(frame.code),
                frame.reason.as_str()
            );
            ExitCode::FAILURE
        }
        End::Broken(e) => {
            eprintln!("client: {}", describe(&e));
            ExitCode::FAILURE
        }
        End::NoAnswer => {
            eprintln!(
                "client: connection lost: the server did not answer the close frame in {CLOSE_WAIT:?}"
            );
            ExitCode::FAILURE
        }
        End::Failed(e) => {
            eprintln!("client: could not open the connection: {e}");
            // The cause, as far as it goes (TLS and proxy errors have one).
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// How an open connection broke, with "connection lost" said plainly for
/// the ends without a close frame.
fn describe(e: &ws::Error) -> String {
    match e {
        ws::Error::AbnormalClose => {
            "connection lost: the server ended the connection without a close frame".into()
        }
        ws::Error::Io(io) => format!("connection lost: {io}"),
        ws::Error::Protocol(p) => format!(
            "protocol error: {p} (closed with code {})",
            u16::from(p.close_code())
        ),
        e => e.to_string(),
    }
}

/// The configuration and connect options the command line asks for.
fn settings(args: &Args) -> Result<(Config, ws::ConnectOptions), Box<dyn std::error::Error>> {
    let config = Config::default().max_redirects(args.max_redirects);
    #[cfg(feature = "deflate")]
    let config = if args.deflate {
        config.deflate(rfc6455::deflate::DeflateConfig::default())
    } else {
        config
    };
    let mut options = ws::ConnectOptions::new();
    if let Some(ca) = &args.ca {
        options = options.tls_config(trust(ca)?);
    }
    if let Some(proxy) = &args.proxy {
        options = options.proxy(ws::Proxy::new(proxy)?);
    }
    Ok((config, options))
}

/// A TLS configuration that trusts the CA certificates in `path` alone.
fn trust(path: &PathBuf) -> Result<Arc<rustls::ClientConfig>, Box<dyn std::error::Error>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(path)? {
        roots.add(cert?)?;
    }
    if roots.is_empty() {
        return Err(format!("--ca {}: no certificate", path.display()).into());
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn report_extensions(args: &Args, response: &rfc6455::handshake::Response) {
    if args.deflate {
        match response.headers().get_str("sec-websocket-extensions") {
            Some(agreed) => eprintln!("client: extensions agreed: {agreed}"),
            None => eprintln!("client: the server declined permessage-deflate"),
        }
    }
}

fn print(message: &Message) {
    match message {
        Message::Text(text) => println!("{text}"),
        Message::Binary(data) => println!("<binary message, {} bytes>", data.len()),
    }
}

/// stdin's lines, read on a thread of their own; `None` at its end (or on
/// a read error). The thread is never joined: the process ends without
/// waiting for it.
fn stdin_lines(mut send: impl FnMut(Option<String>) -> bool + Send + 'static) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if !send(Some(line)) {
                return;
            }
        }
        send(None);
    });
}

/// What an error that ends the connection means here.
fn ended(error: ws::Error) -> End {
    match error {
        ws::Error::Closed(frame) => End::ServerClosed(frame),
        e => End::Broken(e),
    }
}

async fn run_tokio(args: &Args) -> End {
    match tokio_session(args).await {
        Ok(end) => end,
        Err(e) => End::Failed(e),
    }
}

async fn tokio_session(args: &Args) -> Result<End, Box<dyn std::error::Error>> {
    let (config, options) = settings(args)?;
    let request = ClientRequest::new(&args.url)?;
    let (mut socket, response) = ws::connect_with_options(request, config, &options).await?;
    report_extensions(args, &response);
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    stdin_lines(move |line| tx.send(line).is_ok());
    loop {
        tokio::select! {
            event = socket.read_event() => match event {
                Ok(Event::Message(message)) => print(&message),
                Ok(Event::Close(frame)) => {
                    // Our answer is queued: write it, and give the server
                    // a moment to end the TCP connection (RFC 6455 §7.1.1).
                    let _ = tokio::time::timeout(TCP_END_WAIT, async {
                        while socket.read_event().await.is_ok() {}
                    })
                    .await;
                    return Ok(End::ServerClosed(frame));
                }
                Ok(_) => {}
                Err(e) => return Ok(ended(e)),
            },
            line = lines.recv() => match line.flatten() {
                Some(line) => {
                    if let Err(e) = socket.send(Message::text(line)).await {
                        return Ok(ended(e));
                    }
                }
                None => break,
            },
        }
    }
    // stdin ended: close, and wait for the server's answer.
    if let Err(e) = socket.close(CloseCode::NORMAL, "").await {
        return Ok(ended(e));
    }
    let answer = tokio::time::timeout(CLOSE_WAIT, async {
        loop {
            match socket.read().await {
                Ok(message) => print(&message),
                Err(e) => return e,
            }
        }
    })
    .await;
    Ok(match answer {
        Ok(ws::Error::Closed(_)) => End::Closed,
        Ok(e) => End::Broken(e),
        Err(_) => End::NoAnswer,
    })
}

fn run_std(args: &Args) -> End {
    match std_session(args) {
        Ok(end) => end,
        Err(e) => End::Failed(e),
    }
}

/// How long one blocking read waits before the client looks at stdin.
const POLL: Duration = Duration::from_millis(50);

fn std_session(args: &Args) -> Result<End, Box<dyn std::error::Error>> {
    let (config, options) = settings(args)?;
    let request = ClientRequest::new(&args.url)?;
    let (mut socket, response) = blocking::connect_with_options(request, config, &options)?;
    report_extensions(args, &response);
    socket.get_ref().tcp().set_read_timeout(Some(POLL))?;
    let (tx, lines) = std::sync::mpsc::channel();
    stdin_lines(move |line| tx.send(line).is_ok());
    'open: loop {
        loop {
            match lines.try_recv() {
                Ok(Some(line)) => {
                    if let Err(e) = socket.send(Message::text(line)) {
                        return Ok(ended(e));
                    }
                }
                Ok(None) | Err(std::sync::mpsc::TryRecvError::Disconnected) => break 'open,
                Err(std::sync::mpsc::TryRecvError::Empty) => break,
            }
        }
        match socket.read_event() {
            Ok(Event::Message(message)) => print(&message),
            Ok(Event::Close(frame)) => {
                // Our answer is written by `read_event`; give the server a
                // moment to end the TCP connection (RFC 6455 §7.1.1).
                let until = Instant::now() + TCP_END_WAIT;
                while Instant::now() < until {
                    match socket.read_event() {
                        Err(e) if e.is_would_block() => {}
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
                return Ok(End::ServerClosed(frame));
            }
            Ok(_) => {}
            Err(e) if e.is_would_block() => {}
            Err(e) => return Ok(ended(e)),
        }
    }
    // stdin ended: close, and wait for the server's answer.
    if let Err(e) = socket.close(CloseCode::NORMAL, "") {
        return Ok(ended(e));
    }
    let until = Instant::now() + CLOSE_WAIT;
    while Instant::now() < until {
        match socket.read() {
            Ok(message) => print(&message),
            Err(e) if e.is_would_block() => {}
            Err(blocking::Error::Closed(_)) => return Ok(End::Closed),
            Err(e) => return Ok(End::Broken(e)),
        }
    }
    Ok(End::NoAnswer)
}
