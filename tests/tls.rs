//! `wss://`: TLS with rustls, over loopback, with certificates the tests
//! make (tests/pki). Round trips for both adapters in both roles, and
//! across adapters; IP addresses as host names; the handshake over a TLS
//! stream the caller opened; the failures that must be prompt and named
//! (a certificate that does not verify, a wrong host name, plaintext on
//! the TLS port, TLS on the plaintext port, a silent peer); and
//! interoperability over TLS with Python's `websockets` and its `ssl`
//! module, as server and as client, with and without compression.
//!
//! Every wait is bounded: by the handshake timeout, by `LIMIT`, or by the
//! peer's own lifetime.

mod pki;
mod python;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::blocking;
use rfc6455::deflate::DeflateConfig;
use rfc6455::handshake::{Accept, ClientRequest, HandshakeError};
use rfc6455::tokio as ws;
use rfc6455::{CloseCode, Config, Message};

use pki::{Ca, Leaf, temp_dir};
use python::{LIMIT, Peer};

/// The names every test server certificate carries.
const NAMES: &[&str] = &["localhost", "127.0.0.1", "::1"];

fn messages() -> Vec<Message> {
    vec![
        Message::text("hello over TLS"),
        Message::binary(vec![1, 2, 3]),
        Message::text("x".repeat(100_000)),
        Message::binary((0..=255u8).cycle().take(300_000).collect::<Vec<_>>()),
    ]
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn options(ca: &Ca) -> blocking::ConnectOptions {
    blocking::ConnectOptions::new().tls_config(ca.client_config())
}

fn with_timeout(timeout: Duration) -> Config {
    Config::default().handshake_timeout(timeout)
}

// ---------------------------------------------------------------------------
// Our servers, each serving one connection and reporting how it ended.

type Outcome = Result<(), blocking::Error>;

/// A tokio TLS echo server (`accept_tls_with_config`) for one connection.
fn tokio_server(
    rt: &tokio::runtime::Runtime,
    addr: &str,
    tls: Arc<rustls::ServerConfig>,
    config: Config,
) -> (u16, tokio::task::JoinHandle<Outcome>) {
    let listener = rt.block_on(tokio::net::TcpListener::bind(addr)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = rt.spawn(async move {
        let (tcp, _) = tokio::time::timeout(LIMIT, listener.accept())
            .await
            .expect("a client connects")?;
        let mut socket =
            ws::accept_tls_with_config(tcp, tls, config, |_| Ok(Accept::new())).await?;
        loop {
            match tokio::time::timeout(LIMIT, socket.read())
                .await
                .expect("a message")
            {
                Ok(message) => socket.send(message).await?,
                Err(ws::Error::Closed(_)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    });
    (port, task)
}

/// A blocking TLS echo server (rustls `StreamOwned` + `accept_with_config`)
/// for one connection.
fn blocking_server(
    addr: &str,
    tls: Arc<rustls::ServerConfig>,
    config: Config,
) -> (u16, thread::JoinHandle<Outcome>) {
    let listener = TcpListener::bind(addr).unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (tcp, _) = accept_within(&listener);
        let conn = rustls::ServerConnection::new(tls).unwrap();
        let stream = rustls::StreamOwned::new(conn, tcp);
        let mut socket = blocking::accept_with_config(stream, config, |_| Ok(Accept::new()))?;
        socket.get_ref().sock.set_read_timeout(Some(LIMIT))?;
        loop {
            match socket.read() {
                Ok(message) => socket.send(message)?,
                Err(blocking::Error::Closed(_)) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    });
    (port, handle)
}

/// A plaintext server (no TLS) for one connection.
fn plaintext_server(config: Config) -> (u16, thread::JoinHandle<Outcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = thread::spawn(move || {
        let (tcp, _) = accept_within(&listener);
        blocking::accept_with_config(tcp, config, |_| Ok(Accept::new())).map(drop)
    });
    (port, handle)
}

// ---------------------------------------------------------------------------
// Our clients: send every message, check its echo, close.

async fn exchange_tokio<S>(socket: &mut ws::WebSocket<S>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for sent in messages() {
        socket.send(sent.clone()).await.unwrap();
        let echo = tokio::time::timeout(LIMIT, socket.read()).await.unwrap();
        assert_eq!(echo.unwrap(), sent);
    }
    socket.close(CloseCode::NORMAL, "done").await.unwrap();
    match tokio::time::timeout(LIMIT, socket.read()).await.unwrap() {
        Err(ws::Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the closing handshake, got {other:?}"),
    }
}

fn exchange_blocking<S: std::io::Read + std::io::Write>(socket: &mut blocking::WebSocket<S>) {
    for sent in messages() {
        socket.send(sent.clone()).unwrap();
        assert_eq!(socket.read().unwrap(), sent);
    }
    socket.close(CloseCode::NORMAL, "done").unwrap();
    match socket.read() {
        Err(blocking::Error::Closed(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("expected the closing handshake, got {other:?}"),
    }
}

fn connect_tokio(
    rt: &tokio::runtime::Runtime,
    url: &str,
    config: Config,
    ca: &Ca,
) -> Result<
    (
        ws::WebSocket<ws::MaybeTlsStream>,
        rfc6455::handshake::Response,
    ),
    ws::Error,
> {
    rt.block_on(ws::connect_with_options(
        ClientRequest::new(url).unwrap(),
        config,
        &options(ca),
    ))
}

fn connect_blocking(
    url: &str,
    config: Config,
    ca: &Ca,
) -> Result<
    (
        blocking::WebSocket<blocking::MaybeTlsStream>,
        rfc6455::handshake::Response,
    ),
    blocking::Error,
> {
    let connected =
        blocking::connect_with_options(ClientRequest::new(url).unwrap(), config, &options(ca))?;
    connected.0.get_ref().tcp().set_read_timeout(Some(LIMIT))?;
    Ok(connected)
}

// ---------------------------------------------------------------------------
// Round trips.

#[test]
fn tokio_client_tokio_server() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let tls = ca.leaf(NAMES).server_config();
    let (port, server) = tokio_server(&rt, "127.0.0.1:0", tls, Config::default());
    let url = format!("wss://localhost:{port}/chat");
    let (mut socket, _) = connect_tokio(&rt, &url, Config::default(), &ca).unwrap();
    rt.block_on(exchange_tokio(&mut socket));
    rt.block_on(server).unwrap().unwrap();
}

#[test]
fn blocking_client_blocking_server() {
    let ca = Ca::new("test CA");
    let tls = ca.leaf(NAMES).server_config();
    let (port, server) = blocking_server("127.0.0.1:0", tls, Config::default());
    let url = format!("wss://localhost:{port}/chat");
    let (mut socket, _) = connect_blocking(&url, Config::default(), &ca).unwrap();
    assert!(socket.get_ref().is_tls());
    exchange_blocking(&mut socket);
    server.join().unwrap().unwrap();
}

#[test]
fn tokio_client_blocking_server_with_deflate() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let deflate = Config::default().deflate(DeflateConfig::default());
    let tls = ca.leaf(NAMES).server_config();
    let (port, server) = blocking_server("127.0.0.1:0", tls, deflate.clone());
    let url = format!("wss://localhost:{port}/");
    let (mut socket, response) = connect_tokio(&rt, &url, deflate, &ca).unwrap();
    assert_eq!(response.extensions()[0].name, "permessage-deflate");
    rt.block_on(exchange_tokio(&mut socket));
    server.join().unwrap().unwrap();
}

#[test]
fn blocking_client_tokio_server_with_deflate() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let deflate = Config::default().deflate(DeflateConfig::default());
    let tls = ca.leaf(NAMES).server_config();
    let (port, server) = tokio_server(&rt, "127.0.0.1:0", tls, deflate.clone());
    let url = format!("wss://localhost:{port}/");
    let (mut socket, response) = connect_blocking(&url, deflate, &ca).unwrap();
    assert_eq!(response.extensions()[0].name, "permessage-deflate");
    exchange_blocking(&mut socket);
    rt.block_on(server).unwrap().unwrap();
}

/// The URL's host may be an IP address: no SNI is sent, and the
/// certificate's IP address entries are checked.
#[test]
fn ip_address_hosts() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let tls = ca.leaf(NAMES).server_config();
    let (port, server) = tokio_server(&rt, "127.0.0.1:0", Arc::clone(&tls), Config::default());
    let (mut socket, _) =
        connect_blocking(&format!("wss://127.0.0.1:{port}/"), Config::default(), &ca).unwrap();
    exchange_blocking(&mut socket);
    rt.block_on(server).unwrap().unwrap();

    let (port, server) = blocking_server("[::1]:0", tls, Config::default());
    let (mut socket, _) =
        connect_tokio(&rt, &format!("wss://[::1]:{port}/"), Config::default(), &ca).unwrap();
    rt.block_on(exchange_tokio(&mut socket));
    server.join().unwrap().unwrap();
}

/// The server name (SNI) the server sees is the URL's host; with an IP
/// address, none is sent (RFC 6066 §3).
#[test]
fn sni_is_the_url_host() {
    let ca = Ca::new("test CA");
    let tls = ca.leaf(NAMES).server_config();
    for (host, expected) in [("localhost", Some("localhost")), ("127.0.0.1", None)] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tls = Arc::clone(&tls);
        let server = thread::spawn(move || {
            let (tcp, _) = accept_within(&listener);
            let stream = rustls::StreamOwned::new(rustls::ServerConnection::new(tls).unwrap(), tcp);
            let ws = blocking::accept(stream).unwrap();
            ws.get_ref().conn.server_name().map(str::to_owned)
        });
        let url = format!("wss://{host}:{port}/");
        let connected = connect_blocking(&url, Config::default(), &ca).unwrap();
        assert_eq!(server.join().unwrap().as_deref(), expected, "{url}");
        drop(connected);
    }
}

/// Without a `ClientConfig`, `connect` trusts the default roots (here
/// Mozilla's, and the platform's with `--all-features`), which do not
/// include the test's CA.
#[test]
fn default_roots_do_not_trust_a_private_ca() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let tls = ca.leaf(NAMES).server_config();
    let (port, server) = tokio_server(&rt, "127.0.0.1:0", tls, Config::default());
    let error = blocking::connect(&format!("wss://localhost:{port}/"))
        .map(drop)
        .unwrap_err();
    assert_eq!(tls_kind(&error), blocking::TlsFailure::BadCertificate);
    assert!(rt.block_on(server).unwrap().is_err());
}

/// `client` over a TLS stream the caller opened, on both adapters.
#[test]
fn client_over_a_callers_tls_stream() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let tls = ca.leaf(NAMES).server_config();
    let server_name = rustls::pki_types::ServerName::try_from("localhost").unwrap();

    let (port, server) = blocking_server("127.0.0.1:0", Arc::clone(&tls), Config::default());
    rt.block_on(async {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        let connector = tokio_rustls::TlsConnector::from(ca.client_config());
        let stream = connector.connect(server_name.clone(), tcp).await.unwrap();
        let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
        let (mut socket, response) = ws::client(stream, request).await.unwrap();
        assert_eq!(response.status(), 101);
        exchange_tokio(&mut socket).await;
    });
    server.join().unwrap().unwrap();

    let (port, server) = tokio_server(&rt, "127.0.0.1:0", tls, Config::default());
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(LIMIT)).unwrap();
    let conn = rustls::ClientConnection::new(ca.client_config(), server_name).unwrap();
    let stream = rustls::StreamOwned::new(conn, tcp);
    let request = ClientRequest::new(&format!("wss://localhost:{port}/")).unwrap();
    let (mut socket, _) = blocking::client(stream, request).unwrap();
    exchange_blocking(&mut socket);
    rt.block_on(server).unwrap().unwrap();
}

// ---------------------------------------------------------------------------
// Failures: prompt (well within the handshake timeout) and named.

const PROMPT: Duration = Duration::from_secs(10);

/// Checks that a failure came before the handshake timeout.
fn prompt<T>(started: Instant, result: T) -> T {
    let took = started.elapsed();
    assert!(took < PROMPT, "took {took:?}, the whole handshake timeout");
    result
}

fn tls_kind(error: &blocking::Error) -> blocking::TlsFailure {
    match error {
        blocking::Error::Tls { kind, source } => {
            let _: &(dyn std::error::Error + Send + Sync) = &**source;
            *kind
        }
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

/// The certificate's source: the rustls error.
fn rustls_cause(error: &blocking::Error) -> &rustls::Error {
    match error {
        blocking::Error::Tls { source, .. } => source
            .downcast_ref::<rustls::Error>()
            .expect("the rustls error as the source"),
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[test]
fn certificate_from_an_untrusted_ca() {
    let (ca, other, rt) = (Ca::new("test CA"), Ca::new("another CA"), runtime());
    let tls = ca.leaf(NAMES).server_config();
    let config = with_timeout(PROMPT);

    let (port, server) = tokio_server(&rt, "127.0.0.1:0", Arc::clone(&tls), config.clone());
    let started = Instant::now();
    let error = connect_blocking(&format!("wss://localhost:{port}/"), config.clone(), &other)
        .map(drop)
        .unwrap_err();
    prompt(started, ());
    assert_eq!(tls_kind(&error), blocking::TlsFailure::BadCertificate);
    assert!(matches!(
        rustls_cause(&error),
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
    ));
    // Our client's alert tells the server why.
    let server_error = rt.block_on(server).unwrap().unwrap_err();
    assert_eq!(tls_kind(&server_error), blocking::TlsFailure::AlertReceived);

    let (port, server) = blocking_server("127.0.0.1:0", tls, config.clone());
    let started = Instant::now();
    let error = connect_tokio(&rt, &format!("wss://localhost:{port}/"), config, &other)
        .map(drop)
        .unwrap_err();
    prompt(started, ());
    assert_eq!(tls_kind(&error), blocking::TlsFailure::BadCertificate);
    assert!(
        error.to_string().contains("certificate does not verify"),
        "{error}"
    );
    let server_error = server.join().unwrap().unwrap_err();
    assert_eq!(tls_kind(&server_error), blocking::TlsFailure::AlertReceived);
}

#[test]
fn certificate_for_another_host() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let tls = ca.leaf(&["elsewhere.example"]).server_config();
    let config = with_timeout(PROMPT);
    for host in ["localhost", "127.0.0.1"] {
        let (port, server) = tokio_server(&rt, "127.0.0.1:0", Arc::clone(&tls), config.clone());
        let url = format!("wss://{host}:{port}/");
        let started = Instant::now();
        let error = connect_tokio(&rt, &url, config.clone(), &ca)
            .map(drop)
            .unwrap_err();
        prompt(started, ());
        assert_eq!(
            tls_kind(&error),
            blocking::TlsFailure::WrongHostName,
            "{url}"
        );
        assert!(matches!(
            rustls_cause(&error),
            rustls::Error::InvalidCertificate(
                rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. }
            )
        ));
        assert!(rt.block_on(server).unwrap().is_err());

        let (port, server) = blocking_server("127.0.0.1:0", Arc::clone(&tls), config.clone());
        let url = format!("wss://{host}:{port}/");
        let started = Instant::now();
        let error = connect_blocking(&url, config.clone(), &ca)
            .map(drop)
            .unwrap_err();
        prompt(started, ());
        assert_eq!(
            tls_kind(&error),
            blocking::TlsFailure::WrongHostName,
            "{url}"
        );
        assert!(server.join().unwrap().is_err());
    }
}

/// A `ws://` client on a TLS port: the server's TLS refuses the request
/// (`NotTls`) and answers with an alert, which the client recognises at
/// its first byte (`HandshakeError::TlsRecord`).
#[test]
fn plaintext_client_on_the_tls_port() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let tls = ca.leaf(NAMES).server_config();
    let config = with_timeout(PROMPT);

    let (port, server) = tokio_server(&rt, "127.0.0.1:0", Arc::clone(&tls), config.clone());
    let started = Instant::now();
    let error = connect_blocking(&format!("ws://localhost:{port}/"), config.clone(), &ca)
        .map(drop)
        .unwrap_err();
    prompt(started, ());
    assert!(
        matches!(error, blocking::Error::Handshake(HandshakeError::TlsRecord)),
        "{error:?}"
    );
    let server_error = rt.block_on(server).unwrap().unwrap_err();
    assert_eq!(tls_kind(&server_error), blocking::TlsFailure::NotTls);

    let (port, server) = blocking_server("127.0.0.1:0", tls, config.clone());
    let started = Instant::now();
    let error = connect_tokio(&rt, &format!("ws://localhost:{port}/"), config, &ca)
        .map(drop)
        .unwrap_err();
    prompt(started, ());
    assert!(
        matches!(error, ws::Error::Handshake(HandshakeError::TlsRecord)),
        "{error:?}"
    );
    let server_error = server.join().unwrap().unwrap_err();
    assert_eq!(tls_kind(&server_error), blocking::TlsFailure::NotTls);
}

/// A `wss://` client on a plaintext port: the server sees a TLS record
/// where a request should start and answers 400 in plaintext, which the
/// client's TLS refuses (`NotTls`).
#[test]
fn tls_client_on_the_plaintext_port() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let config = with_timeout(PROMPT);
    for tokio_client in [false, true] {
        let (port, server) = plaintext_server(config.clone());
        let url = format!("wss://localhost:{port}/");
        let started = Instant::now();
        let error = if tokio_client {
            connect_tokio(&rt, &url, config.clone(), &ca).map(drop)
        } else {
            connect_blocking(&url, config.clone(), &ca).map(drop)
        }
        .unwrap_err();
        prompt(started, ());
        assert_eq!(tls_kind(&error), blocking::TlsFailure::NotTls, "{error:?}");
        assert!(
            matches!(
                server.join().unwrap(),
                Err(blocking::Error::Handshake(HandshakeError::TlsRecord))
            ),
            "the server names the cause"
        );
    }
}

/// The TLS handshake counts against the handshake timeout: a server that
/// accepts the connection and never answers the ClientHello.
#[test]
fn silent_server_times_out() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let limit = Duration::from_millis(300);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("wss://localhost:{port}/");
    let holder = thread::spawn(move || {
        // Holds both connections open, saying nothing.
        let held: Vec<TcpStream> = listener.incoming().take(2).map(Result::unwrap).collect();
        thread::sleep(Duration::from_secs(3));
        drop(held);
    });
    for tokio_client in [false, true] {
        let started = Instant::now();
        let error = if tokio_client {
            connect_tokio(&rt, &url, with_timeout(limit), &ca).map(drop)
        } else {
            connect_blocking(&url, with_timeout(limit), &ca).map(drop)
        }
        .unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(error, blocking::Error::HandshakeTimeout),
            "{error:?}"
        );
        assert!(
            took >= limit && took < limit + Duration::from_secs(2),
            "{took:?}"
        );
    }
    holder.join().unwrap();
}

/// And on a server: a client that connects and never sends its
/// ClientHello is dropped at the handshake timeout.
#[test]
fn silent_client_times_out() {
    let (ca, rt) = (Ca::new("test CA"), runtime());
    let limit = Duration::from_millis(300);
    let tls = ca.leaf(NAMES).server_config();
    let (port, server) = tokio_server(&rt, "127.0.0.1:0", Arc::clone(&tls), with_timeout(limit));
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let error = rt.block_on(server).unwrap().unwrap_err();
    assert!(
        matches!(error, blocking::Error::HandshakeTimeout),
        "{error:?}"
    );
    assert!(started.elapsed() < limit + Duration::from_secs(2));
    drop(silent);

    let (port, server) = blocking_server("127.0.0.1:0", tls, with_timeout(limit));
    let silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let error = server.join().unwrap().unwrap_err();
    assert!(
        matches!(error, blocking::Error::HandshakeTimeout),
        "{error:?}"
    );
    assert!(started.elapsed() < limit + Duration::from_secs(2));
    drop(silent);
}

// ---------------------------------------------------------------------------
// Interoperability over TLS with Python's websockets (and its ssl module).

/// The test CA and a server certificate, as PEM files for Python.
struct Files {
    ca: Ca,
    leaf: Leaf,
    dir: std::path::PathBuf,
}

impl Files {
    fn new() -> Files {
        let ca = Ca::new("test CA");
        let leaf = ca.leaf(NAMES);
        let dir = temp_dir("tls-interop");
        std::fs::write(dir.join("ca.pem"), &ca.pem).unwrap();
        std::fs::write(dir.join("cert.pem"), &leaf.cert_pem).unwrap();
        std::fs::write(dir.join("key.pem"), &leaf.key_pem).unwrap();
        Files { ca, leaf, dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// websockets' TLS server, our client.
fn their_server(tokio_client: bool, deflate: bool) {
    let files = Files::new();
    let theirs = if deflate { "{}" } else { "null" };
    let peer = Peer::spawn(&[
        "server",
        theirs,
        &files.path("cert.pem"),
        &files.path("key.pem"),
    ]);
    let port: u16 = peer.expect("listening").parse().unwrap();
    let url = format!("wss://localhost:{port}/");
    let config = if deflate {
        Config::default().deflate(DeflateConfig::default())
    } else {
        Config::default()
    };
    let response = if tokio_client {
        let rt = runtime();
        let (mut socket, response) = connect_tokio(&rt, &url, config, &files.ca).unwrap();
        rt.block_on(exchange_tokio(&mut socket));
        response
    } else {
        let (mut socket, response) = connect_blocking(&url, config, &files.ca).unwrap();
        exchange_blocking(&mut socket);
        response
    };
    peer.expect("request-extensions");
    peer.expect("response-extensions");
    let open = peer.expect("open");
    let closed = peer.expect("closed");
    assert_eq!(
        (deflate, open.starts_with("permessage-deflate")),
        (deflate, deflate),
        "{open}"
    );
    assert_eq!(response.extensions().len(), usize::from(deflate));
    assert!(
        closed.starts_with(&format!("code=1000 messages={}", messages().len())),
        "{closed}"
    );
}

/// websockets' TLS client (trusting the test CA), our server: our server
/// sends, the client echoes.
fn their_client(tokio_server: bool, deflate: bool) {
    let files = Files::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("wss://localhost:{}/", listener.local_addr().unwrap().port());
    let theirs = if deflate { "{}" } else { "null" };
    let mut peer = Peer::spawn(&["client", &url, theirs, &files.path("ca.pem")]);
    let config = if deflate {
        Config::default().deflate(DeflateConfig::default())
    } else {
        Config::default()
    };
    let tls = files.leaf.server_config();
    let (tcp, _) = accept_within(&listener);
    if tokio_server {
        let rt = runtime();
        rt.block_on(async {
            tcp.set_nonblocking(true).unwrap();
            let tcp = tokio::net::TcpStream::from_std(tcp).unwrap();
            let mut socket = ws::accept_tls_with_config(tcp, tls, config, |_| Ok(Accept::new()))
                .await
                .unwrap();
            exchange_tokio(&mut socket).await;
        });
    } else {
        tcp.set_read_timeout(Some(LIMIT)).unwrap();
        let stream = rustls::StreamOwned::new(rustls::ServerConnection::new(tls).unwrap(), tcp);
        let mut socket =
            blocking::accept_with_config(stream, config, |_| Ok(Accept::new())).unwrap();
        exchange_blocking(&mut socket);
    }
    peer.expect("request-extensions");
    peer.expect("response-extensions");
    let open = peer.expect("open");
    assert_eq!(open.starts_with("permessage-deflate"), deflate, "{open}");
    let closed = peer.expect("closed");
    assert!(
        closed.starts_with(&format!("code=1000 messages={}", messages().len())),
        "{closed}"
    );
    let status = peer.wait();
    assert!(status.success(), "ws_peer.py client: {status}");
}

/// Accepts one connection within `LIMIT`.
fn accept_within(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + LIMIT;
    loop {
        match listener.accept() {
            Ok((stream, addr)) => {
                stream.set_nonblocking(false).unwrap();
                return (stream, addr);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("no client connected: {e}"),
        }
    }
}

#[test]
fn their_tls_server_tokio() {
    their_server(true, false);
}

#[test]
fn their_tls_server_tokio_deflate() {
    their_server(true, true);
}

#[test]
fn their_tls_server_blocking_deflate() {
    their_server(false, true);
}

#[test]
fn their_tls_client_tokio() {
    their_client(true, false);
}

#[test]
fn their_tls_client_tokio_deflate() {
    their_client(true, true);
}

#[test]
fn their_tls_client_blocking() {
    their_client(false, false);
}

#[test]
fn their_tls_client_blocking_deflate() {
    their_client(false, true);
}
