//! The `client` example, run as a process against scripted servers on
//! loopback, with both adapters: it ends when the connection ends even
//! while stdin stays open, says why on stderr, and exits 0 only after a
//! close it started.
//!
//! The example's binary is the one `cargo test` builds next to this test
//! (`target/<profile>/examples/client`); `cargo test --all-features`
//! builds it, a run limited to `--test client_example` needs
//! `cargo build --all-features --example client` first.

#[path = "common/example.rs"]
mod example_binary;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use rfc6455::{CloseCode, Message, blocking};

/// The most any step may take.
const LIMIT: Duration = Duration::from_secs(10);

/// How soon the client must end after the server ends the connection.
/// The issue asks for a second; the bound leaves room for a loaded machine
/// while staying far below "waits on stdin forever".
const PROMPT: Duration = Duration::from_secs(3);

const ADAPTERS: [&str; 2] = ["tokio", "std"];

fn example() -> PathBuf {
    example_binary::binary("client", "cargo build --all-features --example client")
}

/// A server for one connection: runs the opening handshake, then `script`.
/// Returns the URL.
fn server(
    script: impl FnOnce(blocking::WebSocket<std::net::TcpStream>) + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let ws = blocking::accept(stream).unwrap();
        script(ws);
    });
    format!("ws://127.0.0.1:{port}/")
}

fn spawn(adapter: &str, url: &str) -> Child {
    Command::new(example())
        .args(["--adapter", adapter, url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (bounded) for the child to exit; returns its code, stdout and
/// stderr, and how long it took from `since`.
fn finish(mut child: Child, since: Instant, bound: Duration) -> (Option<i32>, String, String) {
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if since.elapsed() > bound {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("the client was still running {bound:?} after the server ended");
        }
        thread::sleep(Duration::from_millis(10));
    };
    let (mut out, mut err) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), out, err)
}

/// A server that closes with 4001 "bye" while the client's stdin stays
/// open: the client answers, ends promptly, non-zero, and names the code
/// and reason.
#[test]
fn server_close_frame_ends_the_client() {
    for adapter in ADAPTERS {
        let (closed_tx, closed_rx) = std::sync::mpsc::channel();
        let url = server(move |mut ws| {
            ws.close(CloseCode::from(4001), "bye").unwrap();
            closed_tx.send(Instant::now()).unwrap();
            // The client's answer completes the closing handshake.
            match ws.read() {
                Err(blocking::Error::Closed(frame)) => {
                    assert_eq!(frame.code, CloseCode::from(4001))
                }
                other => panic!("expected the client's answer, got {other:?}"),
            }
        });
        let child = spawn(adapter, &url);
        // stdin stays open: the pipe is held by `child` until it exits.
        let closed_at = closed_rx.recv_timeout(LIMIT).unwrap();
        let (code, out, err) = finish(child, closed_at, PROMPT);
        assert_ne!(code, Some(0), "{adapter}: {err}");
        assert!(code.is_some(), "{adapter}: killed by a signal");
        assert!(
            err.contains("4001") && err.contains("bye"),
            "{adapter}: {err:?}"
        );
        assert!(out.is_empty(), "{adapter}: {out:?}");
    }
}

/// A server that ends TCP without a close frame while stdin stays open:
/// "connection lost", promptly, non-zero.
#[test]
fn connection_lost_ends_the_client() {
    for adapter in ADAPTERS {
        let (closed_tx, closed_rx) = std::sync::mpsc::channel();
        let url = server(move |mut ws| {
            ws.send_text("last words").unwrap();
            ws.get_ref().shutdown(std::net::Shutdown::Both).unwrap();
            closed_tx.send(Instant::now()).unwrap();
        });
        let child = spawn(adapter, &url);
        let closed_at = closed_rx.recv_timeout(LIMIT).unwrap();
        let (code, out, err) = finish(child, closed_at, PROMPT);
        assert_ne!(code, Some(0), "{adapter}: {err}");
        assert!(code.is_some(), "{adapter}: killed by a signal");
        assert!(err.contains("connection lost"), "{adapter}: {err:?}");
        assert_eq!(out, "last words\n", "{adapter}");
    }
}

/// Two lines echoed, then stdin's end: the client closes, the server
/// answers, both lines are printed and the exit status is 0.
#[test]
fn echo_then_clean_close() {
    for adapter in ADAPTERS {
        let url = server(|mut ws| {
            loop {
                match ws.read() {
                    Ok(message) => ws.send(message).unwrap(),
                    Err(blocking::Error::Closed(frame)) => {
                        assert_eq!(frame.code, CloseCode::NORMAL);
                        return;
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        });
        let mut child = spawn(adapter, &url);
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"first line\nsecond line\n").unwrap();
        drop(stdin);
        let (code, out, err) = finish(child, Instant::now(), LIMIT);
        assert_eq!(code, Some(0), "{adapter}: {err}");
        assert_eq!(out, "first line\nsecond line\n", "{adapter}: {err}");
    }
}

/// Messages arrive while stdin is open and are printed one a line; the
/// blocking adapter's reads do not wait for stdin.
#[test]
fn messages_printed_while_stdin_is_open() {
    for adapter in ADAPTERS {
        let url = server(|mut ws| {
            ws.send(Message::text("hello")).unwrap();
            ws.send(Message::binary(vec![1, 2, 3])).unwrap();
            ws.close(CloseCode::NORMAL, "done").unwrap();
            let _ = ws.read();
        });
        let child = spawn(adapter, &url);
        let (code, out, err) = finish(child, Instant::now(), LIMIT);
        assert_eq!(code, Some(1), "{adapter}: {err}");
        assert_eq!(out, "hello\n<binary message, 3 bytes>\n", "{adapter}");
        assert!(err.contains("code 1000") && err.contains("done"), "{err:?}");
    }
}

#[test]
fn a_bad_command_line_exits_2() {
    for args in [&["--adapter", "nope", "ws://127.0.0.1:1/"][..], &[]] {
        let output = Command::new(example())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage:"));
    }
}

/// A URL's password never shows on stderr, whatever the failure.
#[test]
fn the_password_is_not_printed() {
    // Nothing listens on the port (bound then dropped).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for adapter in ADAPTERS {
        let url = format!("ws://alice:hunter2@127.0.0.1:{port}/");
        let child = spawn(adapter, &url);
        let (code, _, err) = finish(child, Instant::now(), LIMIT);
        assert_eq!(code, Some(1), "{adapter}: {err}");
        assert!(err.contains(&format!("127.0.0.1:{port}")), "{err:?}");
        assert!(!err.contains("hunter2"), "{err:?}");
    }
}

/// A server that breaks the protocol (a masked frame, RFC 6455 §5.1): the
/// client fails the connection with 1002, says so, and ends non-zero,
/// stdin still open.
#[test]
fn a_protocol_error_ends_the_client() {
    for adapter in ADAPTERS {
        let (sent_tx, sent_rx) = std::sync::mpsc::channel();
        let url = server(move |mut ws| {
            // A masked text frame "hi" (mask key 0): servers must not mask.
            ws.get_mut()
                .write_all(&[0x81, 0x82, 0, 0, 0, 0, b'h', b'i'])
                .unwrap();
            sent_tx.send(Instant::now()).unwrap();
            // The client's close frame (1002), then its end of TCP.
            let mut rest = Vec::new();
            let _ = ws.get_mut().read_to_end(&mut rest);
            assert!(rest.len() >= 4, "{rest:?}");
        });
        let child = spawn(adapter, &url);
        let sent_at = sent_rx.recv_timeout(LIMIT).unwrap();
        let (code, out, err) = finish(child, sent_at, PROMPT);
        assert_eq!(code, Some(1), "{adapter}: {err}");
        assert!(
            err.contains("protocol error") && err.contains("1002"),
            "{adapter}: {err:?}"
        );
        assert!(out.is_empty(), "{adapter}: {out:?}");
    }
}
