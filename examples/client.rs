//! A command-line client: sends each line of stdin as a text message and
//! prints every message that comes back.
//!
//! ```text
//! cargo run --release --example client -- ws://127.0.0.1:9002/
//! cargo run --release --features deflate --example client -- --deflate ws://127.0.0.1:9002/
//! ```
//!
//! `--deflate` offers permessage-deflate (RFC 7692) with
//! `DeflateConfig::default()` and prints, to stderr, what the server
//! agreed to. It needs the `deflate` feature.
//!
//! The connection is split: one task prints what arrives (and answers
//! pings) while the other sends stdin's lines. At the end of stdin the
//! client closes with 1000 and waits (at most 5 s) for the server's reply.

use std::process::ExitCode;
use std::time::Duration;

use rfc6455::handshake::ClientRequest;
use rfc6455::{CloseCode, Config, Message, tokio as ws};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let deflate = args.iter().any(|a| a == "--deflate");
    args.retain(|a| a != "--deflate");
    let ([url], true) = (&args[..], cfg!(feature = "deflate") || !deflate) else {
        eprintln!("usage: client [--deflate] ws://HOST:PORT/PATH");
        if deflate && !cfg!(feature = "deflate") {
            eprintln!("client: --deflate needs the `deflate` feature");
        }
        return ExitCode::from(2);
    };
    match run(url, deflate).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str, deflate: bool) -> Result<(), ws::Error> {
    let config = Config::default();
    #[cfg(feature = "deflate")]
    let config = if deflate {
        config.deflate(rfc6455::deflate::DeflateConfig::default())
    } else {
        config
    };
    let (socket, response) = ws::connect_with_config(ClientRequest::new(url)?, config).await?;
    if deflate {
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
        Ok(Ok(result)) => result,
        Ok(Err(_)) | Err(_) => Err(ws::Error::AbnormalClose),
    }
}
