//! The client role against hostile and odd servers: one scripted raw
//! server on loopback per case, run against both adapters' `connect`.
//!
//! Each case says what the server sends after reading the client's request
//! (bytes it writes itself, frame by frame, never through the code under
//! test) and what must come of it: a handshake error of a given kind, or
//! the connection failed with a given close code (and that close frame on
//! the wire), or the messages that must arrive. In every case nothing the
//! bad server sent may reach the application as a message.

mod common;
mod scenarios;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use common::{BINARY, CLOSE, CONT, PING, TEXT, close_body, frame, header, parse_one, unmasked};
use rfc6455::blocking::Error;
use rfc6455::handshake::{ClientRequest, HandshakeError, accept_key};
use rfc6455::{Config, Message};
use scenarios::{Blocking, Subject, Tokio};

/// One step of a scripted server, after it has read the request.
enum Step {
    /// Write these bytes in one call.
    Send(Vec<u8>),
    /// Write these bytes one at a time, flushing each.
    Dribble(Vec<u8>),
    /// Close the connection (without a close frame).
    Hangup,
    /// Send nothing and keep the connection open for this long.
    Silence(Duration),
}

/// What the client must make of it.
enum Expect {
    /// The handshake fails with an error this accepts.
    Handshake(fn(&HandshakeError) -> bool),
    /// The handshake does not finish within the handshake timeout.
    Timeout,
    /// The connection opens, then fails with this close code, which the
    /// client also sends in its close frame.
    Fails(u16),
    /// These messages arrive, then the server's close frame ends it.
    Delivers(Vec<Message>),
}

struct Case {
    name: &'static str,
    /// The server's script, given the `Sec-WebSocket-Key` it received.
    script: fn(&str) -> Vec<Step>,
    expect: Expect,
}

/// The handshake timeout of every case, short enough to test hangs.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_millis(700);
/// The client's frame and message limits, for the size cases.
const LIMIT: usize = 4096;

fn config() -> Config {
    Config::default()
        .handshake_timeout(HANDSHAKE_TIMEOUT)
        .max_frame_size(LIMIT)
        .max_message_size(LIMIT)
}

/// A valid 101 for `key`, with `extra` header lines.
fn ok_101(key: &str, extra: &[&str]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        accept_key(key.as_bytes())
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// A head from its lines, ending with the empty line.
fn head(lines: &[&str]) -> Vec<u8> {
    let mut out = lines.join("\r\n");
    out.push_str("\r\n\r\n");
    out.into_bytes()
}

/// A valid 101, then `frames` in the same write.
fn after_101(key: &str, frames: &[Vec<u8>]) -> Vec<Step> {
    let mut bytes = ok_101(key, &[]);
    frames.iter().for_each(|f| bytes.extend_from_slice(f));
    vec![Step::Send(bytes), Step::Silence(Duration::from_secs(5))]
}

fn close_frame(code: u16, reason: &[u8]) -> Vec<u8> {
    unmasked(CLOSE, &close_body(code, reason))
}

fn cases() -> Vec<Case> {
    use HandshakeError as H;
    vec![
        // --- The opening handshake (RFC 6455 §4.1) ---
        Case {
            name: "wrong Sec-WebSocket-Accept",
            script: |_| {
                let bad = accept_key(b"dGhlIHNhbXBsZSBub25jZQ==");
                let head = head(&[
                    "HTTP/1.1 101 Switching Protocols",
                    "Upgrade: websocket",
                    "Connection: Upgrade",
                    &format!("Sec-WebSocket-Accept: {bad}"),
                ]);
                vec![Step::Send([head, unmasked(TEXT, b"bad")].concat())]
            },
            expect: Expect::Handshake(|e| matches!(e, H::WrongAccept { .. })),
        },
        Case {
            name: "missing Sec-WebSocket-Accept",
            script: |_| {
                vec![Step::Send(head(&[
                    "HTTP/1.1 101 Switching Protocols",
                    "Upgrade: websocket",
                    "Connection: Upgrade",
                ]))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::MissingAccept)),
        },
        Case {
            name: "duplicated Sec-WebSocket-Accept",
            script: |key| {
                let line = format!("Sec-WebSocket-Accept: {}", accept_key(key.as_bytes()));
                vec![Step::Send(ok_101(key, &[&line]))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::DuplicateAccept)),
        },
        Case {
            name: "missing Upgrade",
            script: |key| {
                let accept = format!("Sec-WebSocket-Accept: {}", accept_key(key.as_bytes()));
                vec![Step::Send(head(&[
                    "HTTP/1.1 101 Switching Protocols",
                    "Connection: Upgrade",
                    &accept,
                ]))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::ResponseUpgradeNotWebSocket)),
        },
        Case {
            name: "Upgrade: h2c",
            script: |key| {
                let accept = format!("Sec-WebSocket-Accept: {}", accept_key(key.as_bytes()));
                vec![Step::Send(head(&[
                    "HTTP/1.1 101 Switching Protocols",
                    "Upgrade: h2c",
                    "Connection: Upgrade",
                    &accept,
                ]))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::ResponseUpgradeNotWebSocket)),
        },
        Case {
            name: "missing Connection",
            script: |key| {
                let accept = format!("Sec-WebSocket-Accept: {}", accept_key(key.as_bytes()));
                vec![Step::Send(head(&[
                    "HTTP/1.1 101 Switching Protocols",
                    "Upgrade: websocket",
                    &accept,
                ]))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::ResponseConnectionNotUpgrade)),
        },
        Case {
            name: "Connection: keep-alive",
            script: |key| {
                let accept = format!("Sec-WebSocket-Accept: {}", accept_key(key.as_bytes()));
                vec![Step::Send(head(&[
                    "HTTP/1.1 101 Switching Protocols",
                    "Upgrade: websocket",
                    "Connection: keep-alive",
                    &accept,
                ]))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::ResponseConnectionNotUpgrade)),
        },
        Case {
            name: "an extension never offered",
            script: |key| {
                vec![Step::Send(ok_101(
                    key,
                    &["Sec-WebSocket-Extensions: permessage-deflate"],
                ))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::UnofferedExtension { .. })),
        },
        Case {
            name: "a subprotocol never offered",
            script: |key| vec![Step::Send(ok_101(key, &["Sec-WebSocket-Protocol: mqtt"]))],
            expect: Expect::Handshake(|e| matches!(e, H::UnofferedSubprotocol { .. })),
        },
        Case {
            name: "HTTP/1.0 101, with a frame after it",
            script: |key| {
                let mut reply = ok_101(key, &[]);
                reply.splice(..8, *b"HTTP/1.0");
                vec![Step::Send([reply, unmasked(TEXT, b"bad")].concat())]
            },
            expect: Expect::Handshake(|e| matches!(e, H::ResponseNotHttp11)),
        },
        Case {
            name: "404 with a body",
            script: |_| {
                vec![
                    Step::Send(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno such ".to_vec(),
                    ),
                    Step::Send(b"x".to_vec()),
                ]
            },
            expect: Expect::Handshake(
                |e| matches!(e, H::UnexpectedStatus { status: 404, body, .. } if body == b"no such x"),
            ),
        },
        Case {
            name: "503 with a chunked body, then hang-up",
            script: |_| {
                vec![
                    Step::Send(
                        b"HTTP/1.1 503 Busy\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nlater\r\n"
                            .to_vec(),
                    ),
                    Step::Hangup,
                ]
            },
            expect: Expect::Handshake(|e| matches!(e, H::UnexpectedStatus { status: 503, .. })),
        },
        Case {
            name: "a 302 that is not followed",
            script: |_| {
                vec![Step::Send(
                    b"HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n"
                        .to_vec(),
                )]
            },
            expect: Expect::Handshake(|e| {
                e.redirect() == Some((302, "ws://127.0.0.1:1/elsewhere"))
            }),
        },
        Case {
            name: "a flood of header fields",
            script: |key| {
                let lines: Vec<String> = (0..1000).map(|i| format!("X-Flood-{i}: y")).collect();
                let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
                vec![Step::Send(ok_101(key, &lines))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::TooManyHeaders { .. })),
        },
        Case {
            name: "a 64 KiB header",
            script: |key| {
                let line = format!("X-Huge: {}", "y".repeat(64 << 10));
                vec![Step::Send(ok_101(key, &[&line]))]
            },
            expect: Expect::Handshake(|e| matches!(e, H::HeadTooLarge { .. })),
        },
        Case {
            name: "a head that never ends",
            script: |_| {
                let mut steps = vec![Step::Send(b"HTTP/1.1 101 Switching Protocols\r\n".to_vec())];
                steps.push(Step::Silence(Duration::from_secs(5)));
                steps
            },
            expect: Expect::Timeout,
        },
        Case {
            name: "a server that never answers",
            script: |_| vec![Step::Silence(Duration::from_secs(5))],
            expect: Expect::Timeout,
        },
        Case {
            name: "a hang-up inside the head",
            script: |_| vec![Step::Send(b"HTTP/1.1 101 Swi".to_vec()), Step::Hangup],
            expect: Expect::Handshake(|e| matches!(e, H::UnexpectedEof)),
        },
        Case {
            name: "not HTTP at all",
            script: |_| vec![Step::Send(b"SSH-2.0-OpenSSH_9.6\r\n\r\n".to_vec())],
            expect: Expect::Handshake(|e| matches!(e, H::MalformedHttp { .. })),
        },
        // --- Valid, but odd ---
        Case {
            name: "the 101 dribbled byte by byte, then a frame",
            script: |key| {
                let bytes = [ok_101(key, &[]), unmasked(TEXT, b"hello")].concat();
                vec![Step::Dribble(bytes), Step::Send(close_frame(1000, b""))]
            },
            expect: Expect::Delivers(vec![Message::text("hello")]),
        },
        Case {
            name: "the first frames in the same segment as the 101",
            script: |key| {
                let bytes = [
                    ok_101(key, &[]),
                    unmasked(TEXT, b"one"),
                    unmasked(BINARY, b"\x00\x01"),
                    close_frame(1000, b""),
                ]
                .concat();
                vec![Step::Send(bytes)]
            },
            expect: Expect::Delivers(vec![
                Message::text("one"),
                Message::binary(&b"\x00\x01"[..]),
            ]),
        },
        Case {
            name: "header names and tokens in odd case and lists",
            script: |key| {
                let accept = format!("sec-websocket-accept:  {} ", accept_key(key.as_bytes()));
                let bytes = head(&[
                    "HTTP/1.1 101 Anything",
                    "UPGRADE: WebSocket",
                    "connection: keep-alive, upgrade",
                    &accept,
                    "Server: odd",
                ]);
                vec![Step::Send(
                    [bytes, unmasked(TEXT, b"hi"), close_frame(1000, b"")].concat(),
                )]
            },
            expect: Expect::Delivers(vec![Message::text("hi")]),
        },
        // --- Framing after a valid 101 (RFC 6455 §5) ---
        Case {
            name: "a masked server frame",
            script: |key| after_101(key, &[frame(true, TEXT, Some([1, 2, 3, 4]), b"masked")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "RSV1 without an extension",
            script: |key| {
                let mut f = unmasked(TEXT, b"x");
                f[0] |= 0x40;
                after_101(key, &[f])
            },
            expect: Expect::Fails(1002),
        },
        Case {
            name: "reserved data opcode 0x3",
            script: |key| after_101(key, &[unmasked(0x3, b"x")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "reserved control opcode 0xB",
            script: |key| after_101(key, &[unmasked(0xb, b"x")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "a ping of 126 bytes",
            script: |key| after_101(key, &[unmasked(PING, &[0; 126])]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "a fragmented ping",
            script: |key| after_101(key, &[frame(false, PING, None, b"a")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "invalid UTF-8 in a text message",
            script: |key| after_101(key, &[unmasked(TEXT, b"ok \xff")]),
            expect: Expect::Fails(1007),
        },
        Case {
            name: "invalid UTF-8 in the first fragment, the rest never sent",
            script: |key| after_101(key, &[frame(false, TEXT, None, b"\xc3\x28")]),
            expect: Expect::Fails(1007),
        },
        Case {
            name: "a continuation with nothing to continue",
            script: |key| after_101(key, &[unmasked(CONT, b"x")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "a new message inside a fragmented one",
            script: |key| after_101(key, &[frame(false, TEXT, None, b"a"), unmasked(TEXT, b"b")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "close code 1005 on the wire",
            script: |key| after_101(key, &[close_frame(1005, b"")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "close code 999",
            script: |key| after_101(key, &[close_frame(999, b"")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "a close frame of one byte",
            script: |key| after_101(key, &[unmasked(CLOSE, b"\x03")]),
            expect: Expect::Fails(1002),
        },
        Case {
            name: "invalid UTF-8 in the close reason",
            script: |key| after_101(key, &[close_frame(1000, b"\xff")]),
            expect: Expect::Fails(1007),
        },
        Case {
            name: "a frame over the frame limit",
            script: |key| {
                let mut f = header(true, 0, BINARY, None, (LIMIT + 1) as u64);
                f.extend_from_slice(&[0; 64]);
                after_101(key, &[f])
            },
            expect: Expect::Fails(1009),
        },
        Case {
            name: "a message over the message limit, in fragments",
            script: |key| {
                let piece = vec![b'a'; LIMIT / 2];
                after_101(
                    key,
                    &[
                        frame(false, TEXT, None, &piece),
                        frame(false, CONT, None, &piece),
                        frame(true, CONT, None, b"a"),
                    ],
                )
            },
            expect: Expect::Fails(1009),
        },
        Case {
            name: "a 64-bit length with the top bit set",
            script: |key| {
                let mut f = vec![0x82, 127];
                f.extend_from_slice(&(1u64 << 63).to_be_bytes());
                after_101(key, &[f])
            },
            expect: Expect::Fails(1002),
        },
    ]
}

/// Runs `case`'s server on a fresh port; returns the port and a receiver
/// for everything the client sent after its request.
fn serve(case: &Case) -> (u16, mpsc::Receiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = case.script;
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut request = Vec::new();
        let mut byte = [0; 1];
        while !request.ends_with(b"\r\n\r\n") && request.len() < 16 << 10 {
            match stream.read(&mut byte) {
                Ok(1) => request.push(byte[0]),
                _ => return,
            }
        }
        let request = String::from_utf8_lossy(&request).into_owned();
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key")
            .to_owned();
        for step in script(&key) {
            let sent = match step {
                Step::Send(bytes) => stream.write_all(&bytes),
                Step::Dribble(bytes) => bytes.iter().try_for_each(|b| {
                    thread::sleep(Duration::from_micros(200));
                    stream.write_all(&[*b]).and_then(|()| stream.flush())
                }),
                Step::Hangup => stream.shutdown(std::net::Shutdown::Write),
                Step::Silence(time) => {
                    // Ends early when the client hangs up.
                    stream.set_read_timeout(Some(time)).unwrap();
                    let mut sink = Vec::new();
                    let _ = stream.read_to_end(&mut sink);
                    let _ = tx.send(sink);
                    return;
                }
            };
            if sent.is_err() {
                break; // the client gave up first
            }
        }
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        let _ = stream.read_to_end(&mut rest);
        let _ = tx.send(rest);
    });
    (port, rx)
}

/// The close code of the first close frame in what the client sent.
fn close_code_sent(mut bytes: &[u8]) -> Option<u16> {
    while let Some((frame, used)) = parse_one(bytes) {
        assert!(frame.key.is_some(), "a client frame without a mask");
        if frame.opcode == CLOSE {
            return Some(u16::from_be_bytes(frame.payload.get(..2)?.try_into().ok()?));
        }
        bytes = &bytes[used..];
    }
    None
}

fn run<T: Subject>(case: &Case) {
    let (port, sent) = serve(case);
    let request = ClientRequest::from_parts("127.0.0.1", port, "/").unwrap();
    let started = Instant::now();
    let connected = T::connect(request, config());
    let name = case.name;
    match (&case.expect, connected) {
        (Expect::Handshake(accepts), Err(Error::Handshake(e))) => {
            assert!(accepts(&e), "{name}: wrong handshake error {e:?}");
        }
        (Expect::Timeout, Err(Error::HandshakeTimeout)) => {
            let took = started.elapsed();
            assert!(
                took >= HANDSHAKE_TIMEOUT && took < HANDSHAKE_TIMEOUT * 5,
                "{name}: timed out after {took:?}"
            );
        }
        (Expect::Fails(code), Ok(mut ws)) => {
            let mut delivered = Vec::new();
            let end = loop {
                match ws.read() {
                    Ok(message) if delivered.len() < 10 => delivered.push(message),
                    other => break other,
                }
            };
            assert!(delivered.is_empty(), "{name}: delivered {delivered:?}");
            match end {
                Err(Error::Protocol(e)) => {
                    assert_eq!(u16::from(e.close_code()), *code, "{name}: {e:?}");
                }
                other => panic!("{name}: expected close code {code}, got {other:?}"),
            }
            drop(ws);
            let wire = sent.recv_timeout(Duration::from_secs(10)).unwrap();
            assert_eq!(close_code_sent(&wire), Some(*code), "{name}: {wire:?}");
        }
        (Expect::Delivers(expected), Ok(mut ws)) => {
            let mut delivered = Vec::new();
            let end = loop {
                match ws.read() {
                    Ok(message) if delivered.len() < 10 => delivered.push(message),
                    other => break other,
                }
            };
            assert_eq!(&delivered, expected, "{name}");
            assert!(matches!(end, Err(Error::Closed(_))), "{name}: {end:?}");
        }
        (_, Ok(_)) => panic!("{name}: the handshake succeeded"),
        (_, Err(e)) => panic!("{name}: unexpected {e:?}"),
    }
}

fn run_all<T: Subject>() {
    let cases = cases();
    assert!(cases.len() >= 35);
    // A few at a time: each case has its own server and port.
    for chunk in cases.chunks(6) {
        thread::scope(|scope| {
            for case in chunk {
                scope.spawn(move || run::<T>(case));
            }
        });
    }
}

#[test]
fn blocking_client_against_hostile_servers() {
    run_all::<Blocking>();
}

#[test]
fn tokio_client_against_hostile_servers() {
    run_all::<Tokio>();
}
