//! Runs every case of an Autobahn|Testsuite fuzzing server.
//!
//! ```text
//! cargo run --release --example autobahn_client -- --url ws://127.0.0.1:9001 --agent NAME --adapter tokio|std
//! cargo run --release --features deflate --example autobahn_client -- --url ws://127.0.0.1:9001 --agent NAME --adapter std --deflate
//! ```
//!
//! Asks `/getCaseCount`, then for each case connects to
//! `/runCase?case=N&agent=NAME` and echoes every message until the
//! connection ends, then asks for `/updateReports?agent=NAME`.
//!
//! - `--url ws://HOST:PORT` (required): the fuzzing server.
//! - `--agent NAME` (required): the name the results are filed under.
//! - `--adapter tokio|std` (required): the adapter that runs every case.
//! - `--deflate`: offer permessage-deflate (RFC 7692) on every connection,
//!   with `DeflateConfig::default()`, as Autobahn's sections 12 and 13
//!   expect of a client. Needs the `deflate` feature; the client refuses
//!   to start if it was built without it.

mod common;

use std::process::ExitCode;

use rfc6455::handshake::ClientRequest;
use rfc6455::{Config, Message, blocking};

const USAGE: &str =
    "usage: autobahn_client --url ws://HOST:PORT --agent NAME --adapter tokio|std [--deflate]";

/// The testsuite's limits, with permessage-deflate offered when `deflate`
/// is set.
fn config(deflate: bool) -> Config {
    common::testsuite_config(deflate)
}

/// Either adapter, behind the same three operations.
trait Client {
    /// Connects, echoes every message until the end, and returns the
    /// messages seen.
    fn echo(&mut self, url: &str) -> Result<Vec<Message>, blocking::Error>;
}

struct Std(Config);

impl Client for Std {
    fn echo(&mut self, url: &str) -> Result<Vec<Message>, blocking::Error> {
        let (mut ws, _) = blocking::connect_with_config(ClientRequest::new(url)?, self.0.clone())?;
        let mut seen = Vec::new();
        loop {
            match ws.read() {
                Ok(message) => {
                    // A send fails once the connection is closing: keep
                    // reading to see the end.
                    let _ = ws.send(message.clone());
                    seen.push(message);
                }
                Err(blocking::Error::Closed(_)) => return Ok(seen),
                Err(e) => return Err(e),
            }
        }
    }
}

struct Tokio(tokio::runtime::Runtime, Config);

impl Client for Tokio {
    fn echo(&mut self, url: &str) -> Result<Vec<Message>, blocking::Error> {
        let config = self.1.clone();
        self.0.block_on(async {
            let request = ClientRequest::new(url)?;
            let (mut ws, _) = rfc6455::tokio::connect_with_config(request, config).await?;
            let mut seen = Vec::new();
            loop {
                match ws.read().await {
                    Ok(message) => {
                        let _ = ws.send(message.clone()).await;
                        seen.push(message);
                    }
                    Err(rfc6455::tokio::Error::Closed(_)) => return Ok(seen),
                    Err(e) => return Err(e),
                }
            }
        })
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Args {
    base: String,
    agent: String,
    tokio: bool,
    deflate: bool,
}

fn parse_args() -> Result<Args, String> {
    let (mut url, mut agent, mut adapter, mut deflate) = (None, None, None, false);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--agent" => agent = Some(value()?),
            "--adapter" => adapter = Some(value()?),
            "--deflate" if cfg!(feature = "deflate") => deflate = true,
            "--deflate" => {
                return Err("--deflate needs the `deflate` feature \
                     (cargo build --features deflate --example autobahn_client)"
                    .into());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let tokio = match adapter.as_deref() {
        Some("tokio") => true,
        Some("std") => false,
        _ => return Err("--adapter must be tokio or std".into()),
    };
    let url = url.ok_or("--url is required")?;
    let agent = agent.ok_or("--agent is required")?;
    Ok(Args {
        base: url.trim_end_matches('/').to_owned(),
        agent,
        tokio,
        deflate,
    })
}

fn main() -> ExitCode {
    let Args {
        base,
        agent,
        tokio,
        deflate,
    } = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("autobahn_client: {e}");
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let config = config(deflate);
    let mut client: Box<dyn Client> = if tokio {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => Box::new(Tokio(rt, config)),
            Err(e) => {
                eprintln!("autobahn_client: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        Box::new(Std(config))
    };

    let count = client
        .echo(&format!("{base}/getCaseCount"))
        .ok()
        .and_then(|seen| seen.first()?.as_text()?.trim().parse::<u32>().ok());
    let Some(count) = count else {
        eprintln!("autobahn_client: no case count from {base}/getCaseCount");
        return ExitCode::FAILURE;
    };
    eprintln!(
        "autobahn_client: {count} cases{}",
        if deflate {
            " (offering permessage-deflate)"
        } else {
            ""
        }
    );
    let agent = encode(&agent);
    for case in 1..=count {
        if let Err(e) = client.echo(&format!("{base}/runCase?case={case}&agent={agent}")) {
            eprintln!("case {case}: {e}");
        }
    }
    if let Err(e) = client.echo(&format!("{base}/updateReports?agent={agent}")) {
        eprintln!("autobahn_client: updateReports: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
