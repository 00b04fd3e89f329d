//! `connect` follows redirects (301, 302, 303, 307, 308 with a `Location`)
//! on a new connection each, as far as `Config::max_redirects` allows, on
//! both adapters.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use rfc6455::handshake::{Accept, ClientRequest, HandshakeError};
use rfc6455::{Config, Message, blocking};

const LIMIT: Duration = Duration::from_secs(30);

/// A server that answers every request with `status` and `location`;
/// returns its port.
fn redirector(status: u16, location: String, connections: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            stream.set_read_timeout(Some(LIMIT)).unwrap();
            let mut head = Vec::new();
            let mut byte = [0];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let location = location.replace("{self}", &port.to_string());
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n"
            );
        }
    });
    port
}

/// An echo server for `connections` connections; returns its port.
fn echo_server(connections: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(stream) = stream else { continue };
            thread::spawn(move || {
                stream.set_read_timeout(Some(LIMIT)).unwrap();
                let Ok(mut ws) = blocking::accept_with(stream, |request| {
                    assert_eq!(request.path(), "/here");
                    Ok(Accept::new())
                }) else {
                    return;
                };
                while let Ok(message) = ws.read() {
                    if ws.send(message).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

fn both(url: &str, config: Config) -> [Result<(), blocking::Error>; 2] {
    let request = ClientRequest::new(url).unwrap();
    let blocking =
        blocking::connect_with_config(request.clone(), config.clone()).and_then(|(mut ws, _)| {
            ws.get_ref().tcp().set_read_timeout(Some(LIMIT))?;
            ws.send_text("hi")?;
            assert_eq!(ws.read()?, Message::text("hi"));
            Ok(())
        });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tokio = rt.block_on(async {
        let (mut ws, _) = rfc6455::tokio::connect_with_config(request, config).await?;
        ws.send(Message::text("hi")).await?;
        let echo = tokio::time::timeout(LIMIT, ws.read()).await.unwrap();
        assert_eq!(echo?, Message::text("hi"));
        Ok(())
    });
    [blocking, tokio]
}

#[test]
fn followed_up_to_the_limit() {
    let target = echo_server(2);
    // Two hops: 302, then 308.
    let second = redirector(308, format!("ws://127.0.0.1:{target}/here"), 2);
    let first = redirector(302, format!("ws://127.0.0.1:{second}/"), 2);
    let url = format!("ws://127.0.0.1:{first}/start");
    for result in both(&url, Config::default().max_redirects(2)) {
        result.unwrap();
    }
}

#[test]
fn not_followed_by_default() {
    let port = redirector(301, "/elsewhere".into(), 2);
    for result in both(&format!("ws://127.0.0.1:{port}/"), Config::default()) {
        match result {
            Err(blocking::Error::Handshake(e)) => {
                assert_eq!(e.redirect(), Some((301, "/elsewhere")))
            }
            other => panic!("expected the redirect, got {other:?}"),
        }
    }
}

#[test]
fn a_loop_ends_at_the_limit() {
    // Redirects to itself, forever.
    let port = redirector(307, "ws://127.0.0.1:{self}/again".into(), 8);
    for result in both(
        &format!("ws://127.0.0.1:{port}/"),
        Config::default().max_redirects(3),
    ) {
        match result {
            Err(blocking::Error::Handshake(HandshakeError::TooManyRedirects { chain })) => {
                assert_eq!(chain.len(), 5, "{chain:?}");
                assert!(chain[4].ends_with("/again"));
            }
            other => panic!("expected too many redirects, got {other:?}"),
        }
    }
}
