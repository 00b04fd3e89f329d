//! `echo_server --stream` relays a 1 GiB message with bounded memory: the
//! example binary runs as a process of its own, a raw TCP client sends the
//! message as one frame while reading the echo, and the server's peak RSS
//! must grow by less than 32 MiB. Both adapters.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const TOTAL: u64 = 1 << 30;
const CHUNK: usize = 1 << 20;
const RSS_GROWTH_LIMIT_KIB: u64 = 32 << 10;
const PATIENCE: Duration = Duration::from_secs(240);

/// The example binary, built by `cargo test` next to this test's.
fn echo_server_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap(); // target/<profile>
    dir.join("examples").join("echo_server")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill(); // our own child, by its handle
        let _ = self.0.wait();
    }
}

/// Starts `echo_server --stream` on a free port; returns it and the port.
fn start(adapter: &str) -> (Server, u16) {
    let mut child = Command::new(echo_server_binary())
        .args(["--addr", "127.0.0.1:0", "--adapter", adapter, "--stream"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the echo_server example (built by cargo test)");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let port = line
        .split_whitespace()
        .find_map(|word| word.rsplit_once(':')?.1.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    (Server(child), port)
}

/// The server's peak resident set, in KiB (`VmHWM`).
fn peak_rss_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.0.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Opens a WebSocket by hand: the request, then the 101 read to its end.
fn handshake(port: u16) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// The payload, `CHUNK + PERIOD` bytes of a pattern whose period (251)
/// does not divide a chunk: chunk `i` is the slice at `i * CHUNK % PERIOD`.
fn pattern() -> Vec<u8> {
    (0..CHUNK + PERIOD).map(|i| (i % PERIOD) as u8).collect()
}

const PERIOD: usize = 251;

fn chunk(pattern: &[u8], index: u64) -> &[u8] {
    let start = (index * CHUNK as u64 % PERIOD as u64) as usize;
    &pattern[start..start + CHUNK]
}

/// Reads the echoed fragments until the final one; returns the payload
/// bytes, checked against the pattern.
fn read_echo(mut stream: TcpStream) -> u64 {
    let mut received = 0u64;
    let pattern = pattern();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let mut head = [0u8; 2];
        stream.read_exact(&mut head).unwrap();
        let (fin, opcode) = (head[0] & 0x80 != 0, head[0] & 0x0f);
        assert!(head[1] & 0x80 == 0, "a server frame must not be masked");
        let len = match head[1] & 0x7f {
            126 => {
                let mut ext = [0u8; 2];
                stream.read_exact(&mut ext).unwrap();
                u64::from(u16::from_be_bytes(ext))
            }
            127 => {
                let mut ext = [0u8; 8];
                stream.read_exact(&mut ext).unwrap();
                u64::from_be_bytes(ext)
            }
            n => u64::from(n),
        };
        assert!(opcode == 0x2 || opcode == 0x0, "opcode {opcode:#x}");
        let mut left = len;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            stream.read_exact(&mut buf[..n]).unwrap();
            // Compare against the pattern, one chunk-aligned run at a time.
            let mut done = 0;
            while done < n {
                let offset = (received % CHUNK as u64) as usize;
                let expected = chunk(&pattern, received / CHUNK as u64);
                let run = (CHUNK - offset).min(n - done);
                assert_eq!(&buf[done..done + run], &expected[offset..offset + run]);
                done += run;
                received += run as u64;
            }
            left -= n as u64;
        }
        if fin {
            return received;
        }
    }
}

fn relay_one_gib(adapter: &str) {
    let (server, port) = start(adapter);
    let stream = handshake(port);
    let before = peak_rss_kib(&server);
    let started = Instant::now();
    let reader = {
        let stream = stream.try_clone().unwrap();
        thread::spawn(move || read_echo(stream))
    };
    let mut writer = stream;
    // One binary frame of 1 GiB, masked with the all-zero key (the payload
    // travels as it is; the server still runs its unmasking over it).
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&TOTAL.to_be_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    writer.write_all(&header).unwrap();
    let pattern = pattern();
    for index in 0..TOTAL / CHUNK as u64 {
        writer.write_all(chunk(&pattern, index)).unwrap();
        assert!(started.elapsed() < PATIENCE, "too slow");
    }
    let received = reader.join().unwrap();
    assert_eq!(received, TOTAL);
    let after = peak_rss_kib(&server);
    assert!(
        after.saturating_sub(before) < RSS_GROWTH_LIMIT_KIB,
        "{adapter}: peak RSS grew from {before} KiB to {after} KiB relaying 1 GiB"
    );
    eprintln!(
        "{adapter}: peak RSS {before} KiB -> {after} KiB, {:?}",
        started.elapsed()
    );
    // A clean close: 1000, masked with the zero key.
    writer
        .write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8])
        .unwrap();
}

#[test]
fn tokio_echo_server_streams_a_gibibyte_in_bounded_memory() {
    relay_one_gib("tokio");
}

#[test]
fn std_echo_server_streams_a_gibibyte_in_bounded_memory() {
    relay_one_gib("std");
}
