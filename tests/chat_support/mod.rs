//! What the chat tests share: the chat example's binary run as a process,
//! a real Redis server on a free loopback port, and a WebSocket client
//! that speaks `chat.v1`.
//!
//! The binary is the one `cargo test` builds next to the tests
//! (`target/<profile>/examples/chat`); a run limited to one test target
//! needs `cargo build --example chat` first. `redis-server` must be on the
//! PATH (Debian's `redis-server` package; `.ci/run` installs it).
#![allow(dead_code)]

#[path = "../common/example.rs"]
mod example_binary;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rfc6455::tokio::{Error, MaybeTlsStream, WebSocket};
use rfc6455::{ClientRequest, CloseCode, Config, Message};
use serde_json::{Value, json};

/// The most any one wait in these tests may take.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A process of ours, killed (by its PID, through its handle) when
/// dropped.
pub struct Process {
    child: Child,
    name: &'static str,
}

impl Process {
    /// Takes charge of `child`.
    pub fn new(child: Child, name: &'static str) -> Process {
        Process { child, name }
    }

    /// The process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends it at once, as a crash would: no goodbye to anyone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its resident memory, from /proc.
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
        kib * 1024
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = self.name;
    }
}

fn example() -> PathBuf {
    example_binary::binary("chat", "cargo build --example chat")
}

/// A running chat server.
pub struct Chat {
    pub process: Process,
    pub addr: SocketAddr,
}

impl Chat {
    /// Starts the chat on a free loopback port with `args` (`--addr` is
    /// added), and waits until it listens.
    pub fn start(args: &[&str]) -> Chat {
        let mut child = Command::new(example())
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the chat example starts");
        let stderr = child.stderr.take().unwrap();
        let process = Process {
            child,
            name: "chat",
        };
        // The first line names the address; the rest is passed on, so that
        // a failing test shows what the server said.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = tx.send(first);
            }
            for line in lines.map_while(Result::ok) {
                eprintln!("[chat] {line}");
            }
        });
        let first = rx
            .recv_timeout(LIMIT)
            .expect("the chat says where it listens");
        let addr = first
            .strip_prefix("chat listening on http://")
            .or_else(|| first.strip_prefix("chat listening on https://"))
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("unexpected first line: {first}"))
            .parse()
            .unwrap();
        Chat { process, addr }
    }

    /// The WebSocket URL.
    pub fn url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }
}

/// A Redis server of our own, on a free loopback port, keeping nothing on
/// disk.
pub struct Redis {
    pub process: Process,
    pub port: u16,
}

impl Redis {
    pub fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is on the PATH (Debian: apt-get install redis-server)");
        let process = Process {
            child,
            name: "redis-server",
        };
        let deadline = Instant::now() + LIMIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        Redis { process, port }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

/// A `chat.v1` client.
pub struct Client {
    pub socket: WebSocket<MaybeTlsStream>,
}

impl Client {
    /// Connects, and checks that the server chose `chat.v1`.
    pub async fn connect(url: &str) -> Client {
        let request = ClientRequest::new(url).unwrap().subprotocol("chat.v1");
        let (socket, _) = rfc6455::tokio::connect_with_config(request, Config::default())
            .await
            .unwrap();
        assert_eq!(socket.subprotocol(), Some("chat.v1"));
        Client { socket }
    }

    /// Connects and joins `room` as `name`; returns after the history and
    /// the first member list that names `name`.
    pub async fn join(url: &str, room: &str, name: &str) -> Client {
        let mut client = Client::connect(url).await;
        client.join_room(room, name).await;
        client
    }

    pub async fn join_room(&mut self, room: &str, name: &str) -> Value {
        self.send(json!({"type": "join", "room": room, "name": name}))
            .await;
        let history = self.next_of("history").await;
        assert_eq!(history["room"], room);
        self.members_until(room, |m| m.iter().any(|n| n == name))
            .await;
        history
    }

    pub async fn send(&mut self, value: Value) {
        self.socket.send_text(&value.to_string()).await.unwrap();
    }

    pub async fn say(&mut self, room: &str, text: &str) {
        self.send(json!({"type": "say", "room": room, "text": text}))
            .await;
    }

    /// The next JSON message, within [`LIMIT`].
    pub async fn next(&mut self) -> Value {
        match tokio::time::timeout(LIMIT, self.socket.read()).await {
            Ok(Ok(Message::Text(text))) => serde_json::from_str(&text).unwrap(),
            other => panic!("expected a chat message, got {other:?}"),
        }
    }

    /// The next message of type `kind`, skipping others (presence
    /// updates, say) on the way.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        let deadline = Instant::now() + LIMIT;
        loop {
            assert!(Instant::now() < deadline, "no {kind} message came");
            let value = self.next().await;
            if value["type"] == kind {
                return value;
            }
        }
    }

    /// Reads until a member list of `room` satisfies `done`, and returns it.
    pub async fn members_until(
        &mut self,
        room: &str,
        done: impl Fn(&[String]) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + LIMIT;
        loop {
            assert!(
                Instant::now() < deadline,
                "the member list of {room} never got there"
            );
            let value = self.next().await;
            if value["type"] == "presence" && value["room"] == room {
                let members: Vec<String> =
                    serde_json::from_value(value["members"].clone()).unwrap();
                if done(&members) {
                    return members;
                }
            }
        }
    }

    /// Reads until the connection ends; returns the close code (1006 when
    /// it ended without a close frame).
    pub async fn close_code(&mut self) -> u16 {
        let deadline = Instant::now() + LIMIT;
        loop {
            assert!(Instant::now() < deadline, "the connection did not end");
            match tokio::time::timeout(LIMIT, self.socket.read()).await {
                Ok(Ok(_)) => continue,
                Ok(Err(Error::Closed(frame))) => return frame.code.into(),
                Ok(Err(_)) => return CloseCode::ABNORMAL.into(),
                Err(_) => panic!("the connection did not end within {LIMIT:?}"),
            }
        }
    }
}

/// The chat messages (`from`, `text`) among `values`.
pub fn lines(values: &[Value]) -> Vec<(String, String)> {
    values
        .iter()
        .filter(|v| v["type"] == "message")
        .map(|v| {
            (
                v["from"].as_str().unwrap().to_owned(),
                v["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
