//! permessage-deflate (RFC 7692) interoperability with a peer no one here
//! wrote: Python's `websockets` package (pinned in tests/python/mod.rs),
//! as server (our client connects) and as client (our server accepts), over
//! loopback, with our tokio adapter (every variant), our blocking adapter
//! (a few), and our server through axum (a few, with the `axum` feature).
//!
//! The Python side, `tests/interop/ws_peer.py`, echoes every message and
//! reports what it negotiated. Our side sends, in a row on one connection,
//! text and binary messages of 5 B (sent uncompressed: below
//! `min_message_size`), 200 B, 64 KiB and 1 MiB, then the same eight again
//! (so context takeover has something to take over), and checks every
//! echo. Each test also checks that compression really happened:
//!
//! - both ends agreed to the expected parameters: websockets' own view of
//!   the agreement (local/remote window bits and context takeover) and the
//!   `Sec-WebSocket-Extensions` response header;
//! - a counting TCP relay between the two ends sees less than half as many
//!   bytes as the payloads hold, in each direction. The control tests, where
//!   one side declines compression, check that the relay then sees all of
//!   them.
//!
//! websockets inflates with exactly the window and context the agreement
//! allows (zlib `wbits = -N`, a fresh inflater per message without context
//! takeover), so a compressor of ours that used a larger window or kept its
//! context when it agreed not to would fail these tests.
//!
//! Setup and the Python peer process: tests/python/mod.rs.
//!
//! Every wait is bounded; every child process is killed by its handle when
//! the test ends.
#![cfg(all(feature = "deflate", feature = "std", feature = "tokio"))]

mod python;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{Accept, ClientRequest, ExtensionOffer, parse_extensions};
use rfc6455::{CloseCode, Config, Message};

use python::{LIMIT, Peer};

// ---------------------------------------------------------------------------
// A byte-counting TCP relay.

/// Relays one TCP connection between the WebSocket client and server,
/// counting the bytes each way.
struct Relay {
    addr: SocketAddr,
    to_server: Arc<AtomicU64>,
    to_client: Arc<AtomicU64>,
    done: Receiver<()>,
}

impl Relay {
    fn start(server: SocketAddr) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (to_server, to_client) = (Arc::default(), Arc::default());
        let (done_tx, done) = mpsc::channel();
        let counters = (Arc::clone(&to_server), Arc::clone(&to_client));
        thread::spawn(move || {
            let Some(client) = accept_within(&listener, LIMIT) else {
                return;
            };
            let Ok(upstream) = TcpStream::connect(server) else {
                return;
            };
            let pumps = [
                pump(&client, &upstream, counters.0, done_tx.clone()),
                pump(&upstream, &client, counters.1, done_tx),
            ];
            for p in pumps {
                let _ = p.join();
            }
        });
        Relay {
            addr,
            to_server,
            to_client,
            done,
        }
    }

    /// Waits for both directions to end; returns (to server, to client).
    fn finish(&self) -> (u64, u64) {
        for _ in 0..2 {
            self.done
                .recv_timeout(LIMIT)
                .expect("the relayed connection did not end");
        }
        (
            self.to_server.load(Ordering::SeqCst),
            self.to_client.load(Ordering::SeqCst),
        )
    }
}

fn pump(
    from: &TcpStream,
    to: &TcpStream,
    count: Arc<AtomicU64>,
    done: mpsc::Sender<()>,
) -> thread::JoinHandle<()> {
    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
    from.set_read_timeout(Some(LIMIT)).unwrap();
    to.set_nodelay(true).unwrap();
    thread::spawn(move || {
        let mut buf = vec![0; 64 << 10];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    count.fetch_add(n as u64, Ordering::SeqCst);
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
        let _ = done.send(());
    })
}

/// Accepts one connection, giving up after `limit`.
fn accept_within(listener: &TcpListener, limit: Duration) -> Option<TcpStream> {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return Some(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => return None,
        }
    }
}

// ---------------------------------------------------------------------------
// What is sent.

/// Compressible text: words of a small vocabulary in a pseudo-random
/// order, `len` bytes of ASCII.
fn words(seed: u64, len: usize) -> Vec<u8> {
    const VOCABULARY: &[&str] = &[
        "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
        "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi",
        "chi", "psi", "omega", "frame", "mask", "opcode", "payload", "deflate", "window",
        "context", "takeover",
    ];
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(VOCABULARY[(state % VOCABULARY.len() as u64) as usize].as_bytes());
        out.push(if state.is_multiple_of(11) {
            b'\n'
        } else {
            b' '
        });
    }
    out.truncate(len);
    out
}

/// The messages sent on every connection, in order.
fn messages() -> Vec<Message> {
    let mut round = Vec::new();
    for (i, size) in [5, 200, 64 << 10, 1 << 20].into_iter().enumerate() {
        let text = String::from_utf8(words(i as u64, size)).unwrap();
        round.push(Message::text(text));
        // A bijection on bytes keeps the text's redundancy but not its UTF-8.
        let binary: Vec<u8> = words(100 + i as u64, size)
            .into_iter()
            .map(|b| b.wrapping_mul(167).wrapping_add(0x91))
            .collect();
        round.push(Message::binary(binary));
    }
    let mut all = round.clone();
    all.extend(round); // the same again: context takeover pays off
    all
}

fn check_echo(i: usize, sent: &Message, echo: &Message) {
    assert!(
        echo == sent,
        "message {i}: sent {:?} of {} bytes, got back {:?} of {} bytes",
        sent.kind(),
        sent.len(),
        echo.kind(),
        echo.len()
    );
}

fn config(deflate: Option<DeflateConfig>) -> Config {
    Config::default()
        .max_message_size(64 << 20)
        .max_frame_size(64 << 20)
        .deflate(deflate)
}

// ---------------------------------------------------------------------------
// What was agreed.

/// permessage-deflate's parameters as agreed, by their RFC 7692 names:
/// window bits 15 and context takeover when not stated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Agreed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: u8,
    client_max_window_bits: u8,
}

/// No parameter: 15-bit windows, context takeover both ways.
const PLAIN: Agreed = Agreed {
    server_no_context_takeover: false,
    client_no_context_takeover: false,
    server_max_window_bits: 15,
    client_max_window_bits: 15,
};

impl Agreed {
    fn server_bits(self, bits: u8) -> Self {
        Agreed {
            server_max_window_bits: bits,
            ..self
        }
    }

    fn client_bits(self, bits: u8) -> Self {
        Agreed {
            client_max_window_bits: bits,
            ..self
        }
    }

    fn server_no_context_takeover(self) -> Self {
        Agreed {
            server_no_context_takeover: true,
            ..self
        }
    }

    fn client_no_context_takeover(self) -> Self {
        Agreed {
            client_no_context_takeover: true,
            ..self
        }
    }

    /// From a response's `Sec-WebSocket-Extensions` entries.
    fn from_response(extensions: &[ExtensionOffer]) -> Option<Agreed> {
        assert!(
            extensions.len() <= 1,
            "more than one extension agreed: {extensions:?}"
        );
        let ext = extensions.first()?;
        assert_eq!(ext.name, "permessage-deflate");
        for (name, _) in &ext.params {
            assert_eq!(
                ext.params.iter().filter(|(n, _)| n == name).count(),
                1,
                "parameter {name} repeated in {ext}"
            );
        }
        let bits = |name| match ext.param(name) {
            None => 15,
            Some(Some(v)) => v.parse().unwrap_or_else(|_| panic!("{name}={v} in {ext}")),
            Some(None) => panic!("{name} without a value in a response: {ext}"),
        };
        Some(Agreed {
            server_no_context_takeover: ext.param("server_no_context_takeover").is_some(),
            client_no_context_takeover: ext.param("client_no_context_takeover").is_some(),
            server_max_window_bits: bits("server_max_window_bits"),
            client_max_window_bits: bits("client_max_window_bits"),
        })
    }

    /// From ws_peer.py's `open` line: websockets' own view.
    fn from_python(open: &str, python_is_server: bool) -> Option<Agreed> {
        let mut words = open.split(' ');
        match words.next() {
            Some("none") => return None,
            Some("permessage-deflate") => {}
            other => panic!("unexpected extension from websockets: {other:?} in {open:?}"),
        }
        let value = |key: &str| -> u8 {
            open.split(' ')
                .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
                .unwrap_or_else(|| panic!("no {key} in {open:?}"))
                .parse()
                .unwrap()
        };
        let (local, remote) = (
            (
                value("local_no_context_takeover") == 1,
                value("local_max_window_bits"),
            ),
            (
                value("remote_no_context_takeover") == 1,
                value("remote_max_window_bits"),
            ),
        );
        let (server, client) = if python_is_server {
            (local, remote)
        } else {
            (remote, local)
        };
        Some(Agreed {
            server_no_context_takeover: server.0,
            client_no_context_takeover: client.0,
            server_max_window_bits: server.1,
            client_max_window_bits: client.1,
        })
    }
}

// ---------------------------------------------------------------------------
// The scenarios.

#[derive(Clone, Copy, Debug)]
enum Adapter {
    Tokio,
    Blocking,
    /// Our server through axum (`rfc6455::axum::WebSocketUpgrade`): the
    /// tokio adapter over the connection hyper upgraded.
    #[cfg(feature = "axum")]
    Axum,
}

#[cfg(feature = "axum")]
#[path = "upgrade/mod.rs"]
mod upgrade;

/// Our server's side of `their_client` on the tokio adapter: send each
/// message, check its echo, close.
async fn tokio_server_exchange<S>(mut ws: rfc6455::tokio::WebSocket<S>, messages: &[Message])
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use rfc6455::tokio::Error;
    use tokio::time::timeout;
    for (i, sent) in messages.iter().enumerate() {
        ws.send(sent.clone()).await.unwrap();
        let echo = timeout(LIMIT, ws.read()).await.expect("echo in time");
        check_echo(i, sent, &echo.unwrap());
    }
    ws.close(CloseCode::NORMAL, "done").await.unwrap();
    match timeout(LIMIT, ws.read()).await.expect("close in time") {
        Err(Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the closing handshake, got {other:?}"),
    }
}

/// One interop run: our side's deflate config, websockets' (a JSON value,
/// see ws_peer.py), and what both must agree to (`None`: no compression).
struct Case {
    adapter: Adapter,
    ours: Option<DeflateConfig>,
    theirs: &'static str,
    agreed: Option<Agreed>,
}

/// What one connection showed.
struct Seen {
    /// Our side's view: the response's extensions.
    response: Vec<ExtensionOffer>,
    /// websockets' view (ws_peer.py's `open` line).
    python: Option<Agreed>,
    request_header: String,
    to_server: u64,
    to_client: u64,
}

fn payload_bytes() -> u64 {
    messages().iter().map(|m| m.len() as u64).sum()
}

/// Checks the agreement and that the wire carried compressed messages
/// (or, with `agreed == None`, uncompressed ones).
fn check(case: &Case, seen: &Seen) {
    let header_view = Agreed::from_response(&seen.response);
    assert_eq!(
        seen.python, case.agreed,
        "websockets' view of the agreement (request: {:?}, response: {:?})",
        seen.request_header, seen.response
    );
    assert_eq!(
        header_view, case.agreed,
        "the response header's agreement (request: {:?}, response: {:?})",
        seen.request_header, seen.response
    );
    let total = payload_bytes();
    for (direction, wire) in [
        ("client to server", seen.to_server),
        ("server to client", seen.to_client),
    ] {
        let ratio = wire as f64 / total as f64;
        eprintln!(
            "{direction}: {wire} bytes on the wire for {total} bytes of messages ({ratio:.3})"
        );
        if case.agreed.is_some() {
            assert!(
                ratio < 0.5,
                "{direction}: {wire} bytes on the wire for {total} bytes of messages \
                 ({ratio:.3}): not compressed"
            );
        } else {
            assert!(
                ratio >= 1.0,
                "{direction}: {wire} bytes on the wire for {total} bytes of messages \
                 ({ratio:.3}), without compression?"
            );
        }
    }
}

/// websockets' server, our client.
fn their_server(case: Case) {
    let peer = Peer::spawn(&["server", case.theirs]);
    let port: u16 = peer.expect("listening").parse().unwrap();
    let relay = Relay::start(SocketAddr::from(([127, 0, 0, 1], port)));
    let url = format!("ws://{}/", relay.addr);
    let config = config(case.ours.clone());
    let messages = messages();

    let response = match case.adapter {
        Adapter::Tokio => runtime().block_on(async {
            use rfc6455::tokio::{Error, connect_with_config};
            use tokio::time::timeout;
            let (mut ws, response) = connect_with_config(ClientRequest::new(&url).unwrap(), config)
                .await
                .unwrap();
            for (i, sent) in messages.iter().enumerate() {
                ws.send(sent.clone()).await.unwrap();
                let echo = timeout(LIMIT, ws.read()).await.expect("echo in time");
                check_echo(i, sent, &echo.unwrap());
            }
            ws.close(CloseCode::NORMAL, "done").await.unwrap();
            match timeout(LIMIT, ws.read()).await.expect("close in time") {
                Err(Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
                other => panic!("expected the closing handshake, got {other:?}"),
            }
            response
        }),
        #[cfg(feature = "axum")]
        Adapter::Axum => unreachable!("axum is a server"),
        Adapter::Blocking => {
            use rfc6455::blocking::{Error, connect_with_config};
            let (mut ws, response) =
                connect_with_config(ClientRequest::new(&url).unwrap(), config).unwrap();
            ws.get_ref().tcp().set_read_timeout(Some(LIMIT)).unwrap();
            for (i, sent) in messages.iter().enumerate() {
                ws.send(sent.clone()).unwrap();
                check_echo(i, sent, &ws.read().unwrap());
            }
            ws.close(CloseCode::NORMAL, "done").unwrap();
            match ws.read() {
                Err(Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
                other => panic!("expected the closing handshake, got {other:?}"),
            }
            response
        }
    };

    let request_header = peer.expect("request-extensions");
    let response_header = peer.expect("response-extensions");
    let python = Agreed::from_python(&peer.expect("open"), true);
    let closed = peer.expect("closed");
    assert_eq!(
        closed,
        format!(
            "code=1000 messages={} bytes={}",
            messages.len(),
            payload_bytes()
        )
    );
    // What our client parsed is what websockets sent.
    let sent: Vec<ExtensionOffer> = match response_header.as_str() {
        "-" => Vec::new(),
        header => parse_extensions(header.as_bytes()).unwrap(),
    };
    assert_eq!(response.extensions(), &sent[..]);
    let (to_server, to_client) = relay.finish();
    check(
        &case,
        &Seen {
            response: response.extensions().to_vec(),
            python,
            request_header,
            to_server,
            to_client,
        },
    );
}

/// websockets' client, our server: our server sends, the client echoes.
fn their_client(case: Case) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay = Relay::start(listener.local_addr().unwrap());
    let url = format!("ws://{}/", relay.addr);
    let mut peer = Peer::spawn(&["client", &url, case.theirs]);
    let config = config(case.ours.clone());
    let messages = messages();
    let stream = accept_within(&listener, LIMIT).expect("websockets connects");

    match case.adapter {
        Adapter::Tokio => runtime().block_on(async {
            stream.set_nonblocking(true).unwrap();
            let stream = tokio::net::TcpStream::from_std(stream).unwrap();
            let ws = rfc6455::tokio::accept_with_config(stream, config, |_| Ok(Accept::new()))
                .await
                .unwrap();
            tokio_server_exchange(ws, &messages).await;
        }),
        #[cfg(feature = "axum")]
        Adapter::Axum => runtime().block_on(async {
            stream.set_nonblocking(true).unwrap();
            let stream = tokio::net::TcpStream::from_std(stream).unwrap();
            let accept = upgrade::choose(|_| Accept::new());
            let ws = upgrade::serve_one(upgrade::Stack::Axum, stream, config, accept, LIMIT)
                .await
                .unwrap();
            tokio_server_exchange(ws, &messages).await;
        }),
        Adapter::Blocking => {
            use rfc6455::blocking::{Error, accept_with_config};
            stream.set_read_timeout(Some(LIMIT)).unwrap();
            let mut ws = accept_with_config(stream, config, |_| Ok(Accept::new())).unwrap();
            for (i, sent) in messages.iter().enumerate() {
                ws.send(sent.clone()).unwrap();
                check_echo(i, sent, &ws.read().unwrap());
            }
            ws.close(CloseCode::NORMAL, "done").unwrap();
            match ws.read() {
                Err(Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
                other => panic!("expected the closing handshake, got {other:?}"),
            }
        }
    }

    let request_header = peer.expect("request-extensions");
    let response_header = peer.expect("response-extensions");
    let python = Agreed::from_python(&peer.expect("open"), false);
    let closed = peer.expect("closed");
    assert_eq!(
        closed,
        format!(
            "code=1000 messages={} bytes={}",
            messages.len(),
            payload_bytes()
        )
    );
    let status = peer.wait();
    assert!(status.success(), "ws_peer.py client: {status}");
    let response = match response_header.as_str() {
        "-" => Vec::new(),
        header => parse_extensions(header.as_bytes()).unwrap(),
    };
    let (to_server, to_client) = relay.finish();
    check(
        &case,
        &Seen {
            response,
            python,
            request_header,
            to_server,
            to_client,
        },
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn ours() -> Option<DeflateConfig> {
    Some(DeflateConfig::default())
}

// ---------------------------------------------------------------------------
// websockets' server, our client. "asked by us": our offer asks for it;
// "set by them": websockets' server imposes it on an offer that did not.

#[test]
fn their_server_defaults_tokio() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: "{}",
        agreed: Some(PLAIN),
    });
}

#[test]
fn their_server_defaults_blocking() {
    their_server(Case {
        adapter: Adapter::Blocking,
        ours: ours(),
        theirs: "{}",
        agreed: Some(PLAIN),
    });
}

/// websockets' `compression="deflate"`: 12-bit windows both ways.
#[test]
fn their_server_websockets_defaults() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#""default""#,
        agreed: Some(PLAIN.server_bits(12).client_bits(12)),
    });
}

#[test]
fn their_server_server_max_window_bits_10_asked_by_us() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().server_max_window_bits(10)),
        theirs: "{}",
        agreed: Some(PLAIN.server_bits(10)),
    });
}

#[test]
fn their_server_server_max_window_bits_10_set_by_them() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"server_max_window_bits": 10}"#,
        agreed: Some(PLAIN.server_bits(10)),
    });
}

#[test]
fn their_server_client_max_window_bits_9_asked_by_us() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().client_max_window_bits(9)),
        theirs: "{}",
        agreed: Some(PLAIN.client_bits(9)),
    });
}

#[test]
fn their_server_client_max_window_bits_9_set_by_them() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"client_max_window_bits": 9}"#,
        agreed: Some(PLAIN.client_bits(9)),
    });
}

/// Our 8-bit compression (a 9-bit zlib window that never reaches back
/// more than 250 bytes) against zlib's inflate with a 256-byte window.
#[test]
fn their_server_client_max_window_bits_8_set_by_them() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"client_max_window_bits": 8}"#,
        agreed: Some(PLAIN.client_bits(8)),
    });
}

#[test]
fn their_server_client_no_context_takeover_asked_by_us() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().client_no_context_takeover(true)),
        theirs: "{}",
        agreed: Some(PLAIN.client_no_context_takeover()),
    });
}

#[test]
fn their_server_client_no_context_takeover_set_by_them() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"client_no_context_takeover": true}"#,
        agreed: Some(PLAIN.client_no_context_takeover()),
    });
}

#[test]
fn their_server_server_no_context_takeover_asked_by_us() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().server_no_context_takeover(true)),
        theirs: "{}",
        agreed: Some(PLAIN.server_no_context_takeover()),
    });
}

#[test]
fn their_server_server_no_context_takeover_set_by_them() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"server_no_context_takeover": true}"#,
        agreed: Some(PLAIN.server_no_context_takeover()),
    });
}

fn all_four_ours() -> Option<DeflateConfig> {
    Some(
        DeflateConfig::default()
            .server_max_window_bits(10)
            .client_max_window_bits(9)
            .server_no_context_takeover(true)
            .client_no_context_takeover(true),
    )
}

const ALL_FOUR_THEIRS: &str = r#"{"server_max_window_bits": 10, "client_max_window_bits": 9,
    "server_no_context_takeover": true, "client_no_context_takeover": true}"#;

fn all_four_agreed() -> Option<Agreed> {
    Some(
        PLAIN
            .server_bits(10)
            .client_bits(9)
            .server_no_context_takeover()
            .client_no_context_takeover(),
    )
}

#[test]
fn their_server_all_four_parameters_tokio() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: all_four_ours(),
        theirs: ALL_FOUR_THEIRS,
        agreed: all_four_agreed(),
    });
}

#[test]
fn their_server_all_four_parameters_blocking() {
    their_server(Case {
        adapter: Adapter::Blocking,
        ours: all_four_ours(),
        theirs: ALL_FOUR_THEIRS,
        agreed: all_four_agreed(),
    });
}

/// Control: websockets' server declines, and the wire shows it.
#[test]
fn their_server_without_compression() {
    their_server(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: "null",
        agreed: None,
    });
}

// ---------------------------------------------------------------------------
// websockets' client, our server. "asked by them": websockets' offer asks
// for it; "set by us": our server imposes it.

#[test]
fn their_client_defaults_tokio() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: "{}",
        agreed: Some(PLAIN),
    });
}

#[test]
fn their_client_defaults_blocking() {
    their_client(Case {
        adapter: Adapter::Blocking,
        ours: ours(),
        theirs: "{}",
        agreed: Some(PLAIN),
    });
}

/// websockets' `compression="deflate"` client (memLevel 5, offers
/// client_max_window_bits).
#[test]
fn their_client_websockets_defaults() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#""default""#,
        agreed: Some(PLAIN),
    });
}

#[test]
fn their_client_server_max_window_bits_10_asked_by_them() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"server_max_window_bits": 10}"#,
        agreed: Some(PLAIN.server_bits(10)),
    });
}

#[test]
fn their_client_server_max_window_bits_10_set_by_us() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().server_max_window_bits(10)),
        theirs: "{}",
        agreed: Some(PLAIN.server_bits(10)),
    });
}

/// Our 8-bit compression against zlib's inflate with a 256-byte window.
#[test]
fn their_client_server_max_window_bits_8_asked_by_them() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"server_max_window_bits": 8}"#,
        agreed: Some(PLAIN.server_bits(8)),
    });
}

#[test]
fn their_client_client_max_window_bits_9_asked_by_them() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"client_max_window_bits": 9}"#,
        agreed: Some(PLAIN.client_bits(9)),
    });
}

#[test]
fn their_client_client_max_window_bits_9_set_by_us() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().client_max_window_bits(9)),
        theirs: "{}",
        agreed: Some(PLAIN.client_bits(9)),
    });
}

#[test]
fn their_client_client_no_context_takeover_asked_by_them() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"client_no_context_takeover": true}"#,
        agreed: Some(PLAIN.client_no_context_takeover()),
    });
}

#[test]
fn their_client_client_no_context_takeover_set_by_us() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().client_no_context_takeover(true)),
        theirs: "{}",
        agreed: Some(PLAIN.client_no_context_takeover()),
    });
}

#[test]
fn their_client_server_no_context_takeover_asked_by_them() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: r#"{"server_no_context_takeover": true}"#,
        agreed: Some(PLAIN.server_no_context_takeover()),
    });
}

#[test]
fn their_client_server_no_context_takeover_set_by_us() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: Some(DeflateConfig::default().server_no_context_takeover(true)),
        theirs: "{}",
        agreed: Some(PLAIN.server_no_context_takeover()),
    });
}

#[test]
fn their_client_all_four_parameters_tokio() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: all_four_ours(),
        theirs: ALL_FOUR_THEIRS,
        agreed: all_four_agreed(),
    });
}

#[test]
fn their_client_all_four_parameters_blocking() {
    their_client(Case {
        adapter: Adapter::Blocking,
        ours: all_four_ours(),
        theirs: ALL_FOUR_THEIRS,
        agreed: all_four_agreed(),
    });
}

/// Control: websockets' client offers nothing, and the wire shows it.
#[test]
fn their_client_without_compression() {
    their_client(Case {
        adapter: Adapter::Tokio,
        ours: ours(),
        theirs: "null",
        agreed: None,
    });
}

// ---------------------------------------------------------------------------
// websockets' client, our server through axum.

#[cfg(feature = "axum")]
#[test]
fn their_client_defaults_axum() {
    their_client(Case {
        adapter: Adapter::Axum,
        ours: ours(),
        theirs: "{}",
        agreed: Some(PLAIN),
    });
}

#[cfg(feature = "axum")]
#[test]
fn their_client_all_four_parameters_axum() {
    their_client(Case {
        adapter: Adapter::Axum,
        ours: all_four_ours(),
        theirs: ALL_FOUR_THEIRS,
        agreed: all_four_agreed(),
    });
}

/// Control: compression off on our side; the wire shows it.
#[cfg(feature = "axum")]
#[test]
fn their_client_axum_without_compression() {
    their_client(Case {
        adapter: Adapter::Axum,
        ours: None,
        theirs: "{}",
        agreed: None,
    });
}
