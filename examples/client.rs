//! A command-line client: sends each line of stdin as a text message and
//! prints every message that comes back.
//!
//! ```text
//! cargo run --release --example client -- ws://127.0.0.1:9002/
//! ```
//!
//! The connection is split: one task prints what arrives (and answers
//! pings) while the other sends stdin's lines. At the end of stdin the
//! client closes with 1000 and waits (at most 5 s) for the server's reply.

use std::process::ExitCode;
use std::time::Duration;

use rfc6455::{CloseCode, Message, tokio as ws};
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(url), None) = (args.next(), args.next()) else {
        eprintln!("usage: client ws://HOST:PORT/PATH");
        return ExitCode::from(2);
    };
    match run(&url).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(url: &str) -> Result<(), ws::Error> {
    let (socket, _) = ws::connect(url).await?;
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
