//! A command-line client: sends each line of stdin as a text message and
//! prints every message that comes back.
//!
//! ```text
//! cargo run --release --example client -- ws://127.0.0.1:9002/
//! cargo run --release --example client -- --ca ca.pem wss://localhost:9443/
//! cargo run --release --features deflate --example client -- --deflate ws://127.0.0.1:9002/
//! ```
//!
//! - `--ca FILE`: for `wss://`, trust the CA certificates of this PEM file
//!   (a private CA) instead of the built-in roots.
//! - `--deflate`: offer permessage-deflate (RFC 7692) with
//!   `DeflateConfig::default()` and print, to stderr, what the server
//!   agreed to. It needs the `deflate` feature.
//! - `--proxy URL`: connect through an HTTP proxy
//!   (`http://[user:password@]host:port`), with `CONNECT`.
//!
//! The connection is split: one task prints what arrives (and answers
//! pings) while the other sends stdin's lines. At the end of stdin the
//! client closes with 1000 and waits (at most 5 s) for the server's reply.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use rfc6455::handshake::ClientRequest;
use rfc6455::tokio::{ConnectOptions, Proxy};
use rfc6455::{CloseCode, Config, Message, tokio as ws};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncBufReadExt, BufReader};

const USAGE: &str = "usage: client [--ca FILE] [--deflate] [--proxy URL] ws[s]://HOST:PORT/PATH";

/// The command line.
struct Args {
    url: String,
    deflate: bool,
    ca: Option<PathBuf>,
    proxy: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let (mut url, mut deflate, mut ca, mut proxy) = (None, false, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--deflate" if cfg!(feature = "deflate") => deflate = true,
            "--deflate" => return Err("--deflate needs the `deflate` feature".into()),
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--proxy" => proxy = Some(value()?),
            flag if flag.starts_with("--") => return Err(format!("unknown argument {flag:?}")),
            _ if url.is_some() => return Err("only one URL".into()),
            _ => url = Some(arg),
        }
    }
    Ok(Args {
        url: url.ok_or("a ws:// or wss:// URL is required")?,
        deflate,
        ca,
        proxy,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("client: {e}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client: {e}");
            // The cause, as far as it goes (TLS and proxy errors have one).
            let mut source = std::error::Error::source(&*e);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
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

async fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::default();
    #[cfg(feature = "deflate")]
    let config = if args.deflate {
        config.deflate(rfc6455::deflate::DeflateConfig::default())
    } else {
        config
    };
    let mut options = ConnectOptions::new();
    if let Some(ca) = &args.ca {
        options = options.tls_config(trust(ca)?);
    }
    if let Some(proxy) = &args.proxy {
        options = options.proxy(Proxy::new(proxy)?);
    }
    let request = ClientRequest::new(&args.url)?;
    let (socket, response) = ws::connect_with_options(request, config, &options).await?;
    if args.deflate {
        match response.headers().get_str("sec-websocket-extensions") {
            Some(agreed) => eprintln!("client: extensions agreed: {agreed}"),
            None => eprintln!("client: the server declined permessage-deflate"),
        }
    }
    let (mut read, mut write) = socket.split();
    let printer = tokio::spawn(async move {
        loop {
            match read.read().await {
                Ok(Message::Text(text)) => println!("{text}"),
                Ok(Message::Binary(data)) => println!("<binary message, {} bytes>", data.len()),
                Err(ws::Error::Closed(_)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    });
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        write.send(Message::text(line)).await?;
    }
    write.close(CloseCode::NORMAL, "").await?;
    match tokio::time::timeout(Duration::from_secs(5), printer).await {
        Ok(Ok(result)) => Ok(result?),
        Ok(Err(_)) | Err(_) => Err(ws::Error::AbnormalClose.into()),
    }
}
