//! `connect` when nothing answers: every address the name resolves to is
//! tried, and the error lists each with its reason, on both adapters.

use std::io;
use std::net::TcpListener;

use rfc6455::handshake::ClientRequest;
use rfc6455::{Config, blocking};

#[test]
fn nothing_answered_lists_what_was_tried() {
    // Nothing listens on the port (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // "localhost" may resolve to 127.0.0.1, ::1 or both: all are tried.
    let request = ClientRequest::new(&format!("ws://u:secret@localhost:{port}/")).unwrap();
    let resolved: Vec<_> = std::net::ToSocketAddrs::to_socket_addrs(&("localhost", port))
        .unwrap()
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let results = [
        blocking::connect_with_config(request.clone(), Config::default()).map(|_| ()),
        rt.block_on(rfc6455::tokio::connect_with_config(
            request,
            Config::default(),
        ))
        .map(|_| ()),
    ];
    for result in results {
        match result {
            Err(blocking::Error::Connect(e)) => {
                assert_eq!((e.host(), e.port()), ("localhost", port));
                let tried: Vec<_> = e.attempts().iter().map(|(addr, _)| *addr).collect();
                assert_eq!(tried, resolved);
                let text = e.to_string();
                for (address, reason) in e.attempts() {
                    assert_eq!(reason.kind(), io::ErrorKind::ConnectionRefused);
                    assert!(text.contains(&address.to_string()), "{text}");
                }
                assert!(!text.contains("secret"), "{text}");
            }
            other => panic!("expected a connect error, got {other:?}"),
        }
    }
}
