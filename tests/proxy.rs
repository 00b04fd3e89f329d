//! `connect` through an HTTP `CONNECT` proxy (RFC 9110 §9.3.6), on both
//! adapters, for `ws://` and for `wss://` (TLS inside the tunnel, end to
//! end with the server): against a small CONNECT proxy this file starts on
//! loopback, which checks Basic credentials, refuses what its rules say
//! (403), answers 502 when it cannot reach the target, and records what it
//! saw and relayed.
//!
//! Every wait is bounded: sockets have read timeouts, and each proxy
//! serves a fixed number of connections.

mod pki;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rfc6455::blocking::{self, ConnectOptions, Proxy, ProxyError};
use rfc6455::handshake::{Accept, ClientRequest};
use rfc6455::tokio as ws;
use rfc6455::{CloseCode, Config, Message};

use pki::Ca;

const LIMIT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// The proxy.

/// What the proxy saw.
#[derive(Default)]
struct Seen {
    /// Each request head, as received.
    requests: Vec<String>,
    /// Every byte relayed from client to server (capped at 16 MiB).
    relayed: Vec<u8>,
}

/// How the proxy decides.
#[derive(Clone)]
struct Rules {
    /// `user:password` required in `Proxy-Authorization: Basic`.
    credentials: Option<&'static str>,
    /// Ports the proxy refuses to tunnel to (403).
    forbidden_port: Option<u16>,
    /// Answer nothing at all.
    silent: bool,
}

const OPEN: Rules = Rules {
    credentials: None,
    forbidden_port: None,
    silent: false,
};

struct TestProxy {
    url: String,
    seen: Arc<Mutex<Seen>>,
}

impl TestProxy {
    /// Serves `connections` connections on a loopback port.
    fn start(rules: Rules, connections: usize) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = Arc::clone(&seen);
        thread::spawn(move || {
            for client in listener.incoming().take(connections) {
                let Ok(client) = client else { continue };
                let (rules, record) = (rules.clone(), Arc::clone(&record));
                thread::spawn(move || serve(client, &rules, &record));
            }
        });
        TestProxy { url, seen }
    }

    fn proxy(&self) -> Proxy {
        Proxy::new(&self.url).unwrap()
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().requests.clone()
    }

    fn relayed(&self) -> Vec<u8> {
        self.seen.lock().unwrap().relayed.clone()
    }
}

fn serve(mut client: TcpStream, rules: &Rules, seen: &Arc<Mutex<Seen>>) {
    client.set_read_timeout(Some(LIMIT)).unwrap();
    // The head, byte by byte up to its empty line (at most 8 KiB), so
    // nothing of the tunnel is read with it.
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    seen.lock().unwrap().requests.push(head.clone());
    if rules.silent {
        thread::sleep(Duration::from_secs(3));
        return;
    }
    let reply = |mut client: &TcpStream, status: &str, extra: &str| {
        let _ = write!(
            client,
            "HTTP/1.1 {status}\r\n{extra}Content-Length: 4\r\n\r\nnope"
        );
    };
    let mut lines = head.split("\r\n");
    let target = match lines.next().map(|l| l.split(' ').collect::<Vec<_>>()) {
        Some(parts) if parts.len() == 3 && parts[0] == "CONNECT" => parts[1].to_string(),
        _ => return reply(&client, "400 Bad Request", ""),
    };
    if let Some(credentials) = rules.credentials {
        let expected = STANDARD.encode(credentials);
        // Header name and scheme are case-insensitive, the token is not.
        let authorized = lines.any(|line| {
            let Some((name, value)) = line.split_once(':') else {
                return false;
            };
            let mut value = value.split_whitespace();
            name.eq_ignore_ascii_case("proxy-authorization")
                && value
                    .next()
                    .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
                && value.next() == Some(expected.as_str())
        });
        if !authorized {
            return reply(
                &client,
                "407 Proxy Authentication Required",
                "Proxy-Authenticate: Basic realm=\"test\"\r\n",
            );
        }
    }
    let port: Option<u16> = target.rsplit_once(':').and_then(|(_, p)| p.parse().ok());
    if port.is_none() || port == rules.forbidden_port {
        return reply(&client, "403 Forbidden", "");
    }
    // Loopback targets only, whatever the name says.
    let upstream = match TcpStream::connect(("127.0.0.1", port.unwrap())) {
        Ok(upstream) => upstream,
        Err(_) => return reply(&client, "502 Bad Gateway", ""),
    };
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .unwrap();
    let up = thread::spawn({
        let (from, to) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
        let seen = Arc::clone(seen);
        move || relay(from, to, Some(seen))
    });
    relay(upstream, client, None);
    let _ = up.join();
}

fn relay(mut from: TcpStream, mut to: TcpStream, record: Option<Arc<Mutex<Seen>>>) {
    from.set_read_timeout(Some(LIMIT)).unwrap();
    let mut buf = vec![0; 64 << 10];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if let Some(record) = &record {
                    let relayed = &mut record.lock().unwrap().relayed;
                    if relayed.len() < 16 << 20 {
                        relayed.extend_from_slice(&buf[..n]);
                    }
                }
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

// ---------------------------------------------------------------------------
// The servers behind it.

/// An echo server (plaintext, or TLS with `tls`) for `connections`
/// connections.
fn echo_server(tls: Option<Arc<rustls::ServerConfig>>, connections: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for tcp in listener.incoming().take(connections) {
            let Ok(tcp) = tcp else { continue };
            let tls = tls.clone();
            thread::spawn(move || {
                tcp.set_read_timeout(Some(LIMIT)).unwrap();
                match tls {
                    Some(tls) => {
                        let conn = rustls::ServerConnection::new(tls).unwrap();
                        echo(rustls::StreamOwned::new(conn, tcp));
                    }
                    None => echo(tcp),
                }
            });
        }
    });
    port
}

fn echo<S: Read + Write + 'static>(stream: S) {
    let accepted = blocking::accept_with_config(stream, Config::default(), |_| Ok(Accept::new()));
    if let Ok(mut socket) = accepted {
        while let Ok(message) = socket.read() {
            if socket.send(message).is_err() {
                break;
            }
        }
    }
}

const SECRET: &str = "a message that only the two ends may read";

fn exchange_blocking(url: &str, options: &ConnectOptions) -> Result<(), blocking::Error> {
    let request = ClientRequest::new(url).unwrap();
    let (mut socket, _) = blocking::connect_with_options(request, Config::default(), options)?;
    socket.get_ref().tcp().set_read_timeout(Some(LIMIT))?;
    socket.send_text(SECRET)?;
    assert_eq!(socket.read()?, Message::text(SECRET));
    socket.close(CloseCode::NORMAL, "")?;
    assert!(matches!(socket.read(), Err(blocking::Error::Closed(_))));
    Ok(())
}

fn exchange_tokio(url: &str, options: &ConnectOptions) -> Result<(), ws::Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let request = ClientRequest::new(url).unwrap();
        let (mut socket, _) = ws::connect_with_options(request, Config::default(), options).await?;
        socket.send(Message::text(SECRET)).await?;
        let echo = tokio::time::timeout(LIMIT, socket.read()).await.unwrap();
        assert_eq!(echo?, Message::text(SECRET));
        socket.close(CloseCode::NORMAL, "").await?;
        let end = tokio::time::timeout(LIMIT, socket.read()).await.unwrap();
        assert!(matches!(end, Err(ws::Error::Closed(_))));
        Ok(())
    })
}

/// Both adapters' `connect_with_options`, one after the other.
fn both(url: &str, options: &ConnectOptions) -> [Result<(), blocking::Error>; 2] {
    [
        exchange_blocking(url, options),
        exchange_tokio(url, options),
    ]
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn ws_through_the_tunnel() {
    let port = echo_server(None, 2);
    let proxy = TestProxy::start(OPEN, 2);
    let options = ConnectOptions::new().proxy(proxy.proxy());
    for result in both(&format!("ws://127.0.0.1:{port}/"), &options) {
        result.unwrap();
    }
    let requests = proxy.requests();
    assert_eq!(requests.len(), 2);
    for head in &requests {
        assert_eq!(
            head,
            &format!("CONNECT 127.0.0.1:{port} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
        );
    }
    // The WebSocket handshake went through the tunnel.
    let relayed = proxy.relayed();
    assert!(relayed.starts_with(b"GET / HTTP/1.1\r\n"));
}

#[test]
fn wss_inside_the_tunnel() {
    let ca = Ca::new("test CA");
    let port = echo_server(Some(ca.leaf(&["localhost"]).server_config()), 2);
    let proxy = TestProxy::start(OPEN, 2);
    let options = ConnectOptions::new()
        .proxy(proxy.proxy())
        .tls_config(ca.client_config());
    for result in both(&format!("wss://localhost:{port}/"), &options) {
        result.unwrap();
    }
    for head in proxy.requests() {
        assert!(head.starts_with(&format!("CONNECT localhost:{port} HTTP/1.1\r\n")));
    }
    // TLS runs end to end: the proxy relayed TLS records (a ClientHello
    // first), and never the WebSocket request or the message in clear.
    let relayed = proxy.relayed();
    assert_eq!(relayed.first(), Some(&0x16), "a TLS handshake record");
    let contains = |needle: &[u8]| relayed.windows(needle.len()).any(|w| w == needle);
    assert!(!contains(b"GET /") && !contains(SECRET.as_bytes()));
}

#[test]
fn basic_credentials() {
    let port = echo_server(None, 4);
    let rules = Rules {
        credentials: Some("alice:s3cret"),
        ..OPEN
    };
    let proxy = TestProxy::start(rules, 8);
    let url = format!("ws://127.0.0.1:{port}/");

    for result in both(&url, &ConnectOptions::new().proxy(proxy.proxy())) {
        match result {
            Err(blocking::Error::Proxy(ProxyError::Refused { status, headers })) => {
                assert_eq!(status, 407);
                assert_eq!(
                    headers.get_str("proxy-authenticate"),
                    Some("Basic realm=\"test\"")
                );
            }
            other => panic!("expected a 407 refusal, got {other:?}"),
        }
    }
    let wrong = ConnectOptions::new().proxy(proxy.proxy().basic_auth("alice", "guess"));
    for result in both(&url, &wrong) {
        assert!(matches!(
            result,
            Err(blocking::Error::Proxy(ProxyError::Refused {
                status: 407,
                ..
            }))
        ));
    }
    let right = ConnectOptions::new().proxy(proxy.proxy().basic_auth("alice", "s3cret"));
    for result in both(&url, &right) {
        result.unwrap();
    }
    // The same credentials in the proxy URL, percent-encoded.
    let in_url = proxy.url.replace("http://", "http://alice:s%33cret@");
    let options = ConnectOptions::new().proxy(Proxy::new(&in_url).unwrap());
    for result in both(&url, &options) {
        result.unwrap();
    }
}

#[test]
fn refusals_carry_the_status() {
    // 403: the proxy's rules forbid the port.
    let port = echo_server(None, 0);
    let rules = Rules {
        forbidden_port: Some(port),
        ..OPEN
    };
    let proxy = TestProxy::start(rules, 2);
    let options = ConnectOptions::new().proxy(proxy.proxy());
    for result in both(&format!("wss://localhost:{port}/"), &options) {
        assert!(
            matches!(
                result,
                Err(blocking::Error::Proxy(ProxyError::Refused {
                    status: 403,
                    ..
                }))
            ),
            "{result:?}"
        );
    }
    // 502: nothing listens where the tunnel should go.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let proxy = TestProxy::start(OPEN, 2);
    let options = ConnectOptions::new().proxy(proxy.proxy());
    for result in both(&format!("ws://127.0.0.1:{closed_port}/"), &options) {
        let error = result.unwrap_err();
        assert!(
            matches!(
                error,
                blocking::Error::Proxy(ProxyError::Refused { status: 502, .. })
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains("502"), "{error}");
    }
}

/// A proxy that never answers counts against the handshake timeout.
#[test]
fn silent_proxy_times_out() {
    let rules = Rules {
        silent: true,
        ..OPEN
    };
    let proxy = TestProxy::start(rules, 2);
    let options = ConnectOptions::new().proxy(proxy.proxy());
    let limit = Duration::from_millis(300);
    let config = Config::default().handshake_timeout(limit);
    let request = ClientRequest::new("ws://127.0.0.1:9/").unwrap();

    let started = Instant::now();
    let error = blocking::connect_with_options(request.clone(), config.clone(), &options)
        .map(drop)
        .unwrap_err();
    assert!(
        matches!(error, blocking::Error::HandshakeTimeout),
        "{error:?}"
    );
    assert!(started.elapsed() < limit + Duration::from_secs(2));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let error = rt
        .block_on(ws::connect_with_options(request, config, &options))
        .map(drop)
        .unwrap_err();
    assert!(matches!(error, ws::Error::HandshakeTimeout), "{error:?}");
    assert!(started.elapsed() < limit + Duration::from_secs(2));
}

/// The environment is read only when asked: this test runs the test
/// binary again, as a child, with `HTTP_PROXY` naming the proxy, and the
/// child checks that `proxy_from_env(true)` goes through it and the
/// default does not.
#[test]
fn proxy_from_the_environment_only_when_asked() {
    let port = echo_server(None, 2);
    let proxy = TestProxy::start(OPEN, 2);
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "environment_child",
            "--ignored",
            "--test-threads=1",
        ])
        .env("RFC6455_TEST_TARGET", format!("ws://127.0.0.1:{port}/"))
        .env("HTTP_PROXY", &proxy.url)
        .env_remove("http_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("1 passed"));
    // Two connections in the child, one through the proxy.
    assert_eq!(proxy.requests().len(), 1);
}

/// Run by `proxy_from_the_environment_only_when_asked`.
#[test]
#[ignore = "run as a child process by proxy_from_the_environment_only_when_asked"]
fn environment_child() {
    let url = std::env::var("RFC6455_TEST_TARGET").expect("run by the parent test");
    assert!(std::env::var("HTTP_PROXY").is_ok());
    exchange_blocking(&url, &ConnectOptions::new()).unwrap();
    exchange_tokio(&url, &ConnectOptions::new().proxy_from_env(true)).unwrap();
}
