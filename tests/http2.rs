//! WebSocket over HTTP/2 (RFC 8441), our client against our server
//! (`rfc6455::http2`) on loopback: over h2c and over TLS with ALPN `h2`
//! (certificates made by the test); many WebSockets on one connection
//! with one of them stalled; a stream reset mid-message; a server that does
//! not offer extended CONNECT (a named error, or by option a fallback to
//! HTTP/1.1); refusals on a stream.
//!
//! Every wait is bounded by `LIMIT`.

mod pki;

use std::sync::Arc;
use std::time::Duration;

use rfc6455::handshake::{Accept, ClientRequest, HandshakeError, StreamEnd};
use rfc6455::http2::{self, Error as H2Error, Http2Client, Http2OrHttp1};
use rfc6455::tokio::Error;
use rfc6455::{CloseCode, Config, Message};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

use pki::Ca;

const LIMIT: Duration = Duration::from_secs(20);

fn url(path: &str) -> ClientRequest {
    ClientRequest::new(&format!("ws://localhost{path}")).unwrap()
}

/// An h2c echo server for one connection at a time; each WebSocket's end
/// (the error its last read gave) goes to the channel.
async fn echo_server(listener: TcpListener, ends: mpsc::UnboundedSender<String>) {
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            return;
        };
        let _ = tcp.set_nodelay(true);
        let ends = ends.clone();
        tokio::spawn(async move {
            let _ = http2::serve(
                tcp,
                Config::default(),
                |request| match request.path() {
                    "/forbidden" => Err(HandshakeError::Rejected { status: 403 }.into()),
                    _ => Ok(Accept::new().preferring(["chat"])),
                },
                move |_request, mut socket| {
                    let ends = ends.clone();
                    async move {
                        let end = loop {
                            match socket.read().await {
                                Ok(message) => {
                                    if socket.send(message).await.is_err() {
                                        break "send failed".to_string();
                                    }
                                }
                                Err(e) => break end_name(&e),
                            }
                        };
                        let _ = ends.send(end);
                    }
                },
            )
            .await;
        });
    }
}

fn end_name(error: &Error) -> String {
    match error {
        Error::Closed(frame) => format!("closed {}", u16::from(frame.code)),
        Error::AbnormalClose => "abnormal".into(),
        other => format!("other: {other}"),
    }
}

async fn h2c() -> (Http2Client, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(echo_server(listener, tx));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    (Http2Client::handshake(tcp).await.unwrap(), rx)
}

async fn round_trip<S>(socket: &mut rfc6455::tokio::WebSocket<S>, n: usize)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for i in 0..n {
        let text = format!("message {i}");
        socket.send_text(&text).await.unwrap();
        assert_eq!(socket.read().await.unwrap(), Message::text(text));
    }
}

#[tokio::test]
async fn client_and_server_over_h2c() {
    timeout(LIMIT, async {
        let (client, mut ends) = h2c().await;
        let (mut socket, response) = client
            .connect(url("/chat").subprotocol("chat"), &Config::default())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.subprotocol(), Some("chat"));
        assert_eq!(socket.subprotocol(), Some("chat"));
        round_trip(&mut socket, 5).await;
        socket.send_binary(&[7; 70_000]).await.unwrap();
        assert_eq!(
            socket.read().await.unwrap(),
            Message::binary(vec![7; 70_000])
        );
        socket.close(CloseCode::NORMAL, "bye").await.unwrap();
        assert!(matches!(socket.read().await, Err(Error::Closed(_))));
        assert_eq!(ends.recv().await.unwrap(), "closed 1000");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn deflate_is_negotiated_as_on_http_1_1() {
    timeout(LIMIT, async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let deflate = Config::default().deflate(rfc6455::deflate::DeflateConfig::default());
        let server_config = deflate.clone();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let _ = http2::serve(
                tcp,
                server_config,
                |_| Ok(Accept::new()),
                |_, mut socket| async move {
                    while let Ok(m) = socket.read().await {
                        let _ = socket.send(m).await;
                    }
                },
            )
            .await;
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let client = Http2Client::handshake(tcp).await.unwrap();
        let (mut socket, response) = client.connect(url("/"), &deflate).await.unwrap();
        assert_eq!(response.extensions()[0].name, "permessage-deflate");
        round_trip(&mut socket, 3).await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_refusal_is_a_status_on_its_stream_and_the_connection_lives_on() {
    timeout(LIMIT, async {
        let (client, _ends) = h2c().await;
        let refused = client.connect(url("/forbidden"), &Config::default()).await;
        match refused {
            Err(H2Error::Handshake(HandshakeError::UnexpectedStatus { status, .. })) => {
                assert_eq!(status, 403)
            }
            other => panic!("not a 403: {other:?}"),
        }
        let (mut socket, _) = client
            .connect(url("/ok"), &Config::default())
            .await
            .unwrap();
        round_trip(&mut socket, 2).await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn many_websockets_on_one_connection_and_a_stalled_one_blocks_no_other() {
    timeout(LIMIT, async {
        let (client, _ends) = h2c().await;
        let (mut stalled, _) = client
            .connect(url("/slow"), &Config::default())
            .await
            .unwrap();
        // The stalled WebSocket sends far more than the stream windows hold
        // (65,535 bytes each way by default) and never reads its echoes.
        let flood = tokio::spawn(async move {
            for _ in 0..64 {
                if stalled.send_binary(&[1; 16_384]).await.is_err() {
                    break;
                }
            }
            stalled
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!flood.is_finished(), "flow control should stall the sender");
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let (mut socket, _) = client
                    .connect(url("/fast"), &Config::default())
                    .await
                    .unwrap();
                round_trip(&mut socket, 20).await;
                socket.close(CloseCode::NORMAL, "").await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        flood.abort();
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_stream_reset_mid_message_ends_that_websocket_with_1006_only() {
    timeout(LIMIT, async {
        let (client, mut ends) = h2c().await;
        let (mut other, _) = client
            .connect(url("/other"), &Config::default())
            .await
            .unwrap();
        let (mut doomed, _) = client
            .connect(url("/doomed"), &Config::default())
            .await
            .unwrap();
        round_trip(&mut doomed, 1).await;
        // The first fragment of a message, then RST_STREAM.
        doomed
            .send_fragment(rfc6455::MessageKind::Text, b"half a mes", false)
            .await
            .unwrap();
        doomed.flush().await.unwrap();
        doomed.get_mut().end(StreamEnd::Reset);
        assert_eq!(ends.recv().await.unwrap(), "abnormal");
        // The connection and the other stream carry on.
        round_trip(&mut other, 3).await;
        let (mut fresh, _) = client
            .connect(url("/fresh"), &Config::default())
            .await
            .unwrap();
        round_trip(&mut fresh, 3).await;
    })
    .await
    .unwrap();
}

/// A connection to a plain HTTP/2 server, one that sends no
/// SETTINGS_ENABLE_CONNECT_PROTOCOL.
async fn plain_h2_server() -> TcpStream {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut conn = h2::server::handshake(tcp).await.unwrap();
        while let Some(Ok(_)) = conn.accept().await {}
    });
    TcpStream::connect(("127.0.0.1", port)).await.unwrap()
}

#[tokio::test]
async fn a_server_without_extended_connect_is_named() {
    timeout(LIMIT, async {
        let tcp = plain_h2_server().await;
        match Http2Client::handshake(tcp).await {
            Err(H2Error::Handshake(HandshakeError::ExtendedConnectNotOffered)) => {}
            other => panic!("not ExtendedConnectNotOffered: {other:?}"),
        }
    })
    .await
    .unwrap();
}

/// By option, the client falls back: the same server without extended
/// CONNECT, and the WebSocket is opened with an HTTP/1.1 upgrade on the
/// connection `dial` makes; with extended CONNECT on offer, `dial` is never
/// called and the WebSocket rides the HTTP/2 connection.
#[tokio::test]
async fn without_extended_connect_the_client_falls_back_to_http_1_1_by_option() {
    timeout(LIMIT, async {
        let http1 = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http1_port = http1.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = http1.accept().await.unwrap();
            let mut ws = rfc6455::tokio::accept(tcp).await.unwrap();
            while let Ok(message) = ws.read().await {
                ws.send(message).await.unwrap();
            }
        });
        let tcp = plain_h2_server().await;
        let dial = || TcpStream::connect(("127.0.0.1", http1_port));
        let mut opened = http2::connect_or_fall_back(tcp, url("/chat"), &Config::default(), dial)
            .await
            .unwrap();
        assert!(opened.client.is_none());
        assert_eq!(opened.response.status(), 101);
        assert!(matches!(opened.socket.get_ref(), Http2OrHttp1::Http1(_)));
        round_trip(&mut opened.socket, 3).await;

        // Offered: no fallback, and the connection carries more WebSockets.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (ends, _) = mpsc::unbounded_channel();
        tokio::spawn(echo_server(listener, ends));
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let never = || async { panic!("no fallback when extended CONNECT is offered") };
        let mut opened: http2::Opened<TcpStream> =
            http2::connect_or_fall_back(tcp, url("/chat"), &Config::default(), never)
                .await
                .unwrap();
        assert_eq!(opened.response.status(), 200);
        assert!(matches!(opened.socket.get_ref(), Http2OrHttp1::Http2(_)));
        round_trip(&mut opened.socket, 3).await;
        let client = opened.client.expect("the HTTP/2 connection");
        let (mut second, _) = client
            .connect(url("/chat"), &Config::default())
            .await
            .unwrap();
        round_trip(&mut second, 3).await;
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn client_and_server_over_tls_with_alpn_h2() {
    timeout(LIMIT, async {
        let ca = Ca::new("http2 test CA");
        let leaf = ca.leaf(&["localhost"]);
        let mut server_tls = (*leaf.server_config()).clone();
        server_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_tls));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let tls = acceptor.accept(tcp).await.unwrap();
            assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
            let _ = http2::serve(
                tls,
                Config::default(),
                |_| Ok(Accept::new()),
                |_, mut socket| async move {
                    while let Ok(m) = socket.read().await {
                        let _ = socket.send(m).await;
                    }
                },
            )
            .await;
        });
        let mut client_tls = (*ca.client_config()).clone();
        client_tls.alpn_protocols = vec![b"h2".to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_tls));
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        let client = Http2Client::handshake(tls).await.unwrap();
        let request = ClientRequest::new("wss://localhost/tls").unwrap();
        let (mut a, _) = client
            .connect(request.clone(), &Config::default())
            .await
            .unwrap();
        let (mut b, _) = client.connect(request, &Config::default()).await.unwrap();
        round_trip(&mut a, 3).await;
        round_trip(&mut b, 3).await;
        assert_ne!(a.get_ref().stream_id(), b.get_ref().stream_id());
    })
    .await
    .unwrap();
}

/// The axum extractor on a hyper HTTP/2 server with extended CONNECT: the
/// same `WebSocketUpgrade` as on HTTP/1.1 takes the CONNECT stream.
#[tokio::test]
async fn the_axum_extractor_accepts_an_extended_connect() {
    use axum::routing::any;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::service::TowerToHyperService;
    use rfc6455::axum::WebSocketUpgrade;

    timeout(LIMIT, async {
        let router = axum::Router::new().route(
            "/ws",
            any(|version: http::Version, ws: WebSocketUpgrade| async move {
                assert_eq!(version, http::Version::HTTP_2);
                ws.on_upgrade(|mut socket| async move {
                    while let Ok(m) = socket.read().await {
                        let _ = socket.send(m).await;
                    }
                })
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
            builder.enable_connect_protocol();
            let _ = builder
                .serve_connection(TokioIo::new(tcp), TowerToHyperService::new(router))
                .await;
        });
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let client = Http2Client::handshake(tcp).await.unwrap();
        let (mut a, response) = client
            .connect(url("/ws"), &Config::default())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let (mut b, _) = client
            .connect(url("/ws"), &Config::default())
            .await
            .unwrap();
        round_trip(&mut a, 3).await;
        round_trip(&mut b, 3).await;
        // A third one while the others are open: each on its own stream.
        let (mut c, _) = client
            .connect(url("/ws"), &Config::default())
            .await
            .unwrap();
        round_trip(&mut c, 1).await;
    })
    .await
    .unwrap();
}
